package modelimport

import "math"

// Runtimes that compare in float32 (XGBoost always; ONNX with a float
// input) see float32(x), not x. These bounds turn such a comparison into
// Gyre's float64 "x ≤ t goes left" with the same answer for every float64
// x, including those that round onto the threshold.

// leqF32 returns the largest float64 t such that float32(x) ≤ v for every
// x ≤ t (and for no x > t): the rounding boundary above v.
func leqF32(v float32) float64 {
	if math.IsInf(float64(v), 1) {
		return math.Inf(1)
	}
	up := math.Nextafter32(v, float32(math.Inf(1)))
	var mid float64
	switch {
	case math.IsInf(float64(v), -1):
		// Below -MaxFloat32, values round to -Inf from half an ulp below.
		mid = -leqF32(math.MaxFloat32)
		if float32(mid) > v {
			mid = math.Nextafter(mid, math.Inf(-1))
		}
		return mid
	case math.IsInf(float64(up), 1):
		// Past MaxFloat32, values round to +Inf from half an ulp above.
		down := math.Nextafter32(v, float32(math.Inf(-1)))
		mid = float64(v) + (float64(v)-float64(down))/2
	default:
		mid = (float64(v) + float64(up)) / 2 // exact: float32 has 24 bits
	}
	if float32(mid) <= v {
		return mid // a tie rounds down to v (v's mantissa is even)
	}
	return math.Nextafter(mid, math.Inf(-1))
}

// ltF32 returns the largest float64 t such that float32(x) < v for every
// x ≤ t: the boundary above v's float32 predecessor.
func ltF32(v float32) float64 {
	if math.IsInf(float64(v), -1) {
		return math.Inf(-1) // nothing is below -Inf; -Inf itself goes right only by this bound's ≤
	}
	return leqF32(math.Nextafter32(v, float32(math.Inf(-1))))
}

// ltF64 returns the largest float64 t with x < v ⟺ x ≤ t.
func ltF64(v float64) float64 { return math.Nextafter(v, math.Inf(-1)) }
