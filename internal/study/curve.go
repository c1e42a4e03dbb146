package study

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/metric"
	"github.com/gyre-ml/gyre/internal/train"
)

type studier struct {
	p        *train.Problem
	d        *learn.Dataset
	m        metric.Metric
	o        Options
	rng      *rand.Rand
	deadline time.Time
}

// split draws a random validation set (a fifth of the rows, 20 to 5,000)
// and returns it with the shuffled remaining rows.
func (s *studier) split() (trainRows, validRows []int) {
	n := s.d.N()
	perm := s.rng.Perm(n)
	nv := min(max(n/5, min(20, n/2)), 5000)
	validRows = append([]int(nil), perm[:nv]...)
	sort.Ints(validRows)
	return perm[nv:], validRows
}

// score fits l on the train rows of d and scores it on the valid rows with
// metric m (NaN when the metric is undefined there, e.g. one class).
func (s *studier) score(ctx context.Context, l learn.Learner, d *learn.Dataset, trainRows, validRows []int, m metric.Metric) (float64, error) {
	model, err := l.Fit(ctx, d.Subset(trainRows))
	if err != nil {
		return 0, err
	}
	abs := make([]int, len(validRows))
	for i, r := range validRows {
		abs[i] = d.Row(r)
	}
	X := d.X.Take(abs)
	in := metric.Input{Y: targets(d, validRows), K: len(d.Classes)}
	if d.Task.Classification() {
		pr, ok := model.(learn.Prober)
		if !ok {
			return 0, fmt.Errorf("model %s gives no probabilities", model.Kind())
		}
		if in.Proba, err = pr.PredictProba(X); err != nil {
			return 0, err
		}
		in.Pred = learn.ArgMax(in.Proba, in.K)
	} else if in.Pred, err = model.Predict(X); err != nil {
		return 0, err
	}
	v, err := m.Score(in)
	if err != nil {
		return math.NaN(), nil
	}
	return v, nil
}

func targets(d *learn.Dataset, rows []int) []float64 {
	y := make([]float64, len(rows))
	for i, r := range rows {
		y[i] = d.Target(r)
	}
	return y
}

// dummyScore scores the training rows' class frequencies (or mean) on the
// validation rows.
func (s *studier) dummyScore(trainRows, validRows []int) float64 {
	d := s.d
	k := len(d.Classes)
	in := metric.Input{Y: targets(d, validRows), K: k}
	if d.Task.Classification() {
		freq := make([]float64, k)
		for _, r := range trainRows {
			freq[int(d.Target(r))]++
		}
		for c := range freq {
			freq[c] = (freq[c] + 0.5) / (float64(len(trainRows)) + 0.5*float64(k))
		}
		in.Proba = make([]float64, len(validRows)*k)
		for i := range validRows {
			copy(in.Proba[i*k:], freq)
		}
		in.Pred = learn.ArgMax(in.Proba, k)
	} else {
		mean := 0.0
		for _, r := range trainRows {
			mean += d.Target(r)
		}
		mean /= float64(len(trainRows))
		in.Pred = make([]float64, len(validRows))
		for i := range in.Pred {
			in.Pred[i] = mean
		}
	}
	v, err := s.m.Score(in)
	if err != nil {
		return math.NaN()
	}
	return v
}

// curveLearner is the learning curve's model: a small gradient-boosted
// ensemble, or for more than two classes (where boosting grows a tree per
// class and round) a random forest of curveTrees trees.
func (s *studier) curveLearner(rows int) (learn.Learner, error) {
	name, params := "gbdt", map[string]string{"n_estimators": fmt.Sprint(curveTrees), "learning_rate": fmt.Sprint(curveRate),
		"max_leaves": fmt.Sprint(curveLeaves), "min_data_in_leaf": fmt.Sprint(max(2, min(20, rows/50)))}
	if len(s.d.Classes) > 2 {
		name, params = "random_forest", map[string]string{"n_estimators": fmt.Sprint(curveTrees)}
	}
	l, err := learn.New(name)
	if err != nil {
		return nil, err
	}
	params["seed"] = fmt.Sprint(s.o.Seed)
	for _, k := range []string{"n_estimators", "learning_rate", "max_leaves", "min_data_in_leaf", "seed"} {
		if v, ok := params[k]; ok {
			if err := learn.SetParam(l, k, v); err != nil {
				return nil, fmt.Errorf("study: curve model: %w", err)
			}
		}
	}
	return l, nil
}

// CurveModel names the learning curve's model for a task of k classes.
func CurveModel(k int) string {
	if k > 2 {
		return fmt.Sprintf("random forest, %d trees", curveTrees)
	}
	return fmt.Sprintf("gradient boosting, %d trees", curveTrees)
}

// minCurveRows is the fewest rows a learning curve is drawn from.
const minCurveRows = 40

// curve measures the learning curve: for training sizes doubling up to
// every row not held out, the mean and spread over the repeats (each its
// own random validation set). Sizes are measured smallest first; a size
// whose predicted fits (the last size's time × the growth) would overrun
// the budget is not measured, and CurveCut says so.
func (s *studier) curve(ctx context.Context, r *Report) error {
	n := s.d.N()
	if n < minCurveRows {
		r.CurveCut = fmt.Sprintf("%d rows: too few for a learning curve (at least %d)", n, minCurveRows)
		return nil
	}
	type rep struct{ train, valid []int }
	reps := make([]rep, s.o.Repeats)
	for i := range reps {
		reps[i].train, reps[i].valid = s.split()
	}
	full := len(reps[0].train)
	var sizes []int
	for sz := full; sz >= max(10, 2*len(s.d.Classes)) && len(sizes) < 7; sz /= 2 {
		sizes = append(sizes, sz)
	}
	sort.Ints(sizes)
	var lastTime time.Duration
	lastSize := 0
	for _, sz := range sizes {
		if lastSize > 0 {
			predicted := time.Duration(float64(lastTime) * float64(sz) / float64(lastSize) * 1.2)
			if time.Now().Add(predicted).After(s.deadline) {
				r.CurveCut = fmt.Sprintf("measured up to %d of %d training rows within the study's %v budget", lastSize, full, s.o.Budget)
				break
			}
		}
		t0 := time.Now()
		var scores, dummies []float64
		for _, rp := range reps {
			l, err := s.curveLearner(sz)
			if err != nil {
				return err
			}
			v, err := s.score(ctx, l, s.d, rp.train[:sz], rp.valid, s.m)
			if err != nil {
				return fmt.Errorf("study: learning curve at %d rows: %w", sz, err)
			}
			if !math.IsNaN(v) {
				scores = append(scores, v)
			}
			if dv := s.dummyScore(rp.train[:sz], rp.valid); !math.IsNaN(dv) {
				dummies = append(dummies, dv)
			}
		}
		lastTime, lastSize = time.Since(t0), sz
		if len(scores) == 0 {
			continue
		}
		mean, sd := train.MeanSD(scores)
		dm, _ := train.MeanSD(dummies)
		r.Curve = append(r.Curve, Point{Rows: sz, Mean: mean, Spread: sd, Dummy: dm, Repeats: len(scores)})
	}
	return nil
}

// singleFeatures scores a depth-6 tree on every feature alone (one split,
// at most 5,000 training rows) and reports the best and the near-perfect.
func (s *studier) singleFeatures(ctx context.Context, r *Report) error {
	name := "r2"
	switch s.d.Task {
	case learn.Binary:
		name = "roc_auc"
	case learn.Multiclass:
		name = "accuracy"
	}
	m, err := metric.Lookup(name)
	if err != nil {
		return err
	}
	r.SingleFeatureMetric = name
	if s.d.N() < minCurveRows {
		return nil
	}
	trainRows, validRows := s.split()
	trainRows = trainRows[:min(len(trainRows), 5000)]
	base := s.d.Materialize()
	var out []FeatureScore
	for j := range base.X.Cols {
		if err := ctx.Err(); err != nil {
			return err
		}
		one := &learn.Dataset{X: &frame.Matrix{Rows: base.X.Rows, Cols: 1, Data: base.X.Col(j)}, Features: base.Features[j : j+1], Task: base.Task, Y: base.Y, Classes: base.Classes}
		l, err := learn.New("decision_tree")
		if err != nil {
			return err
		}
		if err := learn.SetParam(l, "max_depth", "6"); err != nil {
			return fmt.Errorf("study: single-feature tree: %w", err)
		}
		v, err := s.score(ctx, l, one, trainRows, validRows, m)
		if err != nil {
			return fmt.Errorf("study: single-feature score of %s: %w", base.Features[j].Name, err)
		}
		if !math.IsNaN(v) {
			out = append(out, FeatureScore{base.Features[j].Name, v})
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Score > out[b].Score })
	for _, fs := range out {
		if fs.Score >= leakageScore {
			r.Leakage = append(r.Leakage, fs)
		}
	}
	r.SingleFeature = out[:min(len(out), 10)]
	return nil
}
