package mlflowmodel

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/feature"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/gbdt"
	"github.com/gyre-ml/gyre/internal/onnx"
)

const penguins = "../../testdata/modelimport/penguins.csv"

// penguinBundle fits a small gbdt on the penguins rows (four measurements
// with missing values, three species).
func penguinBundle(t *testing.T) (*bundle.Bundle, *frame.Frame) {
	t.Helper()
	f, err := ingest.Read(context.Background(), penguins, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	feats := []string{"bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"}
	enc, err := feature.FitEncoder(f, feats)
	if err != nil {
		t.Fatal(err)
	}
	X, err := enc.Transform(f)
	if err != nil {
		t.Fatal(err)
	}
	col, _ := f.Column("species")
	classes := []string{"Adelie", "Chinstrap", "Gentoo"}
	y := make([]float64, f.NumRows())
	for i := range y {
		var s string
		switch c := col.(type) {
		case *frame.String:
			s = c.Values[i]
		case *frame.Categorical:
			s = c.Levels[c.Codes[i]]
		default:
			t.Fatalf("species is %s", col.Kind())
		}
		y[i] = float64(slices.Index(classes, s))
	}
	l := gbdt.New()
	l.NumTrees = 8
	lf := make([]learn.Feature, len(feats))
	for j, c := range enc.Columns() {
		lf[j] = learn.Feature(c)
	}
	m, err := l.Fit(context.Background(), &learn.Dataset{X: X, Features: lf, Task: learn.Multiclass, Y: y, Classes: classes})
	if err != nil {
		t.Fatal(err)
	}
	var schema frame.Schema
	for _, n := range feats {
		schema.Fields = append(schema.Fields, frame.Field{Name: n, Kind: frame.KindFloat, Role: frame.RoleFeature})
	}
	b := &bundle.Bundle{Manifest: bundle.Manifest{Task: learn.Multiclass, Target: "species", Classes: classes, Input: schema},
		Members: []bundle.Member{{Info: bundle.MemberInfo{Learner: "gbdt", Weight: 1}, Prep: &bundle.Prep{Encoder: enc}, Model: m}}}
	return b, f
}

// The directory has MLflow's layout and an MLmodel document with the keys
// mlflow.onnx.save_model writes (MLflow's "Storage Format" and the onnx
// flavor's save_model); the graph's outputs are one value per row and give
// the bundle's probabilities on the input example. (No mlflow package is
// installed here to load it; onnx's checker and onnxruntime-node run the
// graph when present.)
func TestWrite(t *testing.T) {
	b, f := penguinBundle(t)
	dir := filepath.Join(t.TempDir(), "penguins-mlflow")
	res, err := Write(dir, b, Options{Example: f, GyreVersion: "test", Ref: "penguins.gyre"})
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"MLmodel", "conda.yaml", "input_example.json", "model.onnx", "python_env.yaml", "requirements.txt"}; !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "MLmodel"))
	var mm map[string]any
	if err := yaml.Unmarshal(raw, &mm); err != nil {
		t.Fatal(err)
	}
	get := func(path string) any {
		var v any = mm
		for _, k := range strings.Split(path, ".") {
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("MLmodel: %s: not a mapping", path)
			}
			if v, ok = m[k]; !ok {
				t.Fatalf("MLmodel: %s missing", path)
			}
		}
		return v
	}
	for path, want := range map[string]any{
		"flavors.python_function.loader_module":  "mlflow.onnx",
		"flavors.python_function.data":           "model.onnx",
		"flavors.python_function.env.conda":      "conda.yaml",
		"flavors.python_function.env.virtualenv": "python_env.yaml",
		"flavors.python_function.python_version": PythonVersion,
		"flavors.onnx.data":                      "model.onnx",
		"flavors.onnx.onnx_version":              ONNXVersion,
		"saved_input_example_info.artifact_path": "input_example.json",
		"saved_input_example_info.type":          "dataframe",
		"saved_input_example_info.pandas_orient": "split",
		"metadata.gyre_target":                   "species",
	} {
		if got := get(path); got != want {
			t.Errorf("MLmodel %s = %v, want %v", path, got, want)
		}
	}
	if p := get("flavors.onnx.providers").([]any); len(p) != 2 || p[1] != "CPUExecutionProvider" {
		t.Errorf("providers %v", p)
	}
	if id := get("model_uuid").(string); len(id) != 32 {
		t.Errorf("model_uuid %q: want 32 hex digits (uuid4().hex)", id)
	}
	if s := get("model_size_bytes").(int); s <= 0 {
		t.Errorf("model_size_bytes %d", s)
	}
	if get("signature.params") != nil || get("flavors.onnx.code") != nil {
		t.Error("params and code should be null")
	}
	// The signature: MLflow's column-based schema JSON, DataType names.
	var in, out []map[string]string
	if err := json.Unmarshal([]byte(get("signature.inputs").(string)), &in); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(get("signature.outputs").(string)), &out); err != nil {
		t.Fatal(err)
	}
	if len(in) != 4 || in[0]["name"] != "bill_length_mm" || in[0]["type"] != "double" {
		t.Errorf("signature inputs %v", in)
	}
	var outNames []string
	for _, o := range out {
		outNames = append(outNames, o["name"])
	}
	if want := []string{"label", "proba_Adelie", "proba_Chinstrap", "proba_Gentoo"}; !slices.Equal(outNames, want) || out[0]["type"] != "string" || out[1]["type"] != "float" {
		t.Errorf("signature outputs %v", out)
	}
	// The input example: pandas split orient, the signature's columns.
	var ex struct {
		Columns []string `json:"columns"`
		Data    [][]*float64
	}
	exRaw, _ := os.ReadFile(filepath.Join(dir, "input_example.json"))
	if err := json.Unmarshal(exRaw, &ex); err != nil {
		t.Fatal(err)
	}
	if len(ex.Columns) != 4 || ex.Columns[3] != "body_mass_g" || len(ex.Data) != MaxExampleRows || res.ExampleRows != MaxExampleRows {
		t.Fatalf("input example %s", exRaw)
	}
	// The graph on the example rows: one value per row per output, the
	// bundle's probabilities.
	model, _ := os.ReadFile(filepath.Join(dir, "model.onnx"))
	x := make([]float64, 0, len(ex.Data)*4)
	for _, r := range ex.Data {
		for _, v := range r {
			if v == nil {
				x = append(x, math.NaN())
			} else {
				x = append(x, *v)
			}
		}
	}
	got, err := onnx.Evaluate(model, x, len(ex.Data), 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("graph outputs %v", got)
	}
	pred, err := b.Predict(f.Slice(0, MaxExampleRows))
	if err != nil {
		t.Fatal(err)
	}
	for c, name := range b.Manifest.Classes {
		o := got[onnx.ProbabilityColumn(name)]
		if len(o.Shape) != 2 || o.Shape[0] != MaxExampleRows || o.Shape[1] != 1 {
			t.Fatalf("%s shape %v", name, o.Shape)
		}
		for i := range MaxExampleRows {
			if d := math.Abs(float64(o.Floats[i]) - pred.Proba[i*3+c]); d > 1e-5 {
				t.Errorf("row %d %s: graph %v, bundle %v", i, name, o.Floats[i], pred.Proba[i*3+c])
			}
		}
	}
	checkWithONNX(t, filepath.Join(dir, "model.onnx"))
	// An existing directory is refused, as MLflow refuses it.
	if _, err := Write(dir, b, Options{}); !errors.Is(err, ErrExists) {
		t.Errorf("second write: %v", err)
	}
}

// Without rows the example is the reference profile's medians; without a
// profile there is none (and a note says so).
func TestWriteWithoutExample(t *testing.T) {
	b, _ := penguinBundle(t)
	dir := filepath.Join(t.TempDir(), "m")
	res, err := Write(dir, b, Options{Double: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExampleRows != 0 || len(res.Notes) == 0 {
		t.Errorf("example rows %d, notes %v", res.ExampleRows, res.Notes)
	}
	if _, err := os.Stat(filepath.Join(dir, "input_example.json")); err == nil {
		t.Error("an input example without rows or a profile")
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "MLmodel"))
	if strings.Contains(string(raw), "saved_input_example_info") {
		t.Error("MLmodel points at an input example that is not there")
	}
}

// A bundle that does not export leaves no directory behind.
func TestWriteRefusal(t *testing.T) {
	b, _ := penguinBundle(t)
	b.Members = append(b.Members, b.Members[0])
	dir := filepath.Join(t.TempDir(), "m")
	if _, err := Write(dir, b, Options{}); !errors.Is(err, onnx.ErrEnsemble) {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("a refused export left a directory")
	}
	if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 0 {
		t.Errorf("left %v behind", entries)
	}
}

// checkWithONNX runs the onnx package's full checker when Debian's
// python3-onnx is installed (skipped otherwise).
func checkWithONNX(t *testing.T, path string) {
	t.Helper()
	py := "/usr/bin/python3" // Debian's, where python3-onnx installs
	if _, err := os.Stat(py); err != nil {
		if py, err = exec.LookPath("python3"); err != nil {
			t.Log("no python3: onnx checker skipped")
			return
		}
	}
	if exec.Command(py, "-c", "import onnx").Run() != nil {
		t.Log("no onnx python package: onnx checker skipped")
		return
	}
	out, err := exec.Command(py, "-c", "import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)", path).CombinedOutput()
	if err != nil {
		t.Fatalf("onnx checker: %v\n%s", err, out)
	}
}
