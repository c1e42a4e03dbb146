package automl

import (
	"context"
	"math"
	"time"
)

// caruana runs greedy ensemble selection with replacement (Caruana et al.,
// ICML 2004, as AutoGluon and auto-sklearn use it): starting from the empty
// ensemble, repeatedly add the candidate whose inclusion most lowers the loss
// of the averaged predictions, for `rounds` rounds. preds[i] holds candidate
// i's out-of-fold predictions (probabilities row-major n×k for classifiers,
// values for regression). It returns per-candidate weights summing to 1 and
// the ensemble's loss.
//
// Selection stops early after ensemblePatience rounds without improvement,
// when ctx is done, or at deadline (zero: none); it then returns the best
// ensemble found so far.
func caruana(ctx context.Context, preds [][]float64, loss func(avg []float64) float64, rounds int, deadline time.Time, now func() time.Time) ([]float64, float64) {
	if len(preds) == 0 {
		return nil, math.Inf(1)
	}
	n := len(preds[0])
	sum := make([]float64, n)
	avg := make([]float64, n)
	counts := make([]int, len(preds))
	bestLoss := math.Inf(1)
	var bestCounts []int
	stale := 0
	for r := 1; r <= rounds && stale < ensemblePatience; r++ {
		if ctx.Err() != nil || (!deadline.IsZero() && now().After(deadline)) {
			break
		}
		pick, pickLoss := -1, math.Inf(1)
		for c, p := range preds {
			for i := range avg {
				avg[i] = (sum[i] + p[i]) / float64(r)
			}
			if l := loss(avg); l < pickLoss {
				pick, pickLoss = c, l
			}
		}
		if pick < 0 {
			break
		}
		counts[pick]++
		for i := range sum {
			sum[i] += preds[pick][i]
		}
		if pickLoss < bestLoss {
			bestLoss = pickLoss
			bestCounts = append(bestCounts[:0], counts...)
			stale = 0
		} else {
			stale++
		}
	}
	if bestCounts == nil {
		return make([]float64, len(preds)), math.Inf(1)
	}
	total := 0
	for _, c := range bestCounts {
		total += c
	}
	w := make([]float64, len(preds))
	for i, c := range bestCounts {
		w[i] = float64(c) / float64(total)
	}
	return w, bestLoss
}
