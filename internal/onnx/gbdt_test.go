package onnx

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/gbdt"
	"github.com/gyre-ml/gyre/internal/onnx/onnxpb"
	"google.golang.org/protobuf/proto"
)

// synth builds n rows of 4 features: two numeric (one with 20% missing),
// one categorical with 6 levels (10% missing) and one integer-valued
// numeric; the target depends on all of them.
func synth(n int, task learn.Task, categorical bool, seed uint64) *learn.Dataset {
	rng := rand.New(rand.NewPCG(seed, 7))
	X := frame.NewMatrix(n, 4)
	y := make([]float64, n)
	for i := range n {
		a, b := rng.NormFloat64(), rng.Float64()*10
		c := float64(rng.IntN(6))
		d := float64(rng.IntN(50))
		X.Set(i, 0, a)
		X.Set(i, 1, b)
		X.Set(i, 2, c)
		X.Set(i, 3, d)
		if rng.Float64() < 0.2 {
			X.Set(i, 1, math.NaN())
			b = 3
		}
		if rng.Float64() < 0.1 {
			X.Set(i, 2, math.NaN())
			c = 2
		}
		eff := []float64{1.5, -1, 0.3, 2, -2, 0}[int(c)]
		z := a + 0.3*b + eff - 0.02*d + 0.3*rng.NormFloat64()
		switch task {
		case learn.Regression:
			y[i] = 10 * z
		case learn.Binary:
			y[i] = float64(b2i(z > 0.8))
		case learn.Multiclass:
			y[i] = float64(b2i(z > 0) + b2i(z > 1.5))
		}
	}
	feats := []learn.Feature{{Name: "a"}, {Name: "b"}, {Name: "color"}, {Name: "d"}}
	if categorical {
		feats[2] = learn.Feature{Name: "color", Categorical: true, Levels: []string{"blue", "green", "grey", "red", "white", "yellow"}}
	}
	d := &learn.Dataset{X: X, Features: feats, Task: task, Y: y}
	switch task {
	case learn.Binary:
		d.Classes = []string{"no", "yes"}
	case learn.Multiclass:
		d.Classes = []string{"low", "mid", "high"}
	}
	return d
}

// rowMajor returns X's values row-major and, unless double, X with every
// value rounded to float32, as a runtime with a float input sees it.
func rowMajor(X *frame.Matrix, double bool) (*frame.Matrix, []float64) {
	r := frame.NewMatrix(X.Rows, X.Cols)
	in := make([]float64, X.Rows*X.Cols)
	for i := range X.Rows {
		for j := range X.Cols {
			v := X.At(i, j)
			if !double {
				v = float64(float32(v))
			}
			r.Set(i, j, v)
			in[i*X.Cols+j] = X.At(i, j)
		}
	}
	return r, in
}

func fit(t *testing.T, d *learn.Dataset, set func(*gbdt.Learner)) *gbdt.Model {
	t.Helper()
	l := gbdt.New()
	l.NumTrees = 40
	l.MaxLeaves = 15
	l.MinDataInLeaf = 5
	l.Seed = 1
	if set != nil {
		set(l)
	}
	lm, err := l.Fit(context.Background(), d)
	if err != nil {
		t.Fatalf("fit: %v", err)
	}
	return gbdt.AsModel(lm)
}

// checkONNX runs the ONNX checker (python3-onnx) on model, skipping when
// it is not installed.
func checkONNX(t *testing.T, model []byte) {
	t.Helper()
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import onnx").Run(); err != nil {
		t.Skipf("ONNX checker not run: %s cannot import onnx (apt-get install python3-onnx)", py)
	}
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := os.WriteFile(path, model, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", "import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)", path).CombinedOutput()
	if err != nil {
		t.Fatalf("onnx checker rejected the export: %v\n%s", err, out)
	}
}

// compare evaluates the export on X and checks it against Gyre's
// predictions on the same values (rounded to float32 unless double).
func compare(t *testing.T, m *gbdt.Model, model []byte, X *frame.Matrix, double bool) {
	t.Helper()
	X32, in := rowMajor(X, double)
	res, err := Evaluate(model, in, X.Rows, X.Cols)
	if err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	n := X.Rows
	if !m.Task().Classification() {
		want, err := m.Predict(X32)
		if err != nil {
			t.Fatal(err)
		}
		got := res[OutputValue]
		if len(got.Floats) != n {
			t.Fatalf("variable has %d values, want %d", len(got.Floats), n)
		}
		worst := 0.0
		for i := range n {
			d := math.Abs(float64(got.Floats[i])-want[i]) / max(1, math.Abs(want[i]))
			worst = max(worst, d)
			if d > 1e-5 {
				t.Fatalf("row %d: onnx %v, gyre %v (relative difference %.3g > 1e-5)", i, got.Floats[i], want[i], d)
			}
		}
		t.Logf("%d rows: max relative difference %.3g", n, worst)
		return
	}
	prob, err := m.Probabilities(X32)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := m.Raw(X32)
	if err != nil {
		t.Fatal(err)
	}
	k := len(m.Classes())
	got := res[OutputProbability]
	if len(got.Floats) != n*k {
		t.Fatalf("probabilities has %d values, want %d×%d", len(got.Floats), n, k)
	}
	worst := 0.0
	for i, p := range prob {
		d := math.Abs(float64(got.Floats[i]) - p)
		worst = max(worst, d)
		if d > 1e-5 {
			t.Fatalf("row %d class %d: onnx probability %v, gyre %v (difference %.3g > 1e-5)", i/k, i%k, got.Floats[i], p, d)
		}
	}
	pred, err := m.Predict(X32)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		want := m.Classes()[int(pred[i])]
		if lab := res[OutputLabel].Strings[i]; lab != want {
			// Only a near-tie may differ (float32 rounding of the margin).
			if k == 2 && math.Abs(raw[i]) < 1e-5 {
				continue
			}
			t.Fatalf("row %d: onnx label %q, gyre %q (raw %v)", i, lab, want, raw[i*len(m.BaseScore()):(i+1)*len(m.BaseScore())])
		}
	}
	t.Logf("%d rows: max probability difference %.3g", n, worst)
}

func TestExportGBDT(t *testing.T) {
	cases := []struct {
		name        string
		task        learn.Task
		categorical bool
		objective   string
	}{
		{"regression", learn.Regression, false, ""},
		{"regression-categorical", learn.Regression, true, ""},
		{"huber", learn.Regression, true, gbdt.ObjHuber},
		{"absolute", learn.Regression, false, gbdt.ObjAbsolute},
		{"poisson", learn.Regression, true, gbdt.ObjPoisson},
		{"binary", learn.Binary, false, ""},
		{"binary-categorical", learn.Binary, true, ""},
		{"multiclass", learn.Multiclass, false, ""},
		{"multiclass-categorical", learn.Multiclass, true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			train := synth(1500, c.task, c.categorical, 1)
			if c.objective == gbdt.ObjPoisson {
				for i, v := range train.Y {
					train.Y[i] = math.Floor(math.Exp(v / 20))
				}
			}
			m := fit(t, train, func(l *gbdt.Learner) { l.Objective = c.objective })
			if c.categorical {
				cats := 0
				for _, tr := range m.ExportTrees() {
					for _, n := range tr.Nodes {
						cats += b2i(n.Categorical)
					}
				}
				if cats == 0 {
					t.Fatal("the model has no categorical split: the test does not cover them")
				}
			}
			model, err := ExportGBDT(m, nil, WithProducerVersion("test"))
			if err != nil {
				t.Fatalf("export: %v", err)
			}
			model64, err := ExportGBDT(m, nil, WithDoubleInput())
			if err != nil {
				t.Fatalf("export double: %v", err)
			}
			test := synth(1000, c.task, c.categorical, 2)
			// Values on the thresholds themselves, and unseen category codes.
			for ti, tr := range m.ExportTrees()[:5] {
				for ni, n := range tr.Nodes {
					r := (ti*7 + ni) % test.X.Rows
					if n.Categorical {
						test.X.Set(r, n.Feature, 9)
					} else {
						test.X.Set(r, n.Feature, n.Threshold)
					}
				}
			}
			compare(t, m, model, test.X, false)
			compare(t, m, model64, test.X, true)
			checkONNX(t, model)
			checkONNX(t, model64)
		})
	}
}

func TestExportStructure(t *testing.T) {
	m := fit(t, synth(600, learn.Binary, true, 3), nil)
	mp, err := BuildGBDT(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := proto.Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	var back onnxpb.ModelProto
	if err := proto.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	g := back.GetGraph()
	if len(g.GetNode()) != 1 || g.GetNode()[0].GetOpType() != "TreeEnsembleClassifier" || g.GetNode()[0].GetDomain() != "ai.onnx.ml" {
		t.Fatalf("graph nodes: %v", g.GetNode())
	}
	attrs := map[string]*onnxpb.AttributeProto{}
	for _, a := range g.GetNode()[0].GetAttribute() {
		attrs[a.GetName()] = a
	}
	if got := string(attrs["post_transform"].GetS()); got != "LOGISTIC" {
		t.Errorf("post_transform %q, want LOGISTIC", got)
	}
	neg := false
	for _, w := range attrs["class_weights"].GetFloats() {
		neg = neg || w < 0
	}
	if !neg {
		t.Error("binary export has no negative class weight: onnxruntime would threshold at 0.5 and skip the logistic")
	}
	if got := len(attrs["base_values"].GetFloats()); got != 1 {
		t.Errorf("%d base values, want 1", got)
	}
	var feats string
	for _, kv := range back.GetMetadataProps() {
		if kv.GetKey() == "gyre.features" {
			feats = kv.GetValue()
		}
	}
	if !strings.Contains(feats, `"levels":["blue"`) {
		t.Errorf("gyre.features metadata %q lacks the category levels", feats)
	}
	ops := map[string]int64{}
	for _, o := range back.GetOpsetImport() {
		ops[o.GetDomain()] = o.GetVersion()
	}
	if ops[""] != OpsetONNX || ops["ai.onnx.ml"] != OpsetML || back.GetIrVersion() != IRVersion {
		t.Errorf("opsets %v, IR %d", ops, back.GetIrVersion())
	}
}

func TestExportErrors(t *testing.T) {
	m := fit(t, synth(300, learn.Regression, false, 4), func(l *gbdt.Learner) { l.NumTrees = 3 })
	if _, err := ExportGBDT(nil, nil); err == nil || !strings.Contains(err.Error(), "no model") {
		t.Errorf("nil model: %v", err)
	}
	if _, err := ExportGBDT(m, []learn.Feature{{Name: "x"}}); err == nil || !strings.Contains(err.Error(), "1 features given, the model was trained on 4") {
		t.Errorf("wrong features: %v", err)
	}
	if _, err := Evaluate([]byte("not onnx"), nil, 0, 0); err == nil {
		t.Error("Evaluate accepted garbage")
	}
}

func TestFloorFloat32(t *testing.T) {
	for _, v := range []float64{0, 0.1, -0.1, 1.0 / 3, 1e30, -1e-40, math.Inf(1), math.Inf(-1), 16777217} {
		f := floorFloat32(v)
		if float64(f) > v {
			t.Errorf("floorFloat32(%v) = %v, above", v, f)
		}
		if n := math.Nextafter32(f, float32(math.Inf(1))); !math.IsInf(v, 0) && float64(n) <= v {
			t.Errorf("floorFloat32(%v) = %v, not the largest", v, f)
		}
	}
}

// TestExportTemperature checks that a calibrated classifier's export gives
// the bundle's scaled probabilities (learn.ScaleProba), folded into the leaf
// weights, and that a regression model refuses a temperature.
func TestExportTemperature(t *testing.T) {
	for _, task := range []learn.Task{learn.Binary, learn.Multiclass} {
		m := fit(t, synth(1500, task, true, 5), nil)
		test := synth(500, task, true, 6)
		X32, in := rowMajor(test.X, true)
		for _, temp := range []float64{0.6, 1.7} {
			model, err := ExportGBDT(m, nil, WithDoubleInput(), WithTemperature(temp))
			if err != nil {
				t.Fatalf("%v T=%v: export: %v", task, temp, err)
			}
			res, err := Evaluate(model, in, test.X.Rows, test.X.Cols)
			if err != nil {
				t.Fatalf("%v T=%v: evaluate: %v", task, temp, err)
			}
			want, err := m.Probabilities(X32)
			if err != nil {
				t.Fatal(err)
			}
			k := len(m.Classes())
			learn.ScaleProba(want, k, temp)
			got := res[OutputProbability].Floats
			for i, p := range want {
				if d := math.Abs(float64(got[i]) - p); d > 1e-5 {
					t.Fatalf("%v T=%v row %d class %d: onnx %v, scaled gyre %v", task, temp, i/k, i%k, got[i], p)
				}
			}
			checkONNX(t, model)
		}
	}
	reg := fit(t, synth(300, learn.Regression, false, 7), func(l *gbdt.Learner) { l.NumTrees = 3 })
	if _, err := ExportGBDT(reg, nil, WithTemperature(2)); err == nil || !strings.Contains(err.Error(), "calibrates class probabilities") {
		t.Errorf("regression with a temperature: %v", err)
	}
	if _, err := ExportGBDT(reg, nil, WithTemperature(-1)); err == nil || !strings.Contains(err.Error(), "positive") {
		t.Errorf("negative temperature: %v", err)
	}
}
