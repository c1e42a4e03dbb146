package distrib

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/gyre-ml/gyre/internal/automl"
)

// Names under which workers register the workflows and activities.
const (
	AutoMLWorkflowName = "gyre.automl"
	trialsActivityName = "gyre.trials"
	trialsUpdate       = "trials"
	finishUpdate       = "finish"
	progressQuery      = "progress"
)

// Error types of activity and workflow failures.
const (
	errBadInput  = "gyre.BadInput"
	errAbandoned = "gyre.Abandoned"
)

// AutoMLWorkflow is one search: it lives while the search that started it
// sends batches of trials ("trials" updates, each answered with the
// batch's results once its activities finish) and ends with the "finish"
// update, the search's summary its result. It ends as abandoned when no
// batch arrives for SearchInput.Idle, and cancelling it cancels the
// running trials.
func AutoMLWorkflow(ctx workflow.Context, in SearchInput) (SearchSummary, error) {
	var (
		prog     Progress
		final    *SearchSummary
		last     = workflow.Now(ctx)
		inflight int
	)
	if err := workflow.SetQueryHandler(ctx, progressQuery, func() (Progress, error) { return prog, nil }); err != nil {
		return SearchSummary{}, err
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, trialsUpdate, func(ctx workflow.Context, req trialsRequest) ([]trialOut, error) {
		inflight++
		defer func() { inflight--; last = workflow.Now(ctx) }()
		prog = req.Progress
		prog.Running = len(req.Specs)
		outs, err := runBatch(ctx, in, req)
		prog.Running = 0
		if err == nil {
			prog.Trials += len(outs)
		}
		return outs, err
	}, workflow.UpdateHandlerOptions{Validator: func(req trialsRequest) error {
		switch {
		case final != nil:
			return errors.New("the search has finished")
		case len(req.Specs) == 0:
			return errors.New("a batch without trials")
		case req.PerActivity < 1:
			return fmt.Errorf("%d trials per activity", req.PerActivity)
		}
		return nil
	}})
	if err != nil {
		return SearchSummary{}, err
	}
	err = workflow.SetUpdateHandler(ctx, finishUpdate, func(ctx workflow.Context, s SearchSummary) error {
		final = &s
		return nil
	})
	if err != nil {
		return SearchSummary{}, err
	}
	idle := in.Idle
	if idle <= 0 {
		idle = time.Hour
	}
	for final == nil {
		seen := last
		ok, err := workflow.AwaitWithTimeout(ctx, idle, func() bool { return final != nil || inflight > 0 || last != seen })
		if err != nil {
			return SearchSummary{Progress: prog, Err: err.Error()}, err
		}
		if ok && inflight > 0 {
			// A batch runs: wait for it, however long it takes.
			if err := workflow.Await(ctx, func() bool { return inflight == 0 || final != nil }); err != nil {
				return SearchSummary{Progress: prog, Err: err.Error()}, err
			}
		}
		if !ok && inflight == 0 && final == nil {
			return SearchSummary{Progress: prog}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("no batch of trials for %v: the search that started this workflow is gone", idle), errAbandoned, nil)
		}
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return *final, err
	}
	return *final, nil
}

// batchAnswerLead is how long before a time budget's deadline a batch
// answers with the trials finished by then, so that its answer reaches the
// search by the deadline, as the trials cut on one machine do.
const batchAnswerLead = 300 * time.Millisecond

// runBatch runs one batch's trials as activities of PerActivity trials
// each and returns their results in the batch's order.
func runBatch(ctx workflow.Context, in SearchInput, req trialsRequest) ([]trialOut, error) {
	ao := workflow.ActivityOptions{
		StartToCloseTimeout: in.TrialTimeout,
		HeartbeatTimeout:    in.Heartbeat,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second,
			MaximumAttempts: max(1, in.Retries), NonRetryableErrorTypes: []string{errBadInput}},
	}
	if ao.StartToCloseTimeout <= 0 {
		ao.StartToCloseTimeout = DefaultTrialTimeout
	}
	if ao.HeartbeatTimeout <= 0 {
		ao.HeartbeatTimeout = DefaultHeartbeat
	}
	if !req.Deadline.IsZero() {
		// A time budget: no attempt may run past the deadline (plus a
		// little for the answer to travel back).
		left := req.Deadline.Sub(workflow.Now(ctx)) + 5*time.Second
		if left <= 5*time.Second {
			left = 5 * time.Second
		}
		ao.StartToCloseTimeout, ao.ScheduleToCloseTimeout = left, left
	}
	// In a time budget the batch answers at the deadline whatever is
	// still running: the trials finished by then count, the rest are cut
	// (their activities cancelled), as on one machine.
	actx, cancelActs := workflow.WithCancel(workflow.WithActivityOptions(ctx, ao))
	defer cancelActs()
	var futures []workflow.Future
	var chunks [][]automl.TrialSpec
	for i := 0; i < len(req.Specs); i += req.PerActivity {
		chunk := req.Specs[i:min(i+req.PerActivity, len(req.Specs))]
		chunks = append(chunks, chunk)
		futures = append(futures, workflow.ExecuteActivity(actx, trialsActivityName,
			trialsInput{Data: req.Data, Plan: req.Plan, Specs: chunk, InlineMax: req.InlineMax, Deadline: req.Deadline}))
	}
	parts := make([][]trialOut, len(futures))
	errs := make([]error, len(futures))
	done := make([]bool, len(futures))
	sel := workflow.NewSelector(ctx)
	for i, f := range futures {
		sel.AddFuture(f, func(f workflow.Future) {
			errs[i] = f.Get(ctx, &parts[i])
			done[i] = true
		})
	}
	expired := false
	// searches begun before the batch timer existed replay without it
	if !req.Deadline.IsZero() && workflow.GetVersion(ctx, "batch-deadline-timer", workflow.DefaultVersion, 1) == 1 {
		wait := max(req.Deadline.Sub(workflow.Now(ctx))-batchAnswerLead, 0)
		sel.AddFuture(workflow.NewTimer(ctx, wait), func(workflow.Future) { expired = true })
	}
	for pending := len(futures); pending > 0 && !expired; {
		sel.Select(ctx)
		if !expired {
			pending--
		}
	}
	cut := func(chunk []automl.TrialSpec) []trialOut {
		part := make([]trialOut, 0, len(chunk))
		for _, sp := range chunk {
			part = append(part, trialOut{ID: sp.ID, Err: "cut: the time budget ran out (" + context.DeadlineExceeded.Error() + ")"})
		}
		return part
	}
	outs := make([]trialOut, 0, len(req.Specs))
	var firstErr error
	for i := range futures {
		part, err := parts[i], errs[i]
		if !done[i] || (err != nil && !req.Deadline.IsZero() && temporal.IsTimeoutError(err)) {
			// Out of time budget: the trials are cut, as on one machine.
			part, err = cut(chunks[i]), nil
		}
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if len(part) != len(chunks[i]) {
			return nil, fmt.Errorf("batch %d: %d results for %d trials", req.Batch, len(part), len(chunks[i]))
		}
		outs = append(outs, part...)
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return outs, nil
}
