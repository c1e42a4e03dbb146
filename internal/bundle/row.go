package bundle

import (
	"fmt"
	"math"
	"sync"

	"github.com/gyre-ml/gyre/internal/feature"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
)

// RowPredictor predicts one row at a time without building a frame: the
// serving hot path. It is compiled once per loaded bundle (NewRowPredictor)
// and is safe for concurrent use; each request takes a Row from it, sets the
// row's input values, predicts and puts the Row back. The outputs are
// exactly Bundle.Predict's on the equivalent one-row frame (the tests check
// it on real data).
//
// Only bundles whose members encode the raw inputs directly (no fitted
// pipeline, the tree learners' preprocessing) and whose inputs are numbers,
// booleans or text are compiled; for others NewRowPredictor reports false
// and callers use Bundle.Predict.
type RowPredictor struct {
	b       *Bundle
	kinds   []frame.Kind
	members []rowMember
	k       int
	pool    sync.Pool
}

// rowMember is one member's compiled encoding: for each design-matrix
// column, the input field it reads and, for text, the codes of the levels
// seen in training.
type rowMember struct {
	w     float64
	temp  float64 // the member's own temperature (0 or 1: none)
	eps   float64 // and smoothing (0: none)
	model learn.Model
	prob  learn.Prober
	cols  []rowCol
}

type rowCol struct {
	field int // index into the bundle's input schema
	name  string
	text  bool
	codes map[string]int32
	// missing marks a missingness indicator (feature.EncodedField.Missing).
	missing bool
}

// Row is one row's input values and scratch space, taken from
// RowPredictor.Get. Text values set with SetText are referenced, not
// copied, until Predict returns.
type Row struct {
	num     []float64
	text    [][]byte
	missing []bool
	xs      []frame.Matrix
	proba   []float64
	scratch []float64 // a calibrated member's probabilities
	value   [1]float64
}

// NewRowPredictor compiles the bundle's single-row prediction path, or
// reports false when the bundle needs the frame path (a recipe, a member
// with a fitted pipeline, an input of another kind, or a member that cannot predict).
func NewRowPredictor(b *Bundle) (*RowPredictor, bool) {
	in := b.Manifest.Input
	if len(b.Members) == 0 || b.Recipe != nil {
		return nil, false
	}
	for _, f := range in.Fields {
		switch f.Kind {
		case frame.KindFloat, frame.KindInt, frame.KindBool, frame.KindString, frame.KindCategorical:
		default:
			return nil, false
		}
	}
	r := &RowPredictor{b: b, kinds: make([]frame.Kind, len(in.Fields)), k: len(b.Manifest.Classes)}
	for i, f := range in.Fields {
		r.kinds[i] = f.Kind
	}
	for _, m := range b.Members {
		if m.Prep == nil || m.Prep.Pipeline != nil || m.Prep.Encoder == nil || m.Model == nil {
			return nil, false
		}
		rm := rowMember{w: m.Info.Weight, temp: m.Info.Temperature, eps: m.Info.Smoothing, model: m.Model}
		if len(b.Members) == 1 {
			rm.w = 1
		}
		if b.Manifest.Task.Classification() {
			pr, ok := m.Model.(learn.Prober)
			if !ok {
				return nil, false
			}
			rm.prob = pr
		}
		for _, ef := range m.Prep.Encoder.Fields {
			c, ok := compileCol(in, ef)
			if !ok {
				return nil, false
			}
			rm.cols = append(rm.cols, c)
		}
		r.members = append(r.members, rm)
	}
	r.pool.New = func() any { return r.newRow() }
	return r, true
}

// compileCol maps one encoder field onto an input field, when the pair is
// one the row path encodes exactly as the encoder does.
func compileCol(in frame.Schema, ef feature.EncodedField) (rowCol, bool) {
	idx := -1
	for i, f := range in.Fields {
		if f.Name == ef.Name {
			idx = i
			break
		}
	}
	if idx < 0 {
		return rowCol{}, false
	}
	c := rowCol{field: idx, name: ef.Name}
	text := func(k frame.Kind) bool { return k == frame.KindString || k == frame.KindCategorical }
	if ef.Missing {
		c.missing, c.text = true, text(in.Fields[idx].Kind)
		return c, true
	}
	switch got := in.Fields[idx].Kind; {
	case text(ef.Kind) && text(got):
		c.text = true
		c.codes = make(map[string]int32, len(ef.Levels))
		for l, v := range ef.Levels {
			if _, dup := c.codes[v]; !dup {
				c.codes[v] = int32(l)
			}
		}
	case (ef.Kind == frame.KindFloat || ef.Kind == frame.KindInt || ef.Kind == frame.KindBool) && !text(got):
	default:
		return rowCol{}, false
	}
	return c, true
}

func (r *RowPredictor) newRow() *Row {
	n := len(r.kinds)
	row := &Row{num: make([]float64, n), text: make([][]byte, n), missing: make([]bool, n),
		xs: make([]frame.Matrix, len(r.members)), proba: make([]float64, r.k), scratch: make([]float64, r.k)}
	for i, m := range r.members {
		row.xs[i] = frame.Matrix{Rows: 1, Cols: len(m.cols), Data: make([]float64, len(m.cols))}
	}
	return row
}

// Bundle returns the bundle the predictor was compiled from.
func (r *RowPredictor) Bundle() *Bundle { return r.b }

// Get returns a Row with every input unset (missing).
func (r *RowPredictor) Get() *Row {
	row := r.pool.Get().(*Row)
	for i := range row.missing {
		row.missing[i] = true
		row.text[i] = nil
	}
	return row
}

// Put returns a Row for reuse; nothing may refer to it (or to a Prediction
// Predict filled from it) afterwards.
func (r *RowPredictor) Put(row *Row) { r.pool.Put(row) }

// SetMissing marks input field i (in the input schema's order) missing.
func (row *Row) SetMissing(i int) { row.missing[i], row.text[i] = true, nil }

// SetNumber sets numeric or boolean (0 or 1) input field i.
func (row *Row) SetNumber(i int, v float64) { row.num[i], row.missing[i] = v, false }

// SetText sets text input field i. The bytes are referenced until Predict
// returns.
func (row *Row) SetText(i int, s []byte) { row.text[i], row.missing[i] = s, false }

var nan = math.NaN()

// Predict predicts the row into out, whose slices refer to the Row's memory
// (valid until the Row is put back). out.Unseen is nil unless a text value
// was not seen in training.
func (r *RowPredictor) Predict(row *Row, out *Prediction) error {
	task := r.b.Manifest.Task
	*out = Prediction{Classes: r.b.Manifest.Classes}
	clear(row.proba)
	row.value[0] = 0
	for mi := range r.members {
		m := &r.members[mi]
		x := &row.xs[mi]
		for j, c := range m.cols {
			switch {
			case c.missing:
				x.Data[j] = 0
				if row.missing[c.field] || (c.text && len(row.text[c.field]) == 0) {
					x.Data[j] = 1
				}
			case row.missing[c.field]:
				x.Data[j] = nan
			case c.text:
				code, ok := c.codes[string(row.text[c.field])]
				if !ok {
					x.Data[j] = nan
					if mi == 0 {
						if out.Unseen == nil {
							out.Unseen = map[string]int{}
						}
						out.Unseen[c.name]++
					}
					continue
				}
				x.Data[j] = float64(code)
			default:
				x.Data[j] = row.num[c.field]
			}
		}
		if task.Classification() {
			p, err := m.prob.PredictProba(x)
			if err != nil {
				return fmt.Errorf("predict: member %d (%s): %w", mi, r.b.Members[mi].Info.Learner, err)
			}
			if len(p) != r.k {
				return fmt.Errorf("predict: member %d (%s): %d probabilities for %d classes", mi, r.b.Members[mi].Info.Learner, len(p), r.k)
			}
			if (m.temp != 0 && m.temp != 1) || m.eps != 0 {
				// The model's slice is not ours to change.
				copy(row.scratch, p)
				learn.CalibrateProba(row.scratch, r.k, m.temp, m.eps)
				p = row.scratch
			}
			for c, v := range p {
				row.proba[c] += m.w * v
			}
			continue
		}
		p, err := m.model.Predict(x)
		if err != nil {
			return fmt.Errorf("predict: member %d (%s): %w", mi, r.b.Members[mi].Info.Learner, err)
		}
		if len(p) != 1 {
			return fmt.Errorf("predict: member %d (%s): %d values for one row", mi, r.b.Members[mi].Info.Learner, len(p))
		}
		row.value[0] += m.w * p[0]
	}
	if task.Classification() {
		learn.ScaleProba(row.proba, r.k, r.b.Manifest.Temperature)
		best := 0
		for c := 1; c < r.k; c++ {
			if row.proba[c] > row.proba[best] {
				best = c
			}
		}
		row.value[0] = float64(best)
		out.Proba = row.proba
	}
	out.Values = row.value[:]
	return nil
}

// Input returns input field i as set: its number (numeric and boolean
// fields) or text (text fields), or present == false when missing.
func (row *Row) Input(i int) (num float64, text []byte, present bool) {
	return row.num[i], row.text[i], !row.missing[i]
}
