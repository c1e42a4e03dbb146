package onnx

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/gbdt"
)

// bundleOf fits a binary gbdt on a frame through the bundle's own
// preprocessing and wraps it as a one-member bundle.
func bundleOf(t *testing.T) (*bundle.Bundle, *frame.Frame) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	n := 800
	a, b := make([]float64, n), make([]float64, n)
	c := make([]string, n)
	y := make([]float64, n)
	for i := range n {
		a[i], b[i] = rng.NormFloat64(), rng.Float64()*10
		c[i] = []string{"red", "green", "blue"}[rng.IntN(3)]
		if a[i]+0.2*b[i]+map[string]float64{"red": 1, "green": 0, "blue": -1}[c[i]] > 1 {
			y[i] = 1
		}
	}
	f := frame.MustNew(frame.NewFloat("a", a), frame.NewFloat("b", b), frame.NewCategorical("c", c, nil))
	prep, X, err := bundle.FitPrep(f, bundle.FamilyTrees)
	if err != nil {
		t.Fatal(err)
	}
	l := gbdt.New()
	l.NumTrees, l.MaxLeaves, l.Seed = 40, 15, 1
	m, err := l.Fit(context.Background(), &learn.Dataset{X: X, Features: prep.Features(), Task: learn.Binary, Y: y, Classes: []string{"no", "yes"}})
	if err != nil {
		t.Fatal(err)
	}
	return &bundle.Bundle{
		Manifest: bundle.Manifest{Task: learn.Binary, Classes: []string{"no", "yes"}, Input: f.Schema(), Temperature: 1.3},
		Members:  []bundle.Member{{Info: bundle.MemberInfo{Learner: "gbdt", Weight: 1, Temperature: 0.9}, Prep: prep, Model: m}},
	}, f
}

// TestExportBundle checks the export rules (one gbdt member, no
// smoothing; temperatures folded in) and that Check finds the graph
// agrees with the bundle's own calibrated probabilities (it compared them
// with the uncalibrated ones when it lived in cli, so --check failed
// every calibrated model).
func TestExportBundle(t *testing.T) {
	b, f := bundleOf(t)
	for _, d := range []bool{false, true} {
		var opts []Option
		if d {
			opts = append(opts, WithDoubleInput())
		}
		e, err := ExportBundle(b, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if e.Double != d || len(e.Features) != 3 || len(e.Outputs) != 2 || e.Trees != 40 {
			t.Errorf("export %+v", e)
		}
		X, err := e.Encode(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := e.Check(X)
		if err != nil {
			t.Fatal(err)
		}
		if !c.OK || c.Rows != f.NumRows() || c.LabelMismatches != 0 || (d && c.Rounding != 0) {
			t.Errorf("double %v: check %+v", d, c)
		}
		if !d {
			continue
		}
		// The folded temperatures are the bundle's: the graph's
		// probabilities are bundle.Predict's.
		in := make([]float64, 0, X.Rows*X.Cols)
		for i := range X.Rows {
			in = append(in, X.Row(i, nil)...)
		}
		res, err := Evaluate(e.Data, in, X.Rows, X.Cols)
		if err != nil {
			t.Fatal(err)
		}
		pred, err := b.Predict(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range res[OutputProbability].Floats {
			if diff := float64(p) - pred.Proba[i]; diff > 1e-5 || diff < -1e-5 {
				t.Fatalf("double %v: probability %d: onnx %v, bundle %v", d, i, p, pred.Proba[i])
			}
		}
	}
	e, _ := ExportBundle(b)
	if _, err := e.Encode(frame.MustNew(frame.NewFloat("z", []float64{1}))); err == nil {
		t.Error("encoding a frame without the model's columns gave no error")
	}

	two := *b
	two.Members = append(two.Members, b.Members[0])
	if _, err := ExportBundle(&two); !errors.Is(err, ErrEnsemble) {
		t.Errorf("two members: %v, want ErrEnsemble", err)
	}
	smoothed := *b
	smoothed.Members = []bundle.Member{b.Members[0]}
	smoothed.Members[0].Info.Smoothing = 1e-3
	if _, err := ExportBundle(&smoothed); !errors.Is(err, ErrSmoothed) {
		t.Errorf("smoothed: %v, want ErrSmoothed", err)
	}
}
