package distrib

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/gyre-ml/gyre/internal/automl"
	"github.com/gyre-ml/gyre/internal/blob"
)

// Executor runs a search's trials on Temporal workers (see the package
// comment). It implements automl.Executor and automl.Preparer; one
// Executor serves one search. Call Finish when the search is over.
type Executor struct {
	c     client.Client
	eng   Engine
	store blob.Store
	// storeLoc is the blob store's location as workers open it.
	storeLoc string
	// ID is the search's workflow ID.
	ID string
	// Source, Trials, Budget and Seed describe the search in its
	// workflow's input.
	Source string
	Trials int
	Budget time.Duration
	Seed   uint64
	// Idle ends the workflow when the search sends nothing for that long
	// (default: an hour).
	Idle time.Duration
	// Logf reports retries while the engine is unreachable (optional).
	Logf func(format string, args ...any)

	mu       sync.Mutex
	data     dataRef
	started  bool
	batch    int
	progress Progress
	// perTrial is the running mean of a trial's time on a worker, to size
	// activities.
	perTrial time.Duration
}

var (
	_ automl.Executor = (*Executor)(nil)
	_ automl.Preparer = (*Executor)(nil)
)

// NewExecutor returns an executor for one search with workflow ID id. The
// data goes to store, which the workers open at storeLocation (a shared
// directory or an s3:// URL).
func NewExecutor(c client.Client, eng Engine, store blob.Store, storeLocation, id string) *Executor {
	return &Executor{c: c, eng: eng, store: store, storeLoc: storeLocation, ID: id}
}

// activityTarget is the work one activity should hold when trials are
// small: enough to make Temporal's per-activity overhead (~40 ms here)
// a few percent.
const activityTarget = time.Second

// maxBatchPayload bounds a batch's inline predictions, under Temporal's 2
// MB payload limit with room for the rest of the answer.
const maxBatchPayload = 1 << 20

// Prepare stores the problem's data as a blob and starts the search's
// workflow.
func (x *Executor) Prepare(ctx context.Context, p automl.Problem, plan automl.Plan) error {
	ref, err := putProblem(ctx, x.store, p)
	if err != nil {
		return err
	}
	x.mu.Lock()
	x.data = dataRef{Store: x.storeLoc, Digest: ref.Digest}
	x.mu.Unlock()
	in := SearchInput{Source: x.Source, Data: x.data, Trials: x.Trials, Budget: x.Budget, Seed: x.Seed, Idle: x.Idle,
		Heartbeat: x.eng.Heartbeat, TrialTimeout: x.eng.TrialTimeout, Retries: x.eng.Retries}
	o := client.StartWorkflowOptions{ID: x.ID, TaskQueue: x.eng.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		Memo:                     map[string]any{"source": x.Source, "data": ref.Digest, "rows": dataRows(p)}}
	if x.Budget > 0 {
		o.WorkflowExecutionTimeout = x.Budget*2 + 10*time.Minute
	}
	err = x.retry(ctx, "start the search's workflow", func() error {
		_, err := x.c.ExecuteWorkflow(ctx, o, AutoMLWorkflowName, in)
		return err
	})
	if err != nil {
		return err
	}
	x.mu.Lock()
	x.started = true
	x.mu.Unlock()
	return nil
}

func dataRows(p automl.Problem) int {
	for _, d := range p.Data {
		return d.N()
	}
	return 0
}

// SetProgress records the search's state, sent with the next batch and
// answered by the workflow's "progress" query.
func (x *Executor) SetProgress(p Progress) {
	x.mu.Lock()
	x.progress = p
	x.mu.Unlock()
}

// answerGrace is how long past a search's deadline RunTrials waits for the
// batch's answer, which the workflow sends at the deadline.
const answerGrace = 2 * time.Second

// RunTrials sends one batch to the search's workflow and waits for its
// results. Cancelling ctx cancels the workflow and its running trials; in
// a time budget, trials still running at ctx's deadline come back cut.
func (x *Executor) RunTrials(ctx context.Context, plan automl.Plan, specs []automl.TrialSpec) ([]automl.TrialResult, error) {
	x.mu.Lock()
	if !x.started {
		x.mu.Unlock()
		return nil, errors.New("distrib: RunTrials before Prepare")
	}
	x.batch++
	req := trialsRequest{Batch: x.batch, Data: x.data, Plan: plan, Specs: specs, Progress: x.progress,
		PerActivity: x.perActivity(len(specs)), InlineMax: maxBatchPayload / len(specs)}
	x.mu.Unlock()
	if d, ok := ctx.Deadline(); ok {
		req.Deadline = d
	}
	uid := fmt.Sprintf("batch-%d", req.Batch)
	var outs []trialOut
	// The workflow answers at the deadline with the trials finished by
	// then; wait a little past it for that answer, unless interrupted.
	wctx, stop := ctx, context.CancelFunc(func() {})
	if !req.Deadline.IsZero() {
		wctx, stop = context.WithDeadline(context.WithoutCancel(ctx), req.Deadline.Add(answerGrace))
		unhook := context.AfterFunc(ctx, func() {
			if errors.Is(ctx.Err(), context.Canceled) {
				stop()
			}
		})
		defer unhook()
	}
	defer stop()
	err := x.retry(wctx, "run trials "+uid, func() error {
		h, err := x.c.UpdateWorkflow(wctx, client.UpdateWorkflowOptions{WorkflowID: x.ID, UpdateID: uid, UpdateName: trialsUpdate,
			Args: []any{req}, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err != nil {
			return err
		}
		return h.Get(wctx, &outs)
	})
	if err != nil {
		if errors.Is(wctx.Err(), context.DeadlineExceeded) {
			// The budget ran out while waiting: every trial is cut.
			res := make([]automl.TrialResult, len(specs))
			for i := range res {
				res[i].Err = context.DeadlineExceeded
			}
			return res, nil
		}
		if ctx.Err() != nil {
			x.cancel()
		}
		return nil, err
	}
	if len(outs) != len(specs) {
		return nil, fmt.Errorf("distrib: batch %d: %d results for %d trials", req.Batch, len(outs), len(specs))
	}
	res := make([]automl.TrialResult, len(specs))
	var wall time.Duration
	for i, o := range outs {
		if o.ID != specs[i].ID {
			return nil, fmt.Errorf("distrib: batch %d: result %d is trial %d's, want %d's", req.Batch, i, o.ID, specs[i].ID)
		}
		if res[i], err = o.result(ctx, x.store); err != nil {
			return nil, fmt.Errorf("distrib: %w", err)
		}
		wall += o.Wall
	}
	x.mu.Lock()
	mean := wall / time.Duration(len(outs))
	if x.perTrial == 0 {
		x.perTrial = mean
	} else {
		x.perTrial = (x.perTrial + mean) / 2
	}
	x.mu.Unlock()
	return res, nil
}

// perActivity is how many of a batch's n trials go in one activity: one
// each, unless trials are measured short next to activityTarget, then as
// many as fill it while the batch still spreads over at least two
// activities. Engine.PerActivity fixes it.
func (x *Executor) perActivity(n int) int {
	if x.eng.PerActivity > 0 {
		return x.eng.PerActivity
	}
	if x.perTrial <= 0 || n < 2 {
		return 1
	}
	k := int(activityTarget / max(x.perTrial, time.Millisecond))
	return max(1, min(k, int(math.Ceil(float64(n)/2))))
}

// Finish ends the search's workflow: with its summary when err is nil,
// else by cancelling it (its running trials with it).
func (x *Executor) Finish(ctx context.Context, err error) error {
	x.mu.Lock()
	started, prog := x.started, x.progress
	x.mu.Unlock()
	if !started {
		return nil
	}
	if err != nil {
		x.cancel()
		return nil
	}
	sum := SearchSummary{Progress: prog}
	return x.retry(ctx, "finish the search's workflow", func() error {
		h, err := x.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: x.ID, UpdateID: "finish", UpdateName: finishUpdate,
			Args: []any{sum}, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err != nil {
			return err
		}
		return h.Get(ctx, nil)
	})
}

// cancel asks Temporal to cancel the search's workflow, even after ctx is
// done.
func (x *Executor) cancel() {
	ctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	if err := x.c.CancelWorkflow(ctx, x.ID, ""); err != nil && x.Logf != nil {
		x.Logf("distrib: cancel workflow %s: %v", x.ID, err)
	}
}

// retry calls fn until it succeeds, fails for good, or ctx ends; the
// engine being unreachable (a server restarting) is retried with backoff.
func (x *Executor) retry(ctx context.Context, what string, fn func() error) error {
	wait := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("distrib: %s: %w", what, ctx.Err())
		}
		if permanent(err) {
			return fmt.Errorf("distrib: %s: %w", what, err)
		}
		if x.Logf != nil && (attempt == 1 || attempt%10 == 0) {
			x.Logf("distrib: %s: %v (retrying)", what, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("distrib: %s: %w", what, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

// permanent reports errors that retrying cannot fix: a failure of the
// workflow or of its handler, a workflow that is gone, a refused request.
func permanent(err error) bool {
	var nf *serviceerror.NotFound
	var inv *serviceerror.InvalidArgument
	var fp *serviceerror.FailedPrecondition
	var perm *serviceerror.PermissionDenied
	var nsnf *serviceerror.NamespaceNotFound
	switch {
	case temporal.IsApplicationError(err), temporal.IsCanceledError(err), temporal.IsTimeoutError(err):
		return true
	case errors.As(err, &nf), errors.As(err, &inv), errors.As(err, &fp), errors.As(err, &perm), errors.As(err, &nsnf):
		return true
	case strings.Contains(err.Error(), "workflow execution already completed"):
		return true
	}
	var we *temporal.WorkflowExecutionError
	return errors.As(err, &we)
}
