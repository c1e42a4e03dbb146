package learn

import "math"

// ScaleProba applies temperature t to rows of k class probabilities in place:
// p_c ← p_c^(1/t) / Σ_j p_j^(1/t). t == 1 (or t not a positive finite
// number, as in a bundle without calibration) leaves them unchanged; a row whose
// probabilities are all zero is left as is.
func ScaleProba(proba []float64, k int, t float64) { CalibrateProba(proba, k, t, 0) }

// CalibrateProba smooths and then scales rows of k class probabilities in
// place: p_c ← (p_c + eps)^(1/t) / Σ_j (p_j + eps)^(1/t). The smoothing eps
// ≥ 0 lifts the exact zeros of vote-based probabilities (forests, k-NN),
// which no temperature can move and which cost log loss its maximum; t is
// as in ScaleProba. eps == 0 and t == 1 leave the rows unchanged.
func CalibrateProba(proba []float64, k int, t, eps float64) {
	scale := t != 1 && t > 0 && !math.IsInf(t, 0)
	smooth := eps > 0 && !math.IsInf(eps, 0)
	if (!scale && !smooth) || k == 0 {
		return
	}
	if !smooth {
		eps = 0
	}
	a := 1.0
	if scale {
		a = 1 / t
	}
	for i := 0; i+k <= len(proba); i += k {
		row := proba[i : i+k]
		// Scale relative to the row's largest probability so that p^a
		// neither underflows for every class nor overflows.
		top := 0.0
		for _, v := range row {
			top = max(top, v+eps)
		}
		if !(top > 0) {
			continue
		}
		sum := 0.0
		for c, v := range row {
			q := 0.0
			if v += eps; v > 0 {
				q = v / top
				if a != 1 {
					q = math.Pow(q, a)
				}
			}
			row[c] = q
			sum += q
		}
		for c := range row {
			row[c] /= sum
		}
	}
}
