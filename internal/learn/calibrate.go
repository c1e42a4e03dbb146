package learn

import "math"

// ScaleProba applies temperature t to rows of k class probabilities in place:
// p_c ← p_c^(1/t) / Σ_j p_j^(1/t). t == 1 (or t not a positive finite
// number, as in a bundle without calibration) leaves them unchanged; a row whose
// probabilities are all zero is left as is.
func ScaleProba(proba []float64, k int, t float64) {
	if t == 1 || !(t > 0) || math.IsInf(t, 0) || k == 0 {
		return
	}
	a := 1 / t
	for i := 0; i+k <= len(proba); i += k {
		row := proba[i : i+k]
		// Scale relative to the row's largest probability so that p^a
		// neither underflows for every class nor overflows.
		top := 0.0
		for _, v := range row {
			top = max(top, v)
		}
		if !(top > 0) {
			continue
		}
		sum := 0.0
		for c, v := range row {
			q := 0.0
			if v > 0 {
				q = math.Pow(v/top, a)
			}
			row[c] = q
			sum += q
		}
		for c := range row {
			row[c] /= sum
		}
	}
}
