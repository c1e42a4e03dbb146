package learn

import (
	"context"
	"encoding"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/gyre-ml/gyre/internal/frame"
)

// Task is the kind of learning problem.
type Task uint8

// Tasks.
const (
	TaskInvalid Task = iota
	Regression
	Binary
	Multiclass
	Clustering
)

var taskNames = [...]string{"invalid", "regression", "binary", "multiclass", "clustering"}

// String returns the task name.
func (t Task) String() string {
	if int(t) < len(taskNames) {
		return taskNames[t]
	}
	return fmt.Sprintf("task(%d)", t)
}

// Classification reports whether the task predicts classes.
func (t Task) Classification() bool { return t == Binary || t == Multiclass }

// ParseTask parses a task name ("classification" picks binary or multiclass
// later and is returned as Binary only by callers that know the class count).
func ParseTask(s string) (Task, error) {
	for i, n := range taskNames[1:] {
		if s == n {
			return Task(i + 1), nil
		}
	}
	return TaskInvalid, fmt.Errorf("unknown task %q (want regression, binary, multiclass or clustering)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (t Task) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *Task) UnmarshalText(b []byte) error {
	v, err := ParseTask(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// Feature describes one column of a design matrix.
type Feature struct {
	Name string `json:"name"`
	// Categorical marks integer-coded categories 0..len(Levels)-1.
	Categorical bool     `json:"categorical,omitempty"`
	Levels      []string `json:"levels,omitempty"`
}

// Dataset is what Fit consumes: a design matrix, a target and optional
// weights, possibly restricted to a subset of rows.
//
// Rows, when non-nil, selects (and orders) the rows of X, Y and Weight that
// make up the data set: a cheap view for folds and subsamples. Learners must
// honour it; those that prefer contiguous data call Materialize.
type Dataset struct {
	X        *frame.Matrix
	Features []Feature
	Task     Task
	// Y holds regression targets, or class indices 0..len(Classes)-1 for
	// classification. Nil for clustering.
	Y []float64
	// Classes names the classes for classification tasks, in index order.
	Classes []string
	// Weight holds optional per-row sample weights (nil: all 1).
	Weight []float64
	// Rows optionally restricts the data set to these rows of X.
	Rows []int
	// Shared, when set, lets learners keep state computed from the whole
	// matrix X (all of its rows, not just the view's) and reuse it across
	// fits on views of the same matrix, e.g. gradient boosting's feature
	// bins across AutoML trials and folds. Views made by Subset share it.
	// Only unsupervised state (never targets) may be stored. Nil disables
	// sharing: a fit then depends on the view's rows alone.
	Shared *Shared
	// Columns, when set, is the design matrix given one column at a time:
	// X then has its shape (Rows, Cols) and no Data, and Columns(j, dst)
	// writes column j into dst (len X.Rows). Only a learner that says it
	// fits that way (ColumnFitter) is given such a data set; it reads each
	// column once, so the float matrix is never built in full beside the
	// frame it is encoded from. Columns may be called concurrently for
	// different columns.
	Columns func(j int, dst []float64) error
}

// ColumnFitter is a learner that can fit on a data set whose matrix comes
// from Dataset.Columns (gradient boosting bins it column by column).
type ColumnFitter interface {
	// FitsColumns reports whether Fit, with the learner's current
	// settings, takes a data set given by Columns.
	FitsColumns() bool
}

// Shared is a concurrency-safe store of per-matrix state; see Dataset.Shared.
type Shared struct {
	mu sync.Mutex
	m  map[string]any
}

// NewShared returns an empty shared-state store.
func NewShared() *Shared { return &Shared{m: map[string]any{}} }

// Get returns the state stored under key, computing and storing it with
// build on first use. Concurrent callers for one key wait for one build.
func (s *Shared) Get(key string, build func() (any, error)) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.m[key]; ok {
		return v, nil
	}
	v, err := build()
	if err != nil {
		return nil, err
	}
	s.m[key] = v
	return v, nil
}

// N returns the number of rows in the data set (after Rows).
func (d *Dataset) N() int {
	if d.Rows != nil {
		return len(d.Rows)
	}
	return d.X.Rows
}

// Row returns the underlying row of X for data set row i.
func (d *Dataset) Row(i int) int {
	if d.Rows != nil {
		return d.Rows[i]
	}
	return i
}

// Target returns the target of data set row i.
func (d *Dataset) Target(i int) float64 { return d.Y[d.Row(i)] }

// W returns the weight of data set row i (1 when unweighted).
func (d *Dataset) W(i int) float64 {
	if d.Weight == nil {
		return 1
	}
	return d.Weight[d.Row(i)]
}

// Subset returns a view of the given data set rows (indices relative to d).
func (d *Dataset) Subset(rows []int) *Dataset {
	out := *d
	abs := make([]int, len(rows))
	for k, r := range rows {
		abs[k] = d.Row(r)
	}
	out.Rows = abs
	return &out
}

// Materialize returns an equivalent data set whose rows are contiguous
// (Rows == nil), copying only when d is a view. A view given by Columns
// is not supported (Columns has no row selection).
func (d *Dataset) Materialize() *Dataset {
	if d.Rows == nil {
		return d
	}
	out := *d
	out.X = d.X.Take(d.Rows)
	if d.Y != nil {
		out.Y = make([]float64, len(d.Rows))
		for k, r := range d.Rows {
			out.Y[k] = d.Y[r]
		}
	}
	if d.Weight != nil {
		out.Weight = make([]float64, len(d.Rows))
		for k, r := range d.Rows {
			out.Weight[k] = d.Weight[r]
		}
	}
	out.Rows = nil
	out.Shared = nil
	return &out
}

// NumClasses returns the number of classes (0 for regression).
func (d *Dataset) NumClasses() int { return len(d.Classes) }

// Check validates the data set's shape: dimensions agree, targets are finite
// (and valid class indices for classification), weights are non-negative.
func (d *Dataset) Check() error {
	if d.X == nil {
		return errors.New("dataset: no design matrix")
	}
	if len(d.X.Data) != d.X.Rows*d.X.Cols && (d.X.Data != nil || d.Columns == nil) {
		return fmt.Errorf("dataset: matrix holds %d values, want %d×%d", len(d.X.Data), d.X.Rows, d.X.Cols)
	}
	if len(d.Features) != d.X.Cols {
		return fmt.Errorf("dataset: %d feature descriptions for %d columns", len(d.Features), d.X.Cols)
	}
	if d.N() == 0 {
		return errors.New("dataset: no rows")
	}
	if d.Task != Clustering {
		if len(d.Y) != d.X.Rows {
			return fmt.Errorf("dataset: %d targets for %d rows", len(d.Y), d.X.Rows)
		}
		for i := 0; i < d.N(); i++ {
			y := d.Target(i)
			if math.IsNaN(y) || math.IsInf(y, 0) {
				return fmt.Errorf("dataset: target of row %d is %v", d.Row(i)+1, y)
			}
			if d.Task.Classification() && (y < 0 || int(y) >= len(d.Classes) || y != math.Trunc(y)) {
				return fmt.Errorf("dataset: target of row %d is %v, not a class index below %d", d.Row(i)+1, y, len(d.Classes))
			}
		}
	}
	if d.Task.Classification() && len(d.Classes) < 2 {
		return fmt.Errorf("dataset: classification needs at least 2 classes, have %d", len(d.Classes))
	}
	if d.Weight != nil {
		if len(d.Weight) != d.X.Rows {
			return fmt.Errorf("dataset: %d weights for %d rows", len(d.Weight), d.X.Rows)
		}
		for i, w := range d.Weight {
			if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
				return fmt.Errorf("dataset: weight of row %d is %v, want a finite non-negative number", i+1, w)
			}
		}
	}
	return nil
}

// Learner fits models. Implementations are plain structs of hyperparameters.
type Learner interface {
	// Name is the registry name of the learner family, e.g. "gbdt".
	Name() string
	// Fit validates the hyperparameters and trains a model on d.
	Fit(ctx context.Context, d *Dataset) (Model, error)
}

// Model is a fitted model. Every model predicts; it is safe for concurrent
// use by multiple goroutines and serialises through MarshalBinary.
//
// Predict returns, per row of X, the regression value, the class index (as a
// float64) for classifiers, or the cluster index for clustering models.
type Model interface {
	// Kind is the registered model kind used to decode a saved model.
	Kind() string
	Predict(X *frame.Matrix) ([]float64, error)
	encoding.BinaryMarshaler
}

// Prober is a classifier that gives class probabilities: a row-major n×k
// slice, k the number of classes, each row summing to 1.
type Prober interface {
	PredictProba(X *frame.Matrix) ([]float64, error)
}

// Importancer reports one non-negative importance per feature.
type Importancer interface {
	Importance() []float64
}

// Explainer gives per-row additive feature contributions: a row-major
// n×(p+1) slice (p features then the bias term) per output; for multiclass,
// outputs are concatenated class after class.
type Explainer interface {
	Explain(X *frame.Matrix) ([]float64, error)
}

// Softmax writes the softmax of one row of class scores into dst (which
// may be scores itself): exp(s_c - max s) normalised to sum 1.
func Softmax(dst, scores []float64) {
	mx := scores[0]
	for _, v := range scores[1:] {
		mx = max(mx, v)
	}
	s := 0.0
	for c, v := range scores {
		dst[c] = math.Exp(v - mx)
		s += dst[c]
	}
	for c := range dst {
		dst[c] /= s
	}
}

// ArgMax returns, for each row of the row-major n×k scores, the index of
// its largest value (the first on ties), as float64 class codes: how a
// classifier turns class scores or probabilities into predictions.
func ArgMax(scores []float64, k int) []float64 {
	n := len(scores) / k
	out := make([]float64, n)
	for i := range out {
		row := scores[i*k : (i+1)*k]
		best := 0
		for c := 1; c < k; c++ {
			if row[c] > row[best] {
				best = c
			}
		}
		out[i] = float64(best)
	}
	return out
}
