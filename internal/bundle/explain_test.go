package bundle_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	_ "github.com/gyre-ml/gyre/internal/learn/gbdt"
)

// TestExplain checks that a gbdt bundle's contributions plus bias add up
// to the log-odds of its probabilities on every row, that the summary is
// ranked, and that what cannot be explained is a typed error.
func TestExplain(t *testing.T) {
	b := fitted(t, "trees")
	if _, err := b.Explain(rows(), ""); !errors.Is(err, bundle.ErrNoExplainer) {
		t.Fatalf("decision tree: %v, want ErrNoExplainer", err)
	}
	l, _ := learn.New("gbdt")
	if err := learn.SetParam(l, "n_estimators", "10"); err != nil {
		t.Fatal(err)
	}
	f := rows()
	X, _, err := b.Members[0].Prep.Transform(f)
	if err != nil {
		t.Fatal(err)
	}
	y := labels(f)
	m, err := l.Fit(context.Background(), &learn.Dataset{X: X, Features: b.Members[0].Prep.Features(), Task: learn.Binary, Y: y, Classes: []string{"no", "yes"}})
	if err != nil {
		t.Fatal(err)
	}
	b.Members[0].Model, b.Members[0].Info.Learner = m, "gbdt"
	ex, err := b.Explain(f, "")
	if err != nil {
		t.Fatal(err)
	}
	pred, err := b.Predict(f)
	if err != nil {
		t.Fatal(err)
	}
	if ex.Rows != f.NumRows() || ex.Output != "log-odds of yes" || ex.Member != "gbdt" || ex.Contributions.NumCols() != len(ex.Summary)+1 {
		t.Fatalf("explanation %+v", ex)
	}
	for i := range ex.Rows {
		sum := 0.0
		for _, c := range ex.Contributions.Columns() {
			v, _ := frame.Value(c, i)
			sum += v
		}
		if p := 1 / (1 + math.Exp(-sum)); math.Abs(p-pred.Proba[2*i+1]) > 1e-9 {
			t.Fatalf("row %d: contributions give %v, the model %v", i, p, pred.Proba[2*i+1])
		}
	}
	for i := 1; i < len(ex.Summary); i++ {
		if ex.Summary[i].MeanAbs > ex.Summary[i-1].MeanAbs {
			t.Errorf("summary not ranked: %+v", ex.Summary)
		}
	}
	var ce *bundle.ClassError
	if _, err := b.Explain(f, "no"); !errors.As(err, &ce) || !ce.Binary {
		t.Errorf("binary model, class no: %v, want a binary ClassError", err)
	}
	if _, err := b.Explain(f, "yes"); err != nil {
		t.Errorf("binary model, its positive class: %v", err)
	}
}
