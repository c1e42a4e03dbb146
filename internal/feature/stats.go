package feature

import (
	"math"
	"slices"
)

// present returns the non-NaN values of v (a copy).
func present(v []float64) []float64 {
	out := make([]float64, 0, len(v))
	for _, x := range v {
		if x == x {
			out = append(out, x)
		}
	}
	return out
}

// quantiles returns the q-quantiles (linear interpolation, as numpy's
// default) of the non-NaN values of v, NaN when there are none.
func quantiles(v []float64, qs ...float64) []float64 {
	s := present(v)
	slices.Sort(s)
	out := make([]float64, len(qs))
	for i, q := range qs {
		out[i] = quantileSorted(s, q)
	}
	return out
}

func quantileSorted(s []float64, q float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	if lo == hi {
		return s[lo]
	}
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

// meanStd returns the mean and population standard deviation of the non-NaN
// values (NaN, NaN when there are none).
func meanStd(v []float64) (mean, std float64) {
	n := 0
	for _, x := range v {
		if x == x {
			n++
			mean += x
		}
	}
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	mean /= float64(n)
	ss := 0.0
	for _, x := range v {
		if x == x {
			d := x - mean
			ss += d * d
		}
	}
	return mean, math.Sqrt(ss / float64(n))
}

// mode returns the most frequent non-NaN value (smallest on ties).
func mode(v []float64) float64 {
	s := present(v)
	if len(s) == 0 {
		return math.NaN()
	}
	slices.Sort(s)
	best, bestN := s[0], 0
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] == s[i] {
			j++
		}
		if j-i > bestN {
			best, bestN = s[i], j-i
		}
		i = j
	}
	return best
}
