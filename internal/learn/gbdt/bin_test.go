package gbdt

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestBinColumnMatchesSearch checks the branch-free bin search against the
// plain definition (first bin whose upper bound is ≥ the value, the missing
// bin for NaN) on random values, the bounds themselves, signed zeros and
// infinities.
func TestBinColumnMatchesSearch(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, nb := range []int{1, 2, 3, 17, 255} {
		bounds := make([]float64, 0, nb)
		v := -3.0
		for range nb - 1 {
			v += r.Float64() + 1e-9
			bounds = append(bounds, v)
		}
		if nb > 2 {
			bounds[nb/2] = 0 // a zero bound: -0 and +0 must both fall in its bin
		}
		bounds = append(bounds, math.Inf(1))
		col := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), -1e308, 1e308}
		for _, b := range bounds {
			col = append(col, b, math.Nextafter(b, math.Inf(1)), math.Nextafter(b, math.Inf(-1)))
		}
		for range 2000 {
			col = append(col, 8*r.Float64()-4)
		}
		out := make([]uint8, len(col))
		binColumn(out, col, bounds)
		for i, x := range col {
			want := len(bounds) // missing
			if !math.IsNaN(x) {
				for want = 0; x > bounds[want]; want++ {
				}
			}
			if int(out[i]) != want {
				t.Fatalf("%d bins: value %v got bin %d, want %d", nb, x, out[i], want)
			}
		}
	}
}
