// Command learners_linear fits one Gyre learner on a shared data set's train
// split and writes test predictions in the format of
// ../shared/bench/score.py, so Gyre and scikit-learn are scored identically.
//
//	go run ./bench/learners_linear -data ../shared/datasets/adult -learner logistic_regression \
//	    [-set c=1 -set penalty=l2] -out /tmp/pred.csv
//
// Encoding (deliberately the learners' own fallback, no feature pipeline):
// numeric columns parsed as float64 (empty = NaN), categorical columns coded
// by their train levels (empty or unseen = NaN). It prints one JSON line with
// the fit and prediction seconds.
package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	_ "github.com/gyre-ml/gyre/internal/learn/bayes"
	_ "github.com/gyre-ml/gyre/internal/learn/knn"
	_ "github.com/gyre-ml/gyre/internal/learn/linear"
)

type manifest struct {
	Name          string   `json:"name"`
	Task          string   `json:"task"`
	Target        string   `json:"target"`
	Categorical   []string `json:"categorical_columns"`
	Classes       []string `json:"classes"`
	PositiveClass string   `json:"positive_class"`
}

type sets []string

func (s *sets) String() string     { return strings.Join(*s, ",") }
func (s *sets) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "learners_linear:", err)
		os.Exit(1)
	}
}

func readCSV(path string) ([]string, [][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(recs) < 2 {
		return nil, nil, fmt.Errorf("read %s: no data rows", path)
	}
	return recs[0], recs[1:], nil
}

func run() error {
	dir := flag.String("data", "", "data set directory with manifest.json")
	name := flag.String("learner", "logistic_regression", "learner name")
	out := flag.String("out", "", "predictions CSV to write")
	var params sets
	flag.Var(&params, "set", "hyperparameter key=value (repeatable)")
	flag.Parse()
	var m manifest
	b, err := os.ReadFile(filepath.Join(*dir, "manifest.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	head, train, err := readCSV(filepath.Join(*dir, m.Name+".train.csv"))
	if err != nil {
		return err
	}
	_, test, err := readCSV(filepath.Join(*dir, m.Name+".test.csv"))
	if err != nil {
		return err
	}
	tcol := slices.Index(head, m.Target)
	var feats []learn.Feature
	var cols []int
	levels := map[int]map[string]int{}
	for j, h := range head {
		if j == tcol {
			continue
		}
		f := learn.Feature{Name: h}
		if slices.Contains(m.Categorical, h) {
			f.Categorical = true
			idx := map[string]int{}
			for _, r := range train {
				if v := r[j]; v != "" {
					if _, ok := idx[v]; !ok {
						idx[v] = len(idx)
						f.Levels = append(f.Levels, v)
					}
				}
			}
			levels[j] = idx
		}
		feats = append(feats, f)
		cols = append(cols, j)
	}
	matrix := func(rows [][]string) (*frame.Matrix, error) {
		X := frame.NewMatrix(len(rows), len(cols))
		for c, j := range cols {
			for i, r := range rows {
				v := math.NaN()
				if idx, ok := levels[j]; ok {
					if code, ok := idx[r[j]]; ok {
						v = float64(code)
					}
				} else if r[j] != "" {
					x, err := strconv.ParseFloat(r[j], 64)
					if err != nil {
						return nil, fmt.Errorf("row %d column %s: %w", i+2, head[j], err)
					}
					v = x
				}
				X.Set(i, c, v)
			}
		}
		return X, nil
	}
	Xtr, err := matrix(train)
	if err != nil {
		return err
	}
	Xte, err := matrix(test)
	if err != nil {
		return err
	}
	d := &learn.Dataset{X: Xtr, Features: feats, Y: make([]float64, len(train))}
	switch m.Task {
	case "regression":
		d.Task = learn.Regression
		for i, r := range train {
			if d.Y[i], err = strconv.ParseFloat(r[tcol], 64); err != nil {
				return err
			}
		}
	default:
		d.Task, d.Classes = learn.Multiclass, m.Classes
		if len(m.Classes) == 2 {
			d.Task = learn.Binary
		}
		for i, r := range train {
			c := slices.Index(m.Classes, r[tcol])
			if c < 0 {
				return fmt.Errorf("train row %d: unknown class %q", i+2, r[tcol])
			}
			d.Y[i] = float64(c)
		}
	}
	l, err := learn.New(*name)
	if err != nil {
		return err
	}
	for _, p := range params {
		k, v, _ := strings.Cut(p, "=")
		if err := learn.SetParam(l, k, v); err != nil {
			return err
		}
	}
	t0 := time.Now()
	model, err := l.Fit(context.Background(), d)
	if err != nil {
		return err
	}
	fit := time.Since(t0).Seconds()
	t1 := time.Now()
	var pred []float64
	if d.Task == learn.Regression {
		pred, err = model.Predict(Xte)
	} else {
		pred, err = model.(learn.Prober).PredictProba(Xte)
	}
	if err != nil {
		return err
	}
	predSec := time.Since(t1).Seconds()
	if err := writePredictions(*out, d, pred, Xte.Rows); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"fit_seconds": fit, "predict_seconds_per_1k": predSec / float64(Xte.Rows) * 1000})
}

// writePredictions writes the test predictions to a CSV at path: one
// "prediction" column for regression, one probability column per class
// otherwise.
func writePredictions(path string, d *learn.Dataset, pred []float64, rows int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	if d.Task == learn.Regression {
		_ = w.Write([]string{"prediction"})
		for _, v := range pred {
			_ = w.Write([]string{strconv.FormatFloat(v, 'g', -1, 64)})
		}
	} else {
		k := len(d.Classes)
		hdr := make([]string, k)
		for c, n := range d.Classes {
			hdr[c] = "proba_" + n
		}
		_ = w.Write(hdr)
		for i := 0; i < rows; i++ {
			row := make([]string, k)
			for c := range row {
				row[c] = strconv.FormatFloat(pred[i*k+c], 'g', -1, 64)
			}
			_ = w.Write(row)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return nil
}
