package metric

import (
	"fmt"
	"math"
)

// checkPair validates truth, prediction and weight lengths and values.
func checkPair(op string, y, p, w []float64) error {
	if len(y) == 0 {
		return fmt.Errorf("%s: no rows", op)
	}
	if len(p) != len(y) {
		return fmt.Errorf("%s: %d predictions for %d targets", op, len(p), len(y))
	}
	return checkWeights(op, w, len(y))
}

func checkWeights(op string, w []float64, n int) error {
	if w == nil {
		return nil
	}
	if len(w) != n {
		return fmt.Errorf("%s: %d weights for %d rows", op, len(w), n)
	}
	sum := 0.0
	for i, v := range w {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s: weight of row %d is %v, want a finite non-negative number", op, i+1, v)
		}
		sum += v
	}
	if sum == 0 {
		return fmt.Errorf("%s: weights sum to zero", op)
	}
	return nil
}

// checkClasses validates that every value in v is a class index below k.
func checkClasses(op, what string, v []float64, k int) error {
	if k < 2 {
		return fmt.Errorf("%s: need at least 2 classes, have %d", op, k)
	}
	for i, c := range v {
		if c < 0 || c >= float64(k) || c != math.Trunc(c) {
			return fmt.Errorf("%s: %s of row %d is %v, want a class index in [0, %d)", op, what, i+1, c, k)
		}
	}
	return nil
}

func checkFinite(op, what string, v []float64) error {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%s: %s of row %d is %v, want a finite number", op, what, i+1, x)
		}
	}
	return nil
}

func weight(w []float64, i int) float64 {
	if w == nil {
		return 1
	}
	return w[i]
}
