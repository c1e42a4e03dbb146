package automl

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/parallel"
)

// bagMaxRows is the largest training set whose final models are k-fold
// bags (see bagging): a bag predicts k times slower than one model and
// saves k models, which small data affords and large data need not (its
// validation is not noisy).
const bagMaxRows = 10000

// bagMemory bounds the encoded bytes of the fold models the search keeps
// for bagging; past it the worst trials' bags are dropped (trimBags).
const bagMemory = 256 << 20

// bagging reports whether the final models are bags of fold models: under
// cross-validation (not a holdout or the user's validation set) of at most
// bagMaxRows rows, unless Options.NoBag. As AutoGluon does: every trial is
// scored by the out-of-fold predictions of its fold models, and those very
// models, averaged, are the final model, so the score that selected a
// member, and the ensemble's weights, are estimates of the model that is
// deployed. A model refitted on all rows is another model, whose error the
// search never measured: where the folds' models differ (a deep booster,
// k-NN on a hundred rows) the refit lacks the averaging the out-of-fold
// predictions of repeated cross-validation had, and an ensemble weighted
// on those predictions overrates it.
func (s *searcher) bagging() bool {
	return !s.o.NoBag && s.split.method == "cv" && s.n <= bagMaxRows
}

// trimBags drops the fold models of the worst trials while those kept
// exceed bagMemory (by their trials' encoded sizes, so the same in every
// run); a member whose bag was dropped is refitted.
func (s *searcher) trimBags() {
	var with []int
	total := 0
	for i := range s.results {
		if t := &s.results[i]; t.bag != nil {
			with = append(with, i)
			total += t.ModelBytes * len(t.bag)
		}
	}
	if total <= bagMemory {
		return
	}
	sort.SliceStable(with, func(a, b int) bool { return s.results[with[a]].Loss > s.results[with[b]].Loss })
	for _, i := range with {
		if total <= bagMemory {
			break
		}
		t := &s.results[i]
		total -= t.ModelBytes * len(t.bag)
		t.bag = nil
	}
}

// bagOf returns the fold models kept for a member's trial, or nil.
func (s *searcher) bagOf(m Member) []learn.Model {
	key := m.Config.key()
	for i := range s.results {
		t := &s.results[i]
		if t.bag != nil && t.Learner == m.Learner && t.Config.key() == key {
			return t.bag
		}
	}
	return nil
}

// outputScale is how many times a trial's measured model (size and
// prediction time) the final model of its configuration is: its bag's
// model count, or for a refit the growth from its training rows to all.
func (s *searcher) outputScale(t *Trial) float64 {
	if t.bag != nil {
		return float64(len(t.bag))
	}
	return float64(s.n) / math.Max(float64(t.Sample), 1)
}

// fitBag fits cfg's fold models of the first repeat as evaluate does (the
// same rows, seed and thread setting, so the same bytes as the models the
// trial's evaluation made), workers at a time.
func (s *searcher) fitBag(ctx context.Context, st *learnerState, cfg Config, workers int) ([]learn.Model, error) {
	k := len(s.split.folds) / s.split.repeats
	out := make([]learn.Model, k)
	errs := make([]error, k)
	single := min(s.workers(), len(s.split.folds)) > 1
	parallel.For(k, workers, func(f int) {
		l, err := s.learner(st, cfg)
		if err == nil && single {
			err = setThreads(l, 1)
		}
		if err == nil {
			out[f], err = l.Fit(ctx, st.data.Subset(s.split.folds[f].train))
		}
		if err != nil {
			errs[f] = fmt.Errorf("fold %d: %w", f, err)
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}
