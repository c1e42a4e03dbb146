package metric

import (
	"fmt"
	"math"

	"github.com/gyre-ml/gyre/internal/parallel"
)

// Silhouette is the mean silhouette coefficient with euclidean distances of
// n points (row-major n×dim in x) under the given cluster labels (any
// values; rows with equal labels share a cluster). Points alone in their
// cluster score 0, as in scikit-learn. It needs 2 ≤ clusters ≤ n-1 and costs
// O(n²·dim): sample large data sets first.
func Silhouette(x []float64, dim int, labels []float64) (float64, error) {
	const op = "silhouette"
	n := len(labels)
	if dim <= 0 || len(x) != n*dim {
		return 0, fmt.Errorf("%s: %d values for %d points of dimension %d", op, len(x), n, dim)
	}
	if err := checkFinite(op, "value", x); err != nil {
		return 0, err
	}
	ids := map[float64]int{}
	lab := make([]int, n)
	for i, l := range labels {
		if math.IsNaN(l) {
			return 0, fmt.Errorf("%s: label of row %d is NaN", op, i+1)
		}
		id, ok := ids[l]
		if !ok {
			id = len(ids)
			ids[l] = id
		}
		lab[i] = id
	}
	k := len(ids)
	if k < 2 || k > n-1 {
		return 0, fmt.Errorf("%s: %d clusters for %d points, want between 2 and %d", op, k, n, n-1)
	}
	size := make([]float64, k)
	for _, l := range lab {
		size[l]++
	}
	s := make([]float64, n)
	parallel.ForWorker(n, 0, func() func(int) {
		dist := make([]float64, k)
		return func(i int) {
			clear(dist)
			xi := x[i*dim : (i+1)*dim]
			for j := 0; j < n; j++ {
				xj := x[j*dim : (j+1)*dim]
				d := 0.0
				for t := range xi {
					e := xi[t] - xj[t]
					d += e * e
				}
				dist[lab[j]] += math.Sqrt(d)
			}
			own := lab[i]
			if size[own] <= 1 {
				return
			}
			a := dist[own] / (size[own] - 1)
			b := math.Inf(1)
			for c := 0; c < k; c++ {
				if c != own {
					b = min(b, dist[c]/size[c])
				}
			}
			if m := max(a, b); m > 0 {
				s[i] = (b - a) / m
			}
		}
	})
	sum := 0.0
	for _, v := range s {
		sum += v
	}
	return sum / float64(n), nil
}
