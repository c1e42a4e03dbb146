// Package svm provides "rbf_svm": a kernel machine with the radial basis
// function kernel k(x, x') = exp(-γ‖x - x'‖²) on standardised, one-hot
// encoded features (package dense), approximated by random Fourier features
// (Rahimi and Recht, "Random features for large-scale kernel machines",
// NIPS 2007): D random directions wⱼ ~ N(0, 2γI) and phases bⱼ ~ U(0, 2π)
// map x to z(x) = √(2/D)·cos(Wx + b), whose inner products approximate the
// kernel, and a linear model is fitted on z.
//
// The linear model is the kernel machine's loss on that map:
//   - classification, loss "hinge": a support vector machine (linear_svm's
//     dual coordinate descent on z; probabilities by Platt scaling of the
//     training margins);
//   - classification, loss "logistic" (the default): kernel logistic
//     regression, whose probabilities are its own (L-BFGS);
//   - regression: the least-squares SVM (Suykens), i.e. kernel ridge
//     regression with an unpenalised intercept, alpha = 1/C.
//
// C is scikit-learn's SVC/SVR C: the penalty on the loss against ½‖β‖².
// Gamma is relative to the encoded width p: γ = gamma/p, so gamma 1 is
// scikit-learn's gamma="scale" on standardised features. The map costs
// O(n·D·p) and the fit that of a linear model on D features, so the
// learner suits the small and mid-sized data sets where kernel machines
// are strong; an exact SMO solver would cost O(n²) memory and time.
package svm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/dense"
	"github.com/gyre-ml/gyre/internal/learn/linear"
)

// RBFSVM is the learner.
type RBFSVM struct {
	C          float64 `param:"c" help:"penalty on the loss against ½‖β‖² (> 0), as scikit-learn's SVC and SVR"`
	Gamma      float64 `param:"gamma" help:"RBF kernel width relative to the encoded features: γ = gamma/p (> 0; 1 is scikit-learn's gamma=scale on standardised data)"`
	Components int     `param:"components" help:"random Fourier features approximating the kernel (≥ 1)"`
	Loss       string  `param:"loss" help:"classification loss: logistic (kernel logistic regression) or hinge (SVM, Platt-scaled probabilities)"`
	Seed       uint64  `param:"seed" help:"seed of the random features"`
}

// New returns the learner with C 1, gamma 1 ("scale"), 300 components and
// the logistic loss.
func New() *RBFSVM { return &RBFSVM{C: 1, Gamma: 1, Components: 300, Loss: "logistic"} }

// Name implements learn.Learner.
func (*RBFSVM) Name() string { return "rbf_svm" }

// Fit implements learn.Learner.
func (l *RBFSVM) Fit(ctx context.Context, d *learn.Dataset) (learn.Model, error) {
	const op = "fit rbf_svm"
	switch {
	case !(l.C > 0) || math.IsInf(l.C, 0):
		return nil, fmt.Errorf("%s: c is %v, want a finite number > 0", op, l.C)
	case !(l.Gamma > 0) || math.IsInf(l.Gamma, 0):
		return nil, fmt.Errorf("%s: gamma is %v, want a finite number > 0", op, l.Gamma)
	case l.Components < 1:
		return nil, fmt.Errorf("%s: components is %d, want ≥ 1", op, l.Components)
	case l.Loss != "logistic" && l.Loss != "hinge":
		return nil, fmt.Errorf("%s: loss is %q, want logistic or hinge", op, l.Loss)
	}
	if d.Task != learn.Regression && !d.Task.Classification() {
		return nil, fmt.Errorf("%s: task is %v, want regression, binary or multiclass", op, d.Task)
	}
	if err := d.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	enc, err := dense.Fit(d, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	m := &Model{Enc: enc, Task: d.Task, D: l.Components}
	p := enc.Width
	rng := rand.New(rand.NewPCG(l.Seed, 0x5f3759df))
	sd := math.Sqrt(2 * l.Gamma / float64(max(p, 1)))
	m.W = make([]float64, l.Components*p)
	for i := range m.W {
		m.W[i] = sd * rng.NormFloat64()
	}
	m.B = make([]float64, l.Components)
	for i := range m.B {
		m.B[i] = 2 * math.Pi * rng.Float64()
	}
	x, err := enc.Transform(d.X, d.Rows)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	n := d.N()
	inner := &learn.Dataset{X: m.features(x, n), Task: d.Task, Classes: d.Classes, Y: make([]float64, n), Features: m.featureNames()}
	for i := range n {
		inner.Y[i] = d.Target(i)
		if w := d.W(i); w != 1 {
			if inner.Weight == nil {
				inner.Weight = make([]float64, n)
				for j := range i {
					inner.Weight[j] = 1
				}
			}
			inner.Weight[i] = w
		} else if inner.Weight != nil {
			inner.Weight[i] = 1
		}
	}
	var lin learn.Learner
	switch {
	case d.Task == learn.Regression:
		r := linear.NewRidge()
		r.Alpha, r.Standardize = 1/l.C, false
		lin = r
	case l.Loss == "hinge":
		s := linear.NewLinearSVM()
		s.C, s.Standardize, s.Seed = l.C, false, l.Seed
		lin = s
	default:
		lr := linear.NewLogisticRegression()
		// The features are bounded (|z| ≤ √(2/D)) and the problem is
		// smooth: L-BFGS converges in a few hundred iterations.
		lr.C, lr.Standardize, lr.MaxIter = l.C, false, 500
		lin = lr
	}
	fitted, err := lin.Fit(ctx, inner)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	m.inner = fitted
	return m.wrap(), nil
}

// Model is a fitted rbf_svm: the input encoding, the random feature map
// and the linear model on it. Fields are read-only after Fit.
type Model struct {
	Enc  *dense.Encoder `json:"encoder"`
	Task learn.Task     `json:"task"`
	// D is the number of random features; W holds their directions
	// (D × Enc.Width, row-major) and B their phases.
	D int       `json:"components"`
	W []float64 `json:"w"`
	B []float64 `json:"b"`
	// InnerKind and Inner are the linear model's kind and encoding.
	InnerKind string `json:"inner_kind"`
	Inner     []byte `json:"inner"`

	inner learn.Model
}

// Classifier is a fitted rbf_svm classifier.
type Classifier struct{ *Model }

func (m *Model) wrap() learn.Model {
	if m.Task.Classification() {
		return Classifier{m}
	}
	return m
}

// features maps n encoded rows (row-major, Enc.Width wide) to the random
// features, as the feature-major matrix the linear model takes.
func (m *Model) features(x []float64, n int) *frame.Matrix {
	p := m.Enc.Width
	z := frame.NewMatrix(n, m.D)
	scale := math.Sqrt(2 / float64(m.D))
	for j := range m.D {
		w, b := m.W[j*p:(j+1)*p], m.B[j]
		col := z.Col(j)
		for i := range n {
			row := x[i*p : (i+1)*p]
			s := b
			for f, v := range row {
				s += w[f] * v
			}
			col[i] = scale * math.Cos(s)
		}
	}
	return z
}

func (m *Model) featureNames() []learn.Feature {
	fs := make([]learn.Feature, m.D)
	for j := range fs {
		fs[j] = learn.Feature{Name: fmt.Sprintf("rff%d", j)}
	}
	return fs
}

func (m *Model) mapped(X *frame.Matrix) (*frame.Matrix, error) {
	x, err := m.Enc.Transform(X, nil)
	if err != nil {
		return nil, fmt.Errorf("rbf_svm: %w", err)
	}
	return m.features(x, X.Rows), nil
}

// Kind implements learn.Model.
func (m *Model) Kind() string { return "rbf_svm" }

// Predict implements learn.Model: regression values, or class indices.
func (m *Model) Predict(X *frame.Matrix) ([]float64, error) {
	z, err := m.mapped(X)
	if err != nil {
		return nil, err
	}
	return m.inner.Predict(z)
}

// PredictProba implements learn.Prober.
func (c Classifier) PredictProba(X *frame.Matrix) ([]float64, error) {
	z, err := c.mapped(X)
	if err != nil {
		return nil, err
	}
	p, ok := c.inner.(learn.Prober)
	if !ok {
		return nil, errors.New("rbf_svm: the linear model gives no probabilities")
	}
	return p.PredictProba(z)
}

// MarshalBinary implements encoding.BinaryMarshaler.
func (m *Model) MarshalBinary() ([]byte, error) {
	b, err := m.inner.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("rbf_svm: encode linear model: %w", err)
	}
	w := *m
	w.InnerKind, w.Inner = m.inner.Kind(), b
	return json.Marshal(&w)
}

func decode(_ string, data []byte) (learn.Model, error) {
	m := &Model{}
	if err := json.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("decode rbf_svm: %w", err)
	}
	if m.Enc == nil {
		return nil, errors.New("decode rbf_svm: no encoder")
	}
	if err := m.Enc.Check(); err != nil {
		return nil, fmt.Errorf("decode rbf_svm: %w", err)
	}
	if m.D < 1 || len(m.W) != m.D*m.Enc.Width || len(m.B) != m.D {
		return nil, fmt.Errorf("decode rbf_svm: %d components with %d directions and %d phases for %d encoded features", m.D, len(m.W), len(m.B), m.Enc.Width)
	}
	switch m.InnerKind {
	case "ridge", "logistic_regression", "linear_svm":
	default:
		return nil, fmt.Errorf("decode rbf_svm: linear model kind %q, want ridge, logistic_regression or linear_svm", m.InnerKind)
	}
	inner, err := learn.DecodeModel(m.InnerKind, m.Inner)
	if err != nil {
		return nil, fmt.Errorf("decode rbf_svm: %w", err)
	}
	m.inner = inner
	m.Inner = nil
	return m.wrap(), nil
}

func init() {
	learn.Register(learn.Spec{
		Name:    "rbf_svm",
		Summary: "RBF-kernel SVM (random Fourier features): kernel logistic or hinge-loss classification, least-squares SVM regression",
		Tasks:   []learn.Task{learn.Regression, learn.Binary, learn.Multiclass},
		New:     func() learn.Learner { return New() },
		Decode:  decode,
		Kinds:   []string{"rbf_svm"},
	})
}

var (
	_ learn.Learner = (*RBFSVM)(nil)
	_ learn.Prober  = Classifier{}
)
