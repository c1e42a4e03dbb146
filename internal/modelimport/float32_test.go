package modelimport

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The float32 bounds agree with a float32 comparison on values next to
// and around the bound, for random and extreme thresholds.
func TestFloat32Bounds(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := []float32{0, 1, -1, 0.5, 127.5, math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 16777216, 16777217}
	for range 2000 {
		vals = append(vals, float32(r.NormFloat64()*math.Pow(10, float64(r.IntN(12)-6))))
	}
	for _, v := range vals {
		leq, lt := leqF32(v), ltF32(v)
		for _, x := range around(leq) {
			if got, want := x <= leq, float32(x) <= v; got != want {
				t.Fatalf("leq %v: x=%v: bound says %v, float32 says %v", v, x, got, want)
			}
		}
		for _, x := range around(lt) {
			if got, want := x <= lt, float32(x) < v; got != want {
				t.Fatalf("lt %v: x=%v: bound says %v, float32 says %v", v, x, got, want)
			}
		}
	}
}

func around(t float64) []float64 {
	out := []float64{t}
	up, down := t, t
	for range 3 {
		up = math.Nextafter(up, math.Inf(1))
		down = math.Nextafter(down, math.Inf(-1))
		out = append(out, up, down)
	}
	return out
}
