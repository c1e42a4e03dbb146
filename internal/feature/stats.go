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
	out := make([]float64, len(qs))
	if len(qs) > 4 || len(s) < 64 {
		slices.Sort(s)
		for i, q := range qs {
			out[i] = quantileSorted(s, q)
		}
		return out
	}
	// A few quantiles: selection in O(n) each instead of a full sort.
	for i, q := range qs {
		if len(s) == 0 {
			out[i] = math.NaN()
			continue
		}
		pos := q * float64(len(s)-1)
		lo := int(math.Floor(pos))
		selectK(s, lo)
		x := s[lo]
		if frac := pos - float64(lo); frac > 0 && lo+1 < len(s) {
			next := s[lo+1]
			for _, y := range s[lo+1:] {
				if y < next {
					next = y
				}
			}
			x += (next - x) * frac
		}
		out[i] = x
	}
	return out
}

// selectK reorders s so that s[k] is the value a full sort would put there,
// with smaller-or-equal values before it and greater-or-equal after
// (quickselect, median-of-three pivots, insertion sort for small ranges).
func selectK(s []float64, k int) {
	lo, hi := 0, len(s)-1
	for hi-lo > 16 {
		mid := lo + (hi-lo)/2
		if s[mid] < s[lo] {
			s[mid], s[lo] = s[lo], s[mid]
		}
		if s[hi] < s[lo] {
			s[hi], s[lo] = s[lo], s[hi]
		}
		if s[hi] < s[mid] {
			s[hi], s[mid] = s[mid], s[hi]
		}
		pivot := s[mid]
		i, j := lo, hi
		for i <= j {
			for s[i] < pivot {
				i++
			}
			for s[j] > pivot {
				j--
			}
			if i <= j {
				s[i], s[j] = s[j], s[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return
		}
	}
	slices.Sort(s[lo : hi+1])
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
