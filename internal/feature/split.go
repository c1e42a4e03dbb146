package feature

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/gyre-ml/gyre/internal/frame"
)

// newRand returns the seeded generator every random choice in the package
// uses: PCG from math/rand/v2.
func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// SplitOptions configures Split. At most one of Strata, Groups and Times may
// be set.
type SplitOptions struct {
	// Train, Valid and Test are the fractions of rows in each part; they must
	// be non-negative and sum to 1. All zero means 0.7/0.15/0.15.
	Train, Valid, Test float64
	// Strata, when set, holds a stratum (class) per row: each part keeps the
	// strata's proportions.
	Strata []int
	// Groups, when set, holds a group per row: all rows of a group land in
	// the same part (sizes are then approximate).
	Groups []int
	// Times, when set, holds a time per row: the earliest rows train, the
	// next validate and the latest test. No shuffling; NaN is an error.
	Times []float64
	// Seed fixes the shuffle.
	Seed uint64
}

// Partition holds row indices of each part, each sorted ascending.
type Partition struct {
	Train []int `json:"train"`
	Valid []int `json:"valid"`
	Test  []int `json:"test"`
}

// Split partitions n rows into train, validation and test parts.
func Split(n int, opt SplitOptions) (Partition, error) {
	if n < 0 {
		return Partition{}, fmt.Errorf("split: negative row count %d", n)
	}
	if opt.Train == 0 && opt.Valid == 0 && opt.Test == 0 {
		opt.Train, opt.Valid, opt.Test = 0.7, 0.15, 0.15
	}
	if opt.Train < 0 || opt.Valid < 0 || opt.Test < 0 || math.Abs(opt.Train+opt.Valid+opt.Test-1) > 1e-6 {
		return Partition{}, fmt.Errorf("split: fractions train=%g valid=%g test=%g must be non-negative and sum to 1", opt.Train, opt.Valid, opt.Test)
	}
	set := 0
	for _, l := range []int{len(opt.Strata), len(opt.Groups), len(opt.Times)} {
		if l > 0 {
			set++
			if l != n {
				return Partition{}, fmt.Errorf("split: %d strata/groups/times for %d rows", l, n)
			}
		}
	}
	if set > 1 {
		return Partition{}, fmt.Errorf("split: choose one of stratified, group or time splitting")
	}
	r := newRand(opt.Seed)
	var p Partition
	switch {
	case len(opt.Times) > 0:
		rows := seq(n)
		for i, t := range opt.Times {
			if math.IsNaN(t) {
				return Partition{}, fmt.Errorf("split: time is missing in row %d; a time split needs every time", i+1)
			}
		}
		sort.SliceStable(rows, func(a, b int) bool { return opt.Times[rows[a]] < opt.Times[rows[b]] })
		nt, nv := sizes(n, opt)
		p = Partition{Train: rows[:nt], Valid: rows[nt : nt+nv], Test: rows[nt+nv:]}
	case len(opt.Groups) > 0:
		members := map[int][]int{}
		var keys []int
		for i, g := range opt.Groups {
			if _, ok := members[g]; !ok {
				keys = append(keys, g)
			}
			members[g] = append(members[g], i)
		}
		sort.Ints(keys)
		r.Shuffle(len(keys), func(a, b int) { keys[a], keys[b] = keys[b], keys[a] })
		nt, nv := sizes(n, opt)
		for _, g := range keys {
			switch {
			case len(p.Train) < nt:
				p.Train = append(p.Train, members[g]...)
			case len(p.Valid) < nv:
				p.Valid = append(p.Valid, members[g]...)
			default:
				p.Test = append(p.Test, members[g]...)
			}
		}
	case len(opt.Strata) > 0:
		for _, rows := range strata(opt.Strata) {
			r.Shuffle(len(rows), func(a, b int) { rows[a], rows[b] = rows[b], rows[a] })
			nt, nv := sizes(len(rows), opt)
			p.Train = append(p.Train, rows[:nt]...)
			p.Valid = append(p.Valid, rows[nt:nt+nv]...)
			p.Test = append(p.Test, rows[nt+nv:]...)
		}
	default:
		rows := r.Perm(n)
		nt, nv := sizes(n, opt)
		p = Partition{Train: rows[:nt], Valid: rows[nt : nt+nv], Test: rows[nt+nv:]}
	}
	for _, part := range [][]int{p.Train, p.Valid, p.Test} {
		sort.Ints(part)
	}
	if p.Train == nil {
		p.Train = []int{}
	}
	if p.Valid == nil {
		p.Valid = []int{}
	}
	if p.Test == nil {
		p.Test = []int{}
	}
	return p, nil
}

// sizes returns the train and validation counts for n rows; test takes the
// rest. Test and validation are rounded, train absorbs the remainder.
func sizes(n int, opt SplitOptions) (nt, nv int) {
	ntest := int(math.Round(float64(n) * opt.Test))
	nv = int(math.Round(float64(n) * opt.Valid))
	if ntest+nv > n {
		nv = n - ntest
	}
	return n - ntest - nv, nv
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// strata groups row indices by stratum, strata in ascending order.
func strata(labels []int) [][]int {
	by := map[int][]int{}
	for i, l := range labels {
		by[l] = append(by[l], i)
	}
	keys := make([]int, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	out := make([][]int, len(keys))
	for i, k := range keys {
		out[i] = by[k]
	}
	return out
}

// Fold is one cross-validation fold: rows to train on and rows to validate
// on, each sorted ascending.
type Fold struct {
	Train []int `json:"train"`
	Valid []int `json:"valid"`
}

// KFold shuffles n rows and deals them into k folds of near-equal size.
func KFold(n, k int, seed uint64) ([]Fold, error) {
	if err := checkK(n, k); err != nil {
		return nil, fmt.Errorf("k-fold: %w", err)
	}
	assign := make([]int, n)
	for pos, row := range newRand(seed).Perm(n) {
		assign[row] = pos * k / n
	}
	return folds(assign, k), nil
}

// StratifiedKFold deals each stratum's rows round-robin into k folds after a
// seeded shuffle, so every fold keeps the class proportions.
func StratifiedKFold(strataOf []int, k int, seed uint64) ([]Fold, error) {
	n := len(strataOf)
	if err := checkK(n, k); err != nil {
		return nil, fmt.Errorf("stratified k-fold: %w", err)
	}
	r := newRand(seed)
	assign := make([]int, n)
	next := 0
	for _, rows := range strata(strataOf) {
		r.Shuffle(len(rows), func(a, b int) { rows[a], rows[b] = rows[b], rows[a] })
		for _, row := range rows {
			assign[row] = next % k
			next++
		}
	}
	return folds(assign, k), nil
}

// GroupKFold puts every row of a group in the same fold: groups are shuffled
// and each goes to the currently smallest fold.
func GroupKFold(groups []int, k int, seed uint64) ([]Fold, error) {
	n := len(groups)
	if err := checkK(n, k); err != nil {
		return nil, fmt.Errorf("group k-fold: %w", err)
	}
	members := strata(groups)
	if len(members) < k {
		return nil, fmt.Errorf("group k-fold: %d groups for %d folds; need at least one group per fold", len(members), k)
	}
	r := newRand(seed)
	r.Shuffle(len(members), func(a, b int) { members[a], members[b] = members[b], members[a] })
	size := make([]int, k)
	assign := make([]int, n)
	for _, rows := range members {
		best := 0
		for f := 1; f < k; f++ {
			if size[f] < size[best] {
				best = f
			}
		}
		for _, row := range rows {
			assign[row] = best
		}
		size[best] += len(rows)
	}
	return folds(assign, k), nil
}

// RepeatedKFold runs KFold repeats times with different shuffles (seeds
// seed, seed+1, ...) and returns the repeats×k folds in order.
func RepeatedKFold(n, k, repeats int, seed uint64) ([]Fold, error) {
	if repeats < 1 {
		return nil, fmt.Errorf("repeated k-fold: repeats = %d, want at least 1", repeats)
	}
	var out []Fold
	for rep := 0; rep < repeats; rep++ {
		fs, err := KFold(n, k, seed+uint64(rep))
		if err != nil {
			return nil, fmt.Errorf("repeated k-fold: %w", err)
		}
		out = append(out, fs...)
	}
	return out, nil
}

func checkK(n, k int) error {
	if k < 2 {
		return fmt.Errorf("k = %d, want at least 2", k)
	}
	if n < k {
		return fmt.Errorf("%d rows for %d folds; need at least one row per fold", n, k)
	}
	return nil
}

func folds(assign []int, k int) []Fold {
	out := make([]Fold, k)
	for row, f := range assign {
		for g := range out {
			if g == f {
				out[g].Valid = append(out[g].Valid, row)
			} else {
				out[g].Train = append(out[g].Train, row)
			}
		}
	}
	return out
}

// Codes maps any column to integer codes for Strata or Groups: equal values
// get equal codes (in order of first appearance), and missing values share
// one code of their own.
func Codes(c frame.Column) []int {
	vals, missing := stringsOf(c)
	idx := map[string]int{}
	out := make([]int, len(vals))
	miss := -1
	for i, v := range vals {
		if missing[i] {
			if miss < 0 {
				miss = len(idx)
				idx["\x00missing"] = miss
			}
			out[i] = miss
			continue
		}
		code, ok := idx[v]
		if !ok {
			code = len(idx)
			idx[v] = code
		}
		out[i] = code
	}
	return out
}
