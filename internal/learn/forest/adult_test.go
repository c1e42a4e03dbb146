package forest_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/forest"
	"github.com/gyre-ml/gyre/internal/learn/tree"
)

const adultDir = "../../../examples/data/adult"

// loadAdult reads the first maxRows rows of a split, categorical columns as
// codes of the levels seen in train (missing or unseen: NaN).
func loadAdult(t *testing.T, split string, levels map[string][]string, maxRows int) *learn.Dataset {
	t.Helper()
	var m struct {
		Target      string   `json:"target"`
		Categorical []string `json:"categorical_columns"`
		Classes     []string `json:"classes"`
	}
	b, err := os.ReadFile(filepath.Join(adultDir, "manifest.json"))
	if err != nil {
		t.Skipf("adult data not available: %v", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(adultDir, "adult."+split+".csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head, rows := recs[0], recs[1:]
	rows = rows[:min(len(rows), maxRows)]
	tj := slices.Index(head, m.Target)
	var cols []int
	var fs []learn.Feature
	for j, h := range head {
		if j == tj {
			continue
		}
		cols = append(cols, j)
		ft := learn.Feature{Name: h}
		if slices.Contains(m.Categorical, h) {
			if _, ok := levels[h]; !ok {
				seen := map[string]bool{}
				for _, r := range rows {
					if r[j] != "" {
						seen[r[j]] = true
					}
				}
				for v := range seen {
					levels[h] = append(levels[h], v)
				}
				sort.Strings(levels[h])
			}
			ft.Categorical, ft.Levels = true, levels[h]
		}
		fs = append(fs, ft)
	}
	X := frame.NewMatrix(len(rows), len(cols))
	y := make([]float64, len(rows))
	for i, r := range rows {
		for k, j := range cols {
			v := math.NaN()
			if fs[k].Categorical {
				if c := slices.Index(fs[k].Levels, r[j]); c >= 0 {
					v = float64(c)
				}
			} else if x, err := strconv.ParseFloat(r[j], 64); err == nil {
				v = x
			}
			X.Set(i, k, v)
		}
		y[i] = float64(slices.Index(m.Classes, r[tj]))
	}
	return &learn.Dataset{X: X, Y: y, Features: fs, Task: learn.Binary, Classes: m.Classes}
}

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
	levels := map[string][]string{}
	train := loadAdult(t, "train", levels, 10000)
	test := loadAdult(t, "test", levels, 5000)
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
