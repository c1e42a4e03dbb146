package forest_test

import (
	"context"
	"math"
	"sort"
	"testing"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/forest"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
	"github.com/gyre-ml/gyre/internal/learn/tree"
)

func auc(y, s []float64) float64 {
	idx := make([]int, len(y))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return s[idx[a]] < s[idx[b]] })
	var rank, pos float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && s[idx[j]] == s[idx[i]] {
			j++
		}
		for k := i; k < j; k++ {
			if y[idx[k]] == 1 {
				rank += float64(i+j+1) / 2
				pos++
			}
		}
		i = j
	}
	return (rank - pos*(pos+1)/2) / (pos * (float64(len(y)) - pos))
}

// TestAdultQuality pins the test ROC-AUC of the forests and a single tree on
// a 10,000-row sample of adult (native missing values and categories).
func TestAdultQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("real-data test")
	}
	train, test := learntest.Shared(t, "adult", 10000, 5000)
	rf := forest.NewRandomForest()
	rf.NEstimators = 60
	rf.OOBScore = true
	et := forest.NewExtraTrees()
	et.NEstimators = 60
	et.MinSamplesLeaf = 2
	dt := tree.New()
	dt.MaxDepth = 8
	for _, tc := range []struct {
		name string
		l    learn.Learner
		min  float64
	}{{"random_forest", rf, 0.89}, {"extra_trees", et, 0.895}, {"decision_tree", dt, 0.88}} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := tc.l.Fit(context.Background(), train)
			if err != nil {
				t.Fatal(err)
			}
			p, err := m.(learn.Prober).PredictProba(test.X)
			if err != nil {
				t.Fatal(err)
			}
			s := make([]float64, test.X.Rows)
			for i := range s {
				s[i] = p[2*i+1]
			}
			if got := auc(test.Y, s); got < tc.min {
				t.Errorf("test ROC-AUC %.4f, want ≥ %.2f", got, tc.min)
			} else {
				t.Logf("test ROC-AUC %.4f", got)
			}
			if fm := forest.Fitted(m); fm != nil && !math.IsNaN(fm.OOBScore) && fm.OOBScore < 0.83 {
				t.Errorf("OOB accuracy %.4f, want ≥ 0.83", fm.OOBScore)
			}
		})
	}
}
