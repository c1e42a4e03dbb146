package gbdt

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/metric"
)

// manifest is the part of a shared data set's manifest.json the tests use.
type manifest struct {
	Name        string   `json:"name"`
	Task        string   `json:"task"`
	Target      string   `json:"target"`
	Metric      string   `json:"metric"`
	Categorical []string `json:"categorical_columns"`
}

// loadSplit reads <dir>/<name>.{train,test}.csv into data sets sharing
// category codes and classes (from the training file; unseen test
// categories are missing). The ingest package is the real reader; this is a
// small stand-in for tests.
func loadSplit(dir string) (train, test *learn.Dataset, man manifest, err error) {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, nil, man, err
	}
	if err := json.Unmarshal(b, &man); err != nil {
		return nil, nil, man, fmt.Errorf("%s: %w", dir, err)
	}
	read := func(path string) ([][]string, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return csv.NewReader(f).ReadAll()
	}
	trRec, err := read(filepath.Join(dir, man.Name+".train.csv"))
	if err != nil {
		return nil, nil, man, err
	}
	teRec, err := read(filepath.Join(dir, man.Name+".test.csv"))
	if err != nil {
		return nil, nil, man, err
	}
	header := trRec[0]
	tcol := slices.Index(header, man.Target)
	if tcol < 0 {
		return nil, nil, man, fmt.Errorf("%s: no target column %q", dir, man.Target)
	}
	var feats []learn.Feature
	var cols []int
	codes := map[int]map[string]int{}
	for j, h := range header {
		if j == tcol {
			continue
		}
		f := learn.Feature{Name: h, Categorical: slices.Contains(man.Categorical, h)}
		if f.Categorical {
			seen := map[string]bool{}
			for _, r := range trRec[1:] {
				if r[j] != "" {
					seen[r[j]] = true
				}
			}
			for v := range seen {
				f.Levels = append(f.Levels, v)
			}
			sort.Strings(f.Levels)
			codes[j] = map[string]int{}
			for i, v := range f.Levels {
				codes[j][v] = i
			}
		}
		feats = append(feats, f)
		cols = append(cols, j)
	}
	var classes []string
	task := learn.Regression
	if man.Task != "regression" {
		task = learn.Binary
		if man.Task == "multiclass" {
			task = learn.Multiclass
		}
		seen := map[string]bool{}
		for _, r := range trRec[1:] {
			seen[r[tcol]] = true
		}
		for v := range seen {
			classes = append(classes, v)
		}
		sort.Strings(classes)
	}
	build := func(recs [][]string) (*learn.Dataset, error) {
		n := len(recs)
		X := frame.NewMatrix(n, len(cols))
		y := make([]float64, n)
		for i, r := range recs {
			for k, j := range cols {
				v := math.NaN()
				if r[j] != "" {
					if m, ok := codes[j]; ok {
						if c, ok := m[r[j]]; ok {
							v = float64(c)
						}
					} else if x, err := strconv.ParseFloat(r[j], 64); err == nil {
						v = x
					}
				}
				X.Set(i, k, v)
			}
			if task == learn.Regression {
				x, err := strconv.ParseFloat(r[tcol], 64)
				if err != nil {
					return nil, fmt.Errorf("row %d target %q: %w", i+2, r[tcol], err)
				}
				y[i] = x
			} else {
				c := slices.Index(classes, r[tcol])
				if c < 0 {
					c = 0
				}
				y[i] = float64(c)
			}
		}
		return &learn.Dataset{X: X, Features: feats, Task: task, Y: y, Classes: classes}, nil
	}
	if train, err = build(trRec[1:]); err != nil {
		return nil, nil, man, err
	}
	if test, err = build(teRec[1:]); err != nil {
		return nil, nil, man, err
	}
	return train, test, man, nil
}

// score returns the data set's primary metric of model m on d.
func score(m *Model, d *learn.Dataset, name string) (float64, error) {
	switch name {
	case "roc_auc":
		p, err := m.Probabilities(d.X)
		if err != nil {
			return 0, err
		}
		p1 := make([]float64, d.X.Rows)
		for i := range p1 {
			p1[i] = p[2*i+1]
		}
		return metric.ROCAUC(d.Y, p1, nil)
	case "log_loss":
		p, err := m.Probabilities(d.X)
		if err != nil {
			return 0, err
		}
		return metric.LogLoss(d.Y, p, len(d.Classes), nil)
	case "rmse":
		p, err := m.Predict(d.X)
		if err != nil {
			return 0, err
		}
		return metric.RMSE(d.Y, p, nil)
	}
	return 0, fmt.Errorf("unknown metric %q", name)
}
