package automl

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
)

// ensembleCandidates caps how many of the best trials enter ensemble selection.
const ensembleCandidates = 20

// ensembleRounds is the number of greedy selection rounds.
const ensembleRounds = 40

// finish selects the final model (single or ensemble) and refits it on all
// training rows within what is left of the budget.
func (s *searcher) finish(ctx context.Context) (*Result, error) {
	res := &Result{Trials: s.results, Best: *s.best, Eval: s.split.method, ValidLoss: s.best.Loss}
	for i := range res.Trials {
		res.Trials[i].oof, res.Trials[i].model = nil, nil
	}
	members := []Member{{Learner: s.best.Learner, Family: s.best.Family, Config: s.best.Config, Weight: 1}}
	if s.o.Ensemble {
		if ms, loss, ok := s.ensemble(); ok {
			members, res.ValidLoss, res.Ensembled = ms, loss, true
		}
	}
	refitCtx := ctx
	cancel := func() {}
	if !s.deterministic() {
		refitCtx, cancel = context.WithDeadline(ctx, s.start.Add(s.o.Budget+s.o.Budget/25))
	}
	defer cancel()
	if err := s.refit(refitCtx, members); err != nil {
		if !res.Ensembled {
			return s.fallback(res, err)
		}
		// Not enough time for the ensemble: refit the best single model.
		members = []Member{{Learner: s.best.Learner, Family: s.best.Family, Config: s.best.Config, Weight: 1}}
		res.Ensembled, res.ValidLoss = false, s.best.Loss
		if err := s.refit(refitCtx, members); err != nil {
			return s.fallback(res, err)
		}
	}
	res.Members = members
	res.Refitted = true
	res.Elapsed = s.elapsed()
	return res, nil
}

// fallback keeps the best trial's model fitted on the training part when the
// refit on all rows could not finish in time.
func (s *searcher) fallback(res *Result, refitErr error) (*Result, error) {
	if s.best.model == nil {
		return nil, fmt.Errorf("automl: refit best model: %w", refitErr)
	}
	res.Members = []Member{{Learner: s.best.Learner, Family: s.best.Family, Config: s.best.Config, Weight: 1, Model: s.best.model}}
	res.Ensembled, res.ValidLoss = false, s.best.Loss
	res.Elapsed = s.elapsed()
	return res, nil
}

// ensemble runs greedy selection over the best full-sample trials and
// returns the members when the ensemble beats the best single model.
func (s *searcher) ensemble() ([]Member, float64, bool) {
	full := s.split.trainRows()
	var cands []*Trial
	seen := map[string]bool{}
	for i := range s.results {
		t := &s.results[i]
		if t.oof == nil || t.Sample != full || math.IsInf(t.Loss, 0) {
			continue
		}
		key := t.Learner + "|" + t.Config.key()
		if seen[key] {
			continue
		}
		seen[key] = true
		cands = append(cands, t)
	}
	if len(cands) < 2 {
		return nil, 0, false
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].Loss < cands[j].Loss })
	if len(cands) > ensembleCandidates {
		cands = cands[:ensembleCandidates]
	}
	preds := make([][]float64, len(cands))
	for i, t := range cands {
		preds[i] = t.oof
	}
	k := len(s.p.Classes)
	y := s.split.yValid(s)
	w, loss := caruana(preds, func(avg []float64) float64 {
		return s.p.Loss(y, predFromOOF(avg, s.p.Task, k), avg, k)
	}, ensembleRounds)
	if !(loss < s.best.Loss-1e-12) {
		return nil, 0, false
	}
	var ms []Member
	for i, t := range cands {
		if w[i] > 0 {
			ms = append(ms, Member{Learner: t.Learner, Family: t.Family, Config: t.Config, Weight: w[i]})
		}
	}
	if len(ms) < 2 {
		return nil, 0, false
	}
	return ms, loss, true
}

// refit fits every member on all training rows.
func (s *searcher) refit(ctx context.Context, ms []Member) error {
	for i := range ms {
		var st *learnerState
		for _, c := range s.states {
			if c.space.Learner == ms[i].Learner {
				st = c
			}
		}
		l, err := s.learner(st, ms[i].Config)
		if err != nil {
			return err
		}
		// A user-given validation set stays held out of the refit, so its
		// score remains an honest estimate.
		m, err := l.Fit(ctx, st.data)
		if err != nil {
			return fmt.Errorf("refit %s: %w", ms[i].Learner, err)
		}
		ms[i].Model = m
	}
	return nil
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

// Predict combines the members' outputs for a design matrix per family:
// weighted average probabilities (n×k) for classifiers, weighted average
// values for regression.
func Predict(ms []Member, task learn.Task, k int, X func(family string) (*frame.Matrix, error)) ([]float64, error) {
	var out []float64
	for _, m := range ms {
		x, err := X(m.Family)
		if err != nil {
			return nil, err
		}
		p, err := predictOut(m.Model, x, task, k)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = make([]float64, len(p))
		}
		for i, v := range p {
			out[i] += m.Weight * v
		}
	}
	return out, nil
}
