package bundle

import (
	"errors"
	"fmt"

	"github.com/gyre-ml/gyre/internal/feature"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
)

// Prediction holds a bundle's outputs for a batch of rows.
type Prediction struct {
	// Values holds, per row, the predicted value (regression) or class
	// index (classification, see Labels).
	Values []float64
	// Proba holds row-major n×k class probabilities for classifiers.
	Proba []float64
	// Classes names the classes (classification only).
	Classes []string
	// Unseen counts, per input column, categories not seen in training.
	Unseen map[string]int
}

// Label returns row i's predicted class name (classification) or "".
func (p *Prediction) Label(i int) string {
	if p.Classes == nil {
		return ""
	}
	return p.Classes[int(p.Values[i])]
}

// IsInputError reports whether an error from Predict, a RowPredictor or
// Explain is the input's fault: a column the model needs is missing
// (frame.ErrNoColumn) or a value does not fit the training schema
// (feature.ErrSchema). Anything else is the model's or the program's.
func IsInputError(err error) bool {
	return errors.Is(err, frame.ErrNoColumn) || errors.Is(err, feature.ErrSchema)
}

// Predict runs the bundle on raw rows: each member's preprocessing, then its
// model, combined by weight. Input columns are checked against the bundle's
// schema (a missing column is an error naming it).
func (b *Bundle) Predict(f *frame.Frame) (*Prediction, error) {
	task := b.Manifest.Task
	k := len(b.Manifest.Classes)
	f, err := b.Raw(f)
	if err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	out := &Prediction{Classes: b.Manifest.Classes, Unseen: map[string]int{}}
	n := f.NumRows()
	for mi, m := range b.Members {
		X, rep, err := m.Prep.Transform(f)
		if err != nil {
			return nil, fmt.Errorf("predict: %w", err)
		}
		if mi == 0 {
			for c, v := range rep.Unseen {
				out.Unseen[c] = v
			}
		}
		w := m.Info.Weight
		if len(b.Members) == 1 {
			w = 1
		}
		if task.Classification() {
			pr, ok := m.Model.(learn.Prober)
			if !ok {
				return nil, fmt.Errorf("predict: member %d (%s) gives no probabilities", mi, m.Info.Learner)
			}
			p, err := pr.PredictProba(X)
			if err != nil {
				return nil, fmt.Errorf("predict: member %d (%s): %w", mi, m.Info.Learner, err)
			}
			learn.CalibrateProba(p, k, m.Info.Temperature, m.Info.Smoothing)
			if out.Proba == nil {
				out.Proba = make([]float64, n*k)
			}
			for i, v := range p {
				out.Proba[i] += w * v
			}
			continue
		}
		p, err := m.Model.Predict(X)
		if err != nil {
			return nil, fmt.Errorf("predict: member %d (%s): %w", mi, m.Info.Learner, err)
		}
		if out.Values == nil {
			out.Values = make([]float64, n)
		}
		for i, v := range p {
			out.Values[i] += w * v
		}
	}
	if task.Classification() {
		learn.ScaleProba(out.Proba, k, b.Manifest.Temperature)
		out.Values = learn.ArgMax(out.Proba, k)
	}
	return out, nil
}
