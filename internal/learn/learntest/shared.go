package learntest

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
)

// Shared reads the splits of the shared data set examples/data/<name> (its
// manifest.json names the target, the categorical columns and the classes)
// as learner input: the first trainRows and testRows rows (0: all), numeric
// columns as float64 (empty: NaN), categorical ones as codes of the levels
// seen in the training rows, sorted (empty or unseen: NaN). The task is
// regression or binary, as the manifest says. The test skips when the data
// is not there.
func Shared(t testing.TB, name string, trainRows, testRows int) (train, test *learn.Dataset) {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(self), "..", "..", "..", "examples", "data", name)
	var m struct {
		Task        string   `json:"task"`
		Target      string   `json:"target"`
		Categorical []string `json:"categorical_columns"`
		Classes     []string `json:"classes"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Skipf("shared data %s not available: %v", name, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s manifest: %v", name, err)
	}
	read := func(split string, limit int) [][]string {
		f, err := os.Open(filepath.Join(dir, name+"."+split+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil || len(recs) == 0 {
			t.Fatalf("%s %s: %v, %d records", name, split, err, len(recs))
		}
		if limit > 0 && len(recs) > limit+1 {
			recs = recs[:limit+1]
		}
		return recs
	}
	tr, te := read("train", trainRows), read("test", testRows)
	head := tr[0]
	tcol := slices.Index(head, m.Target)
	if tcol < 0 {
		t.Fatalf("%s: no target column %q", name, m.Target)
	}
	var feats []learn.Feature
	var cols []int
	for j, h := range head {
		if j == tcol {
			continue
		}
		f := learn.Feature{Name: h, Categorical: slices.Contains(m.Categorical, h)}
		if f.Categorical {
			for _, r := range tr[1:] {
				if r[j] != "" && !slices.Contains(f.Levels, r[j]) {
					f.Levels = append(f.Levels, r[j])
				}
			}
			slices.Sort(f.Levels)
		}
		feats, cols = append(feats, f), append(cols, j)
	}
	build := func(recs [][]string) *learn.Dataset {
		rows := recs[1:]
		d := &learn.Dataset{X: frame.NewMatrix(len(rows), len(feats)), Features: feats, Y: make([]float64, len(rows))}
		if m.Task == "regression" {
			d.Task = learn.Regression
		} else {
			d.Task, d.Classes = learn.Binary, m.Classes
		}
		for i, r := range rows {
			for k, j := range cols {
				x := math.NaN()
				if feats[k].Categorical {
					if c, ok := slices.BinarySearch(feats[k].Levels, r[j]); ok {
						x = float64(c)
					}
				} else if v, err := strconv.ParseFloat(r[j], 64); err == nil {
					x = v
				}
				d.X.Set(i, k, x)
			}
			if d.Task == learn.Regression {
				d.Y[i], _ = strconv.ParseFloat(r[tcol], 64)
			} else {
				d.Y[i] = float64(slices.Index(m.Classes, r[tcol]))
			}
		}
		return d
	}
	return build(tr), build(te)
}
