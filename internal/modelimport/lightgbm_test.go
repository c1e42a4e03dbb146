package modelimport

import (
	"errors"
	"math"
	"testing"
)

// lgbDecision is LightGBM's NumericalDecision (tree.h): whether x goes left.
func lgbDecision(x, thr float64, defaultLeft bool, missing int) bool {
	if math.IsNaN(x) && missing != 2 {
		x = 0
	}
	if (missing == 1 && x >= -kZeroThreshold && x <= kZeroThreshold) || (missing == 2 && math.IsNaN(x)) {
		return defaultLeft
	}
	return x <= thr
}

// lgbSplit's Gyre split sends every value where LightGBM does, or is
// refused as unsupported.
func TestLightGBMSplits(t *testing.T) {
	z := kZeroThreshold
	xs := []float64{math.NaN(), 0, math.Copysign(0, -1), z, -z, math.Nextafter(z, 1), math.Nextafter(-z, -1), 1e-30, -1e-30, 0.5, -0.5, 1, -1, 2.5, -2.5, math.Inf(1), math.Inf(-1)}
	thrs := []float64{-2.5, -1, -z, math.Nextafter(-z, -1), 0, 1e-36, z, math.Nextafter(z, 1), 0.5, 1, 2.5}
	refused := 0
	for _, missing := range []int{0, 1, 2} {
		for _, dl := range []bool{false, true} {
			for _, thr := range thrs {
				t2, dl2, err := lgbSplit(thr, dl, missing)
				if errors.Is(err, ErrUnsupported) {
					refused++
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				for _, x := range xs {
					got := x <= t2 || (math.IsNaN(x) && dl2)
					if want := lgbDecision(x, thr, dl, missing); got != want {
						t.Errorf("missing %d default_left %v threshold %v: x=%v goes left=%v, LightGBM %v", missing, dl, thr, x, got, want)
					}
				}
			}
		}
	}
	// Only zero-as-missing splits whose zeros sit away from their side.
	if refused == 0 || refused > len(thrs) {
		t.Errorf("%d splits refused", refused)
	}
}
