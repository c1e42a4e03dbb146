package distrib

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/gyre-ml/gyre/internal/automl"
	"github.com/gyre-ml/gyre/internal/blob"
)

// trialActivities are the activities of a worker's AutoML trials, with
// what it keeps between them: opened blob stores, and the evaluators of the
// last few data sets (decoded data, folds, validation matrices and the
// learners' per-matrix state such as gradient boosting's bins), keyed by
// the data's digest and the plan.
type trialActivities struct {
	// artifacts, when set, replaces the store location trials name (a
	// worker that mounts the shared store elsewhere).
	artifacts string
	// fits is how many fits one trial runs at once.
	fits int
	// identity names the worker in results.
	identity string

	mu     sync.Mutex
	stores map[string]blob.Store
	evals  []*evalEntry // most recently used first
	keep   int
}

type evalEntry struct {
	key   string
	ready chan struct{}
	ev    *automl.Evaluator
	err   error
}

func newTrialActivities(identity, artifacts string, slots int) *trialActivities {
	slots = max(1, slots)
	return &trialActivities{identity: identity, artifacts: artifacts, fits: max(1, runtime.GOMAXPROCS(0)/slots), stores: map[string]blob.Store{}, keep: slots + 1}
}

// store opens (once) the blob store at loc.
func (a *trialActivities) store(ctx context.Context, loc string) (blob.Store, error) {
	if a.artifacts != "" {
		loc = a.artifacts
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if s, ok := a.stores[loc]; ok {
		return s, nil
	}
	s, err := blob.Open(ctx, loc)
	if err != nil {
		return nil, err
	}
	a.stores[loc] = s
	return s, nil
}

// evaluator returns the evaluator of a data set and plan, building it once
// however many trials ask at the same time.
func (a *trialActivities) evaluator(ctx context.Context, data dataRef, plan automl.Plan) (*automl.Evaluator, error) {
	pj, _ := json.Marshal(plan)
	key := data.Digest + " " + string(pj)
	a.mu.Lock()
	for i, e := range a.evals {
		if e.key == key {
			copy(a.evals[1:i+1], a.evals[:i])
			a.evals[0] = e
			a.mu.Unlock()
			select {
			case <-e.ready:
				return e.ev, e.err
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	e := &evalEntry{key: key, ready: make(chan struct{})}
	a.evals = append([]*evalEntry{e}, a.evals...)
	if len(a.evals) > a.keep {
		a.evals = a.evals[:a.keep]
	}
	a.mu.Unlock()
	e.ev, e.err = a.build(ctx, data, plan)
	if e.err != nil {
		a.mu.Lock()
		for i, x := range a.evals {
			if x == e {
				a.evals = append(a.evals[:i], a.evals[i+1:]...)
				break
			}
		}
		a.mu.Unlock()
	}
	close(e.ready)
	return e.ev, e.err
}

func (a *trialActivities) build(ctx context.Context, data dataRef, plan automl.Plan) (*automl.Evaluator, error) {
	s, err := a.store(ctx, data.Store)
	if err != nil {
		return nil, err
	}
	r, err := s.Get(ctx, data.Digest)
	if err != nil {
		return nil, fmt.Errorf("read data %s from %s: %w", data.Digest, s, err)
	}
	defer r.Close()
	p, err := decodeProblem(r)
	if err != nil {
		return nil, fmt.Errorf("data %s: %w", data.Digest, err)
	}
	return automl.NewEvaluator(p, plan, a.fits)
}

// answerMargin is how long before a search's deadline an activity stops
// its trials: time for its answer to reach the workflow before the batch
// answers (batchAnswerLead before the deadline).
const answerMargin = batchAnswerLead + 500*time.Millisecond

// Trials runs a few trials of a search, one after another, heartbeating
// meanwhile; a cancelled activity stops its fits through their context.
func (a *trialActivities) Trials(ctx context.Context, in trialsInput) ([]trialOut, error) {
	info := activity.GetInfo(ctx)
	ev, err := a.evaluator(ctx, in.Data, in.Plan)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, blob.ErrNotFound) {
			return nil, temporal.NewNonRetryableApplicationError(err.Error(), errBadInput, err)
		}
		return nil, err
	}
	store, err := a.store(ctx, in.Data.Store)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	done := 0
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		every := max(time.Second, info.HeartbeatTimeout/4)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				mu.Lock()
				n := done
				mu.Unlock()
				activity.RecordHeartbeat(ctx, n)
			}
		}
	}()
	// In a time budget, stop a little before the search's deadline, so
	// that the trials finished here reach it before it answers without
	// them; the rest are cut, as on one machine.
	tctx := ctx
	if !in.Deadline.IsZero() {
		var cancel context.CancelFunc
		tctx, cancel = context.WithDeadline(ctx, in.Deadline.Add(-answerMargin))
		defer cancel()
	}
	outs := make([]trialOut, 0, len(in.Specs))
	for _, sp := range in.Specs {
		if tctx.Err() != nil && ctx.Err() == nil {
			outs = append(outs, trialOut{ID: sp.ID, Err: "cut: the time budget ran out (" + context.DeadlineExceeded.Error() + ")",
				Worker: a.identity, Attempt: info.Attempt})
			continue
		}
		r := ev.Run(tctx, sp)
		if r.Err != nil && errors.Is(ctx.Err(), context.Canceled) {
			return nil, ctx.Err()
		}
		o := trialOut{ID: sp.ID, FitTime: r.FitTime, PredictPerRow: r.PredictPerRow, Wall: r.Wall, ModelBytes: r.ModelBytes,
			Worker: a.identity, Attempt: info.Attempt}
		if r.Err != nil {
			o.Err = r.Err.Error()
		} else {
			if o.OOF, err = packFloats(ctx, store, r.OOF, in.InlineMax); err != nil {
				return nil, err
			}
			if o.Runs, err = packFloats(ctx, store, r.Runs, in.InlineMax); err != nil {
				return nil, err
			}
		}
		outs = append(outs, o)
		mu.Lock()
		done++
		mu.Unlock()
		activity.RecordHeartbeat(ctx, done)
	}
	return outs, nil
}
