package knn

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"math"
	"slices"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/dense"
	"github.com/gyre-ml/gyre/internal/parallel"
)

// KNN is the k-nearest-neighbour learner for classification and regression.
type KNN struct {
	K           int    `param:"k" help:"number of neighbours (≥ 1)"`
	Weights     string `param:"weights" help:"uniform, or distance (weight neighbours by 1/distance; exact matches win)"`
	Metric      string `param:"metric" help:"euclidean or manhattan"`
	Index       string `param:"index" help:"auto (k-d tree up to 15 encoded dimensions), kdtree or brute"`
	Standardize bool   `param:"standardize" help:"standardise numeric features before measuring distances"`
}

// New returns the learner with scikit-learn's defaults (k 5, uniform,
// euclidean), standardised, index auto.
func New() *KNN {
	return &KNN{K: 5, Weights: "uniform", Metric: "euclidean", Index: "auto", Standardize: true}
}

// Name implements learn.Learner.
func (*KNN) Name() string { return "knn" }

// maxTreeDims is the largest encoded dimension for which index "auto" picks
// the k-d tree (scikit-learn's own cut-off is 15). Measured: on 20,000
// Gaussian points (BenchmarkIndex, the worst case for a tree) the tree is
// 136× faster than brute force at 2 dimensions, 10× at 5 and 1.5× slower at
// 10; on california_housing (13 encoded dimensions, real data with low
// intrinsic dimension) it is 4.6× faster; on spambase (57) 1.3× slower.
const maxTreeDims = 15

// Fit implements learn.Learner: it validates, encodes and stores the
// training rows (and builds the k-d tree if one is used).
func (l *KNN) Fit(ctx context.Context, d *learn.Dataset) (learn.Model, error) {
	const op = "fit knn"
	switch {
	case l.K < 1:
		return nil, fmt.Errorf("%s: k is %d, want ≥ 1", op, l.K)
	case l.Weights != "uniform" && l.Weights != "distance":
		return nil, fmt.Errorf("%s: weights is %q, want uniform or distance", op, l.Weights)
	case l.Metric != "euclidean" && l.Metric != "manhattan":
		return nil, fmt.Errorf("%s: metric is %q, want euclidean or manhattan", op, l.Metric)
	case l.Index != "auto" && l.Index != "kdtree" && l.Index != "brute":
		return nil, fmt.Errorf("%s: index is %q, want auto, kdtree or brute", op, l.Index)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if d.Task != learn.Regression && !d.Task.Classification() {
		return nil, fmt.Errorf("%s: task is %v, want regression, binary or multiclass", op, d.Task)
	}
	if err := d.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	enc, err := dense.Fit(d, l.Standardize)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	pts, err := enc.Transform(d.X, d.Rows)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	n := d.N()
	m := &Model{K: min(l.K, n), Weights: l.Weights, Metric: l.Metric, Enc: enc, Task: d.Task, Classes: d.NumClasses(),
		Points: pts, Y: make([]float64, n)}
	for i := 0; i < n; i++ {
		m.Y[i] = d.Target(i)
		if w := d.W(i); w != 1 {
			if m.W == nil {
				m.W = make([]float64, n)
				for j := range i {
					m.W[j] = 1
				}
			}
			m.W[i] = w
		} else if m.W != nil {
			m.W[i] = 1
		}
	}
	m.Tree = l.Index == "kdtree" || (l.Index == "auto" && enc.Width <= maxTreeDims)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	m.init()
	return m.wrap(), nil
}

// Model is a fitted k-nearest-neighbour model: the encoded training points
// and their targets. Fields are read-only after Fit.
type Model struct {
	K       int            `json:"k"`
	Weights string         `json:"weights"`
	Metric  string         `json:"metric"`
	Task    learn.Task     `json:"task"`
	Classes int            `json:"classes,omitempty"`
	Enc     *dense.Encoder `json:"encoder"`
	// Points is row-major n×Enc.Width; Y the targets; W optional weights.
	Points []float64 `json:"points"`
	Y      []float64 `json:"y"`
	W      []float64 `json:"w,omitempty"`
	// Tree says whether queries go through a k-d tree (rebuilt on load).
	Tree bool `json:"tree"`

	kd *kdTree
}

// Classifier is a fitted k-nearest-neighbour classifier.
type Classifier struct{ *Model }

func (m *Model) init() {
	if m.Tree && m.Enc.Width > 0 {
		m.kd = buildKD(m.Points, len(m.Y), m.Enc.Width)
	}
}

func (m *Model) wrap() learn.Model {
	if m.Task.Classification() {
		return Classifier{m}
	}
	return m
}

// Kind implements learn.Model.
func (m *Model) Kind() string { return "knn" }

// MarshalBinary implements encoding.BinaryMarshaler. The model holds the
// whole encoded training set, so it uses gob (8 bytes per value at most)
// rather than JSON.
func (m *Model) MarshalBinary() ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode((*wire)(m)); err != nil {
		return nil, fmt.Errorf("encode knn model: %w", err)
	}
	return buf.Bytes(), nil
}

// wire is Model without methods, so gob encodes its fields rather than
// calling MarshalBinary again.
type wire Model

func decode(_ string, data []byte) (learn.Model, error) {
	var m Model
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode((*wire)(&m)); err != nil {
		return nil, err
	}
	if err := m.Enc.Check(); err != nil {
		return nil, err
	}
	n, w := len(m.Y), m.Enc.Width
	switch {
	case n == 0 || len(m.Points) != n*w:
		return nil, fmt.Errorf("%d point values for %d rows of width %d", len(m.Points), n, w)
	case m.W != nil && len(m.W) != n:
		return nil, fmt.Errorf("%d weights for %d rows", len(m.W), n)
	case m.K < 1 || m.K > n:
		return nil, fmt.Errorf("k is %d for %d rows", m.K, n)
	case m.Task.Classification() && m.Classes < 2:
		return nil, fmt.Errorf("classifier with %d classes", m.Classes)
	}
	if m.Task.Classification() {
		for i, y := range m.Y {
			if y < 0 || int(y) >= m.Classes {
				return nil, fmt.Errorf("target of row %d is %v, not a class below %d", i+1, y, m.Classes)
			}
		}
	}
	m.init()
	return m.wrap(), nil
}

// Neighbours returns, for each row of X, the indices of its K nearest
// training rows (nearest first) and their distances.
func (m *Model) Neighbours(X *frame.Matrix) (idx [][]int, dist [][]float64, err error) {
	q, err := m.Enc.Transform(X, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("knn neighbours: %w", err)
	}
	idx = make([][]int, X.Rows)
	dist = make([][]float64, X.Rows)
	m.forRows(q, X.Rows, func(i int, nb []neighbour) {
		idx[i] = make([]int, len(nb))
		dist[i] = make([]float64, len(nb))
		for t, c := range nb {
			idx[i][t], dist[i][t] = c.idx, m.trueDist(c.dist)
		}
	})
	return idx, dist, nil
}

func (m *Model) trueDist(d float64) float64 {
	if m.Metric == "manhattan" {
		return d
	}
	return math.Sqrt(d)
}

// forRows finds the neighbours of each encoded query row in parallel and
// calls fn(row, neighbours sorted nearest first).
func (m *Model) forRows(q []float64, n int, fn func(i int, nb []neighbour)) {
	p := m.Enc.Width
	manhattan := m.Metric == "manhattan"
	parallel.Blocks(n, 0, 64, func(lo, hi int) {
		h := make(maxHeap, 0, m.K+1)
		for i := lo; i < hi; i++ {
			h = h[:0]
			qi := q[i*p : (i+1)*p]
			if m.kd != nil {
				m.kd.query(qi, m.K, manhattan, &h)
			} else {
				for j := range m.Y {
					bound := math.Inf(1)
					if len(h) == m.K {
						bound = h[0].dist
					}
					if d, ok := distanceWithin(qi, m.Points[j*p:(j+1)*p], manhattan, bound); ok {
						h.offer(neighbour{d, j}, m.K)
					}
				}
			}
			nb := slices.Clone(h)
			slices.SortFunc(nb, func(a, b neighbour) int {
				if less(a, b) {
					return -1
				}
				return 1
			})
			fn(i, nb)
		}
	})
}

// voteWeights returns the weights of the neighbours nb.
func (m *Model) voteWeights(nb []neighbour, dst []float64) []float64 {
	dst = dst[:0]
	exact := m.Weights == "distance" && nb[0].dist == 0
	for _, c := range nb {
		w := 1.0
		switch {
		case exact:
			w = 0
			if c.dist == 0 {
				w = 1
			}
		case m.Weights == "distance":
			w = 1 / m.trueDist(c.dist)
		}
		if m.W != nil {
			w *= m.W[c.idx]
		}
		dst = append(dst, w)
	}
	return dst
}

// Predict implements learn.Model: the weighted neighbour mean for
// regression, the class with the largest weighted share for classification
// (ties to the lowest class index).
func (m *Model) Predict(X *frame.Matrix) ([]float64, error) {
	if m.Task.Classification() {
		pr, err := m.proba(X)
		if err != nil {
			return nil, err
		}
		return learn.ArgMax(pr, m.Classes), nil
	}
	q, err := m.Enc.Transform(X, nil)
	if err != nil {
		return nil, fmt.Errorf("predict knn: %w", err)
	}
	out := make([]float64, X.Rows)
	m.forRows(q, X.Rows, func(i int, nb []neighbour) {
		w := m.voteWeights(nb, make([]float64, 0, len(nb)))
		s, t := 0.0, 0.0
		for j, c := range nb {
			s += w[j] * m.Y[c.idx]
			t += w[j]
		}
		if t == 0 { // all neighbours weigh 0: fall back to the plain mean
			for _, c := range nb {
				s += m.Y[c.idx]
			}
			t = float64(len(nb))
		}
		out[i] = s / t
	})
	return out, nil
}

func (m *Model) proba(X *frame.Matrix) ([]float64, error) {
	q, err := m.Enc.Transform(X, nil)
	if err != nil {
		return nil, fmt.Errorf("predict knn: %w", err)
	}
	k := m.Classes
	out := make([]float64, X.Rows*k)
	m.forRows(q, X.Rows, func(i int, nb []neighbour) {
		w := m.voteWeights(nb, make([]float64, 0, len(nb)))
		row := out[i*k : (i+1)*k]
		t := 0.0
		for j, c := range nb {
			row[int(m.Y[c.idx])] += w[j]
			t += w[j]
		}
		if t == 0 {
			for _, c := range nb {
				row[int(m.Y[c.idx])]++
			}
			t = float64(len(nb))
		}
		for c := range row {
			row[c] /= t
		}
	})
	return out, nil
}

// PredictProba implements learn.Prober: the neighbours' weighted class
// shares.
func (c Classifier) PredictProba(X *frame.Matrix) ([]float64, error) { return c.proba(X) }

func init() {
	dense.FixGobTypes(&wire{})
	learn.Register(learn.Spec{
		Name:    "knn",
		Summary: "exact k-nearest neighbours (k-d tree in low dimensions), classification and regression",
		Tasks:   []learn.Task{learn.Regression, learn.Binary, learn.Multiclass},
		New:     func() learn.Learner { return New() },
		Decode:  decode,
		Kinds:   []string{"knn"},
	})
}

var (
	_ learn.Learner = (*KNN)(nil)
	_ learn.Model   = (*Model)(nil)
	_ learn.Prober  = Classifier{}
)
