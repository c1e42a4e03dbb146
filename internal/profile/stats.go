package profile

import (
	"math"
	"sort"
)

// Pearson returns the Pearson correlation of x and y over the rows where
// both are present (not NaN), NaN when undefined.
func Pearson(x, y []float64) float64 {
	var n, sx, sy float64
	for i := range x {
		if x[i] == x[i] && y[i] == y[i] {
			n++
			sx += x[i]
			sy += y[i]
		}
	}
	if n < 2 {
		return math.NaN()
	}
	mx, my := sx/n, sy/n
	var sxx, syy, sxy float64
	for i := range x {
		if x[i] == x[i] && y[i] == y[i] {
			dx, dy := x[i]-mx, y[i]-my
			sxx += dx * dx
			syy += dy * dy
			sxy += dx * dy
		}
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}

// Spearman returns Spearman's rank correlation over the rows where both x
// and y are present (average ranks for ties, like scipy and pandas).
func Spearman(x, y []float64) float64 {
	var a, b []float64
	for i := range x {
		if x[i] == x[i] && y[i] == y[i] {
			a = append(a, x[i])
			b = append(b, y[i])
		}
	}
	return Pearson(rank(a), rank(b))
}

// rank returns average ranks (1-based) of x, which must hold no NaN.
func rank(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		i = j + 1
	}
	return r
}

// contingency builds the table of two code vectors (−1 = missing, skipped),
// dropping empty rows and columns.
func contingency(a, b []int32) ([][]float64, float64) {
	ka, kb := int32(0), int32(0)
	for i := range a {
		ka = max(ka, a[i]+1)
		kb = max(kb, b[i]+1)
	}
	t := make([][]float64, ka)
	for i := range t {
		t[i] = make([]float64, kb)
	}
	n := 0.0
	for i := range a {
		if a[i] >= 0 && b[i] >= 0 {
			t[a[i]][b[i]]++
			n++
		}
	}
	// Drop empty rows and columns.
	colSum := make([]float64, kb)
	var rowsKept [][]float64
	for _, row := range t {
		s := 0.0
		for j, v := range row {
			s += v
			colSum[j] += v
		}
		if s > 0 {
			rowsKept = append(rowsKept, row)
		}
	}
	var keep []int
	for j, s := range colSum {
		if s > 0 {
			keep = append(keep, j)
		}
	}
	out := make([][]float64, len(rowsKept))
	for i, row := range rowsKept {
		out[i] = make([]float64, len(keep))
		for k, j := range keep {
			out[i][k] = row[j]
		}
	}
	return out, n
}

// CramersV returns Cramér's V (no bias correction, like
// scipy.stats.contingency.association) of two code vectors; −1 codes are
// missing. NaN when a variable has a single observed level.
func CramersV(a, b []int32) float64 {
	t, n := contingency(a, b)
	if len(t) < 2 || len(t[0]) < 2 {
		return math.NaN()
	}
	r, c := margins(t)
	chi2 := 0.0
	for i, row := range t {
		for j, v := range row {
			e := r[i] * c[j] / n
			chi2 += (v - e) * (v - e) / e
		}
	}
	k := math.Min(float64(len(r)), float64(len(c))) - 1
	return math.Sqrt(chi2 / (n * k))
}

// margins returns the row and column sums of a contingency table.
func margins(t [][]float64) (r, c []float64) {
	r = make([]float64, len(t))
	if len(t) > 0 {
		c = make([]float64, len(t[0]))
	}
	for i, row := range t {
		for j, v := range row {
			r[i] += v
			c[j] += v
		}
	}
	return r, c
}

// CorrelationRatio returns η of x given the groups codes (−1 = missing):
// the square root of between-group over total variance. NaN when undefined.
func CorrelationRatio(x []float64, codes []int32) float64 {
	k := int32(0)
	for _, c := range codes {
		k = max(k, c+1)
	}
	sum := make([]float64, k)
	cnt := make([]float64, k)
	var tot, n float64
	for i, v := range x {
		if v == v && codes[i] >= 0 {
			sum[codes[i]] += v
			cnt[codes[i]]++
			tot += v
			n++
		}
	}
	if n < 2 {
		return math.NaN()
	}
	mean := tot / n
	var ssb, sst float64
	for g := range sum {
		if cnt[g] > 0 {
			d := sum[g]/cnt[g] - mean
			ssb += cnt[g] * d * d
		}
	}
	for i, v := range x {
		if v == v && codes[i] >= 0 {
			sst += (v - mean) * (v - mean)
		}
	}
	if sst == 0 {
		return math.NaN()
	}
	return math.Sqrt(ssb / sst)
}

// MutualInformation returns the mutual information in nats of two code
// vectors over rows where both are present (−1 = missing), like
// sklearn.metrics.mutual_info_score.
func MutualInformation(a, b []int32) float64 {
	t, n := contingency(a, b)
	if n == 0 {
		return 0
	}
	r, c := margins(t)
	mi := 0.0
	for i, row := range t {
		for j, v := range row {
			if v > 0 {
				mi += v / n * math.Log(v*n/(r[i]*c[j]))
			}
		}
	}
	return math.Max(mi, 0)
}

// entropy returns the entropy in nats of a code vector (−1 skipped).
func entropy(a []int32) float64 {
	counts := map[int32]float64{}
	n := 0.0
	for _, v := range a {
		if v >= 0 {
			counts[v]++
			n++
		}
	}
	h := 0.0
	for _, k := range counts {
		h -= k / n * math.Log(k/n)
	}
	return h
}
