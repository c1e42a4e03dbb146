package gbdt

import (
	"context"
	"math"
	"testing"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
)

func TestConformance(t *testing.T) {
	learntest.Run(t, learntest.Options{New: func() learn.Learner {
		l := New()
		l.NumTrees = 30
		l.Seed = 3
		return l
	}})
}

func TestConformanceSampled(t *testing.T) {
	learntest.Run(t, learntest.Options{New: func() learn.Learner {
		l := New()
		l.NumTrees = 20
		l.Subsample = 0.7
		l.ColSample = 0.8
		l.MinDataInLeaf = 5
		l.Seed = 9
		return l
	}})
}

func TestExplainSumsToMargin(t *testing.T) {
	for _, task := range []learn.Task{learn.Regression, learn.Binary, learn.Multiclass} {
		t.Run(task.String(), func(t *testing.T) {
			d := learntest.Toy(task, 400, 5)
			l := New()
			l.NumTrees = 15
			l.MinDataInLeaf = 5
			m, err := l.FitModel(context.Background(), d)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := m.Raw(d.X)
			if err != nil {
				t.Fatal(err)
			}
			phi, err := m.Explain(d.X)
			if err != nil {
				t.Fatal(err)
			}
			n, p, k := d.X.Rows, d.X.Cols, m.k
			for c := range k {
				for i := range n {
					s := 0.0
					for j := 0; j <= p; j++ {
						s += phi[(c*n+i)*(p+1)+j]
					}
					if math.Abs(s-raw[i*k+c]) > 1e-9*(1+math.Abs(s)) {
						t.Fatalf("row %d output %d: contributions sum to %v, raw margin %v", i, c, s, raw[i*k+c])
					}
				}
			}
		})
	}
}
