package feature

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestQuantilesSelectMatchesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for trial := 0; trial < 50; trial++ {
		n := 64 + r.IntN(500)
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(r.IntN(40)) // many ties
			if r.IntN(10) == 0 {
				v[i] = math.NaN()
			}
		}
		s := present(v)
		slices.Sort(s)
		for _, q := range []float64{0, 0.01, 0.25, 0.5, 0.75, 0.99, 1} {
			got := quantiles(v, q)[0]
			if want := quantileSorted(s, q); got != want {
				t.Fatalf("n=%d q=%g: got %v, want %v", n, q, got, want)
			}
		}
	}
}
