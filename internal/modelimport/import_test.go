package modelimport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/frame/frametest"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/learn/gbdt"
)

// dir holds the fixtures make_fixtures.py wrote, with the originals'
// predictions.
var dir = filepath.Join("..", "..", "testdata", "modelimport")

// tolerance is the agreement demanded with the original library's
// predictions: absolute for probabilities, relative to max(1, |y|) for
// values (XGBoost sums its trees in float32, Gyre in float64).
const tolerance = 1e-6

// reference reads a *.pred.csv: per row, the margins then the predictions.
func reference(t *testing.T, name string) (cols []string, rows [][]float64) {
	t.Helper()
	recs := frametest.Records(t, filepath.Join(dir, name))
	for _, r := range recs[1:] {
		row := make([]float64, len(r))
		for j, s := range r {
			var err error
			if row[j], err = strconv.ParseFloat(s, 64); err != nil {
				t.Fatal(err)
			}
		}
		rows = append(rows, row)
	}
	return recs[0], rows
}

func readRows(t *testing.T, name string) *frame.Frame {
	t.Helper()
	f, err := ingest.Read(context.Background(), filepath.Join(dir, name), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// checkAgainst imports model, saves and reloads the bundle, predicts the
// rows and compares margins and predictions with the original's.
func checkAgainst(t *testing.T, model, rows, preds string, o Options) *Result {
	t.Helper()
	res, err := ImportFile(filepath.Join(dir, model), o)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.gyre")
	if err := res.Bundle.Save(path); err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	f := readRows(t, rows)
	cols, ref := reference(t, preds)
	nm := 0
	for _, c := range cols {
		if strings.HasPrefix(c, "margin") {
			nm++
		}
	}
	if len(ref) != f.NumRows() {
		t.Fatalf("%d reference rows for %d rows", len(ref), f.NumRows())
	}
	// Margins, from the model itself.
	X, _, err := b.Members[0].Prep.Transform(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := gbdt.AsModel(b.Members[0].Model).Raw(X)
	if err != nil {
		t.Fatal(err)
	}
	k := len(raw) / f.NumRows()
	p, err := b.Predict(f)
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for i, r := range ref {
		for c := range nm {
			want := r[c]
			if k == 1 && nm == 2 { // a 2-class softmax reference: the margin is their difference
				want = r[1] - r[0]
			}
			if c >= k {
				break
			}
			d := math.Abs(raw[i*k+c]-want) / max(1, math.Abs(want))
			worst = max(worst, d)
			if d > tolerance {
				t.Fatalf("row %d margin %d: %.9g, original %.9g", i+1, c, raw[i*k+c], want)
			}
		}
		pr := r[nm:]
		switch {
		case p.Proba == nil:
			d := math.Abs(p.Values[i]-pr[0]) / max(1, math.Abs(pr[0]))
			worst = max(worst, d)
			if d > tolerance {
				t.Fatalf("row %d: predicted %.9g, original %.9g", i+1, p.Values[i], pr[0])
			}
		case len(pr) == 1: // binary: the positive class's probability
			d := math.Abs(p.Proba[2*i+1] - pr[0])
			worst = max(worst, d)
			if d > tolerance {
				t.Fatalf("row %d: P(positive) %.9g, original %.9g", i+1, p.Proba[2*i+1], pr[0])
			}
		default:
			kk := len(pr)
			for c := range kk {
				d := math.Abs(p.Proba[i*kk+c] - pr[c])
				worst = max(worst, d)
				if d > tolerance {
					t.Fatalf("row %d class %d: %.9g, original %.9g", i+1, c, p.Proba[i*kk+c], pr[c])
				}
			}
		}
	}
	t.Logf("%s: %d rows, %d trees, largest difference %.3g", model, len(ref), res.Trees, worst)
	return res
}

func TestXGBoostBinary(t *testing.T) {
	for _, file := range []string{"xgb_binary.json", "xgb_binary.ubj"} {
		t.Run(file, func(t *testing.T) {
			res := checkAgainst(t, file, "pima.csv", "xgb_binary.pred.csv", Options{Target: "class"})
			m := res.Bundle.Manifest
			if m.Task.String() != "binary" || strings.Join(m.Classes, ",") != "0,1" || m.Target != "class" {
				t.Errorf("manifest: task %s, classes %v, target %q", m.Task, m.Classes, m.Target)
			}
			if got := m.Input.Fields[1].Name; got != "glucose" {
				t.Errorf("feature 1 is %q, want glucose (the model's feature_names)", got)
			}
			if res.Source != "xgboost 1.7.4" || res.Trees != 30 {
				t.Errorf("source %q, %d trees", res.Source, res.Trees)
			}
		})
	}
}

func TestXGBoostMulticlass(t *testing.T) {
	for _, file := range []string{"xgb_multi.json", "xgb_multi.ubj"} {
		t.Run(file, func(t *testing.T) {
			res := checkAgainst(t, file, "penguins.csv", "xgb_multi.pred.csv",
				Options{Target: "species", Classes: []string{"Adelie", "Chinstrap", "Gentoo"}})
			if got := strings.Join(res.Bundle.Manifest.Classes, ","); got != "Adelie,Chinstrap,Gentoo" {
				t.Errorf("classes %s", got)
			}
		})
	}
}

func TestXGBoostRegression(t *testing.T) {
	checkAgainst(t, "xgb_reg.json", "auto_mpg.csv", "xgb_reg.pred.csv", Options{Target: "mpg"})
	checkAgainst(t, "xgb_dart.json", "auto_mpg.csv", "xgb_dart.pred.csv", Options{Target: "mpg"})
	res := checkAgainst(t, "xgb_poisson.json", "auto_mpg.csv", "xgb_poisson.pred.csv", Options{Target: "cylinders"})
	if res.Bundle.Members[0].Info.Params["source_objective"] != "count:poisson" {
		t.Errorf("params %v", res.Bundle.Members[0].Info.Params)
	}
}

func TestLightGBMBinary(t *testing.T) {
	res := checkAgainst(t, "lgb_binary.txt", "pima.csv", "lgb_binary.pred.csv", Options{Target: "class"})
	if res.Format != LightGBM || res.Trees != 20 {
		t.Errorf("format %s, %d trees", res.Format, res.Trees)
	}
}

// levelsOf reads credit_levels.json: each text column's categories in
// pandas code order.
func levelsOf(t *testing.T) map[string][]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "credit_levels.json"))
	if err != nil {
		t.Fatal(err)
	}
	var lv map[string][]string
	if err := json.Unmarshal(raw, &lv); err != nil {
		t.Fatal(err)
	}
	return lv
}

// XGBoost's native categorical splits (partition splits, with missing
// categories in the held-out rows) predict as XGBoost does, from category
// codes as numbers or, given the categories, from their names.
func TestXGBoostCategorical(t *testing.T) {
	for _, file := range []string{"xgb_categorical.json", "xgb_categorical.ubj"} {
		t.Run(file+"/codes", func(t *testing.T) {
			res := checkAgainst(t, file, "credit_codes.csv", "xgb_categorical.pred.csv", Options{Target: "class"})
			if len(res.Notes) == 0 || !strings.Contains(strings.Join(res.Notes, " "), "checking_status") {
				t.Errorf("notes %q do not say the categorical features take codes", res.Notes)
			}
			if k := res.Bundle.Manifest.Input.Fields[0].Kind; k != frame.KindFloat {
				t.Errorf("checking_status without levels is %s, want float codes", k)
			}
		})
		t.Run(file+"/levels", func(t *testing.T) {
			res := checkAgainst(t, file, "credit.csv", "xgb_categorical.pred.csv", Options{Target: "class", Levels: levelsOf(t)})
			if k := res.Bundle.Manifest.Input.Fields[0].Kind; k != frame.KindCategorical {
				t.Errorf("checking_status with levels is %s, want categorical", k)
			}
		})
	}
	// One-hot categorical splits in a multiclass model.
	checkAgainst(t, "xgb_onehot.json", "penguins_cat.csv", "xgb_onehot.pred.csv", Options{Target: "species",
		Levels: map[string][]string{"island": {"Biscoe", "Dream", "Torgersen"}, "sex": {"FEMALE", "MALE"}}})

	for _, c := range []struct {
		levels map[string][]string
		want   string
	}{
		{map[string][]string{"nope": {"a"}}, `levels given for "nope", which is not a feature`},
		{map[string][]string{"duration": {"a"}}, `"duration", which the model does not split on as a category`},
		{map[string][]string{"purpose": {"a", "a"}}, `"a" appears twice`},
		{map[string][]string{"purpose": {"a"}}, "category code"}, // the trees use codes beyond one level
	} {
		_, err := ImportFile(filepath.Join(dir, "xgb_categorical.json"), Options{Levels: c.levels})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("levels %v: %v, want %q", c.levels, err, c.want)
		}
	}
}

// A LightGBM model with categorical splits (bitsets in cat_threshold)
// takes the category names pandas_categorical stores and predicts as the
// model it was written from. The file is written by make_fixtures.py from
// the text format (no LightGBM here), from a scikit-learn model with the
// same categorical semantics.
func TestLightGBMCategorical(t *testing.T) {
	res := checkAgainst(t, "lgb_categorical.txt", "credit_lgb.csv", "lgb_categorical.pred.csv", Options{Target: "class"})
	in := res.Bundle.Manifest.Input
	if in.Fields[0].Name != "checking_status" || in.Fields[0].Kind != frame.KindCategorical || in.Fields[1].Kind != frame.KindFloat {
		t.Errorf("input %v: want checking_status categorical (pandas_categorical), duration numeric", in.Fields[:2])
	}
	data, err := os.ReadFile(filepath.Join(dir, "lgb_categorical.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ from, to, want string }{
		{"cat_boundaries=0 1 2 3", "cat_boundaries=0 9 2 3", "cat_boundaries value 2"},
		{"cat_threshold=", "cat_thresholds=", "no cat_threshold= line"},
		{"pandas_categorical:[[", "pandas_categorical:[[[", "pandas_categorical"},
	} {
		bad := bytes.Replace(data, []byte(c.from), []byte(c.to), 1)
		if bytes.Equal(bad, data) {
			t.Fatalf("%q not in the fixture", c.from)
		}
		if _, err := Import(bad, "bad.txt", Options{}); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "bad.txt") {
			t.Errorf("%s -> %s: %v, want %q", c.from, c.to, err, c.want)
		}
	}
}

// Truncated, corrupted and foreign files fail with an error naming the
// file and the format expected, never a panic.
func TestBadFiles(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	js, ubj, lgb := read("xgb_binary.json"), read("xgb_binary.ubj"), read("lgb_binary.txt")
	cases := []struct {
		name, format string
		data         []byte
		want         string
	}{
		{"empty.json", "", nil, "tried xgboost-json"},
		{"random.bin", "", []byte("\x93\x11\xfe\x00garbage bytes here"), "tried xgboost-json, xgboost-ubj, lightgbm, onnx"},
		{"model.csv", "", []byte("a,b,c\n1,2,3\n"), "tried"},
		{"half.json", "", js[:len(js)/2], "want an XGBoost JSON model"},
		{"half.ubj", "", ubj[:len(ubj)/2], "want an XGBoost UBJSON model"},
		{"half.txt", "", lgb[:len(lgb)/2], "before \"end of trees\""},
		{"other.json", "", []byte(`{"model": 1}`), "learner"},
		{"forced.json", XGBoostJSON, lgb, "want an XGBoost JSON model"},
		{"forced.onnx", ONNX, js, "decode ONNX protobuf"},
		{"forced.txt", LightGBM, js, "starts with the line \"tree\""},
		{"m.json", "pickle", js, "unknown format"},
	}
	for _, c := range cases {
		_, err := Import(c.data, c.name, Options{Format: c.format})
		if err == nil {
			t.Errorf("%s: imported", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.name) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not name the file and %q", c.name, err, c.want)
		}
		if c.format != "pickle" && !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v is not ErrFormat", c.name, err)
		}
	}
	// Every truncation of the UBJ and LightGBM files fails cleanly (what
	// follows LightGBM's "end of trees" is optional).
	lgbTrees := lgb[:bytes.Index(lgb, []byte("end of trees"))+len("end of trees")]
	for _, data := range [][]byte{ubj, js, lgbTrees} {
		for n := 0; n < len(data)-1; n += 97 {
			if _, err := Import(data[:n], "cut", Options{}); err == nil {
				t.Fatalf("a file cut at %d bytes imported", n)
			}
		}
	}
}

// Names and classes given by the caller must fit the model.
func TestOptionsChecked(t *testing.T) {
	path := filepath.Join(dir, "xgb_binary.json")
	for _, o := range []Options{
		{Features: []string{"a", "b"}},
		{Classes: []string{"no", "yes", "maybe"}},
		{Target: "glucose"},
		{Features: []string{"a", "a", "b", "c", "d", "e", "f", "g"}},
	} {
		if _, err := ImportFile(path, o); err == nil {
			t.Errorf("%+v: imported", o)
		}
	}
	if _, err := ImportFile(filepath.Join(dir, "xgb_reg.json"), Options{Classes: []string{"a", "b"}}); err == nil {
		t.Error("classes accepted for a regression model")
	}
}

func TestONNX(t *testing.T) {
	// Double input: scikit-learn's probabilities (onnxruntime agrees to 8e-8).
	res := checkAgainst(t, "hgb_multi_double.onnx", "penguins.csv", "hgb_multi_double.pred.csv", Options{Target: "species",
		Features: []string{"bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"}})
	if got := strings.Join(res.Bundle.Manifest.Classes, ","); got != "Adelie,Chinstrap,Gentoo" {
		t.Errorf("classes %s (want the graph's classlabels_strings)", got)
	}
	// Float comparisons (BRANCH_GT; a Cast then BRANCH_LT): onnxruntime's outputs.
	checkAgainst(t, "hgb_reg_float.onnx", "auto_mpg.csv", "hgb_reg_float.pred.csv", Options{Target: "mpg",
		Features: []string{"cylinders", "displacement", "horsepower", "weight", "acceleration", "model_year"}})
	checkAgainst(t, "hgb_binary_cast.onnx", "pima.csv", "hgb_binary_cast.pred.csv", Options{Target: "class",
		Features: []string{"pregnancies", "glucose", "blood_pressure", "skin_thickness", "insulin", "bmi", "diabetes_pedigree", "age"}})
}
