package automl

import (
	"math"
	"math/rand/v2"
	"sort"
)

// proposer suggests points of a learner's unit cube and learns from their
// losses. flow2 (the default, cost-frugal local search) and the random,
// grid and TPE searches implement it.
type proposer interface {
	// propose returns the next point, or nil when the proposer is exhausted
	// (a finished grid).
	propose() []float64
	// report feeds back a point's loss; it returns true for a new best.
	report(x []float64, loss float64) bool
}

// Search methods for Options.Search.
const (
	SearchCFO    = "cfo"
	SearchRandom = "random"
	SearchGrid   = "grid"
	SearchTPE    = "tpe"
)

func newProposer(method string, sp Space, rng *rand.Rand) proposer {
	switch method {
	case SearchRandom:
		return &randomSearch{dim: len(sp.Domains), rng: rng, best: math.Inf(1)}
	case SearchGrid:
		return newGridSearch(sp)
	case SearchTPE:
		return &tpe{dim: len(sp.Domains), rng: rng, best: math.Inf(1)}
	}
	return newFlow2(sp.initPoint(), rng)
}

// randomSearch samples the unit cube uniformly.
type randomSearch struct {
	dim  int
	rng  *rand.Rand
	best float64
}

func (r *randomSearch) propose() []float64 {
	x := make([]float64, r.dim)
	for i := range x {
		x[i] = r.rng.Float64()
	}
	return x
}

func (r *randomSearch) report(_ []float64, loss float64) bool {
	if loss < r.best {
		r.best = loss
		return true
	}
	return false
}

// gridSearch walks the Cartesian product of each domain's grid: every
// choice of a categorical domain, Grid points (default 5) of a numeric one
// (on its log scale when Log), distinct integers only.
type gridSearch struct {
	axes [][]float64
	idx  []int
	done bool
	best float64
}

// defaultGridPoints is the number of grid points per numeric domain.
const defaultGridPoints = 5

func newGridSearch(sp Space) *gridSearch {
	g := &gridSearch{best: math.Inf(1)}
	for _, d := range sp.Domains {
		var axis []float64
		switch {
		case len(d.Choices) > 0:
			for i := range d.Choices {
				axis = append(axis, (float64(i)+0.5)/float64(len(d.Choices)))
			}
		default:
			n := d.GridPoints
			if n <= 0 {
				n = defaultGridPoints
			}
			seen := map[string]bool{}
			for i := 0; i < n; i++ {
				u := 0.5
				if n > 1 {
					u = float64(i) / float64(n-1)
				}
				if v := d.value(u); !seen[v] {
					seen[v] = true
					axis = append(axis, u)
				}
			}
		}
		g.axes = append(g.axes, axis)
	}
	g.idx = make([]int, len(g.axes))
	return g
}

func (g *gridSearch) propose() []float64 {
	if g.done {
		return nil
	}
	x := make([]float64, len(g.axes))
	for i, a := range g.axes {
		x[i] = a[g.idx[i]]
	}
	// Advance like an odometer, last axis fastest.
	i := len(g.idx) - 1
	for ; i >= 0; i-- {
		g.idx[i]++
		if g.idx[i] < len(g.axes[i]) {
			break
		}
		g.idx[i] = 0
	}
	if i < 0 {
		g.done = true
	}
	return x
}

func (g *gridSearch) report(_ []float64, loss float64) bool {
	if loss < g.best {
		g.best = loss
		return true
	}
	return false
}

// tpe is the Tree-structured Parzen Estimator (Bergstra et al., NeurIPS
// 2011) as hyperopt and Optuna run it by default: after tpeStartup random
// points, observations split into the best γ and the rest; each dimension
// gets a Parzen density for each group (Gaussian kernels in the unit cube,
// bandwidth from the neighbours' spacing, plus a uniform prior), and the
// next point is the one of tpeCandidates draws from the good density that
// maximises l(x)/g(x). Dimensions are modelled independently.
type tpe struct {
	dim  int
	rng  *rand.Rand
	obs  []tpeObs
	best float64
}

type tpeObs struct {
	x    []float64
	loss float64
}

const (
	tpeStartup    = 10
	tpeCandidates = 24
	tpeGamma      = 0.25
)

func (t *tpe) propose() []float64 {
	if len(t.obs) < tpeStartup || t.dim == 0 {
		x := make([]float64, t.dim)
		for i := range x {
			x[i] = t.rng.Float64()
		}
		return x
	}
	obs := append([]tpeObs(nil), t.obs...)
	sort.SliceStable(obs, func(i, j int) bool { return obs[i].loss < obs[j].loss })
	nGood := max(1, min(int(math.Ceil(tpeGamma*float64(len(obs)))), 25))
	good, bad := obs[:nGood], obs[nGood:]
	x := make([]float64, t.dim)
	for d := 0; d < t.dim; d++ {
		l := parzen(good, d)
		g := parzen(bad, d)
		bestScore, bestV := math.Inf(-1), 0.5
		for c := 0; c < tpeCandidates; c++ {
			v := l.sample(t.rng)
			if s := math.Log(l.pdf(v)) - math.Log(g.pdf(v)); s > bestScore {
				bestScore, bestV = s, v
			}
		}
		x[d] = bestV
	}
	return x
}

func (t *tpe) report(x []float64, loss float64) bool {
	if math.IsInf(loss, 0) || math.IsNaN(loss) {
		loss = math.MaxFloat64
	}
	t.obs = append(t.obs, tpeObs{x: append([]float64(nil), x...), loss: loss})
	if loss < t.best {
		t.best = loss
		return true
	}
	return false
}

// kde is a 1-D mixture of truncated Gaussians on [0, 1] plus a uniform prior
// component of equal weight.
type kde struct {
	mu, sigma []float64
}

func parzen(obs []tpeObs, d int) kde {
	mus := make([]float64, len(obs))
	for i, o := range obs {
		mus[i] = o.x[d]
	}
	sort.Float64s(mus)
	k := kde{mu: mus, sigma: make([]float64, len(mus))}
	for i := range mus {
		lo, hi := 0.0, 1.0
		if i > 0 {
			lo = mus[i-1]
		}
		if i < len(mus)-1 {
			hi = mus[i+1]
		}
		s := math.Max(mus[i]-lo, hi-mus[i])
		// hyperopt's clipping: not narrower than range/min(100, n+1).
		k.sigma[i] = math.Min(1, math.Max(s, 1/math.Min(100, float64(len(mus)+1))))
	}
	return k
}

func (k kde) sample(r *rand.Rand) float64 {
	i := r.IntN(len(k.mu) + 1)
	if i == len(k.mu) {
		return r.Float64() // the prior
	}
	for tries := 0; tries < 20; tries++ {
		v := k.mu[i] + k.sigma[i]*r.NormFloat64()
		if v >= 0 && v <= 1 {
			return v
		}
	}
	return clamp01(k.mu[i])
}

func (k kde) pdf(v float64) float64 {
	p := 1.0 // the uniform prior's density on [0, 1]
	for i := range k.mu {
		z := (v - k.mu[i]) / k.sigma[i]
		mass := normCDF((1-k.mu[i])/k.sigma[i]) - normCDF(-k.mu[i]/k.sigma[i])
		p += math.Exp(-z*z/2) / (k.sigma[i] * math.Sqrt(2*math.Pi) * math.Max(mass, 1e-12))
	}
	return p / float64(len(k.mu)+1)
}

func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }
