package onnx

import (
	"context"
	"slices"
	"testing"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/gbdt"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
)

// WithProbabilityColumns splits the probabilities into one [N, 1] output
// per class holding the same values.
func TestProbabilityColumns(t *testing.T) {
	for _, task := range []learn.Task{learn.Binary, learn.Multiclass} {
		d := learntest.Toy(task, 300, 2)
		l := gbdt.New()
		l.NumTrees = 5
		lm, err := l.Fit(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		m := gbdt.AsModel(lm)
		plain, err := ExportGBDT(m, nil)
		if err != nil {
			t.Fatal(err)
		}
		cols, err := ExportGBDT(m, nil, WithProbabilityColumns())
		if err != nil {
			t.Fatal(err)
		}
		n, p := d.X.Rows, d.X.Cols
		x := make([]float64, n*p)
		for i := range n {
			for j := range p {
				x[i*p+j] = d.X.At(i, j)
			}
		}
		a, err := Evaluate(plain, x, n, p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Evaluate(cols, x, n, p)
		if err != nil {
			t.Fatal(err)
		}
		if b[OutputProbability] != nil || !slices.Equal(a[OutputLabel].Strings, b[OutputLabel].Strings) {
			t.Fatalf("%s: outputs %v", task, b)
		}
		if got := probabilities(b, m.Classes(), n); !slices.Equal(got, a[OutputProbability].Floats) {
			t.Fatalf("%s: per-class outputs differ from the probabilities", task)
		}
		if s := b[ProbabilityColumn(m.Classes()[0])].Shape; s[0] != n || s[1] != 1 {
			t.Errorf("%s: per-class output shape %v", task, s)
		}
	}
}
