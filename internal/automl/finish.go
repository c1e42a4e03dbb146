package automl

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/parallel"
)

// ensembleCandidates caps how many of the best trials enter ensemble
// selection; ensemblePerLearner of them are reserved for each learner.
const (
	ensembleCandidates = 20
	ensemblePerLearner = 5
)

// ensembleRounds is the most greedy selection rounds; selection also stops
// after ensemblePatience rounds without improvement.
const (
	// ensembleRetries bounds the reruns of selection without the costliest
	// member when the ensemble's refit would not fit in the time left.
	ensembleRetries       = 8
	ensembleRounds        = 40
	ensemblePatience      = 8
	ensembleTypicalRounds = 15
)

// ensembleCost estimates the time ensemble selection takes: one loss
// evaluation per candidate per round, for the selection on all rows and for
// crossCheck's on each evaluation group's complement, and the spread-aware
// selection's scoring of its pool on every group and complement.
func (s *searcher) ensembleCost() time.Duration {
	n := 0
	for _, t := range s.results {
		if t.oof != nil {
			n++
		}
	}
	n = min(n, ensembleCandidates)
	if s.lossCount == 0 {
		return 0
	}
	// Selection usually stops by patience well before ensembleRounds.
	g := len(s.split.groups(s.o.Folds))
	evals := n*ensembleTypicalRounds*(1+g) + min(len(s.results), selectionCandidates)*(1+2*g)
	return time.Duration(evals) * (s.lossTotal / time.Duration(s.lossCount))
}

// finish selects the final model (single or ensemble) and refits it on all
// training rows within what is left of the budget.
func (s *searcher) finish(ctx context.Context) (*Result, error) {
	// The single model: the lowest loss plus a fraction of its standard
	// error over the evaluation groups (pickSingle), among the trials whose
	// refit fits in the time left; the lowest mean loss when none is
	// scorable on the groups.
	pool := s.selectionPool()
	single := s.best
	if t := s.pickSingle(pool, nil, nil, func(t *Trial) bool { return s.refitFits([]Member{memberOf(t, 1)}) }); t != nil {
		single = t
	}
	res := &Result{Trials: s.results, Best: *single, Eval: s.split.method, ValidLoss: single.Loss}
	if s.split.method == "cv" {
		res.Folds, res.Repeats = s.o.Folds, s.split.repeats
	}
	members := []Member{memberOf(single, 1)}
	if s.o.Ensemble {
		// When refitting the selected ensemble would not fit in the time
		// left, the costliest member's configuration leaves the candidates
		// and selection reruns: a cheaper ensemble that still beats the
		// best single model is better than none.
		excluded := map[string]bool{}
		for range ensembleRetries {
			ms, loss, ok := s.ensemble(ctx, excluded, single, pool, res)
			if !ok {
				break
			}
			if s.refitFits(ms) {
				members, res.ValidLoss, res.Ensembled = ms, loss, true
				break
			}
			worst := 0
			cost := func(m Member) float64 { return s.refitCost(m) + s.memberOutputCost(m) }
			for i := range ms {
				if cost(ms[i]) > cost(ms[worst]) {
					worst = i
				}
			}
			excluded[ms[worst].Learner+"|"+ms[worst].Config.key()] = true
		}
	}
	res.Baselines = s.baselines
	res.GroupLosses = s.groupLosses(s.membersOOF(members))
	// Out-of-fold predictions and fitted models are search internals: drop
	// them so the result does not pin their memory.
	defer func() {
		for i := range res.Trials {
			res.Trials[i].oof, res.Trials[i].model = nil, nil
		}
	}()
	refitCtx := ctx
	cancel := func() {}
	if !s.deterministic() {
		refitCtx, cancel = context.WithDeadline(ctx, s.start.Add(s.budget+s.budget/25))
	}
	defer cancel()
	if err := s.refit(refitCtx, members); err != nil {
		if !res.Ensembled {
			return s.fallback(ctx, res, err)
		}
		// Not enough time for the ensemble: refit the single model.
		members = []Member{memberOf(single, 1)}
		res.Ensembled, res.ValidLoss = false, single.Loss
		if err := s.refit(refitCtx, members); err != nil {
			return s.fallback(ctx, res, err)
		}
	}
	res.Members = members
	res.Refitted = true
	res.Bagged = true
	for _, m := range members {
		res.Bagged = res.Bagged && m.Model.Kind() == learn.BagKind
	}
	s.calibrate(res)
	res.Elapsed = s.elapsed()
	return res, nil
}

// calibrate fits a temperature for a classifier's final model on its
// out-of-fold (or validation) probabilities and keeps it when it passes
// crossCalibrate's out-of-fold check and does not worsen the selection
// metric. The log losses it reports are those out-of-fold figures.
func (s *searcher) calibrate(res *Result) {
	// With repeated cross-validation the out-of-fold predictions average
	// several models per row, smoother than the refitted model's: a
	// temperature fitted to them would over-sharpen it (calibrateTrial
	// handles repeats per trial instead).
	if !s.p.Task.Classification() || !s.o.Calibrate || s.split.repeats > 1 {
		return
	}
	k := len(s.p.Classes)
	oof := s.membersOOF(res.Members)
	if oof == nil {
		return
	}
	y := s.split.yValid(s)
	c, cross, before, after := crossCalibrate(y, oof, k, len(y), false)
	if cross == nil {
		return
	}
	// The selection metric is checked on the probabilities the final model
	// will give (one temperature keeps every row's class ranking, which the
	// cross-fitted groups' several temperatures need not), and reported
	// from the cross-fitted ones where those score worse (a probability
	// metric, where the in-sample fit flatters), never better.
	scaled := slices.Clone(oof)
	learn.ScaleProba(scaled, k, c.t)
	loss := s.p.Loss(y, predFromOOF(scaled, s.p.Task, k), scaled, k)
	if loss > res.ValidLoss+1e-12 {
		return
	}
	crossLoss := s.p.Loss(y, predFromOOF(cross, s.p.Task, k), cross, k)
	res.Temperature, res.ValidLoss = c.t, max(loss, min(crossLoss, res.ValidLoss))
	res.UncalibratedLogLoss, res.CalibratedLogLoss = before, after
}

// membersOOF returns the members' weighted out-of-fold predictions, or nil
// when a member's are not at hand.
func (s *searcher) membersOOF(ms []Member) []float64 {
	if len(ms) == 1 {
		// A single model's trial may have been scored on a sample.
		for i := range s.results {
			t := &s.results[i]
			if t.oof != nil && t.Learner == ms[0].Learner && t.Config.key() == ms[0].Config.key() {
				return t.oof
			}
		}
	}
	full := s.split.trainRows()
	var out []float64
	for _, m := range ms {
		var oof []float64
		for i := range s.results {
			t := &s.results[i]
			if t.oof != nil && t.Sample == full && t.Learner == m.Learner && t.Config.key() == m.Config.key() {
				oof = t.oof
				break
			}
		}
		if oof == nil {
			return nil
		}
		if out == nil {
			out = make([]float64, len(oof))
		}
		for i, v := range oof {
			out[i] += m.Weight * v
		}
	}
	return out
}

// memberOf returns trial t as a member of weight w (no model yet).
func memberOf(t *Trial, w float64) Member {
	return Member{Learner: t.Learner, Family: t.Family, Config: t.Config, Weight: w, Temperature: t.Temperature, Smoothing: t.Smoothing}
}

// refitFits reports whether refitting the members on all rows is expected
// to finish within the budget's 4% grace (always true in trial-count mode).
func (s *searcher) refitFits(ms []Member) bool {
	if s.deterministic() {
		return true
	}
	costs := make([]float64, len(ms))
	var ts []*Trial
	for i, m := range ms {
		costs[i] = s.refitCost(m)
		if t := s.trialOf(m); t != nil {
			ts = append(ts, t)
		}
	}
	est := s.makespan(costs)
	output := s.outputCost(ts...)
	left := (s.budget + s.budget/25).Seconds() - s.elapsed().Seconds()
	return est*1.2+output <= left
}

// trialOf returns the successful trial a member was made from, or nil.
func (s *searcher) trialOf(m Member) *Trial {
	for i := range s.results {
		t := &s.results[i]
		if t.Learner == m.Learner && t.Err == "" && t.Config.key() == m.Config.key() {
			return t
		}
	}
	return nil
}

// memberOutputCost is outputCost for a member's trial.
func (s *searcher) memberOutputCost(m Member) float64 {
	if t := s.trialOf(m); t != nil {
		return s.outputCost(t)
	}
	return 0
}

// refitCost estimates the seconds to refit a member on all rows from its
// trial's measured fit time.
func (s *searcher) refitCost(m Member) float64 {
	if t := s.trialOf(m); t != nil {
		return s.trialRefitCost(t)
	}
	return math.Inf(1)
}

// makespan estimates the wall time of fits with the given costs run side by
// side on the workers: the larger of the even share and the longest fit.
func (s *searcher) makespan(costs []float64) float64 {
	total, longest := 0.0, 0.0
	for _, c := range costs {
		total += c
		longest = math.Max(longest, c)
	}
	return math.Max(total/float64(max(1, min(s.workers(), len(costs)))), longest)
}

// trialRefitCost estimates the seconds to refit a trial's configuration on
// all rows: its measured time per fit, scaled from its training rows to all.
func (s *searcher) trialRefitCost(t *Trial) float64 {
	perFit := t.FitTime.Seconds() / float64(len(s.split.folds))
	if s.bagging() {
		return perFit * float64(s.bagSize()) // the fold models, fitted again
	}
	return perFit * float64(s.n) / math.Max(float64(t.Sample), 1)
}

// soloRefitCost estimates the seconds to refit a trial's configuration on
// all rows on its own, with the learner's own parallelism: when its
// cross-validation folds ran side by side single-threaded, a threaded
// learner is expected to run about workers×0.7 times faster than they did.
func (s *searcher) soloRefitCost(t *Trial) float64 {
	c := s.trialRefitCost(t)
	w := s.workers()
	if len(s.split.folds) > 1 && w > 1 {
		for _, st := range s.states {
			if st.space.Learner == t.Learner && st.threaded {
				return c / (0.7 * float64(w))
			}
		}
	}
	return c
}

// fallback keeps the best trial's model fitted on its training part (the
// holdout's training rows, or the last cross-validation fold's) when the
// refit on all rows could not finish in time.
//
// When the trials' models stayed where they ran (on an engine's workers)
// there is none to keep: the best is then refitted past the budget, since
// an overrun is better than a search lost, unless the caller cancelled.
func (s *searcher) fallback(ctx context.Context, res *Result, refitErr error) (*Result, error) {
	if s.best.model == nil {
		if !errors.Is(refitErr, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.Canceled) {
			return nil, fmt.Errorf("automl: refit best model: %w", refitErr)
		}
		rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		defer cancel()
		stop := context.AfterFunc(ctx, func() {
			if errors.Is(ctx.Err(), context.Canceled) {
				cancel()
			}
		})
		defer stop()
		members := []Member{memberOf(s.best, 1)}
		if err := s.refit(rctx, members); err != nil {
			return nil, fmt.Errorf("automl: refit best model past the budget: %w", err)
		}
		res.Members, res.Refitted = members, true
		res.Best, res.Ensembled, res.ValidLoss = *s.best, false, s.best.Loss
		s.calibrate(res)
		res.Elapsed = s.elapsed()
		return res, nil
	}
	m := memberOf(s.best, 1)
	m.Model = s.best.model
	res.Members = []Member{m}
	res.Ensembled, res.ValidLoss = false, s.best.Loss
	s.calibrate(res)
	res.Elapsed = s.elapsed()
	return res, nil
}

// ensemble runs greedy selection over the best full-sample trials and
// returns the members when the ensemble beats the single model: on the
// out-of-fold rows it was fitted to, and in crossCheck's cross-fitted
// comparison, whose losses it records in res.
func (s *searcher) ensemble(ctx context.Context, excluded map[string]bool, single *Trial, pool []scoredTrial, res *Result) ([]Member, float64, bool) {
	full := s.split.trainRows()
	var cands []*Trial
	seen := map[string]bool{}
	for i := range s.results {
		t := &s.results[i]
		if t.oof == nil || t.Sample != full || math.IsInf(t.Loss, 0) {
			continue
		}
		key := t.Learner + "|" + t.Config.key()
		if seen[key] || excluded[key] {
			continue
		}
		seen[key] = true
		cands = append(cands, t)
	}
	if len(cands) < 2 {
		return nil, 0, false
	}
	// The best few of each learner, for diversity (the best trials of one
	// learner are often near copies), then the best overall, up to the cap.
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].Loss < cands[j].Loss })
	perLearner := map[string]int{}
	var picked, rest []*Trial
	for _, t := range cands {
		if perLearner[t.Learner] < ensemblePerLearner {
			perLearner[t.Learner]++
			picked = append(picked, t)
		} else {
			rest = append(rest, t)
		}
	}
	cands = append(picked, rest...)
	if len(cands) > ensembleCandidates {
		cands = cands[:ensembleCandidates]
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].Loss < cands[j].Loss })
	preds := make([][]float64, len(cands))
	for i, t := range cands {
		preds[i] = t.oof
	}
	k := len(s.p.Classes)
	y := s.split.yValid(s)
	var deadline time.Time
	if !s.deterministic() {
		// Selection may use the time reserved for it, and never the refit's.
		deadline = s.start.Add(s.budget - time.Duration(s.refitReserveSingle()*float64(time.Second)))
	}
	w, loss := caruana(ctx, preds, func(avg []float64) float64 {
		return s.p.Loss(y, predFromOOF(avg, s.p.Task, k), avg, k)
	}, ensembleRounds, deadline, s.o.Now)
	if !(loss < single.Loss-1e-12) {
		return nil, 0, false
	}
	// The in-sample gain is partly the weights' fit to these rows: keep the
	// ensemble only when choosing it beats choosing a single model on rows
	// neither choice saw.
	if ens, one, se, ok := s.crossCheck(ctx, cands, pool, deadline); ok {
		res.CrossEnsembleLoss, res.CrossSingleLoss, res.CrossSE = ens, one, se
		if !(ens < one) {
			return nil, 0, false
		}
	}
	var ms []Member
	for i, t := range cands {
		if w[i] > 0 {
			ms = append(ms, memberOf(t, w[i]))
		}
	}
	if len(ms) < 2 {
		return nil, 0, false
	}
	return ms, loss, true
}

// refit fits every member on all training rows. An ensemble's members are
// fitted side by side, one single-threaded fit per core; a single model
// keeps the learner's own parallelism.
func (s *searcher) refit(ctx context.Context, ms []Member) error {
	workers := min(s.workers(), len(ms))
	errs := make([]error, len(ms))
	fitOne := func(i int) {
		var st *learnerState
		for _, c := range s.states {
			if c.space.Learner == ms[i].Learner {
				st = c
			}
		}
		if s.bagging() {
			// The trial's fold models, fitted again on the same rows,
			// averaged, are the final model (bagging).
			bag, err := s.fitBag(ctx, st, ms[i].Config, max(1, s.workers()/len(ms)))
			var m learn.Model
			if err == nil {
				m, err = learn.NewBag(bag)
			}
			if err != nil {
				errs[i] = fmt.Errorf("bag %s: %w", ms[i].Learner, err)
				return
			}
			ms[i].Model = m
			return
		}
		l, err := s.learner(st, ms[i].Config)
		if err == nil && workers > 1 {
			err = setThreads(l, 1)
		}
		if err != nil {
			errs[i] = err
			return
		}
		// A user-given validation set stays held out of the refit, so its
		// score remains an honest estimate.
		m, err := l.Fit(ctx, st.data)
		if err != nil {
			errs[i] = fmt.Errorf("refit %s: %w", ms[i].Learner, err)
			return
		}
		ms[i].Model = m
	}
	parallel.For(len(ms), max(workers, 1), fitOne)
	return errors.Join(errs...)
}

// Leaderboard returns the finished trials sorted best first.
func (r *Result) Leaderboard() []Trial {
	out := make([]Trial, 0, len(r.Trials))
	for _, t := range r.Trials {
		if t.Err == "" {
			out = append(out, t)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Loss < out[j].Loss })
	return out
}
