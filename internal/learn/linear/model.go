package linear

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/dense"
)

// Link says how a Model turns its linear outputs into predictions.
const (
	linkIdentity = "identity" // regression
	linkLogistic = "logistic" // binary logistic regression: one output, sigmoid
	linkSoftmax  = "softmax"  // multinomial logistic regression: k outputs
	linkSVM      = "svm"      // margins; Platt sigmoids give probabilities
)

// Model is a fitted linear model: an input encoder (imputation, one-hot,
// standardisation) followed by Outputs affine functions of the encoded row.
// Its fields are read-only after Fit; they are exported for inspection and
// serialisation.
type Model struct {
	// ModelKind is the learner's registry name ("ridge", "linear_svm", ...).
	ModelKind string `json:"kind"`
	// Task is the task the model was trained for.
	Task learn.Task `json:"task"`
	// Classes is the number of classes (0 for regression).
	Classes int `json:"classes,omitempty"`
	// Link is identity, logistic, softmax or svm.
	Link string `json:"link"`
	// Enc is the fitted input encoder; Standardized says whether numeric
	// columns were standardised before the coefficients apply.
	Enc          *dense.Encoder `json:"encoder"`
	Standardized bool           `json:"standardized"`
	// Outputs is the number of affine outputs: 1 for regression and binary
	// models, the class count for multinomial and one-vs-rest models.
	Outputs int `json:"outputs"`
	// Coef is row-major Outputs×Enc.Width; Intercept has Outputs entries.
	Coef      []float64 `json:"coef"`
	Intercept []float64 `json:"intercept"`
	// PlattA and PlattB calibrate SVM margins f: P = 1/(1+exp(A·f+B)).
	PlattA []float64 `json:"platt_a,omitempty"`
	PlattB []float64 `json:"platt_b,omitempty"`
}

// Kind implements learn.Model.
func (m *Model) Kind() string { return m.ModelKind }

// decision returns the row-major n×Outputs linear outputs.
func (m *Model) decision(X *frame.Matrix) ([]float64, int, error) {
	z, err := m.Enc.Transform(X, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("predict %s: %w", m.ModelKind, err)
	}
	n, p, k := X.Rows, m.Enc.Width, m.Outputs
	out := make([]float64, n*k)
	for i := 0; i < n; i++ {
		row := z[i*p : (i+1)*p]
		for o := 0; o < k; o++ {
			out[i*k+o] = m.Intercept[o] + dot(m.Coef[o*p:(o+1)*p], row)
		}
	}
	return out, n, nil
}

// Decision returns the raw linear outputs (row-major n×Outputs): regression
// values, log-odds, softmax logits or SVM margins.
func (m *Model) Decision(X *frame.Matrix) ([]float64, error) {
	f, _, err := m.decision(X)
	return f, err
}

// Predict implements learn.Model: values for regression, class indices for
// classifiers (the SVM predicts by its margins, not its calibrated
// probabilities).
func (m *Model) Predict(X *frame.Matrix) ([]float64, error) {
	f, n, err := m.decision(X)
	if err != nil {
		return nil, err
	}
	switch m.Link {
	case linkIdentity:
		return f, nil
	case linkLogistic:
		out := make([]float64, n)
		for i, v := range f {
			if v >= 0 {
				out[i] = 1
			}
		}
		return out, nil
	case linkSVM:
		if m.Outputs == 1 {
			out := make([]float64, n)
			for i, v := range f {
				if v > 0 {
					out[i] = 1
				}
			}
			return out, nil
		}
	}
	return learn.ArgMax(f, m.Outputs), nil
}

// Classifier is a fitted linear classifier (logistic regression, linear
// SVM): a Model that also gives class probabilities.
type Classifier struct {
	Model
}

// PredictProba implements learn.Prober: row-major n×Classes probabilities
// (softmax or sigmoid of the outputs; Platt-calibrated margins for the SVM).
func (c *Classifier) PredictProba(X *frame.Matrix) ([]float64, error) {
	m := &c.Model
	f, n, err := m.decision(X)
	if err != nil {
		return nil, err
	}
	k := m.Classes
	out := make([]float64, n*k)
	switch m.Link {
	case linkLogistic:
		for i, v := range f {
			p := sigmoid(v)
			out[2*i], out[2*i+1] = 1-p, p
		}
	case linkSoftmax:
		for i := 0; i < n; i++ {
			learn.Softmax(out[i*k:(i+1)*k], f[i*k:(i+1)*k])
		}
	case linkSVM:
		if m.Outputs == 1 {
			for i, v := range f {
				p := sigmoid(-(m.PlattA[0]*v + m.PlattB[0]))
				out[2*i], out[2*i+1] = 1-p, p
			}
			break
		}
		for i := 0; i < n; i++ {
			s := 0.0
			for c := 0; c < k; c++ {
				p := sigmoid(-(m.PlattA[c]*f[i*k+c] + m.PlattB[c]))
				out[i*k+c] = p
				s += p
			}
			for c := 0; c < k; c++ {
				out[i*k+c] /= s
			}
		}
	}
	return out, nil
}

// Importance implements learn.Importancer: per input feature, the sum of
// the absolute coefficients of its encoded columns over all outputs, in
// standardised units when the model standardised (otherwise raw units).
func (m *Model) Importance() []float64 {
	imp := make([]float64, m.Enc.Features())
	p := m.Enc.Width
	first, width := m.Enc.Offsets()
	for j := range imp {
		for o := 0; o < m.Outputs; o++ {
			for t := first[j]; t < first[j]+width[j]; t++ {
				imp[j] += math.Abs(m.Coef[o*p+t])
			}
		}
	}
	return imp
}

// MarshalBinary implements encoding.BinaryMarshaler (JSON).
func (m *Model) MarshalBinary() ([]byte, error) { return json.Marshal(m) }

func decode(kind string, data []byte) (learn.Model, error) {
	var m Model
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m.ModelKind != kind {
		return nil, fmt.Errorf("model kind is %q, want %q", m.ModelKind, kind)
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	if m.Link == linkIdentity {
		return &m, nil
	}
	return &Classifier{m}, nil
}

func (m *Model) validate() error {
	if err := m.Enc.Check(); err != nil {
		return err
	}
	if !m.Standardized {
		// Models written before the encoder's scale said so kept scale 1
		// on unstandardised columns.
		m.Enc.Unscaled()
	}
	if m.Outputs < 1 || len(m.Coef) != m.Outputs*m.Enc.Width || len(m.Intercept) != m.Outputs {
		return fmt.Errorf("%d coefficients and %d intercepts for %d outputs of width %d", len(m.Coef), len(m.Intercept), m.Outputs, m.Enc.Width)
	}
	switch m.Link {
	case linkIdentity:
	case linkLogistic, linkSoftmax, linkSVM:
		if m.Classes < 2 {
			return fmt.Errorf("classifier with %d classes", m.Classes)
		}
		if m.Link == linkSVM && (len(m.PlattA) != m.Outputs || len(m.PlattB) != m.Outputs) {
			return errors.New("svm model without calibration")
		}
		if m.Link == linkSoftmax && m.Outputs != m.Classes {
			return fmt.Errorf("softmax model with %d outputs for %d classes", m.Outputs, m.Classes)
		}
	default:
		return fmt.Errorf("unknown link %q", m.Link)
	}
	return nil
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func sigmoid(v float64) float64 {
	if v >= 0 {
		return 1 / (1 + math.Exp(-v))
	}
	e := math.Exp(v)
	return e / (1 + e)
}

var (
	_ learn.Model       = (*Model)(nil)
	_ learn.Model       = (*Classifier)(nil)
	_ learn.Prober      = (*Classifier)(nil)
	_ learn.Importancer = (*Model)(nil)
)
