package distrib

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// WorkerOptions configure a worker.
type WorkerOptions struct {
	// TaskQueue the worker polls (default DefaultTaskQueue).
	TaskQueue string
	// Slots is how many activities (AutoML trials, pipeline steps) run at
	// once; each trial fits GOMAXPROCS/Slots folds at a time (default 1).
	Slots int
	// Artifacts, when set, is where this worker opens the shared blob
	// store, whatever location the work names (the store mounted at
	// another path, or other credentials).
	Artifacts string
	// Identity names the worker in Temporal and in trial results
	// (default: Temporal's pid@host).
	Identity string
}

// NewWorker returns a worker on c for o's task queue, with Gyre's
// workflows and activities registered. Start it with Run or Start.
func NewWorker(c client.Client, o WorkerOptions) worker.Worker {
	if o.TaskQueue == "" {
		o.TaskQueue = DefaultTaskQueue
	}
	o.Slots = max(1, o.Slots)
	w := worker.New(c, o.TaskQueue, worker.Options{
		MaxConcurrentActivityExecutionSize: o.Slots,
		Identity:                           o.Identity,
	})
	register(w, newTrialActivities(o.Identity, o.Artifacts, o.Slots), &pipelineActivities{})
	return w
}

// registrar is what workers (and the SDK's test environment) register on.
type registrar interface {
	RegisterWorkflowWithOptions(w interface{}, options workflow.RegisterOptions)
	RegisterActivityWithOptions(a interface{}, options activity.RegisterOptions)
}

func register(r registrar, ta *trialActivities, pa *pipelineActivities) {
	r.RegisterWorkflowWithOptions(AutoMLWorkflow, workflow.RegisterOptions{Name: AutoMLWorkflowName})
	r.RegisterActivityWithOptions(ta.Trials, activity.RegisterOptions{Name: trialsActivityName})
	r.RegisterWorkflowWithOptions(PipelineWorkflow, workflow.RegisterOptions{Name: PipelineWorkflowName})
	r.RegisterActivityWithOptions(pa.Step, activity.RegisterOptions{Name: stepActivityName})
	r.RegisterWorkflowWithOptions(WatchWorkflow, workflow.RegisterOptions{Name: WatchWorkflowName})
	r.RegisterActivityWithOptions(pa.Check, activity.RegisterOptions{Name: checkActivityName})
}

// RunWorker runs a worker until ctx ends, then stops it, letting running
// activities finish or be cancelled.
func RunWorker(ctx context.Context, c client.Client, o WorkerOptions) error {
	w := NewWorker(c, o)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	<-ctx.Done()
	w.Stop()
	return nil
}
