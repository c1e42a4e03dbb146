package validate

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// ksExactLimit is the largest sample size for which KSTwoSample computes the
// exact p-value (scipy's MAX_AUTO_N).
const ksExactLimit = 10000

// KSTwoSample returns the two-sided two-sample Kolmogorov–Smirnov statistic
// and p-value of sorted samples a and b. Like scipy's ks_2samp with
// method="auto", the p-value is exact when both samples have at most 10,000
// values and asymptotic otherwise. NaN p-value for an empty sample.
func KSTwoSample(a, b []float64) (d, p float64) {
	m, n := len(a), len(b)
	if m == 0 || n == 0 {
		return math.NaN(), math.NaN()
	}
	i, j := 0, 0
	for i < m && j < n {
		x := math.Min(a[i], b[j])
		for i < m && a[i] == x {
			i++
		}
		for j < n && b[j] == x {
			j++
		}
		d = math.Max(d, math.Abs(float64(i)/float64(m)-float64(j)/float64(n)))
	}
	if max(m, n) <= ksExactLimit {
		return d, ksExact(m, n, d)
	}
	return d, ksAsymptotic(m, n, d)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// ksExact is the exact two-sided p-value: one minus the probability that a
// uniformly random lattice path from (0,0) to (m,n) stays strictly inside
// |x/m − y/n| < d, computed as in scipy (d rounded to the lattice).
func ksExact(m, n int, d float64) float64 {
	g := gcd(m, n)
	lcm := float64(m/g) * float64(n)
	h := int64(math.Round(d * lcm))
	if h == 0 {
		return 1
	}
	hg := h * int64(g)
	inside := func(x, y int) bool {
		v := int64(x)*int64(n) - int64(y)*int64(m)
		if v < 0 {
			v = -v
		}
		return v < hg
	}
	// prob[y] after processing column x: probability of reaching (x, y) inside.
	prob := make([]float64, n+1)
	prob[0] = 1
	for y := 1; y <= n; y++ {
		if !inside(0, y) {
			break
		}
		prob[y] = prob[y-1] * float64(n-y+1) / float64(m+n-y+1)
	}
	for x := 1; x <= m; x++ {
		// y band where inside(x, y) can hold.
		center := float64(x) * float64(n) / float64(m)
		w := float64(hg)/float64(m) + 1
		ylo := max(0, int(math.Floor(center-w)))
		yhi := min(n, int(math.Ceil(center+w)))
		if ylo > 0 {
			prob[ylo-1] = 0
		}
		for y := ylo; y <= yhi; y++ {
			if !inside(x, y) {
				prob[y] = 0
				continue
			}
			v := prob[y] * float64(m-x+1) / float64(m+n-x+1-y)
			if y > 0 {
				v += prob[y-1] * float64(n-y+1) / float64(m+n-x-y+1)
			}
			prob[y] = v
		}
		for y := yhi + 1; y <= n && prob[y] != 0; y++ {
			prob[y] = 0
		}
	}
	return clamp01(1 - prob[n])
}

// ksAsymptotic approximates scipy's kstwo.sf(d, round(mn/(m+n))) with the
// Kolmogorov limiting distribution and Stephens' correction
// λ = (√N + 0.12 + 0.11/√N)·d.
func ksAsymptotic(m, n int, d float64) float64 {
	en := math.Round(float64(m) * float64(n) / float64(m+n))
	s := math.Sqrt(en)
	return kolmogorovSF((s + 0.12 + 0.11/s) * d)
}

// kolmogorovSF is the survival function of the Kolmogorov distribution.
func kolmogorovSF(x float64) float64 {
	if x <= 0 {
		return 1
	}
	if x < 0.3 {
		// Q(x) = 1 − √(2π)/x Σ exp(−(2k−1)²π²/(8x²))
		sum := 0.0
		for k := 1; k <= 20; k++ {
			t := float64(2*k-1) * math.Pi / x
			sum += math.Exp(-t * t / 8)
		}
		return clamp01(1 - math.Sqrt(2*math.Pi)/x*sum)
	}
	sum := 0.0
	for k := 1; k <= 100; k++ {
		t := 2 * math.Exp(-2*float64(k*k)*x*x)
		if k%2 == 0 {
			t = -t
		}
		sum += t
		if math.Abs(t) < 1e-17 {
			break
		}
	}
	return clamp01(sum)
}

func clamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }

// ChiSquare returns the chi-square test of homogeneity of two count vectors
// over the same categories (scipy.stats.chi2_contingency, no continuity
// correction): the statistic, degrees of freedom and p-value. Categories
// empty in both are ignored; NaN p-value when fewer than two remain.
func ChiSquare(ref, cur []float64) (stat float64, dof int, p float64) {
	var r, c []float64
	for i := range ref {
		if ref[i]+cur[i] > 0 {
			r = append(r, ref[i])
			c = append(c, cur[i])
		}
	}
	if len(r) < 2 {
		return 0, 0, math.NaN()
	}
	var nr, nc float64
	for i := range r {
		nr += r[i]
		nc += c[i]
	}
	if nr == 0 || nc == 0 {
		return 0, 0, math.NaN()
	}
	n := nr + nc
	for i := range r {
		col := r[i] + c[i]
		er, ec := nr*col/n, nc*col/n
		stat += (r[i]-er)*(r[i]-er)/er + (c[i]-ec)*(c[i]-ec)/ec
	}
	dof = len(r) - 1
	return stat, dof, distuv.ChiSquared{K: float64(dof)}.Survival(stat)
}

// ZTestProportions returns the pooled two-proportion z statistic and its
// two-sided p-value for k1 successes of n1 against k2 of n2.
func ZTestProportions(k1, n1, k2, n2 float64) (z, p float64) {
	if n1 == 0 || n2 == 0 {
		return math.NaN(), math.NaN()
	}
	p1, p2 := k1/n1, k2/n2
	pool := (k1 + k2) / (n1 + n2)
	se := math.Sqrt(pool * (1 - pool) * (1/n1 + 1/n2))
	if se == 0 {
		return 0, 1
	}
	z = (p1 - p2) / se
	return z, 2 * distuv.UnitNormal.Survival(math.Abs(z))
}

// WassersteinSamples returns the first Wasserstein distance between two
// sorted samples (scipy.stats.wasserstein_distance).
func WassersteinSamples(a, b []float64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return math.NaN()
	}
	all := make([]float64, 0, len(a)+len(b))
	all = append(all, a...)
	all = append(all, b...)
	sort.Float64s(all)
	w := 0.0
	i, j := 0, 0
	for k := 0; k < len(all)-1; k++ {
		for i < len(a) && a[i] <= all[k] {
			i++
		}
		for j < len(b) && b[j] <= all[k] {
			j++
		}
		w += math.Abs(float64(i)/float64(len(a))-float64(j)/float64(len(b))) * (all[k+1] - all[k])
	}
	return w
}

// QuantileFunc is a quantile function p ↦ value on [0, 1].
type QuantileFunc func(p float64) float64

// WassersteinQuantiles returns the first Wasserstein distance between two
// distributions given by their quantile functions, ∫₀¹ |Qa(p) − Qb(p)| dp,
// by the midpoint rule on 2000 points.
func WassersteinQuantiles(qa, qb QuantileFunc) float64 {
	const k = 2000
	w := 0.0
	for i := 0; i < k; i++ {
		p := (float64(i) + 0.5) / k
		w += math.Abs(qa(p) - qb(p))
	}
	return w / k
}

// JensenShannon returns the Jensen–Shannon distance (natural log, the square
// root of the divergence, as scipy.spatial.distance.jensenshannon) of two
// count or probability vectors over the same categories.
func JensenShannon(p, q []float64) float64 {
	ps, qs := normalise(p), normalise(q)
	if ps == nil || qs == nil {
		return math.NaN()
	}
	js := 0.0
	for i := range ps {
		m := (ps[i] + qs[i]) / 2
		if ps[i] > 0 {
			js += ps[i] * math.Log(ps[i]/m) / 2
		}
		if qs[i] > 0 {
			js += qs[i] * math.Log(qs[i]/m) / 2
		}
	}
	return math.Sqrt(math.Max(js, 0))
}

// PSI returns the population stability index Σ (c − r)·ln(c/r) of two count
// vectors over the same bins, with empty shares replaced by 0.0001 (as
// Evidently).
func PSI(ref, cur []float64) float64 {
	r, c := normalise(ref), normalise(cur)
	if r == nil || c == nil {
		return math.NaN()
	}
	s := 0.0
	for i := range r {
		a, b := math.Max(r[i], 1e-4), math.Max(c[i], 1e-4)
		s += (b - a) * math.Log(b/a)
	}
	return s
}

func normalise(v []float64) []float64 {
	t := 0.0
	for _, x := range v {
		t += x
	}
	if t <= 0 {
		return nil
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x / t
	}
	return out
}
