package distrib

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// TestWatchWorkflow runs the trigger watcher in the SDK's test environment
// with its check scripted: polls that find nothing start nothing, a failed
// check is retried at the next poll, a due trigger starts a run of the
// pipeline under the pipeline's workflow ID (bounded by the run timeout),
// a trigger due while that run is active is signalled to it and recorded
// there once, not started, and after watchChecksPerRun polls the watcher
// continues as new.
func TestWatchWorkflow(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(WatchWorkflow, workflow.RegisterOptions{Name: WatchWorkflowName})

	// checks: 1 nothing, 2 fails, 3 new data (starts a run lasting 5
	// polls), 4-6 alert (signalled to the run), then nothing
	checks := 0
	env.RegisterActivityWithOptions(func(ctx context.Context, in PipelineInput) (string, error) {
		checks++
		switch {
		case checks == 2:
			return "", errors.New("source unreachable")
		case checks == 3:
			return "new data version", nil
		case checks >= 4 && checks <= 6:
			return "alert: drift", nil
		}
		return "", nil
	}, activity.RegisterOptions{Name: checkActivityName})
	var runs []PipelineInput
	var recorded []string
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context, in PipelineInput) (PipelineOutcome, error) {
		runs = append(runs, in)
		if got := workflow.GetInfo(ctx).WorkflowExecution.ID; got != PipelineWorkflowID("bike") {
			t.Errorf("run's workflow ID %q, want %q", got, PipelineWorkflowID("bike"))
		}
		if got := workflow.GetInfo(ctx).WorkflowRunTimeout; got != 3*time.Hour {
			t.Errorf("run timeout %v, want the input's 3h", got)
		}
		ch := workflow.GetSignalChannel(ctx, triggerSignal)
		timer := workflow.NewTimer(ctx, 5*time.Minute)
		for done := false; !done; {
			sel := workflow.NewSelector(ctx)
			sel.AddReceive(ch, func(c workflow.ReceiveChannel, _ bool) {
				var r string
				c.Receive(ctx, &r)
				recorded = append(recorded, r)
			})
			sel.AddFuture(timer, func(workflow.Future) { done = true })
			sel.Select(ctx)
		}
		return PipelineOutcome{}, nil
	}, workflow.RegisterOptions{Name: PipelineWorkflowName})
	in := WatchInput{PipelineInput: PipelineInput{Name: "bike", Project: "/p/gyre.yaml", RunTimeout: 3 * time.Hour}, Poll: time.Minute}
	env.ExecuteWorkflow(WatchWorkflowName, in)

	if !env.IsWorkflowCompleted() {
		t.Fatal("watcher did not end its run")
	}
	var cont *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &cont) {
		t.Fatalf("watcher ended with %v, want to continue as new after %d polls", err, watchChecksPerRun)
	}
	if checks != watchChecksPerRun+1 { // the failed check is retried once at once
		t.Errorf("%d check activities, want %d", checks, watchChecksPerRun+1)
	}
	if len(runs) != 1 || runs[0].Trigger != "new data version" || runs[0].Project != in.Project {
		t.Fatalf("runs started %+v, want one for the new data", runs)
	}
	if len(recorded) != 3 || recorded[0] != "alert: drift" {
		t.Errorf("signalled to the active run %q, want the alert three times", recorded)
	}
}
