package distrib

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/gyre-ml/gyre/internal/pipeline"
)

// Names of the trigger watcher's workflow and its check activity.
const (
	WatchWorkflowName = "gyre.pipeline.watch"
	checkActivityName = "gyre.pipeline.check"
)

// watchChecksPerRun is how many polls one run of the watcher makes before
// it continues as new, which keeps its event history bounded (each poll
// adds a timer and an activity: about ten events).
const watchChecksPerRun = 200

// WatchInput starts a WatchWorkflow: the pipeline whose data and alert
// triggers (triggers.on_new_data, triggers.on_alert) it checks, and how
// often.
type WatchInput struct {
	PipelineInput
	// Poll is the time between two checks (default 1m).
	Poll time.Duration `json:"poll"`
}

// WatchOutcome is what a WatchWorkflow run did, for its Result and for the
// "status" query: checks made, runs it started, triggers it signalled to an
// active run, and the last check's error.
type WatchOutcome struct {
	Checks    int    `json:"checks"`
	Started   int    `json:"started"`
	Signalled int    `json:"signalled"`
	LastError string `json:"last_error,omitempty"`
}

// WatchWorkflowID is the workflow ID of a pipeline's trigger watcher: one
// per pipeline.
func WatchWorkflowID(name string) string { return PipelineWorkflowID(name) + "-watch" }

// WatchWorkflow checks a pipeline's data and alert triggers every Poll, on
// a worker (the check reads the project's store and source), and when one
// fires starts a run of the pipeline as an abandoned child workflow with
// the pipeline's workflow ID; when a run is already active it signals the
// trigger to that run instead, which records it, so there is one run per
// pipeline at a time. A failed check is retried at the next poll. It runs
// until cancelled, continuing as new every watchChecksPerRun polls.
func WatchWorkflow(ctx workflow.Context, in WatchInput) (WatchOutcome, error) {
	var out WatchOutcome
	if err := workflow.SetQueryHandler(ctx, pipelineQuery, func() (WatchOutcome, error) { return out, nil }); err != nil {
		return out, err
	}
	poll := in.Poll
	if poll <= 0 {
		poll = time.Minute
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		// a check versions the source: give it as long as a poll, at least
		// a minute, and one retry before the next poll
		StartToCloseTimeout: max(poll, time.Minute),
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 2,
			NonRetryableErrorTypes: []string{errBadInput}},
	})
	for out.Checks < watchChecksPerRun {
		if err := workflow.Sleep(ctx, poll); err != nil {
			return out, err // cancelled
		}
		out.Checks++
		var reason string
		if err := workflow.ExecuteActivity(actx, checkActivityName, in.PipelineInput).Get(ctx, &reason); err != nil {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			out.LastError = err.Error()
			workflow.GetLogger(ctx).Warn("pipeline trigger check failed", "pipeline", in.Name, "error", err)
			continue
		}
		out.LastError = ""
		if reason == "" {
			continue
		}
		started, err := triggerRun(ctx, in, reason)
		switch {
		case err != nil:
			out.LastError = err.Error()
		case started:
			out.Started++
		default:
			out.Signalled++
		}
	}
	return out, workflow.NewContinueAsNewError(ctx, WatchWorkflowName, in)
}

// triggerRun starts a run of in's pipeline for reason, or signals reason to
// the run that is active.
func triggerRun(ctx workflow.Context, in WatchInput, reason string) (started bool, err error) {
	run := in.PipelineInput
	run.Trigger = reason
	id := PipelineWorkflowID(in.Name)
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            id,
		TaskQueue:             workflow.GetInfo(ctx).TaskQueueName,
		WorkflowRunTimeout:    runTimeout(in.RunTimeout),
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		Memo:                  map[string]any{"pipeline": in.Name, "trigger": reason},
	})
	child := workflow.ExecuteChildWorkflow(cctx, PipelineWorkflowName, run)
	err = child.GetChildWorkflowExecution().Get(ctx, nil)
	if err == nil {
		return true, nil
	}
	if !temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		return false, fmt.Errorf("pipeline %s: start run for %q: %w", in.Name, reason, err)
	}
	if err := workflow.SignalExternalWorkflow(ctx, id, "", triggerSignal, reason).Get(ctx, nil); err != nil {
		return false, fmt.Errorf("pipeline %s: record trigger %q: %w", in.Name, reason, err)
	}
	return false, nil
}

// Check runs the pipeline's data and alert trigger checks (pipeline.Due)
// and returns why a run is due, or "".
func (a *pipelineActivities) Check(ctx context.Context, in PipelineInput) (string, error) {
	p, err := pipeline.Load(in.Project)
	if err != nil {
		return "", temporal.NewNonRetryableApplicationError(err.Error(), errBadInput, err)
	}
	env, err := a.env(ctx, in)
	if err != nil {
		return "", err
	}
	return pipeline.Due(ctx, env, p, pipeline.AlertCheck(env, p))
}

// WatchPipeline starts the trigger watcher of in's pipeline (see
// WatchWorkflow), replacing the one running with its earlier settings, and
// returns its workflow ID.
func WatchPipeline(ctx context.Context, c client.Client, taskQueue string, in WatchInput) (string, error) {
	id := WatchWorkflowID(in.Name)
	o := client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		Memo:                     map[string]any{"pipeline": in.Name}}
	if _, err := c.ExecuteWorkflow(ctx, o, WatchWorkflowName, in); err != nil {
		return "", fmt.Errorf("watch triggers of pipeline %s: %w", in.Name, err)
	}
	return id, nil
}

// Unschedule removes the named pipeline's Temporal Schedule and cancels its
// trigger watcher; runs already started finish. It reports which of the two
// existed.
func Unschedule(ctx context.Context, c client.Client, name string) (schedule, watcher bool, err error) {
	var notFound *serviceerror.NotFound
	err = c.ScheduleClient().GetHandle(ctx, PipelineWorkflowID(name)+"-schedule").Delete(ctx)
	switch {
	case err == nil:
		schedule = true
	case !errors.As(err, &notFound):
		return false, false, fmt.Errorf("unschedule pipeline %s: delete schedule: %w", name, err)
	}
	d, err := c.DescribeWorkflowExecution(ctx, WatchWorkflowID(name), "")
	switch {
	case errors.As(err, &notFound):
		return schedule, false, nil
	case err != nil:
		return schedule, false, fmt.Errorf("unschedule pipeline %s: describe watcher: %w", name, err)
	}
	if d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return schedule, false, nil
	}
	if err := c.CancelWorkflow(ctx, WatchWorkflowID(name), ""); err != nil {
		return schedule, false, fmt.Errorf("unschedule pipeline %s: cancel watcher: %w", name, err)
	}
	return schedule, true, nil
}

// runTimeout is a pipeline run's bound: d, or DefaultRunTimeout.
func runTimeout(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultRunTimeout
	}
	return d
}

// DefaultRunTimeout bounds a pipeline run on the engine when the input sets
// no RunTimeout: a run stuck on a task queue no worker polls would
// otherwise hold its pipeline (and its schedule, which skips overlapping
// runs) forever.
const DefaultRunTimeout = 24 * time.Hour
