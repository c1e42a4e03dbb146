package automl

import (
	"math"
	"math/rand/v2"
)

// flow2 is FLAML's randomised local search (Wu et al., "Frugal Optimization
// for Cost-related Hyperparameters", AAAI 2021) over a unit cube: from the
// incumbent, propose x + step·u for a random unit direction u; if that does
// not improve, propose x − step·u; after 2^min(9,d) consecutive failed
// directions the step shrinks, and when it falls below its lower bound the
// search has converged and restarts from a random point near the incumbent.
type flow2 struct {
	dim       int
	rng       *rand.Rand
	best      []float64 // incumbent
	bestLoss  float64
	step      float64
	stepLower float64
	dirs      int // failed directions since the last improvement
	maxDirs   int
	pending   []float64 // the direction to try negated, if the positive one failed
	converged int       // number of convergences so far
}

const (
	stepSize    = 0.1
	stepShrink  = 0.5
	stepLowerBd = 0.0025
)

func newFlow2(init []float64, rng *rand.Rand) *flow2 {
	d := len(init)
	f := &flow2{dim: d, rng: rng, best: append([]float64(nil), init...), bestLoss: math.Inf(1)}
	f.step = stepSize * math.Sqrt(float64(max(d, 1)))
	f.stepLower = stepLowerBd * math.Sqrt(float64(max(d, 1)))
	f.maxDirs = 1 << min(9, d)
	return f
}

// propose returns the next point to evaluate.
func (f *flow2) propose() []float64 {
	if f.dim == 0 {
		return nil
	}
	if f.pending != nil {
		x := f.pending
		f.pending = nil
		return x
	}
	u := make([]float64, f.dim)
	norm := 0.0
	for i := range u {
		u[i] = f.rng.NormFloat64()
		norm += u[i] * u[i]
	}
	norm = math.Sqrt(norm)
	plus := make([]float64, f.dim)
	minus := make([]float64, f.dim)
	for i := range u {
		plus[i] = clamp01(f.best[i] + f.step*u[i]/norm)
		minus[i] = clamp01(f.best[i] - f.step*u[i]/norm)
	}
	f.pending = minus
	return plus
}

// report feeds back the loss of a proposed point; it returns true when the
// point became the new incumbent.
func (f *flow2) report(x []float64, loss float64) bool {
	if loss < f.bestLoss {
		improvedFromStart := !math.IsInf(f.bestLoss, 1)
		f.best = append(f.best[:0], x...)
		f.bestLoss = loss
		f.dirs = 0
		f.pending = nil // a new incumbent: start a fresh direction
		_ = improvedFromStart
		return true
	}
	if f.pending == nil {
		// Both directions of this proposal failed.
		f.dirs++
		if f.dirs >= f.maxDirs {
			f.dirs = 0
			f.step *= stepShrink
			if f.step < f.stepLower {
				f.restart()
			}
		}
	}
	return false
}

// restart jumps to a random point near the incumbent with a fresh step after
// convergence, as FLAML's search-thread restarts do.
func (f *flow2) restart() {
	f.converged++
	for i := range f.best {
		f.best[i] = clamp01(f.best[i] + 0.25*f.rng.NormFloat64())
	}
	f.bestLoss = math.Inf(1)
	f.step = stepSize * math.Sqrt(float64(max(f.dim, 1)))
	f.pending = nil
}

func clamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 1)) }
