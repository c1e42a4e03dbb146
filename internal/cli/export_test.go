package cli

import (
	"encoding/json"
	"github.com/gyre-ml/gyre/internal/onnx"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const (
	bikeTrain = "../../examples/data/bike_sharing/bike_sharing.train.csv"
	bikeTest  = "../../examples/data/bike_sharing/bike_sharing.test.csv"
	fruitCSV  = "../../testdata/onnx/fruit.csv"
)

// onnxChecker runs the ONNX checker (python3-onnx) on path; it reports
// false when the checker is not installed.
func onnxChecker(t *testing.T, path string) bool {
	t.Helper()
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import onnx").Run(); err != nil {
		t.Logf("ONNX checker not run: %s cannot import onnx (apt-get install python3-onnx)", py)
		return false
	}
	out, err := exec.Command(py, "-c", "import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)", path).CombinedOutput()
	if err != nil {
		t.Fatalf("onnx checker rejected %s: %v\n%s", path, err, out)
	}
	return true
}

func TestExportONNX(t *testing.T) {
	dir := isolate(t)
	cases := []struct {
		name, train, target, check string
		set                        []string
		task                       string
	}{
		{"titanic-binary", titanicTrain, "Survived", titanicTest, nil, "binary"},
		{"bike-regression", bikeTrain, "cnt", bikeTest, []string{"n_estimators=60"}, "regression"},
		{"bike-regression-double", bikeTrain, "cnt", bikeTest, []string{"n_estimators=60", "learning_rate=0.2"}, "regression"},
		{"bike-poisson", bikeTrain, "cnt", bikeTest, []string{"n_estimators=60", "objective=poisson"}, "regression"},
		{"fruit-multiclass", fruitCSV, "fruit", fruitCSV, []string{"min_data_in_leaf=5"}, "multiclass"},
	}
	checked := false
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			model := filepath.Join(dir, c.name+".gyre")
			args := []string{"train", c.train, "--target", c.target, "--learner", "gbdt", "--out", model, "-q"}
			for _, s := range c.set {
				args = append(args, "--set", s)
			}
			if code, out, errs := runCLI(t, args...); code != 0 {
				t.Fatalf("train exit %d: %s %s", code, out, errs)
			}
			out := filepath.Join(dir, c.name+".onnx")
			exp := []string{"export", model, "--format", "onnx", "--out", out, "--check", c.check, "--json"}
			if strings.HasSuffix(c.name, "-double") {
				exp = append(exp, "--precision", "double")
			}
			code, stdout, errs := runCLI(t, exp...)
			if code != 0 {
				t.Fatalf("export exit %d: %s %s", code, stdout, errs)
			}
			var res onnx.Result
			if err := json.Unmarshal([]byte(stdout), &res); err != nil {
				t.Fatalf("export --json is not JSON: %v\n%s", err, stdout)
			}
			if res.Task != c.task || res.Out != out || res.Check == nil || !res.Check.OK || res.Check.Rows == 0 {
				t.Fatalf("export result: %+v check %+v", res, res.Check)
			}
			if res.Check.LabelMismatches > 0 {
				t.Errorf("%d label mismatches", res.Check.LabelMismatches)
			}
			t.Logf("%d rows: max %s %.3g, %d rows sensitive to float32 rounding", res.Check.Rows, res.Check.Measure, res.Check.MaxDiff, res.Check.Rounding)
			st, err := os.Stat(out)
			if err != nil || st.Size() != int64(res.Bytes) {
				t.Fatalf("exported file: %v (size %v, reported %d)", err, st, res.Bytes)
			}
			if onnxChecker(t, out) {
				checked = true
			}
		})
	}
	if !checked {
		t.Skip("python3-onnx is not installed: exports were compared with Gyre but not run through the ONNX checker")
	}
}

func TestExportErrors(t *testing.T) {
	dir := isolate(t)
	model := filepath.Join(dir, "tree.gyre")
	if code, out, errs := runCLI(t, "train", titanicTrain, "--target", "Survived", "--learner", "decision_tree", "--out", model, "-q"); code != 0 {
		t.Fatalf("train exit %d: %s %s", code, out, errs)
	}
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"not gbdt", []string{"export", model, "--out", filepath.Join(dir, "x.onnx")}, 2, "only gbdt models export to ONNX"},
		{"bad format", []string{"export", model, "--format", "pmml"}, 2, `--format "pmml" is not supported (want onnx or mlflow)`},
		{"no model", []string{"export", filepath.Join(dir, "missing.gyre")}, 2, "missing.gyre"},
		{"no args", []string{"export"}, 2, "accepts 1 arg"},
		{"bad precision", []string{"export", model, "--precision", "half"}, 2, `--precision "half": want float or double`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCLI(t, c.args...)
			if code != c.code || !strings.Contains(errs, c.msg) {
				t.Errorf("exit %d (want %d), stderr %q (want %q), stdout %q", code, c.code, errs, c.msg, out)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "x.onnx")); !os.IsNotExist(err) {
		t.Errorf("a failed export left a file: %v", err)
	}
}
