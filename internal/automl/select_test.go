package automl

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/learn"
)

// selectionSearcher is a searcher over n regression rows in five
// cross-validation groups of n/5 (rows dealt round-robin), scored by mean
// squared error, holding trials with the given out-of-fold predictions.
func selectionSearcher(y []float64, oofs ...[]float64) *searcher {
	n := len(y)
	groups := make([][]int, 5)
	for i := range n {
		groups[i%5] = append(groups[i%5], i)
	}
	var folds []fold
	for _, g := range groups {
		folds = append(folds, fold{valid: g, validPos: g})
	}
	mse := func(y, pred, _ []float64, _ int) float64 {
		s := 0.0
		for i := range y {
			s += (pred[i] - y[i]) * (pred[i] - y[i])
		}
		return s / float64(len(y))
	}
	s := &searcher{p: Problem{Task: learn.Regression, Loss: mse}, o: Options{Folds: 5, Now: time.Now},
		split: evalSplit{method: "cv", repeats: 1, folds: folds, rows: allRows(n), yv: y}}
	for i, oof := range oofs {
		s.results = append(s.results, Trial{ID: i, Learner: "toy", Config: Config{"n": string(rune('a' + i))}, Loss: mse(y, oof, nil, 0), oof: oof})
	}
	return s
}

// TestSelectionPrefersSteadyTrial: a trial with the lower mean loss that
// misses one fold badly gives way to one of about the same mean loss that
// is equally good on every fold.
func TestSelectionPrefersSteadyTrial(t *testing.T) {
	n := 100
	y := make([]float64, n)
	swing, steady := make([]float64, n), make([]float64, n)
	for i := range y {
		y[i] = float64(i % 7)
		// swing: exact except on fold 0, where every row is off by 2.2
		// (mean squared error 4.84/5 = 0.968); steady: off by 1 everywhere.
		steady[i] = y[i] + 1
		swing[i] = y[i]
		if i%5 == 0 {
			swing[i] = y[i] + 2.2
		}
	}
	s := selectionSearcher(y, swing, steady)
	if !(s.results[0].Loss < s.results[1].Loss) {
		t.Fatalf("test setup: swing %v should have the lower mean loss than steady %v", s.results[0].Loss, s.results[1].Loss)
	}
	pool := s.selectionPool()
	if got := s.pickSingle(pool, nil, nil, nil); got != &s.results[1] {
		t.Errorf("picked trial %d (loss %v), want the steady trial 1", got.ID, got.Loss)
	}
	// The filter leaves out trials that may not be chosen (a refit that
	// would not fit in the time left).
	if got := s.pickSingle(pool, nil, nil, func(t *Trial) bool { return t.ID != 0 }); got != &s.results[1] {
		t.Errorf("with trial 0 filtered out picked %d", got.ID)
	}
}

// TestCrossCheck: averaging two models with independent errors halves
// their variance, which the cross-fitted check confirms; an ensemble of a
// model with near copies of itself gains nothing the check can see.
func TestCrossCheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 200
	y := make([]float64, n)
	a, b := make([]float64, n), make([]float64, n)
	for i := range y {
		y[i] = rng.NormFloat64()
		a[i] = y[i] + rng.NormFloat64()
		b[i] = y[i] + rng.NormFloat64()
	}
	s := selectionSearcher(y, a, b)
	cands := []*Trial{&s.results[0], &s.results[1]}
	ens, single, se, ok := s.crossCheck(context.Background(), cands, s.selectionPool(), time.Time{})
	if !ok || !(ens < 0.75*single) {
		t.Errorf("independent errors: cross-fitted ensemble %v vs single %v (ok %v), want about half", ens, single, ok)
	}
	// The gain is far beyond the spread of its per-group values.
	if !(se > 0 && single-ens > 3*se) {
		t.Errorf("independent errors: gain %v, its standard error %v: want a positive SE well below the gain", single-ens, se)
	}

	// Near copies: the in-sample ensemble may edge out the best single
	// model by fitting noise; cross-fitted, it must not be clearly better.
	c := make([]float64, n)
	for i := range c {
		c[i] = a[i] + 1e-3*rng.NormFloat64()
	}
	s = selectionSearcher(y, a, c)
	cands = []*Trial{&s.results[0], &s.results[1]}
	ens, single, _, ok = s.crossCheck(context.Background(), cands, s.selectionPool(), time.Time{})
	if !ok || ens < single*0.999 {
		t.Errorf("near copies: cross-fitted ensemble %v vs single %v (ok %v), want no real gain", ens, single, ok)
	}
	// An expired deadline skips the check.
	if _, _, _, ok := s.crossCheck(context.Background(), cands, s.selectionPool(), time.Now().Add(-time.Second)); ok {
		t.Error("crossCheck ran past its deadline")
	}
}

func TestPenalty(t *testing.T) {
	if p := penalty([]float64{1, math.NaN()}); p != 0 {
		t.Errorf("penalty of one finite loss %v, want 0", p)
	}
	// sd of {1, 3} is √2; SE √2/√2 = 1.
	if p := penalty([]float64{1, 3, math.Inf(1)}); math.Abs(p-selectionSE) > 1e-12 {
		t.Errorf("penalty %v, want %v", p, selectionSE)
	}
}
