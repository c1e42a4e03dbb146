package automl

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gyre-ml/gyre/internal/learn"
)

// Executor evaluates batches of trials for a search: the seam between the
// search, which proposes trials and learns from their results on one
// process, and where the fits run. Without one, trials run on the search's
// own goroutines; a distributed executor (internal/distrib) runs them on
// other machines, each rebuilding the evaluation with NewEvaluator.
//
// RunTrials returns one result per spec, in order. A trial that fails
// reports it in its TrialResult.Err; an error from RunTrials itself (the
// engine unreachable, the search cancelled) ends the search. The deadline
// of ctx, in budget mode, is the time the trials must finish by.
type Executor interface {
	RunTrials(ctx context.Context, plan Plan, specs []TrialSpec) ([]TrialResult, error)
}

// Preparer is an Executor that needs the problem before the first batch,
// e.g. to ship the data to its workers once. Run calls Prepare once, after
// resolving the plan and before proposing any trial.
type Preparer interface {
	Prepare(ctx context.Context, p Problem, plan Plan) error
}

// Plan is what every trial of a search shares besides the data: how trials
// are evaluated, resolved from the Options and the data by the search, so
// that an Evaluator built from it folds the rows exactly as the search does.
type Plan struct {
	Seed uint64 `json:"seed"`
	// Method is "cv", "holdout" or "valid".
	Method string `json:"method"`
	// Folds and Repeats describe cross-validation.
	Folds   int `json:"folds"`
	Repeats int `json:"repeats"`
	// HoldoutFraction is the share of rows held out (method "holdout").
	HoldoutFraction float64 `json:"holdout_fraction"`
}

// TrialSpec is one trial to evaluate: a learner's configuration at a
// training sample size.
type TrialSpec struct {
	ID      int    `json:"id"`
	Learner string `json:"learner"`
	Family  string `json:"family"`
	Config  Config `json:"config"`
	// Sample is the number of training rows of each fold used.
	Sample int `json:"sample_rows"`
}

// TrialResult is what evaluating a TrialSpec gives.
type TrialResult struct {
	// OOF holds the out-of-fold predictions of the validation rows
	// (row-major probabilities for classifiers); Runs, with repeated
	// cross-validation of a classifier, each repeat's (nil otherwise).
	OOF, Runs []float64
	// Model is the last fold's model, kept as the fallback of the best
	// trial when no time is left to refit; executors may leave it nil.
	Model learn.Model
	// FitTime is the fits' total time, PredictPerRow the measured
	// prediction time per validation row, Wall the trial's elapsed time.
	FitTime, PredictPerRow, Wall time.Duration
	// ModelBytes is the size of the encoded model.
	ModelBytes int
	// Err is why the trial failed (nil: it did not).
	Err error
}

// plan returns the search's evaluation plan.
func (s *searcher) plan() Plan {
	return Plan{Seed: s.o.Seed, Method: s.split.method, Folds: s.o.Folds, Repeats: s.split.repeats, HoldoutFraction: s.o.HoldoutFraction}
}

// evaluateSpec evaluates one trial of st on this process.
func (s *searcher) evaluateSpec(ctx context.Context, st *learnerState, spec TrialSpec) TrialResult {
	began := s.o.Now()
	var r TrialResult
	r.OOF, r.Runs, r.Model, r.FitTime, r.PredictPerRow, r.ModelBytes, r.Err = s.evaluate(ctx, st, spec.Config, spec.Sample)
	r.Wall = s.o.Now().Sub(began)
	return r
}

// Evaluator evaluates trials of a search elsewhere than where it runs: a
// worker builds one from the same problem (the same per-family matrices)
// and the search's Plan, and gets bit-identical results for every spec.
// It is safe for concurrent use.
type Evaluator struct {
	s      *searcher
	states map[string]*learnerState // by family, read-only after NewEvaluator
}

// NewEvaluator prepares the evaluation of plan on p: the folds, and every
// family's validation matrices. p.Loss is not used. workers bounds the fits
// one trial runs at once (0: GOMAXPROCS).
func NewEvaluator(p Problem, plan Plan, workers int) (*Evaluator, error) {
	switch plan.Method {
	case "cv", "holdout":
	case "valid":
		if p.Valid == nil {
			return nil, errors.New("automl: evaluator: plan uses a validation set the problem does not have")
		}
	default:
		return nil, fmt.Errorf("automl: evaluator: unknown evaluation method %q (want cv, holdout or valid)", plan.Method)
	}
	if plan.Method == "cv" && (plan.Folds < 2 || plan.Repeats < 1) {
		return nil, fmt.Errorf("automl: evaluator: %d folds repeated %d times", plan.Folds, plan.Repeats)
	}
	if plan.Method == "holdout" && !(plan.HoldoutFraction > 0 && plan.HoldoutFraction < 1) {
		return nil, fmt.Errorf("automl: evaluator: holdout fraction %v not in (0, 1)", plan.HoldoutFraction)
	}
	families := make([]string, 0, len(p.Data))
	for f := range p.Data {
		families = append(families, f)
	}
	if len(families) == 0 {
		return nil, errors.New("automl: evaluator: no data")
	}
	slices.Sort(families)
	o := Options{Seed: plan.Seed, Eval: plan.Method, Folds: plan.Folds, Repeats: plan.Repeats, HoldoutFraction: plan.HoldoutFraction, Workers: workers, Trials: 1, Now: time.Now}
	if plan.Method == "valid" {
		o.Eval = "auto" // makeSplit picks "valid" from p.Valid
	}
	s := &searcher{p: p, o: o}
	e := &Evaluator{s: s, states: map[string]*learnerState{}}
	for _, f := range families {
		d := p.Data[f]
		if d.Shared == nil {
			dd := *d
			dd.Shared = learn.NewShared()
			d = &dd
		}
		st := &learnerState{space: Space{Family: f}, data: d}
		if p.Valid != nil {
			if st.valid = p.Valid[f]; st.valid == nil {
				return nil, fmt.Errorf("automl: evaluator: no %s validation data", f)
			}
		}
		e.states[f] = st
		s.states = append(s.states, st)
		s.n, s.y = d.N(), d.Y
	}
	s.split = s.makeSplit()
	// Build every validation matrix now: the cache is then only read, by
	// any number of trials at once.
	for _, st := range s.states {
		for f := range s.split.folds {
			s.split.validX(st, f)
		}
	}
	return e, nil
}

// Run evaluates one trial.
func (e *Evaluator) Run(ctx context.Context, spec TrialSpec) TrialResult {
	base, ok := e.states[spec.Family]
	if !ok {
		return TrialResult{Err: fmt.Errorf("automl: evaluate trial %d: no %s data", spec.ID, spec.Family)}
	}
	if spec.Sample <= 0 || spec.Sample > e.s.split.trainRows() {
		return TrialResult{Err: fmt.Errorf("automl: evaluate trial %d: sample of %d rows, want 1..%d", spec.ID, spec.Sample, e.s.split.trainRows())}
	}
	st := *base
	st.space.Learner = spec.Learner
	return e.s.evaluateSpec(ctx, &st, spec)
}
