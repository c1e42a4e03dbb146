package knn

import (
	"fmt"
	"math"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
)

// column is what the encoder learned about one input feature: a one-hot
// width for categorical features, or the imputation mean and scale.
type column struct {
	Levels int     `json:"levels,omitempty"`
	Mean   float64 `json:"mean"`
	Scale  float64 `json:"scale"`
}

type encoder struct {
	Cols  []column `json:"cols"`
	Width int      `json:"width"`
}

func fitEncoder(d *learn.Dataset, standardize bool) *encoder {
	e := &encoder{Cols: make([]column, d.X.Cols)}
	n := d.N()
	for j := range e.Cols {
		col := d.X.Col(j)
		if d.Features[j].Categorical {
			levels := len(d.Features[j].Levels)
			for i := 0; i < n; i++ {
				if v := col[d.Row(i)]; v >= 0 && v < 1<<16 && int(v)+1 > levels {
					levels = int(v) + 1
				}
			}
			e.Cols[j] = column{Levels: max(levels, 1), Scale: 1}
			e.Width += e.Cols[j].Levels
			continue
		}
		var sw, s, ss float64
		for i := 0; i < n; i++ {
			if v := col[d.Row(i)]; !math.IsNaN(v) && !math.IsInf(v, 0) {
				sw += d.W(i)
				s += d.W(i) * v
			}
		}
		c := column{Scale: 1}
		if sw > 0 {
			c.Mean = s / sw
			for i := 0; i < n; i++ {
				if v := col[d.Row(i)]; !math.IsNaN(v) && !math.IsInf(v, 0) {
					ss += d.W(i) * (v - c.Mean) * (v - c.Mean)
				}
			}
			if sd := math.Sqrt(ss / sw); standardize && sd > 1e-12 {
				c.Scale = sd
			}
		}
		e.Cols[j] = c
		e.Width++
	}
	return e
}

// encode returns the row-major encoded rows of X (rows nil: all rows).
func (e *encoder) encode(X *frame.Matrix, rows []int) ([]float64, error) {
	if X.Cols != len(e.Cols) {
		return nil, fmt.Errorf("matrix has %d columns, the model was trained on %d", X.Cols, len(e.Cols))
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
				if v >= 0 && v < float64(c.Levels) {
					out[i*e.Width+off+int(v)] = 1
				}
				continue
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				v = c.Mean
			}
			out[i*e.Width+off] = (v - c.Mean) / c.Scale
		}
		off += max(c.Levels, 1)
	}
	return out, nil
}
