package metric

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame/frametest"
)

type golden struct {
	Sklearn  string `json:"sklearn"`
	Fixtures []struct {
		Name    string            `json:"name"`
		Task    string            `json:"task"`
		K       int               `json:"k"`
		Y       []float64         `json:"y"`
		Proba   []float64         `json:"proba"`
		Pred    []float64         `json:"pred"`
		Weight  []float64         `json:"weight"`
		X       []float64         `json:"x"`
		Dim     int               `json:"dim"`
		Labels  []float64         `json:"labels"`
		Metrics map[string]any    `json:"metrics"`
		Extra   map[string]string `json:"-"`
	} `json:"fixtures"`
}

const tol = 1e-9

func loadGolden(t *testing.T) golden {
	var g golden
	frametest.Golden(t, "../../testdata/metric/golden.json", &g)
	return g
}

// TestGolden checks every registered metric against scikit-learn's values.
func TestGolden(t *testing.T) {
	g := loadGolden(t)
	for _, f := range g.Fixtures {
		t.Run(f.Name, func(t *testing.T) {
			task := map[string]Task{"binary": Binary, "multiclass": Multiclass, "regression": Regression, "clustering": Clustering}[f.Task]
			in := Input{Y: f.Y, Pred: f.Pred, Proba: f.Proba, K: f.K, Weight: f.Weight, X: f.X, Dim: f.Dim}
			if task == Clustering {
				in.Pred = f.Labels
			}
			if task.String() == "binary" || task == Multiclass {
				// Derived predictions must equal scikit-learn's.
				in.Pred = nil
				got, err := in.Predictions()
				if err != nil || !equal(got, f.Pred) {
					t.Fatalf("derived predictions differ from the fixture's (%v)", err)
				}
			}
			checked := 0
			for _, m := range All(task) {
				want, ok := f.Metrics[m.Name].(float64)
				if !ok {
					t.Errorf("%s: no golden value", m.Name)
					continue
				}
				got, err := m.Score(in)
				if err != nil {
					t.Errorf("%s: %v", m.Name, err)
					continue
				}
				if math.Abs(got-want) > tol {
					t.Errorf("%s = %.15g, want %.15g (sklearn %s)", m.Name, got, want, g.Sklearn)
				}
				checked++
			}
			if checked == 0 {
				t.Fatal("no metric checked")
			}
			if task == Binary || task == Multiclass {
				cm, err := ConfusionMatrix(f.Y, f.Pred, f.K, f.Weight)
				if err != nil {
					t.Fatal(err)
				}
				for i, row := range f.Metrics["confusion_matrix"].([]any) {
					for j, v := range row.([]any) {
						if math.Abs(cm[i][j]-v.(float64)) > tol {
							t.Errorf("confusion[%d][%d] = %v, want %v", i, j, cm[i][j], v)
						}
					}
				}
				if cal, ok := f.Metrics["calibration"].(map[string]any); ok && f.Weight == nil {
					bins, err := CalibrationCurve(f.Y, column(f.Proba, 2, 1), nil, 10)
					if err != nil {
						t.Fatal(err)
					}
					pt, pp := cal["prob_true"].([]any), cal["prob_pred"].([]any)
					if len(bins) != len(pt) {
						t.Fatalf("calibration: %d bins, want %d", len(bins), len(pt))
					}
					for b := range bins {
						if math.Abs(bins[b].FractionPositive-pt[b].(float64)) > tol || math.Abs(bins[b].MeanPredicted-pp[b].(float64)) > tol {
							t.Errorf("calibration bin %d = %+v, want %v %v", b, bins[b], pt[b], pp[b])
						}
					}
				}
				rep, err := ClassReport(f.Y, f.Pred, f.K, f.Weight)
				if err != nil {
					t.Fatal(err)
				}
				for c, r := range f.Metrics["report"].([]any) {
					want := r.(map[string]any)
					got := map[string]float64{"precision": rep[c].Precision, "recall": rep[c].Recall, "f1": rep[c].F1, "support": rep[c].Support}
					for k, v := range got {
						if math.Abs(v-want[k].(float64)) > tol {
							t.Errorf("report class %d %s = %v, want %v", c, k, v, want[k])
						}
					}
				}
			}
		})
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRankingInvariance: ROC-AUC and average precision depend only on the
// order of the scores.
func TestRankingInvariance(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 500
	y := make([]float64, n)
	s := make([]float64, n)
	for i := range y {
		if r.Float64() < 0.3 {
			y[i] = 1
		}
		s[i] = math.Round((y[i]+r.NormFloat64())*4) / 4 // ties
	}
	transforms := map[string]func(float64) float64{
		"exp":     math.Exp,
		"affine":  func(v float64) float64 { return 3*v - 7 },
		"sigmoid": func(v float64) float64 { return 1 / (1 + math.Exp(-v)) },
		"cube":    func(v float64) float64 { return v * v * v },
	}
	auc0, _ := ROCAUC(y, s, nil)
	ap0, _ := AveragePrecision(y, s, nil)
	for name, f := range transforms {
		ts := make([]float64, n)
		for i := range s {
			ts[i] = f(s[i])
		}
		auc, err := ROCAUC(y, ts, nil)
		if err != nil || math.Abs(auc-auc0) > 1e-12 {
			t.Errorf("%s: roc auc %v, want %v (%v)", name, auc, auc0, err)
		}
		ap, _ := AveragePrecision(y, ts, nil)
		if math.Abs(ap-ap0) > 1e-12 {
			t.Errorf("%s: average precision %v, want %v", name, ap, ap0)
		}
	}
	// Reversing the order gives 1 - AUC; unit weights change nothing.
	neg := make([]float64, n)
	ones := make([]float64, n)
	for i := range s {
		neg[i] = -s[i]
		ones[i] = 1
	}
	if auc, _ := ROCAUC(y, neg, nil); math.Abs(auc-(1-auc0)) > 1e-12 {
		t.Errorf("reversed roc auc %v, want %v", auc, 1-auc0)
	}
	if auc, _ := ROCAUC(y, s, ones); math.Abs(auc-auc0) > 1e-12 {
		t.Errorf("unit-weighted roc auc %v, want %v", auc, auc0)
	}
	// Integer weights equal repeating rows.
	w := make([]float64, n)
	var ry, rs []float64
	for i := range w {
		w[i] = float64(1 + i%3)
		for range int(w[i]) {
			ry = append(ry, y[i])
			rs = append(rs, s[i])
		}
	}
	a1, _ := ROCAUC(y, s, w)
	a2, _ := ROCAUC(ry, rs, nil)
	if math.Abs(a1-a2) > 1e-12 {
		t.Errorf("weighted roc auc %v, repeated rows %v", a1, a2)
	}
}

func TestPerfectAndWorst(t *testing.T) {
	y := []float64{0, 0, 1, 1}
	for _, c := range []struct {
		name string
		got  func() (float64, error)
		want float64
	}{
		{"auc perfect", func() (float64, error) { return ROCAUC(y, []float64{.1, .2, .8, .9}, nil) }, 1},
		{"auc worst", func() (float64, error) { return ROCAUC(y, []float64{.9, .8, .2, .1}, nil) }, 0},
		{"auc all tied", func() (float64, error) { return ROCAUC(y, []float64{.5, .5, .5, .5}, nil) }, 0.5},
		{"ap perfect", func() (float64, error) { return AveragePrecision(y, []float64{.1, .2, .8, .9}, nil) }, 1},
		{"accuracy", func() (float64, error) { return Accuracy(y, []float64{0, 1, 1, 1}, nil) }, 0.75},
		{"mcc perfect", func() (float64, error) { return MCC(y, y, 2, nil) }, 1},
		{"mcc constant", func() (float64, error) { return MCC(y, []float64{1, 1, 1, 1}, 2, nil) }, 0},
		{"r2 perfect", func() (float64, error) { return R2(y, y, nil) }, 1},
		{"r2 constant target", func() (float64, error) { return R2([]float64{2, 2}, []float64{1, 2}, nil) }, 0},
		{"log loss clipped", func() (float64, error) { return LogLoss([]float64{1}, []float64{1, 0}, 2, nil) }, -math.Log(0x1p-52 / (1 + 0x1p-52))},
	} {
		got, err := c.got()
		if err != nil || math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s = %v (%v), want %v", c.name, got, err, c.want)
		}
	}
}

func TestBadInput(t *testing.T) {
	for _, c := range []struct {
		name string
		err  func() error
		want string
	}{
		{"one class", func() error { _, e := ROCAUC([]float64{1, 1}, []float64{.2, .3}, nil); return e }, "only one class"},
		{"length", func() error { _, e := MAE([]float64{1, 2}, []float64{1}, nil); return e }, "1 predictions for 2 targets"},
		{"empty", func() error { _, e := Accuracy(nil, nil, nil); return e }, "no rows"},
		{"bad class", func() error { _, e := LogLoss([]float64{3}, []float64{.5, .5}, 2, nil); return e }, "class index"},
		{"bad proba", func() error { _, e := LogLoss([]float64{1}, []float64{.5, math.NaN()}, 2, nil); return e }, "probability of row 1"},
		{"neg weight", func() error { _, e := MSE([]float64{1}, []float64{1}, []float64{-1}); return e }, "weight of row 1"},
		{"nan score", func() error { _, e := ROCAUC([]float64{0, 1}, []float64{0, math.NaN()}, nil); return e }, "score of row 2"},
		{"rmsle negative", func() error { _, e := RMSLE([]float64{1}, []float64{-1}, nil); return e }, "non-negative"},
		{"silhouette one cluster", func() error { _, e := Silhouette([]float64{1, 2, 3}, 1, []float64{0, 0, 0}); return e }, "1 clusters"},
		{"unknown metric", func() error { _, e := Lookup("auc"); return e }, "valid: roc_auc"},
		{"wrong task", func() error { _, e := LookupTask(Regression, "roc_auc"); return e }, "valid: rmse"},
		{"no pred", func() error { _, e := All(Binary)[4].Score(Input{Y: []float64{1}}); return e }, "no predictions"},
	} {
		err := c.err()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestRegistry(t *testing.T) {
	for task, want := range map[Task]string{Binary: "roc_auc", Multiclass: "log_loss", Regression: "rmse", Clustering: "silhouette"} {
		m, ok := Default(task)
		if !ok || m.Name != want || !m.Supports(task) {
			t.Errorf("Default(%v) = %q, want %q", task, m.Name, want)
		}
	}
	if _, ok := Default(TaskInvalid); ok {
		t.Error("Default(invalid) ok")
	}
	seen := map[string]bool{}
	for _, task := range []Task{Binary, Multiclass, Regression, Clustering} {
		for _, m := range All(task) {
			if m.Score == nil || m.Summary == "" {
				t.Errorf("%s: incomplete", m.Name)
			}
			seen[m.Name] = true
		}
	}
	if len(seen) != len(metrics) {
		t.Errorf("%d metrics reachable through All, %d registered", len(seen), len(metrics))
	}
	ll, _ := Lookup("log_loss")
	if ll.HigherIsBetter || !ll.Better(0.1, 0.2) || ll.Loss(0.3) != 0.3 {
		t.Error("log_loss orientation")
	}
	auc, _ := Lookup("roc_auc")
	if !auc.Better(0.9, 0.8) || auc.Loss(0.9) != -0.9 {
		t.Error("roc_auc orientation")
	}
}

func TestCurves(t *testing.T) {
	y := []float64{0, 0, 1, 1, 1}
	s := []float64{0.1, 0.6, 0.6, 0.8, 0.3}
	c, err := ThresholdCurve(y, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Thresholds 0.8, 0.6 (tie), 0.3, 0.1.
	want := []CurvePoint{
		{Threshold: 0.8, FPR: 0, TPR: 1.0 / 3, Precision: 1, Recall: 1.0 / 3},
		{Threshold: 0.6, FPR: 0.5, TPR: 2.0 / 3, Precision: 2.0 / 3, Recall: 2.0 / 3},
		{Threshold: 0.3, FPR: 0.5, TPR: 1, Precision: 0.75, Recall: 1},
		{Threshold: 0.1, FPR: 1, TPR: 1, Precision: 0.6, Recall: 1},
	}
	if len(c) != len(want) {
		t.Fatalf("%d points, want %d", len(c), len(want))
	}
	for i := range want {
		if c[i] != want[i] {
			t.Errorf("point %d = %+v, want %+v", i, c[i], want[i])
		}
	}
	bins, err := CalibrationCurve(y, []float64{0.05, 0.52, 0.55, 0.95, 1}, nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(bins) != 2 || bins[0].Weight != 1 || bins[1].Weight != 4 || bins[1].FractionPositive != 0.75 {
		t.Errorf("calibration bins %+v", bins)
	}
}

func TestScoreAll(t *testing.T) {
	y := []float64{0, 1, 1, 1}
	rs := ScoreAll(Binary, Input{Y: y, Pred: []float64{0, 1, 0, 1}, K: 2})
	for _, r := range rs {
		if r.Name == "roc_auc" || r.Name == "log_loss" {
			t.Errorf("%s computed without probabilities", r.Name)
		}
		if r.Name == "accuracy" && r.Value != 0.75 {
			t.Errorf("accuracy %v", r.Value)
		}
	}
	rs = ScoreAll(Binary, Input{Y: []float64{1, 1}, Proba: []float64{.2, .8, .4, .6}, K: 2})
	if rs[0].Name != "roc_auc" || rs[0].Err == "" {
		t.Errorf("roc_auc with one class: %+v, want an error entry", rs[0])
	}
	if len(ScoreAll(Regression, Input{Y: []float64{1, 2}, Pred: []float64{1, 3}})) != 6 {
		t.Error("regression metrics missing")
	}
}
