package automl

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/parallel"
)

// bagMaxRows is the largest training set whose final models are k-fold
// bags (see bagging): a bag predicts k times slower than one model and
// saves k models, which small data affords and large data need not (its
// validation is not noisy).
const bagMaxRows = 10000

// bagging reports whether the final models are bags of fold models: under
// cross-validation (not a holdout or the user's validation set) of at most
// bagMaxRows rows, unless Options.NoBag. As AutoGluon does: every trial is
// scored by the out-of-fold predictions of its fold models, and those
// models (fitted again at the end on the same rows, from the same seed),
// averaged, are the final model, so the score that selected a member, and
// the ensemble's weights, are estimates of the model that is deployed. A
// model refitted on all rows is another model, whose error the search never
// measured: where the folds' models differ (a deep booster, k-NN on a
// hundred rows) the refit lacks the averaging the out-of-fold predictions
// of repeated cross-validation had, and an ensemble weighted on those
// predictions overrates it.
func (s *searcher) bagging() bool {
	return !s.o.NoBag && s.split.method == "cv" && s.n <= bagMaxRows
}

// bagSize is the number of models of a bag: the folds of one repeat.
func (s *searcher) bagSize() int { return len(s.split.folds) / s.split.repeats }

// outputScale is how many times a trial's measured model size the final
// model of its configuration is: its bag's model count, or for a refit the
// growth from a fold's training rows to all rows.
func (s *searcher) outputScale(t *Trial) float64 {
	if s.bagging() {
		return float64(s.bagSize())
	}
	return float64(s.n) / math.Max(float64(t.Sample), 1)
}

// fitBag fits cfg's fold models of the first repeat as evaluate does (the
// same rows, seed and thread setting, so the same bytes as the models the
// trial's evaluation made), workers at a time.
func (s *searcher) fitBag(ctx context.Context, st *learnerState, cfg Config, workers int) ([]learn.Model, error) {
	k := s.bagSize()
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
