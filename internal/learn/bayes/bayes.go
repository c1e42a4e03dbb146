package bayes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
)

// NaiveBayes is the naive Bayes learner.
type NaiveBayes struct {
	VarSmoothing float64 `param:"var_smoothing" help:"share of the largest feature variance added to every variance for stability (≥ 0)"`
	Alpha        float64 `param:"alpha" help:"additive (Laplace) smoothing of categorical counts (≥ 0; 0 may give zero probabilities)"`
}

// New returns the learner with scikit-learn's defaults (var_smoothing 1e-9,
// alpha 1).
func New() *NaiveBayes { return &NaiveBayes{VarSmoothing: 1e-9, Alpha: 1} }

// Name implements learn.Learner.
func (*NaiveBayes) Name() string { return "naive_bayes" }

// Feature is the fitted likelihood of one input feature.
type Feature struct {
	// Levels > 0 marks a categorical feature; LogProb is then row-major
	// classes×Levels of log P(level | class).
	Levels  int       `json:"levels,omitempty"`
	LogProb []float64 `json:"log_prob,omitempty"`
	// Mean and Var (per class) describe a numeric feature.
	Mean []float64 `json:"mean,omitempty"`
	Var  []float64 `json:"var,omitempty"`
}

// Model is a fitted naive Bayes classifier. Fields are read-only after Fit.
type Model struct {
	Classes int `json:"classes"`
	// LogPrior holds log P(class).
	LogPrior []float64 `json:"log_prior"`
	Features []Feature `json:"features"`
}

// Fit implements learn.Learner.
func (l *NaiveBayes) Fit(ctx context.Context, d *learn.Dataset) (learn.Model, error) {
	const op = "fit naive_bayes"
	switch {
	case !(l.VarSmoothing >= 0) || math.IsInf(l.VarSmoothing, 0):
		return nil, fmt.Errorf("%s: var_smoothing is %v, want a finite number ≥ 0", op, l.VarSmoothing)
	case !(l.Alpha >= 0) || math.IsInf(l.Alpha, 0):
		return nil, fmt.Errorf("%s: alpha is %v, want a finite number ≥ 0", op, l.Alpha)
	}
	if !d.Task.Classification() {
		return nil, fmt.Errorf("%s: task is %v, want binary or multiclass", op, d.Task)
	}
	if err := d.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	k, n := d.NumClasses(), d.N()
	m := &Model{Classes: k, LogPrior: make([]float64, k), Features: make([]Feature, d.X.Cols)}
	classW := make([]float64, k)
	total := 0.0
	for i := 0; i < n; i++ {
		classW[int(d.Target(i))] += d.W(i)
		total += d.W(i)
	}
	if total == 0 {
		return nil, fmt.Errorf("%s: sample weights sum to zero", op)
	}
	for c := range m.LogPrior {
		m.LogPrior[c] = math.Log(classW[c] / total)
	}
	// epsilon = var_smoothing × the largest (unweighted, as scikit-learn)
	// feature variance.
	maxVar := 0.0
	for j := range m.Features {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		col := d.X.Col(j)
		if d.Features[j].Categorical {
			m.Features[j] = l.fitCategorical(d, col, k)
			continue
		}
		f := Feature{Mean: make([]float64, k), Var: make([]float64, k)}
		sw := make([]float64, k)
		var all, allW float64
		for i := 0; i < n; i++ {
			v := col[d.Row(i)]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			c, w := int(d.Target(i)), d.W(i)
			sw[c] += w
			f.Mean[c] += w * v
			all += v
			allW++
		}
		for c := range f.Mean {
			if sw[c] > 0 {
				f.Mean[c] /= sw[c]
			}
		}
		var allMean, allSS float64
		if allW > 0 {
			allMean = all / allW
		}
		for i := 0; i < n; i++ {
			v := col[d.Row(i)]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			c, w := int(d.Target(i)), d.W(i)
			f.Var[c] += w * (v - f.Mean[c]) * (v - f.Mean[c])
			allSS += (v - allMean) * (v - allMean)
		}
		for c := range f.Var {
			if sw[c] > 0 {
				f.Var[c] /= sw[c]
			}
		}
		if allW > 0 {
			maxVar = max(maxVar, allSS/allW)
		}
		m.Features[j] = f
	}
	eps := l.VarSmoothing * maxVar
	if eps == 0 {
		eps = 1e-300 // every numeric feature is constant: avoid a zero variance
	}
	for j := range m.Features {
		for c := range m.Features[j].Var {
			m.Features[j].Var[c] += eps
		}
	}
	return m, nil
}

func (l *NaiveBayes) fitCategorical(d *learn.Dataset, col []float64, k int) Feature {
	n := d.N()
	levels := 0
	for i := 0; i < n; i++ {
		if v := col[d.Row(i)]; v >= 0 && v < 1<<16 {
			levels = max(levels, int(v)+1)
		}
	}
	levels = max(levels, 1)
	counts := make([]float64, k*levels)
	classW := make([]float64, k)
	for i := 0; i < n; i++ {
		v := col[d.Row(i)]
		if !(v >= 0 && v < float64(levels)) {
			continue
		}
		c := int(d.Target(i))
		counts[c*levels+int(v)] += d.W(i)
		classW[c] += d.W(i)
	}
	f := Feature{Levels: levels, LogProb: make([]float64, k*levels)}
	for c := 0; c < k; c++ {
		den := classW[c] + l.Alpha*float64(levels)
		for v := 0; v < levels; v++ {
			p := 0.0
			if den > 0 {
				p = (counts[c*levels+v] + l.Alpha) / den
			} else {
				p = 1 / float64(levels)
			}
			// Clamp log(0) (alpha = 0) to a large finite penalty.
			f.LogProb[c*levels+v] = max(math.Log(p), -1e3)
		}
	}
	return f
}

// Kind implements learn.Model.
func (m *Model) Kind() string { return "naive_bayes" }

// JointLogLikelihood returns row-major n×Classes log P(class) + Σ log P(xⱼ | class).
func (m *Model) JointLogLikelihood(X *frame.Matrix) ([]float64, error) {
	if X.Cols != len(m.Features) {
		return nil, fmt.Errorf("predict naive_bayes: matrix has %d columns, the model was trained on %d", X.Cols, len(m.Features))
	}
	n, k := X.Rows, m.Classes
	out := make([]float64, n*k)
	for i := 0; i < n; i++ {
		copy(out[i*k:(i+1)*k], m.LogPrior)
	}
	for j, f := range m.Features {
		col := X.Col(j)
		for i, v := range col {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			row := out[i*k : (i+1)*k]
			if f.Levels > 0 {
				if v < 0 || v >= float64(f.Levels) {
					continue
				}
				for c := range row {
					row[c] += f.LogProb[c*f.Levels+int(v)]
				}
				continue
			}
			for c := range row {
				d := v - f.Mean[c]
				row[c] += -0.5*math.Log(2*math.Pi*f.Var[c]) - d*d/(2*f.Var[c])
			}
		}
	}
	return out, nil
}

// PredictProba implements learn.Prober.
func (m *Model) PredictProba(X *frame.Matrix) ([]float64, error) {
	jll, err := m.JointLogLikelihood(X)
	if err != nil {
		return nil, err
	}
	k := m.Classes
	for i := 0; i < X.Rows; i++ {
		row := jll[i*k : (i+1)*k]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = max(mx, v)
		}
		if math.IsInf(mx, 0) || math.IsNaN(mx) { // degenerate: uniform
			for c := range row {
				row[c] = 1 / float64(k)
			}
			continue
		}
		learn.Softmax(row, row)
	}
	return jll, nil
}

// Predict implements learn.Model: the most probable class.
func (m *Model) Predict(X *frame.Matrix) ([]float64, error) {
	jll, err := m.JointLogLikelihood(X)
	if err != nil {
		return nil, err
	}
	return learn.ArgMax(jll, m.Classes), nil
}

// MarshalBinary implements encoding.BinaryMarshaler (JSON). Log-priors of
// classes absent from training (-Inf) are stored as null.
func (m *Model) MarshalBinary() ([]byte, error) {
	w := wire{Classes: m.Classes, Features: m.Features, LogPrior: make([]*float64, len(m.LogPrior))}
	for c, v := range m.LogPrior {
		if !math.IsInf(v, -1) {
			w.LogPrior[c] = &v
		}
	}
	return json.Marshal(w)
}

type wire struct {
	Classes  int        `json:"classes"`
	LogPrior []*float64 `json:"log_prior"`
	Features []Feature  `json:"features"`
}

func decode(_ string, data []byte) (learn.Model, error) {
	var w wire
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, err
	}
	k := w.Classes
	if k < 2 || len(w.LogPrior) != k {
		return nil, fmt.Errorf("%d log-priors for %d classes", len(w.LogPrior), k)
	}
	m := &Model{Classes: k, LogPrior: make([]float64, k), Features: w.Features}
	for c, v := range w.LogPrior {
		m.LogPrior[c] = math.Inf(-1)
		if v != nil {
			m.LogPrior[c] = *v
		}
	}
	for j, f := range m.Features {
		ok := (f.Levels > 0 && len(f.LogProb) == k*f.Levels && f.Mean == nil) ||
			(f.Levels == 0 && len(f.Mean) == k && len(f.Var) == k)
		if !ok {
			return nil, fmt.Errorf("feature %d: malformed likelihood", j+1)
		}
		for _, v := range f.Var {
			if !(v > 0) {
				return nil, errors.New("non-positive variance")
			}
		}
	}
	return m, nil
}

func init() {
	learn.Register(learn.Spec{
		Name:    "naive_bayes",
		Summary: "naive Bayes: Gaussian numeric and categorical (Laplace-smoothed) features",
		Tasks:   []learn.Task{learn.Binary, learn.Multiclass},
		New:     func() learn.Learner { return New() },
		Decode:  decode,
		Kinds:   []string{"naive_bayes"},
	})
}

var (
	_ learn.Learner = (*NaiveBayes)(nil)
	_ learn.Model   = (*Model)(nil)
	_ learn.Prober  = (*Model)(nil)
)
