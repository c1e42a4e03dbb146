package linear

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/metric"
)

// loadShared reads examples/data/<name>: numeric columns as float64 (empty =
// NaN), categorical columns coded by train levels (empty or unseen = NaN).
func loadShared(t *testing.T, name string) (train, test *learn.Dataset) {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "examples", "data", name)
	var m struct {
		Task        string   `json:"task"`
		Target      string   `json:"target"`
		Categorical []string `json:"categorical_columns"`
		Classes     []string `json:"classes"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Skip("shared data not available:", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	read := func(split string) [][]string {
		f, err := os.Open(filepath.Join(dir, name+"."+split+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	tr, te := read("train"), read("test")
	head := tr[0]
	tcol := slices.Index(head, m.Target)
	var feats []learn.Feature
	codes := map[int]map[string]int{}
	for j, h := range head {
		if j == tcol {
			continue
		}
		f := learn.Feature{Name: h, Categorical: slices.Contains(m.Categorical, h)}
		if f.Categorical {
			codes[j] = map[string]int{}
			for _, r := range tr[1:] {
				if _, ok := codes[j][r[j]]; !ok && r[j] != "" {
					codes[j][r[j]] = len(f.Levels)
					f.Levels = append(f.Levels, r[j])
				}
			}
		}
		feats = append(feats, f)
	}
	build := func(recs [][]string) *learn.Dataset {
		rows := recs[1:]
		d := &learn.Dataset{X: frame.NewMatrix(len(rows), len(feats)), Features: feats, Y: make([]float64, len(rows))}
		for i, r := range rows {
			c := 0
			for j, v := range r {
				if j == tcol {
					continue
				}
				x := math.NaN()
				if idx, ok := codes[j]; ok {
					if k, ok := idx[v]; ok {
						x = float64(k)
					}
				} else if v != "" {
					x, _ = strconv.ParseFloat(v, 64)
				}
				d.X.Set(i, c, x)
				c++
			}
			if m.Task == "regression" {
				d.Task = learn.Regression
				d.Y[i], _ = strconv.ParseFloat(r[tcol], 64)
			} else {
				d.Task, d.Classes = learn.Binary, m.Classes
				d.Y[i] = float64(slices.Index(m.Classes, r[tcol]))
			}
		}
		return d
	}
	return build(tr), build(te)
}

// TestSharedData pins test metrics on the shared splits against scikit-learn
// on the same encoding (values from bench/learners_linear/run.py).
func TestSharedData(t *testing.T) {
	if testing.Short() {
		t.Skip("fits on real data")
	}
	for _, c := range []struct {
		data    string
		learner learn.Learner
		metric  string
		sklearn float64
		margin  float64
	}{
		{"adult", NewLogisticRegression(), "roc_auc", 0.9082, 0.002},
		{"bike_sharing", NewRidge(), "rmse", 142.1807, 0.01},
	} {
		t.Run(c.data+"/"+c.learner.Name(), func(t *testing.T) {
			train, test := loadShared(t, c.data)
			m, err := c.learner.Fit(context.Background(), train)
			if err != nil {
				t.Fatal(err)
			}
			in := metric.Input{Y: test.Y, K: len(test.Classes)}
			if test.Task == learn.Regression {
				in.Pred, _ = m.Predict(test.X)
			} else {
				in.Proba, _ = m.(learn.Prober).PredictProba(test.X)
			}
			mt, _ := metric.Lookup(c.metric)
			got, err := mt.Score(in)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("test %s = %.6f, scikit-learn %.6f", c.metric, got, c.sklearn)
			if mt.Better(c.sklearn, got) && math.Abs(got-c.sklearn) > c.margin {
				t.Errorf("test %s = %.4f, scikit-learn %.4f (margin %.4f)", c.metric, got, c.sklearn, c.margin)
			}
		})
	}
}
