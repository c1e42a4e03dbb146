package automl

import (
	"context"
	"math"
	"slices"
	"sort"
	"time"
)

// selectionSE is how many standard errors of a trial's losses on the
// evaluation groups (the first repeat's cross-validation folds, or groups of
// the holdout rows) are added to its loss when the final single model is
// chosen: of two trials with about the same mean loss, the one whose score
// swings less from fold to fold is kept. The mean alone rewards a
// configuration that fits most folds a little better and one fold far
// worse (an over-confident model on a 23-row fold of a 114-row data set);
// on the new data the final model meets, the swing is the risk. It is the
// "mean minus a fraction of the standard error of the fold scores" rule,
// written for losses.
const selectionSE = 0.5

// selectionCandidates caps the trials, best mean loss first, that the
// spread-aware selection and the cross-fitted ensemble check consider.
const selectionCandidates = 30

// scoredTrial is a trial with its losses on every evaluation group.
type scoredTrial struct {
	t      *Trial
	groups []float64 // loss on each evaluation group (NaN: not scorable)
}

// lossAt scores out-of-fold outputs on the positions rows of the
// out-of-fold vector (all of them when rows is nil); a loss that cannot be
// scored is +Inf.
func (s *searcher) lossAt(oof []float64, rows []int) float64 {
	k := len(s.p.Classes)
	y := s.split.yValid(s)
	if rows != nil {
		width := s.width()
		yg := make([]float64, len(rows))
		og := make([]float64, len(rows)*width)
		for i, pos := range rows {
			yg[i] = y[pos]
			copy(og[i*width:(i+1)*width], oof[pos*width:(pos+1)*width])
		}
		y, oof = yg, og
	}
	l := s.p.Loss(y, predFromOOF(oof, s.p.Task, k), oof, k)
	if math.IsNaN(l) || l >= inf {
		return math.Inf(1)
	}
	return l
}

// width is the number of outputs per row: classes for classifiers, 1 for
// regression.
func (s *searcher) width() int {
	if s.p.Task.Classification() {
		return len(s.p.Classes)
	}
	return 1
}

// selectionPool returns the trials the final single model is chosen from:
// the selectionCandidates best successful trials with out-of-fold
// predictions, each scored on every evaluation group.
func (s *searcher) selectionPool() []scoredTrial {
	var ts []*Trial
	for i := range s.results {
		t := &s.results[i]
		if t.oof != nil && t.Err == "" && !math.IsInf(t.Loss, 0) {
			ts = append(ts, t)
		}
	}
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Loss < ts[j].Loss })
	if len(ts) > selectionCandidates {
		ts = ts[:selectionCandidates]
	}
	groups := s.split.groups(s.o.Folds)
	out := make([]scoredTrial, len(ts))
	for i, t := range ts {
		out[i] = scoredTrial{t: t, groups: make([]float64, len(groups))}
		for g, rows := range groups {
			out[i].groups[g] = s.lossAt(t.oof, rows)
		}
	}
	return out
}

// penalty is selectionSE standard errors of the finite losses ls (0 with
// fewer than two).
func penalty(ls []float64) float64 {
	var v []float64
	for _, l := range ls {
		if !math.IsNaN(l) && !math.IsInf(l, 0) {
			v = append(v, l)
		}
	}
	if len(v) < 2 {
		return 0
	}
	mean := 0.0
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	ss := 0.0
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	sd := math.Sqrt(ss / float64(len(v)-1))
	return selectionSE * sd / math.Sqrt(float64(len(v)))
}

// pickSingle returns the trial of pool with the lowest loss plus
// selectionSE standard errors of its group losses, the loss taken on the
// out-of-fold positions rows (nil: all) and the spread on the groups whose
// indices are in use (nil: all). Ties keep the earlier trial (the lower
// mean loss). ok filters the pool (nil: every trial).
func (s *searcher) pickSingle(pool []scoredTrial, rows []int, use []int, ok func(*Trial) bool) *Trial {
	var best *Trial
	bestPen := math.Inf(1)
	for _, c := range pool {
		if ok != nil && !ok(c.t) {
			continue
		}
		loss := c.t.Loss
		ls := c.groups
		if rows != nil {
			loss = s.lossAt(c.t.oof, rows)
			ls = make([]float64, len(use))
			for i, g := range use {
				ls[i] = c.groups[g]
			}
		}
		if pen := loss + penalty(ls); pen < bestPen {
			best, bestPen = c.t, pen
		}
	}
	return best
}

// crossCheck estimates, without the optimism of choosing on the same rows,
// whether greedy ensemble selection over cands does better than picking a
// single trial from pool by pickSingle: for each evaluation group, both
// choices are made on the other groups' out-of-fold rows alone and applied
// to the group's rows, and the two cross-fitted prediction vectors are
// scored. The ensemble's in-sample loss always beats the best single
// trial's, its weights having been fitted to those very rows; on a data
// set of a hundred rows that gain is often noise. se is the standard error
// of the per-group difference of the two cross-fitted losses (0 with fewer
// than two groups scorable), to read the gain against. ok is false when
// the deadline came first (the check is then not made).
func (s *searcher) crossCheck(ctx context.Context, cands []*Trial, pool []scoredTrial, deadline time.Time) (ensLoss, singleLoss, se float64, ok bool) {
	groups := s.split.groups(s.o.Folds)
	if len(groups) < 2 {
		return 0, 0, 0, false
	}
	width := s.width()
	k := len(s.p.Classes)
	y := s.split.yValid(s)
	nOut := len(cands[0].oof)
	crossE := make([]float64, nOut)
	crossS := make([]float64, nOut)
	inGroup := make([]int, len(y))
	for g, rows := range groups {
		for _, pos := range rows {
			inGroup[pos] = g + 1
		}
	}
	for g, held := range groups {
		var rows []int
		for pos := range y {
			if inGroup[pos] != 0 && inGroup[pos] != g+1 {
				rows = append(rows, pos)
			}
		}
		var use []int
		for h := range groups {
			if h != g {
				use = append(use, h)
			}
		}
		single := s.pickSingle(pool, rows, use, nil)
		if single == nil {
			return 0, 0, 0, false
		}
		yr := make([]float64, len(rows))
		for i, pos := range rows {
			yr[i] = y[pos]
		}
		preds := make([][]float64, len(cands))
		for c, t := range cands {
			p := make([]float64, len(rows)*width)
			for i, pos := range rows {
				copy(p[i*width:(i+1)*width], t.oof[pos*width:(pos+1)*width])
			}
			preds[c] = p
		}
		w, _ := caruana(ctx, preds, func(avg []float64) float64 {
			return s.p.Loss(yr, predFromOOF(avg, s.p.Task, k), avg, k)
		}, ensembleRounds, deadline, s.o.Now)
		if ctx.Err() != nil || (!deadline.IsZero() && s.o.Now().After(deadline)) {
			return 0, 0, 0, false
		}
		for _, pos := range held {
			copy(crossS[pos*width:(pos+1)*width], single.oof[pos*width:(pos+1)*width])
			dst := crossE[pos*width : (pos+1)*width]
			for c, t := range cands {
				if w[c] == 0 {
					continue
				}
				for j := range dst {
					dst[j] += w[c] * t.oof[pos*width+j]
				}
			}
		}
	}
	// Rows in no group (none today: the groups cover the out-of-fold
	// vector) would score as zeros; leave them out.
	var all []int
	for pos := range y {
		if inGroup[pos] != 0 {
			all = append(all, pos)
		}
	}
	if len(all) == len(y) {
		all = nil
	}
	diffs := make([]float64, len(groups))
	for g, held := range groups {
		diffs[g] = s.lossAt(crossE, held) - s.lossAt(crossS, held)
	}
	// penalty is selectionSE standard errors; se is one.
	return s.lossAt(crossE, all), s.lossAt(crossS, all), penalty(diffs) / selectionSE, true
}

// poolHas reports whether t is in pool.
func poolHas(pool []scoredTrial, t *Trial) bool {
	return slices.ContainsFunc(pool, func(c scoredTrial) bool { return c.t == t })
}
