package learn

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gyre-ml/gyre/internal/frame"
)

// BagKind is the model kind of a bag (see NewBag).
const BagKind = "bag"

// Bag is the average of models of one configuration fitted on different
// rows of the same data: the fold models of k-fold cross-validation, as
// AutoGluon's bagged models are. Its regression value is the mean of the
// models' values; a classifier's probabilities are the mean of the models'
// probabilities, and its class their argmax. Every row of the training data
// was seen by k−1 of k fold models, and the out-of-fold predictions the
// models were scored by are an estimate of the bag's error on new rows,
// which a model refitted on all rows does not have.
type Bag struct {
	Models []Model
}

// importanceBag is a Bag whose models all report importances.
type importanceBag struct{ *Bag }

// explainBag is a Bag whose models all report importances and
// contributions.
type explainBag struct{ *Bag }

// NewBag returns the bag of models (at least one, all of one task): a
// Model and a Prober, and an Importancer or Explainer when every model is
// one.
func NewBag(models []Model) (Model, error) {
	if len(models) == 0 {
		return nil, errors.New("bag: no models")
	}
	b := &Bag{Models: models}
	imp, exp := true, true
	for _, m := range models {
		_, i := m.(Importancer)
		_, e := m.(Explainer)
		imp, exp = imp && i, exp && e
	}
	switch {
	case imp && exp:
		return explainBag{b}, nil
	case imp:
		return importanceBag{b}, nil
	}
	return b, nil
}

// Kind implements Model.
func (b *Bag) Kind() string { return BagKind }

// Predict implements Model: the mean value, or for classifiers the class of
// the mean probabilities.
func (b *Bag) Predict(X *frame.Matrix) ([]float64, error) {
	if _, ok := b.Models[0].(Prober); ok {
		p, err := b.PredictProba(X)
		if err != nil {
			return nil, err
		}
		return ArgMax(p, max(1, len(p)/max(1, X.Rows))), nil
	}
	return b.mean(func(m Model) ([]float64, error) { return m.Predict(X) })
}

// PredictProba implements Prober: the mean of the models' probabilities.
func (b *Bag) PredictProba(X *frame.Matrix) ([]float64, error) {
	return b.mean(func(m Model) ([]float64, error) {
		p, ok := m.(Prober)
		if !ok {
			return nil, fmt.Errorf("bag: model %s gives no probabilities", m.Kind())
		}
		return p.PredictProba(X)
	})
}

// mean averages f over the models.
func (b *Bag) mean(f func(Model) ([]float64, error)) ([]float64, error) {
	var sum []float64
	for i, m := range b.Models {
		v, err := f(m)
		if err != nil {
			return nil, fmt.Errorf("bag: model %d: %w", i, err)
		}
		if sum == nil {
			sum = make([]float64, len(v))
		} else if len(v) != len(sum) {
			return nil, fmt.Errorf("bag: model %d gave %d outputs, model 0 %d", i, len(v), len(sum))
		}
		for j, x := range v {
			sum[j] += x
		}
	}
	inv := 1 / float64(len(b.Models))
	for j := range sum {
		sum[j] *= inv
	}
	return sum, nil
}

// Importance implements Importancer: the mean of the models' importances.
func (b importanceBag) Importance() []float64 { return b.importance() }

// Importance implements Importancer: the mean of the models' importances.
func (b explainBag) Importance() []float64 { return b.importance() }

func (b *Bag) importance() []float64 {
	v, _ := b.mean(func(m Model) ([]float64, error) { return m.(Importancer).Importance(), nil })
	return v
}

// Explain implements Explainer: the mean of the models' contributions,
// which explain the mean of their raw outputs (the bag's value for
// regression; for classifiers the mean score, whose link the bag's mean
// probability does not share exactly).
func (b explainBag) Explain(X *frame.Matrix) ([]float64, error) {
	return b.mean(func(m Model) ([]float64, error) { return m.(Explainer).Explain(X) })
}

// MarshalBinary implements Model: the model count, then each model's kind
// and state, length-prefixed.
func (b *Bag) MarshalBinary() ([]byte, error) {
	out := binary.AppendUvarint(nil, uint64(len(b.Models)))
	for i, m := range b.Models {
		data, err := m.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("bag: marshal model %d: %w", i, err)
		}
		out = binary.AppendUvarint(out, uint64(len(m.Kind())))
		out = append(out, m.Kind()...)
		out = binary.AppendUvarint(out, uint64(len(data)))
		out = append(out, data...)
	}
	return out, nil
}

// decodeBag rebuilds a bag saved by MarshalBinary.
func decodeBag(data []byte) (Model, error) {
	next := func(what string) ([]byte, error) {
		n, w := binary.Uvarint(data)
		if w <= 0 || n > uint64(len(data)-w) {
			return nil, fmt.Errorf("bag: truncated %s", what)
		}
		v := data[w : w+int(n)]
		data = data[w+int(n):]
		return v, nil
	}
	n, w := binary.Uvarint(data)
	if w <= 0 || n == 0 || n > uint64(len(data)) {
		return nil, errors.New("bag: bad model count")
	}
	data = data[w:]
	models := make([]Model, n)
	for i := range models {
		kind, err := next("model kind")
		if err != nil {
			return nil, err
		}
		state, err := next("model state")
		if err != nil {
			return nil, err
		}
		if string(kind) == BagKind {
			return nil, errors.New("bag: nested bag")
		}
		if models[i], err = DecodeModel(string(kind), state); err != nil {
			return nil, fmt.Errorf("bag: model %d: %w", i, err)
		}
	}
	if len(data) != 0 {
		return nil, fmt.Errorf("bag: %d trailing bytes", len(data))
	}
	return NewBag(models)
}
