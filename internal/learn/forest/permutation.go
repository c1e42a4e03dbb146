package forest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gyre-ml/gyre/internal/learn"
)

// Scorer scores predictions of a data set's rows (higher is better). pred
// holds one prediction per row (class index or value).
type Scorer func(d *learn.Dataset, pred []float64) float64

// PermutationOptions tune PermutationImportance.
type PermutationOptions struct {
	// Repeats is the number of shuffles per feature (default 5).
	Repeats int
	// Seed seeds the shuffles.
	Seed uint64
	// Score scores predictions; default accuracy for classification and R²
	// for regression.
	Score Scorer
}

// PermutationImportance measures, for each feature, the mean and standard
// deviation over Repeats shuffles of the drop in score when that feature's
// column is shuffled (Breiman 2001). It works with any model and never
// modifies d.
func PermutationImportance(ctx context.Context, m learn.Model, d *learn.Dataset, o PermutationOptions) (mean, std []float64, err error) {
	if m == nil || d == nil || d.X == nil {
		return nil, nil, errors.New("permutation importance: no model or data")
	}
	if o.Repeats == 0 {
		o.Repeats = 5
	}
	if o.Repeats < 1 {
		return nil, nil, fmt.Errorf("permutation importance: repeats is %d, want ≥ 1", o.Repeats)
	}
	if o.Score == nil {
		if d.Task.Classification() {
			o.Score = Accuracy
		} else {
			o.Score = R2
		}
	}
	v := d.Materialize()
	if v == d {
		c := *d
		x := *d.X
		x.Data = append([]float64(nil), d.X.Data...)
		c.X = &x
		v = &c
	}
	pred, err := m.Predict(v.X)
	if err != nil {
		return nil, nil, fmt.Errorf("permutation importance: %w", err)
	}
	base := o.Score(v, pred)
	p, n := v.X.Cols, v.X.Rows
	mean, std = make([]float64, p), make([]float64, p)
	rng := rand.New(rand.NewPCG(o.Seed, 0x7065726d))
	orig := make([]float64, n)
	for j := 0; j < p; j++ {
		col := v.X.Col(j)
		copy(orig, col)
		drops := make([]float64, o.Repeats)
		for r := 0; r < o.Repeats; r++ {
			if err := ctx.Err(); err != nil {
				return nil, nil, fmt.Errorf("permutation importance: %w", err)
			}
			rng.Shuffle(n, func(a, b int) { col[a], col[b] = col[b], col[a] })
			pr, err := m.Predict(v.X)
			if err != nil {
				return nil, nil, fmt.Errorf("permutation importance: %w", err)
			}
			drops[r] = base - o.Score(v, pr)
			copy(col, orig)
		}
		for _, x := range drops {
			mean[j] += x
		}
		mean[j] /= float64(o.Repeats)
		for _, x := range drops {
			std[j] += (x - mean[j]) * (x - mean[j])
		}
		std[j] = math.Sqrt(std[j] / float64(o.Repeats))
	}
	return mean, std, nil
}

// Accuracy is the share of rows whose predicted class equals the target.
func Accuracy(d *learn.Dataset, pred []float64) float64 {
	ok := 0
	for i, p := range pred {
		if p == d.Target(i) {
			ok++
		}
	}
	return float64(ok) / float64(max(len(pred), 1))
}

// R2 is the coefficient of determination of the predictions.
func R2(d *learn.Dataset, pred []float64) float64 {
	y := make([]float64, len(pred))
	for i := range y {
		y[i] = d.Target(i)
	}
	return r2(y, pred)
}
