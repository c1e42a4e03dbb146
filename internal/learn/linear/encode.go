package linear

import (
	"fmt"
	"math"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
)

// column is what the encoder learned about one input feature.
type column struct {
	// Levels > 0 marks a categorical feature one-hot encoded into Levels
	// columns (codes outside 0..Levels-1 or NaN encode as all zeros).
	Levels int `json:"levels,omitempty"`
	// Mean replaces NaN (numeric features) and centres the column when
	// Scale is set; Scale divides it (1 when not standardising).
	Mean  float64 `json:"mean"`
	Scale float64 `json:"scale"`
}

// encoder turns a frame.Matrix into the dense numeric design the linear
// algorithms need: NaN mean-imputed, categorical codes one-hot, numeric
// columns optionally standardised. Fitted once, stored in the model, so
// prediction encodes exactly as training did.
type encoder struct {
	Cols  []column `json:"cols"`
	Width int      `json:"width"`
}

// fitEncoder learns imputation means, one-hot widths and (if standardize)
// scales from the data set rows, weighted.
func fitEncoder(d *learn.Dataset, standardize bool) *encoder {
	p := d.X.Cols
	e := &encoder{Cols: make([]column, p)}
	n := d.N()
	for j := 0; j < p; j++ {
		col := d.X.Col(j)
		if d.Features[j].Categorical {
			levels := len(d.Features[j].Levels)
			for i := 0; i < n; i++ {
				v := col[d.Row(i)]
				if !math.IsNaN(v) && v >= 0 && int(v)+1 > levels && v < 1<<16 {
					levels = int(v) + 1
				}
			}
			e.Cols[j] = column{Levels: max(levels, 1), Scale: 1}
			e.Width += e.Cols[j].Levels
			continue
		}
		var sw, s float64
		for i := 0; i < n; i++ {
			v := col[d.Row(i)]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			w := d.W(i)
			sw += w
			s += w * v
		}
		mean := 0.0
		if sw > 0 {
			mean = s / sw
		}
		scale := 1.0
		if standardize && sw > 0 {
			var ss float64
			for i := 0; i < n; i++ {
				v := col[d.Row(i)]
				if math.IsNaN(v) || math.IsInf(v, 0) {
					continue
				}
				ss += d.W(i) * (v - mean) * (v - mean)
			}
			if sd := math.Sqrt(ss / sw); sd > 1e-12 {
				scale = sd
			}
		}
		c := column{Mean: mean, Scale: scale}
		if !standardize {
			// Keep raw values: centre nothing, impute only.
			c.Scale = 1
		}
		e.Cols[j] = c
		e.Width++
	}
	return e
}

// encode writes the encoded rows of X (selected by rows, all when nil) into a
// row-major len(rows)×Width slice. Numeric features are centred only when
// standardised (center==true), so unstandardised models keep raw units.
func (e *encoder) encode(X *frame.Matrix, rows []int, standardized bool) ([]float64, error) {
	if X.Cols != len(e.Cols) {
		return nil, fmt.Errorf("encode: matrix has %d columns, the model was trained on %d", X.Cols, len(e.Cols))
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
			if c.Levels > 0 {
				if !math.IsNaN(v) && v >= 0 && v < float64(c.Levels) {
					out[i*e.Width+off+int(v)] = 1
				}
				continue
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				v = c.Mean
			}
			if standardized {
				v = (v - c.Mean) / c.Scale
			}
			out[i*e.Width+off] = v
		}
		if c.Levels > 0 {
			off += c.Levels
		} else {
			off++
		}
	}
	return out, nil
}

// rowsOf returns the underlying rows of a data set view (nil for all rows).
func rowsOf(d *learn.Dataset) []int { return d.Rows }
