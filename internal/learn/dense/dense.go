// Package dense encodes a learner's design matrix into the dense, all-numeric
// row-major space that distance-, linear- and gradient-based learners (k-NN,
// the linear models, k-means, the multilayer perceptron) work in: one-hot
// categorical features, mean-imputed numeric features, optionally
// standardised. The fitted Encoder is part of such a model, so it predicts
// from the raw design matrix exactly as it was trained.
//
// Statistics are weighted by the data set's sample weights (a weight is a
// row count), and the variance is computed in two passes. Infinite numeric
// values are treated as missing, at fit and at prediction time, so a model
// never sees or emits NaN.
package dense

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
)

// MaxLevels is the largest one-hot width of one categorical feature.
const MaxLevels = 1 << 16

// Column is what the encoder learned about one input feature.
type Column struct {
	// Categorical marks a feature one-hot encoded into Levels columns
	// (codes outside 0..Levels-1 and NaN encode as all zeros).
	Categorical bool `json:"categorical,omitempty"`
	Levels      int  `json:"levels,omitempty"`
	// Mean replaces missing values of a numeric feature; when Scale > 0 the
	// value is also standardised to (v-Mean)/Scale, else left in raw units.
	Mean  float64 `json:"mean"`
	Scale float64 `json:"scale"`
}

// width is the number of encoded columns of c.
func (c Column) width() int {
	if c.Categorical {
		return c.Levels
	}
	return 1
}

// Encoder turns a design matrix into a dense row-major space of Width
// columns, one Column per input feature in order.
type Encoder struct {
	Cols  []Column `json:"cols"`
	Width int      `json:"width"`
}

// Fit learns the encoding from the data set's rows: one-hot widths from the
// categorical features' levels (at least one column each), weighted means
// and, with standardize, weighted standard deviations of the numeric
// features. A numeric feature that is constant keeps scale 1.
func Fit(d *learn.Dataset, standardize bool) (*Encoder, error) {
	p := d.X.Cols
	e := &Encoder{Cols: make([]Column, p)}
	n := d.N()
	for j := range e.Cols {
		col := d.X.Col(j)
		if j < len(d.Features) && d.Features[j].Categorical {
			levels := len(d.Features[j].Levels)
			for i := 0; i < n; i++ {
				if v := col[d.Row(i)]; v >= 0 && int(v)+1 > levels {
					levels = int(v) + 1
				}
			}
			if levels > MaxLevels {
				return nil, fmt.Errorf("feature %q has %d categories, at most %d supported", d.Features[j].Name, levels, MaxLevels)
			}
			e.Cols[j] = Column{Categorical: true, Levels: max(levels, 1)}
			e.Width += e.Cols[j].Levels
			continue
		}
		var sw, s float64
		for i := 0; i < n; i++ {
			if v := col[d.Row(i)]; finite(v) {
				w := d.W(i)
				sw += w
				s += w * v
			}
		}
		c := Column{}
		if sw > 0 {
			c.Mean = s / sw
		}
		if standardize {
			c.Scale = 1
			if sw > 0 {
				var ss float64
				for i := 0; i < n; i++ {
					if v := col[d.Row(i)]; finite(v) {
						ss += d.W(i) * (v - c.Mean) * (v - c.Mean)
					}
				}
				if sd := math.Sqrt(ss / sw); sd > 1e-12*max(1, math.Abs(c.Mean)) {
					c.Scale = sd
				}
			}
		}
		e.Cols[j] = c
		e.Width++
	}
	return e, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Features returns the number of input features the encoder expects.
func (e *Encoder) Features() int { return len(e.Cols) }

// Transform encodes the given rows of X (nil rows: all rows) into a
// row-major matrix of Width columns.
func (e *Encoder) Transform(X *frame.Matrix, rows []int) ([]float64, error) {
	if X == nil || X.Cols != len(e.Cols) || len(X.Data) != X.Rows*X.Cols {
		cols := 0
		if X != nil {
			cols = X.Cols
		}
		return nil, fmt.Errorf("encode: matrix has %d columns, the model was trained on %d", cols, len(e.Cols))
	}
	n := X.Rows
	if rows != nil {
		n = len(rows)
	}
	out := make([]float64, n*e.Width)
	off := 0
	for j, c := range e.Cols {
		col := X.Col(j)
		for i := 0; i < n; i++ {
			r := i
			if rows != nil {
				r = rows[i]
			}
			v := col[r]
			if c.Categorical {
				if v >= 0 && v < float64(c.Levels) {
					out[i*e.Width+off+int(v)] = 1
				}
				continue
			}
			if !finite(v) {
				v = c.Mean
			}
			if c.Scale > 0 {
				v = (v - c.Mean) / c.Scale
			}
			out[i*e.Width+off] = v
		}
		off += c.width()
	}
	return out, nil
}

// Offsets returns, per input feature, the first encoded column and the
// number of encoded columns.
func (e *Encoder) Offsets() (first, width []int) {
	first, width = make([]int, len(e.Cols)), make([]int, len(e.Cols))
	off := 0
	for j, c := range e.Cols {
		first[j], width[j] = off, c.width()
		off += width[j]
	}
	return first, width
}

// ErrInvalid reports a decoded encoder whose columns do not add up.
var ErrInvalid = errors.New("inconsistent encoder")

// Check validates a decoded encoder and normalises older layouts: a column
// with Levels > 0 is categorical (k-NN and linear models wrote no
// Categorical field).
func (e *Encoder) Check() error {
	if e == nil {
		return fmt.Errorf("%w: none", ErrInvalid)
	}
	w := 0
	for j := range e.Cols {
		c := &e.Cols[j]
		if c.Levels > 0 {
			c.Categorical = true
		}
		if c.Levels < 0 || c.Levels > MaxLevels || (!c.Categorical && (c.Scale < 0 || math.IsNaN(c.Scale))) {
			return fmt.Errorf("%w: column %d", ErrInvalid, j+1)
		}
		w += c.width()
	}
	if w != e.Width {
		return fmt.Errorf("%w: width %d, columns need %d", ErrInvalid, e.Width, w)
	}
	return nil
}

// Unscaled sets every numeric column to impute only (no centring or
// scaling), for models written before the scale said so.
func (e *Encoder) Unscaled() {
	for j := range e.Cols {
		if !e.Cols[j].Categorical {
			e.Cols[j].Scale = 0
		}
	}
}

// V1 is the layout mlp and kmeans models wrote in their format 1: parallel
// slices, Scale -1 for impute-only columns.
type V1 struct {
	Categorical []bool
	Levels      []int
	Mean, Scale []float64
	Width       int
}

// Encoder converts v to the current layout.
func (v V1) Encoder() (*Encoder, error) {
	p := len(v.Categorical)
	if len(v.Levels) != p || len(v.Mean) != p || len(v.Scale) != p {
		return nil, fmt.Errorf("%w: %d, %d, %d and %d column entries", ErrInvalid, p, len(v.Levels), len(v.Mean), len(v.Scale))
	}
	e := &Encoder{Cols: make([]Column, p), Width: v.Width}
	for j := range e.Cols {
		if v.Categorical[j] {
			e.Cols[j] = Column{Categorical: true, Levels: v.Levels[j]}
			continue
		}
		e.Cols[j] = Column{Mean: v.Mean[j], Scale: max(v.Scale[j], 0)}
	}
	return e, e.Check()
}

// DecodeGobV1 returns the encoder of a gob-encoded model state written in
// the format-1 layout: a struct whose field Enc is a V1. Decoding the same
// bytes into the current state type fills every other field (gob skips the
// V1 fields it does not know), so a learner reads its format 1 with this and
// its format-2 decoder.
func DecodeGobV1(data []byte) (*Encoder, error) {
	var s struct{ Enc V1 }
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&s); err != nil {
		return nil, fmt.Errorf("decode format-1 encoder: %w", err)
	}
	return s.Enc.Encoder()
}

// FixGobTypes gives the types of v's gob encoding (v's type and every type
// inside it) their gob type ids now. gob numbers types in the order a
// process first encodes or decodes them and writes those numbers into the
// stream, so a model's bytes would otherwise depend on what the process had
// gob-encoded before it: `gyre automl --engine` encodes its search problem
// first, and its k-NN members came out in other bytes than on the local
// path from the same seed. Learners call it from init with a pointer to
// the zero value of what they encode: init runs in the same order in every
// process of a binary, before any other gob use.
func FixGobTypes(v any) {
	_ = gob.NewEncoder(io.Discard).Encode(v) // a zero value always encodes
}

// MarshalGob encodes the state of a model that holds an Encoder in format
// 2: a version byte, then gob (exact floats). kind names the model in
// errors.
func MarshalGob(kind string, state any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte(2)
	if err := gob.NewEncoder(&b).Encode(state); err != nil {
		return nil, fmt.Errorf("encode %s model: %w", kind, err)
	}
	return b.Bytes(), nil
}

// UnmarshalGob decodes MarshalGob output, or format 1 (the same state with
// the encoder in the V1 layout), into state, a pointer to a struct whose
// Encoder field enc points to, and checks that encoder.
func UnmarshalGob(kind string, data []byte, state any, enc *Encoder) error {
	if len(data) == 0 || data[0] < 1 || data[0] > 2 {
		return fmt.Errorf("unknown %s format version", kind)
	}
	if err := gob.NewDecoder(bytes.NewReader(data[1:])).Decode(state); err != nil {
		return fmt.Errorf("truncated or corrupt %s model: %w", kind, err)
	}
	if data[0] == 1 {
		e, err := DecodeGobV1(data[1:])
		if err != nil {
			return fmt.Errorf("%s model: %w", kind, err)
		}
		*enc = *e
	}
	if err := enc.Check(); err != nil {
		return fmt.Errorf("%s model: %w", kind, err)
	}
	return nil
}
