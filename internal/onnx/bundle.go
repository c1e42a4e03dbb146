package onnx

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/gbdt"
)

// Reasons a bundle does not export, matched with errors.Is.
var (
	// ErrEnsemble: only single-member bundles export.
	ErrEnsemble = errors.New("only single-model bundles export to ONNX")
	// ErrNotGBDT: only gradient-boosted models export.
	ErrNotGBDT = errors.New("only gbdt models export to ONNX")
	// ErrSmoothed: the graph folds a temperature into the trees but cannot
	// express the smoothing AutoML fits for log loss.
	ErrSmoothed = errors.New("ONNX export folds a temperature into the trees but cannot express smoothing")
)

// CheckTolerance is the agreement Check demands: absolute for
// probabilities, relative (to max(1, |y|, mean |y|)) for regression values.
const CheckTolerance = 1e-5

// Export is a bundle exported to ONNX, with what a user needs to feed it.
type Export struct {
	// Data is the serialised ONNX model.
	Data      []byte
	Learner   string
	Objective string
	Trees     int
	// Double reports a double input tensor (WithDoubleInput).
	Double bool
	// Features are the input tensor's columns, in order.
	Features []string
	// Outputs are the graph's output tensor names.
	Outputs []string
	// Notes say what the graph leaves out.
	Notes []string

	model       *gbdt.Model
	prep        *bundle.Prep
	temperature float64 // folded into the graph; 1: none
}

// ExportBundle exports a single-member gbdt bundle to ONNX (ExportGBDT),
// folding the member's and the bundle's probability temperatures into the
// trees. opts may add a producer version, a doc string and metadata;
// WithDoubleInput selects a double input.
func ExportBundle(b *bundle.Bundle, opts ...Option) (*Export, error) {
	if len(b.Members) != 1 {
		names := make([]string, len(b.Members))
		for i, m := range b.Members {
			names[i] = m.Info.Learner
		}
		return nil, fmt.Errorf("onnx: the model is an ensemble of %d members (%s): %w", len(b.Members), strings.Join(names, ", "), ErrEnsemble)
	}
	mem := b.Members[0]
	m := gbdt.AsModel(mem.Model)
	if m == nil {
		return nil, fmt.Errorf("onnx: the model is a %s model: %w", mem.Info.Learner, ErrNotGBDT)
	}
	if mem.Info.Smoothing != 0 {
		return nil, fmt.Errorf("onnx: the model's probabilities are smoothed (by %g, fitted by automl on log loss): %w", mem.Info.Smoothing, ErrSmoothed)
	}
	// A single member's own temperature and the bundle's compose:
	// (p^(1/a))^(1/b) = p^(1/(a·b)).
	t := or1(mem.Info.Temperature) * or1(b.Manifest.Temperature)
	if t != 1 {
		opts = append(opts, WithTemperature(t))
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	feats := mem.Prep.Features()
	data, err := ExportGBDT(m, feats, opts...)
	if err != nil {
		return nil, err
	}
	e := &Export{Data: data, Learner: mem.Info.Learner, Objective: m.Objective(), Trees: m.NumTrees(), Double: o.double, model: m, prep: mem.Prep, temperature: t}
	for _, f := range feats {
		e.Features = append(e.Features, f.Name)
	}
	e.Outputs = []string{OutputValue}
	if b.Manifest.Task.Classification() {
		e.Outputs = []string{OutputLabel, OutputProbability}
		if o.columns {
			e.Outputs = e.Outputs[:1]
			for _, c := range m.Classes() {
				e.Outputs = append(e.Outputs, ProbabilityColumn(c))
			}
		}
	}
	if b.Recipe != nil {
		e.Notes = append(e.Notes, "the bundle's recipe is not part of the ONNX graph: feed it rows the recipe has prepared (gyre prepare)")
	}
	if mem.Prep.Pipeline != nil {
		e.Notes = append(e.Notes, "the bundle's fitted preprocessing pipeline is not part of the ONNX graph: feed it the pipeline's encoded output")
	}
	return e, nil
}

// or1 reads a temperature where 0 means none.
func or1(t float64) float64 {
	if t == 0 {
		return 1
	}
	return t
}

// Check compares the exported graph (run by Evaluate) with the model's own
// predictions on the same values.
type Check struct {
	Rows    int     `json:"rows"`
	MaxDiff float64 `json:"max_difference"`
	// Measure says what MaxDiff measures.
	Measure string `json:"measure"`
	// LabelMismatches counts rows whose predicted class differs.
	LabelMismatches int `json:"label_mismatches,omitempty"`
	// Rounding counts rows whose prediction moves by more than the
	// tolerance when Gyre sees the unrounded float64 values instead of the
	// float32 values a float-input ONNX model sees (values within float32
	// precision of a split); always 0 with a double input.
	Rounding int `json:"rows_sensitive_to_float32_rounding"`
	// OK reports MaxDiff within CheckTolerance.
	OK bool `json:"ok"`
}

// Encode turns raw rows into the graph's input: the bundle's encoded
// design matrix (an error names what is wrong with f).
func (e *Export) Encode(f *frame.Frame) (*frame.Matrix, error) {
	X, _, err := e.prep.Transform(f)
	return X, err
}

// probabilities returns a classifier graph's [N, classes] probabilities,
// joined from its per-class outputs when it has them
// (WithProbabilityColumns).
func probabilities(res map[string]*Tensor, classes []string, n int) []float32 {
	if t := res[OutputProbability]; t != nil {
		return t.Floats
	}
	k := len(classes)
	out := make([]float32, 0, n*k)
	for r := range n {
		for _, c := range classes {
			t := res[ProbabilityColumn(c)]
			if t == nil || len(t.Floats) != n {
				return nil
			}
			out = append(out, t.Floats[r])
		}
	}
	return out
}

// Check runs the exported graph on X (rounded to float32 unless the input
// is double, as an ONNX runtime receives it) and compares the result with
// the model's predictions on the same values.
func (e *Export) Check(X *frame.Matrix) (*Check, error) {
	m := e.model
	n, p := X.Rows, X.Cols
	X32 := frame.NewMatrix(n, p)
	in := make([]float64, n*p)
	for i := range n {
		for j := range p {
			v := X.At(i, j)
			in[i*p+j] = v
			if !e.Double {
				v = float64(float32(v))
			}
			X32.Set(i, j, v)
		}
	}
	res, err := Evaluate(e.Data, in, n, p)
	if err != nil {
		return nil, fmt.Errorf("onnx: check: %w", err)
	}
	c := &Check{Rows: n}
	// values returns the comparable outputs of m on x: probabilities
	// (row-major n×k, calibrated by the temperature the graph folds in)
	// or regression values.
	values := func(x *frame.Matrix) ([]float64, error) {
		if !m.Task().Classification() {
			return m.Predict(x)
		}
		p, err := m.Probabilities(x)
		if err == nil && e.temperature != 1 {
			learn.ScaleProba(p, len(m.Classes()), e.temperature)
		}
		return p, err
	}
	want, err := values(X32)
	if err != nil {
		return nil, fmt.Errorf("onnx: check: %w", err)
	}
	full, err := values(X)
	if err != nil {
		return nil, fmt.Errorf("onnx: check: %w", err)
	}
	// Regression values compare relative to the prediction scale: float32
	// sums lose precision relative to the partial sums (base score and leaf
	// values), not to a small final value.
	scale := 0.0
	for _, v := range want {
		scale += math.Abs(v) / float64(len(want))
	}
	diff := func(a, b float64) float64 {
		if m.Task().Classification() {
			return math.Abs(a - b)
		}
		return math.Abs(a-b) / max(1, math.Abs(b), scale)
	}
	var got []float32
	if m.Task().Classification() {
		c.Measure = "probability difference"
		got = probabilities(res, m.Classes(), n)
		pred, err := m.Predict(X32)
		if err != nil {
			return nil, fmt.Errorf("onnx: check: %w", err)
		}
		for i, l := range res[OutputLabel].Strings {
			if l != m.Classes()[int(pred[i])] {
				c.LabelMismatches++
			}
		}
	} else {
		c.Measure = "relative difference (to max(1, |prediction|, mean |prediction|))"
		got = res[OutputValue].Floats
	}
	if len(got) != len(want) {
		return nil, fmt.Errorf("onnx: check: the ONNX model gave %d values, want %d", len(got), len(want))
	}
	k := len(want) / max(n, 1)
	moved := make([]bool, n)
	for i := range want {
		c.MaxDiff = max(c.MaxDiff, diff(float64(got[i]), want[i]))
		if diff(full[i], want[i]) > CheckTolerance {
			moved[i/k] = true
		}
	}
	for _, mv := range moved {
		if mv {
			c.Rounding++
		}
	}
	// A label may flip only on a float32 near-tie; the probabilities check
	// bounds those.
	c.OK = c.MaxDiff <= CheckTolerance
	return c, nil
}
