package gbdt

import (
	"context"
	"errors"
	"fmt"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
)

// Model is a fitted gradient-boosted ensemble. It is immutable and safe for
// concurrent use.
type Model struct {
	task      learn.Task
	objective string
	k         int // outputs (trees) per round: classes for softmax, else 1
	classes   []string
	features  []learn.Feature
	base      []float64    // initial raw score per output
	trees     []*tree      // round-major: tree t belongs to output t % k
	fast      *ensemble    // prediction layout (nil: walk trees directly)
	qs        *quickScorer // single-row scoring (nil: the layout's walk)
	// fitRaw is the fit's raw scores of its training matrix (class-major
	// k×rows) when they are the model's own (TakeFitOutputs), else nil.
	fitRaw []float64
}

// TakeFitOutputs returns what Predict (values) and, for a classifier,
// Probabilities (proba, row-major rows×classes) return on the matrix the
// model was fitted on, from the fit's own scores instead of predicting
// again: the fit adds each tree's leaf values to every row's score in the
// order prediction sums them, so they are the same numbers. It then
// forgets them (they are held once); nil when the fit kept none: a fit on
// a view of the matrix, early stopping that dropped rounds, or taken
// already.
func (m *Model) TakeFitOutputs() (values, proba []float64) {
	raw := m.fitRaw
	m.fitRaw = nil
	if raw == nil {
		return nil, nil
	}
	k, n := m.k, len(raw)/m.k
	if !m.task.Classification() {
		for i, s := range raw {
			raw[i] = outputTransform(m.objective, s)
		}
		return raw, nil
	}
	values = make([]float64, n)
	if m.objective == ObjBinary {
		proba = make([]float64, 2*n)
		for i, s := range raw {
			p := sigmoid(s)
			proba[2*i], proba[2*i+1] = 1-p, p
			if s > 0 {
				values[i] = 1
			}
		}
		return values, proba
	}
	proba = make([]float64, n*k)
	for i := range n {
		r := proba[i*k : (i+1)*k]
		for c := range k {
			r[c] = raw[c*n+i]
		}
		best := 0
		for c := 1; c < k; c++ {
			if r[c] > r[best] {
				best = c
			}
		}
		values[i] = float64(best)
		learn.Softmax(r, r)
	}
	return values, proba
}

// init builds the prediction layout; call it once the trees are final.
func (m *Model) init() {
	m.fast = newEnsemble(m.trees, len(m.features), m.k)
	if m.fast != nil {
		m.qs = newQuickScorer(m.trees, len(m.features), m.k)
	}
}

// Kind returns "gbdt".
func (m *Model) Kind() string { return Kind }

// Task returns the task the model was trained for.
func (m *Model) Task() learn.Task { return m.task }

// Objective returns the loss the model was trained with.
func (m *Model) Objective() string { return m.objective }

// NumRounds returns the number of boosting rounds (trees per output).
func (m *Model) NumRounds() int { return len(m.trees) / m.k }

// NumTrees returns the total number of trees.
func (m *Model) NumTrees() int { return len(m.trees) }

// Features returns the feature descriptions the model was trained on.
func (m *Model) Features() []learn.Feature { return m.features }

// Classes returns the class names (nil for regression).
func (m *Model) Classes() []string { return m.classes }

// BaseScore returns the initial raw score per output.
func (m *Model) BaseScore() []float64 { return append([]float64(nil), m.base...) }

func (m *Model) checkX(X *frame.Matrix) error {
	if X == nil {
		return errors.New("no matrix")
	}
	if X.Cols != len(m.features) {
		return fmt.Errorf("matrix has %d columns, model expects %d features", X.Cols, len(m.features))
	}
	if len(X.Data) != X.Rows*X.Cols {
		return fmt.Errorf("matrix holds %d values, want %d×%d", len(X.Data), X.Rows, X.Cols)
	}
	return nil
}

// Raw returns the raw margins: row-major n×k (k = classes for multiclass,
// else 1), before the link function.
func (m *Model) Raw(X *frame.Matrix) ([]float64, error) {
	if err := m.checkX(X); err != nil {
		return nil, fmt.Errorf("gbdt predict: %w", err)
	}
	out := make([]float64, X.Rows*m.k)
	m.raw(X, out)
	return out, nil
}

// rawRows sets score to the model's raw margins for the given rows of X
// (class-major k×X.Rows layout, as used by training).
func (m *Model) rawRows(X *frame.Matrix, rows []int32, score []float64) {
	n, p, k := X.Rows, X.Cols, m.k
	row := make([]float64, p)
	out := make([]float64, k)
	for _, r := range rows {
		for j := range p {
			row[j] = X.Data[j*n+int(r)]
		}
		m.rawRow(row, out)
		for c := range k {
			score[c*n+int(r)] = out[c]
		}
	}
}

// Predict returns regression values, or class indices for classifiers.
func (m *Model) Predict(X *frame.Matrix) ([]float64, error) {
	raw, err := m.Raw(X)
	if err != nil {
		return nil, err
	}
	switch m.objective {
	case ObjBinary:
		for i, s := range raw {
			if s > 0 {
				raw[i] = 1
			} else {
				raw[i] = 0
			}
		}
		return raw, nil
	case ObjSoftmax:
		out := make([]float64, X.Rows)
		for i := range out {
			best := 0
			for c := 1; c < m.k; c++ {
				if raw[i*m.k+c] > raw[i*m.k+best] {
					best = c
				}
			}
			out[i] = float64(best)
		}
		return out, nil
	}
	for i, s := range raw {
		raw[i] = outputTransform(m.objective, s)
	}
	return raw, nil
}

// Probabilities returns class probabilities, row-major n×classes (an
// error for regression models).
func (m *Model) Probabilities(X *frame.Matrix) ([]float64, error) {
	if !m.task.Classification() {
		return nil, fmt.Errorf("gbdt predict proba: model is a %s model, not a classifier", m.task)
	}
	raw, err := m.Raw(X)
	if err != nil {
		return nil, err
	}
	if m.objective == ObjBinary {
		out := make([]float64, 2*X.Rows)
		for i, s := range raw {
			p := sigmoid(s)
			out[2*i], out[2*i+1] = 1-p, p
		}
		return out, nil
	}
	k := m.k
	for i := 0; i < X.Rows; i++ {
		r := raw[i*k : (i+1)*k]
		learn.Softmax(r, r)
	}
	return raw, nil
}

// Importance returns the total split gain per feature, normalised to sum
// to 1 (all zeros when the model has no splits).
func (m *Model) Importance() []float64 {
	imp := make([]float64, len(m.features))
	for _, t := range m.trees {
		for i, f := range t.Feature {
			imp[f] += t.Gain[i]
		}
	}
	s := 0.0
	for _, v := range imp {
		s += v
	}
	if s > 0 {
		for j := range imp {
			imp[j] /= s
		}
	}
	return imp
}

// SplitCounts returns how many splits use each feature.
func (m *Model) SplitCounts() []int {
	out := make([]int, len(m.features))
	for _, t := range m.trees {
		for _, f := range t.Feature {
			out[f]++
		}
	}
	return out
}

// Classifier is a classification Model: it adds learn.Prober. Fit returns a
// *Classifier for binary and multiclass tasks and a *Model for regression
// (so only classifiers advertise probabilities).
type Classifier struct{ *Model }

// PredictProba returns class probabilities, row-major n×classes.
func (c *Classifier) PredictProba(X *frame.Matrix) ([]float64, error) { return c.Probabilities(X) }

// Learned returns the model as a learn.Model: a *Classifier for
// classification tasks, else the *Model itself.
func (m *Model) Learned() learn.Model {
	if m.task.Classification() {
		return &Classifier{m}
	}
	return m
}

// AsModel returns the underlying *Model of a fitted gbdt learn.Model
// (a *Model or *Classifier), or nil.
func AsModel(lm learn.Model) *Model {
	switch v := lm.(type) {
	case *Model:
		return v
	case *Classifier:
		return v.Model
	}
	return nil
}

// Continue trains extraRounds more boosting rounds on d, starting from m,
// with the hyperparameters of l (its NumTrees and InitModel are ignored). It
// returns a new model holding m's trees followed by the new ones; m is left
// unchanged.
func (m *Model) Continue(ctx context.Context, d *learn.Dataset, l *Learner, extraRounds int) (*Model, error) {
	if l == nil {
		l = New()
	}
	c := *l
	c.NumTrees = extraRounds
	c.InitModel = m
	return c.fit(ctx, d)
}

var (
	_ learn.Model       = (*Model)(nil)
	_ learn.Prober      = (*Classifier)(nil)
	_ learn.Importancer = (*Model)(nil)
	_ learn.Explainer   = (*Model)(nil)
)
