// Package dense encodes a learner's design matrix into the dense, all-numeric
// row-major space that distance- and gradient-based learners (k-means, the
// multilayer perceptron) work in: one-hot categorical features, mean-imputed
// numeric features, optionally standardised. The fitted Encoder is part of
// such a model, so it predicts from the raw design matrix exactly as it was
// trained.
package dense

import (
	"fmt"
	"math"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
)

// Encoder turns a design matrix into a dense row-major space:
// categorical features one-hot (missing or unknown: all zeros),
// numeric features with missing values replaced by the training mean and,
// when Standardize is set, centred and scaled to unit variance.
type Encoder struct {
	Categorical []bool
	Levels      []int // one-hot width of each categorical feature
	Mean, Scale []float64
	Width       int
}

// FitEncoder learns the encoding from the data set's rows: one-hot widths
// from the categorical features' levels, means (and, with standardize,
// standard deviations) of the numeric features.
func FitEncoder(d *learn.Dataset, standardize bool) (*Encoder, error) {
	p := d.X.Cols
	e := &Encoder{Categorical: make([]bool, p), Levels: make([]int, p), Mean: make([]float64, p), Scale: make([]float64, p)}
	n := d.N()
	for j := 0; j < p; j++ {
		col := d.X.Col(j)
		if j < len(d.Features) && d.Features[j].Categorical {
			e.Categorical[j] = true
			L := len(d.Features[j].Levels)
			for i := 0; i < n; i++ {
				v := col[d.Row(i)]
				if v >= 0 && int(v)+1 > L {
					L = int(v) + 1
				}
			}
			if L > 1<<16 {
				return nil, fmt.Errorf("feature %q has %d categories, at most 65536 supported", d.Features[j].Name, L)
			}
			e.Levels[j] = L
			e.Width += L
			continue
		}
		s, s2, cnt := 0.0, 0.0, 0.0
		for i := 0; i < n; i++ {
			v := col[d.Row(i)]
			if math.IsInf(v, 0) {
				return nil, fmt.Errorf("feature %d row %d: value %v is infinite", j+1, d.Row(i)+1, v)
			}
			if !math.IsNaN(v) {
				s += v
				s2 += v * v
				cnt++
			}
		}
		e.Scale[j] = 1
		if cnt > 0 {
			e.Mean[j] = s / cnt
			if sd := math.Sqrt(max(s2/cnt-e.Mean[j]*e.Mean[j], 0)); standardize && sd > 1e-12*max(1, math.Abs(e.Mean[j])) {
				e.Scale[j] = sd
			}
		}
		if !standardize {
			// Impute only: keep the original origin.
			e.Scale[j] = -1
		}
		e.Width++
	}
	return e, nil
}

// Transform encodes the given rows of X (nil rows: all rows) into a
// row-major matrix of Width columns.
func (e *Encoder) Transform(X *frame.Matrix, rows []int) []float64 {
	n := X.Rows
	if rows != nil {
		n = len(rows)
	}
	out := make([]float64, n*e.Width)
	off := 0
	for j := range e.Categorical {
		col := X.Col(j)
		for i := 0; i < n; i++ {
			r := i
			if rows != nil {
				r = rows[i]
			}
			v := col[r]
			o := out[i*e.Width+off:]
			if e.Categorical[j] {
				if v >= 0 && v < float64(e.Levels[j]) {
					o[int(v)] = 1
				}
				continue
			}
			if math.IsNaN(v) {
				v = e.Mean[j]
			}
			if e.Scale[j] > 0 {
				v = (v - e.Mean[j]) / e.Scale[j]
			}
			o[0] = v
		}
		if e.Categorical[j] {
			off += e.Levels[j]
		} else {
			off++
		}
	}
	return out
}
