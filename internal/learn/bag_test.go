package learn_test

import (
	"context"
	"math"
	"testing"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
	_ "github.com/gyre-ml/gyre/internal/learn/linear"
)

// foldModels fits the named learner on k interleaved folds' training rows.
func foldModels(t *testing.T, name string, d *learn.Dataset, k int) []learn.Model {
	t.Helper()
	var out []learn.Model
	for f := range k {
		var rows []int
		for i := range d.N() {
			if i%k != f {
				rows = append(rows, i)
			}
		}
		l, err := learn.New(name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := l.Fit(context.Background(), d.Subset(rows))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// TestBagAveragesAndRoundTrips checks that a bag predicts the mean of its
// models (values, probabilities, importances), its classes are the argmax
// of the mean probabilities, and it decodes to the same predictions.
func TestBagAveragesAndRoundTrips(t *testing.T) {
	for _, c := range []struct {
		name string
		task learn.Task
	}{{"ridge", learn.Regression}, {"logistic_regression", learn.Multiclass}} {
		d := learntest.Toy(c.task, 300, 2)
		ms := foldModels(t, c.name, d, 3)
		bag, err := learn.NewBag(ms)
		if err != nil {
			t.Fatal(err)
		}
		if bag.Kind() != learn.BagKind {
			t.Fatalf("kind %q", bag.Kind())
		}
		want := make([]float64, 0)
		for i, m := range ms {
			var v []float64
			if c.task.Classification() {
				v, err = m.(learn.Prober).PredictProba(d.X)
			} else {
				v, err = m.Predict(d.X)
			}
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				want = make([]float64, len(v))
			}
			for j := range v {
				want[j] += v[j] / 3
			}
		}
		got, err := bag.Predict(d.X)
		if err != nil {
			t.Fatal(err)
		}
		if c.task.Classification() {
			p, err := bag.(learn.Prober).PredictProba(d.X)
			if err != nil {
				t.Fatal(err)
			}
			for j := range want {
				if math.Abs(p[j]-want[j]) > 1e-12 {
					t.Fatalf("%s: proba %d = %v, want the mean %v", c.name, j, p[j], want[j])
				}
			}
			k := len(d.Classes)
			for i, cls := range got {
				for c2 := range k {
					if p[i*k+c2] > p[i*k+int(cls)] {
						t.Fatalf("row %d: class %v is not the argmax of %v", i, cls, p[i*k:(i+1)*k])
					}
				}
			}
		} else {
			for j := range want {
				if math.Abs(got[j]-want[j]) > 1e-9 {
					t.Fatalf("%s: value %d = %v, want the mean %v", c.name, j, got[j], want[j])
				}
			}
		}
		imp, ok := bag.(learn.Importancer)
		if !ok || len(imp.Importance()) != d.X.Cols {
			t.Errorf("%s: a bag of linear models should report %d importances", c.name, d.X.Cols)
		}
		b, err := bag.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		back, err := learn.DecodeModel(learn.BagKind, b)
		if err != nil {
			t.Fatal(err)
		}
		again, err := back.Predict(d.X)
		if err != nil {
			t.Fatal(err)
		}
		for j := range got {
			if got[j] != again[j] {
				t.Fatalf("%s: decoded bag predicts %v for row %d, want %v", c.name, again[j], j, got[j])
			}
		}
		b2, _ := back.MarshalBinary()
		if string(b2) != string(b) {
			t.Errorf("%s: re-encoded bag differs", c.name)
		}
		for _, cut := range []int{0, 1, len(b) / 2, len(b) - 1} {
			if _, err := learn.DecodeModel(learn.BagKind, b[:cut]); err == nil {
				t.Errorf("%s: a bag truncated to %d of %d bytes decoded", c.name, cut, len(b))
			}
		}
	}
	if _, err := learn.NewBag(nil); err == nil {
		t.Error("an empty bag was accepted")
	}
}
