package automl

import (
	"math/rand/v2"
	"sort"
	"strconv"

	"github.com/gyre-ml/gyre/internal/frame"
)

// fold is one train/validation split of the evaluation.
type fold struct {
	// train rows, shuffled (a prefix is a uniform sample).
	train []int
	// valid rows of X (or of the user's validation set).
	valid []int
	// validPos are the positions of the valid rows in the out-of-fold
	// prediction vector.
	validPos []int
}

// evalSplit is the evaluation scheme shared by every trial.
type evalSplit struct {
	method  string // "cv", "holdout" or "valid"
	repeats int    // cross-validation repeats (1 otherwise)
	folds   []fold
	rows    []int // rows whose targets the out-of-fold vector holds, in order
	yv      []float64
	cache   map[string]*frame.Matrix
}

func (e *evalSplit) trainRows() int {
	if e.method == "cv" {
		return len(e.folds[0].train)
	}
	return len(e.folds[0].train)
}

func (e *evalSplit) validRows() []int { return e.rows }

func (s *searcher) makeSplit() evalSplit {
	n := s.n
	rng := rand.New(rand.NewPCG(s.o.Seed, 0x5eed))
	method := s.o.Eval
	if s.p.Valid != nil {
		method = "valid"
	}
	if method == "auto" {
		// Cross-validation costs k fits per trial: it is chosen when a
		// trial is cheap next to the budget (data cells × classes − 1 up to
		// 5·10⁴ per second of budget, so a typical trial takes a small
		// fraction of it), else a holdout buys several times more trials.
		// Multiclass models grow one tree (or coefficient vector) per class,
		// so their cost, and the case for a holdout, grows with the classes.
		cells := float64(n) * float64(s.states[0].data.X.Cols) * float64(max(1, len(s.p.Classes)-1))
		limit := 2e6
		if !s.deterministic() {
			limit = s.budget.Seconds() * 5e4
		}
		method = "holdout"
		if n <= 100000 && cells <= limit || n <= 5000 {
			method = "cv"
		}
	}
	e := evalSplit{method: method, repeats: 1, cache: map[string]*frame.Matrix{}}
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	switch method {
	case "valid":
		rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		v := s.p.Valid[s.states[0].space.Family]
		e.rows = make([]int, v.N())
		pos := make([]int, v.N())
		for i := range e.rows {
			e.rows[i] = v.Row(i)
			pos[i] = i
		}
		e.folds = []fold{{train: all, valid: e.rows, validPos: pos}}
		e.yv = make([]float64, v.N())
		for i := range e.yv {
			e.yv[i] = v.Target(i)
		}
		return e
	case "cv":
		e.repeats = s.o.Repeats
		if e.repeats <= 0 {
			// Small data: the validation estimate is noisy and fits are
			// cheap, so repeat cross-validation with fresh folds; the
			// averaged out-of-fold predictions steady model selection and
			// the ensemble's weights.
			cells := float64(n) * float64(s.states[0].data.X.Cols) * float64(max(1, len(s.p.Classes)-1))
			e.repeats = 1
			if n <= 2000 && cells*3 <= 2e6 {
				e.repeats = 3
			}
		}
		e.rows = all
		for range e.repeats {
			groups := s.stratifiedFolds(rng, s.o.Folds)
			for f := range groups {
				var tr []int
				for g, rows := range groups {
					if g != f {
						tr = append(tr, rows...)
					}
				}
				sort.Ints(tr)
				rng.Shuffle(len(tr), func(i, j int) { tr[i], tr[j] = tr[j], tr[i] })
				va := append([]int(nil), groups[f]...)
				sort.Ints(va)
				e.folds = append(e.folds, fold{train: tr, valid: va, validPos: va})
			}
		}
	default: // holdout
		groups := s.stratifiedFolds(rng, int(1/s.o.HoldoutFraction+0.5))
		va := append([]int(nil), groups[0]...)
		sort.Ints(va)
		var tr []int
		for _, g := range groups[1:] {
			tr = append(tr, g...)
		}
		sort.Ints(tr)
		rng.Shuffle(len(tr), func(i, j int) { tr[i], tr[j] = tr[j], tr[i] })
		pos := make([]int, len(va))
		for i := range pos {
			pos[i] = i
		}
		e.rows = va
		e.folds = []fold{{train: tr, valid: va, validPos: pos}}
	}
	e.yv = make([]float64, len(e.rows))
	d := s.states[0].data
	for i, r := range e.rows {
		e.yv[i] = d.Target(r)
	}
	return e
}

// stratifiedFolds deals rows into k groups, stratified by class for
// classification (by sorted target for regression), seeded.
func (s *searcher) stratifiedFolds(rng *rand.Rand, k int) [][]int {
	d := s.states[0].data
	idx := make([]int, s.n)
	for i := range idx {
		idx[i] = i
	}
	rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	// Stable sort by target groups equal classes (classification) or
	// neighbouring values (regression); dealing round-robin then stratifies.
	sort.SliceStable(idx, func(a, b int) bool { return d.Target(idx[a]) < d.Target(idx[b]) })
	groups := make([][]int, k)
	for i, r := range idx {
		groups[i%k] = append(groups[i%k], r)
	}
	return groups
}

// validX returns the validation matrix of fold f for st's family, cached.
func (e *evalSplit) validX(st *learnerState, f int) *frame.Matrix {
	if e.method == "valid" {
		v := st.valid
		if v.Rows == nil {
			return v.X
		}
	}
	key := st.space.Family + "/" + strconv.Itoa(f)
	if m, ok := e.cache[key]; ok {
		return m
	}
	src := st.data.X
	if e.method == "valid" {
		src = st.valid.X
	}
	rows := e.folds[f].valid
	abs := make([]int, len(rows))
	d := st.data
	if e.method == "valid" {
		d = st.valid
	}
	for i, r := range rows {
		if e.method == "valid" {
			abs[i] = r
		} else {
			abs[i] = d.Row(r)
		}
	}
	m := src.Take(abs)
	e.cache[key] = m
	return m
}

// yValid returns the targets of the out-of-fold vector.
func (e *evalSplit) yValid(*searcher) []float64 { return e.yv }

func sortStrings(s []string) { sort.Strings(s) }
