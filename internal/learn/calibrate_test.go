package learn

import (
	"math"
	"testing"
)

func TestCalibrateProbaSmoothing(t *testing.T) {
	p := []float64{1, 0, 0, 0.5, 0.5, 0}
	CalibrateProba(p, 3, 1, 0.01)
	for i := 0; i < 6; i += 3 {
		if s := p[i] + p[i+1] + p[i+2]; math.Abs(s-1) > 1e-12 {
			t.Errorf("row %d sums to %v", i/3, s)
		}
	}
	if !(p[1] > 0 && p[2] > 0 && p[0] > 0.97 && p[5] > 0) {
		t.Errorf("smoothed rows %v: want the zeros lifted, the order kept", p)
	}
	// Smoothing then sharpening equals the two steps.
	q := []float64{0.7, 0.3, 0}
	r := []float64{0.71 / 1.03, 0.31 / 1.03, 0.01 / 1.03}
	CalibrateProba(q, 3, 0.5, 0.01)
	ScaleProba(r, 3, 0.5)
	for c := range q {
		if math.Abs(q[c]-r[c]) > 1e-12 {
			t.Errorf("class %d: %v, want %v", c, q[c], r[c])
		}
	}
	// Nothing to do: unchanged, bit for bit.
	u := []float64{0.2, 0.8}
	CalibrateProba(u, 2, 1, 0)
	if u[0] != 0.2 || u[1] != 0.8 {
		t.Errorf("identity calibration changed %v", u)
	}
}
