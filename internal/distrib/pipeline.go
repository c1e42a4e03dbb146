package distrib

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/pipeline"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/track"
)

// Names of the pipeline workflow, its step activity, signal and query.
const (
	PipelineWorkflowName = "gyre.pipeline"
	stepActivityName     = "gyre.pipeline.step"
	triggerSignal        = "trigger"
	pipelineQuery        = "status"
	errBusy              = "gyre.Busy"
)

// PipelineInput starts a PipelineWorkflow: which project, against which
// stores. Workers open the same locations, so the project file and its data
// must be at the same path on every worker (a shared file system), and the
// metadata store should be PostgreSQL when workers are on several machines.
type PipelineInput struct {
	// Name is the pipeline's name (the project's).
	Name string `json:"name"`
	// Project is the gyre.yaml path (absolute).
	Project string `json:"project"`
	// Store and Artifacts are the metadata and artifact store locations.
	Store     string `json:"store"`
	Artifacts string `json:"artifacts"`
	Trigger   string `json:"trigger"`
	// StepTimeout bounds one step attempt; Retries is how many attempts a
	// step gets.
	StepTimeout time.Duration `json:"step_timeout"`
	Retries     int32         `json:"retries"`
	// RunTimeout bounds the whole run, queueing included (default
	// DefaultRunTimeout): past it the run fails and its pipeline is free
	// for the next trigger.
	RunTimeout time.Duration `json:"run_timeout,omitempty"`
	// GyreVersion is stamped into the bundles the run builds.
	GyreVersion string `json:"gyre_version"`
}

// PipelineOutcome is a PipelineWorkflow's result.
type PipelineOutcome struct {
	pipeline.Result
	// Recorded lists the triggers that arrived while the run was active:
	// recorded, not started (one run per pipeline at a time).
	Recorded []string `json:"recorded_triggers,omitempty"`
}

// PipelineStatus answers the "status" query.
type PipelineStatus struct {
	Step     string   `json:"step"`
	Done     []string `json:"done"`
	Recorded []string `json:"recorded_triggers,omitempty"`
}

type stepInput struct {
	PipelineInput
	Step        string `json:"step"`
	ID          string `json:"id"`
	ParentRunID string `json:"parent_run_id"`
}

// PipelineWorkflow runs a project's pipeline, each step an activity with
// its own retries; the step cache and the records live in the project's
// store. The run's id is the workflow run's id. A gate rejection ends the
// run; a "trigger" signal while it runs is recorded in the outcome.
func PipelineWorkflow(ctx workflow.Context, in PipelineInput) (PipelineOutcome, error) {
	var out PipelineOutcome
	status := PipelineStatus{}
	ch := workflow.GetSignalChannel(ctx, triggerSignal)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var reason string
			if !ch.Receive(ctx, &reason) {
				return
			}
			// each reason once: a watcher that polls during a long run
			// finds the same new data or alert at every poll
			if !slices.Contains(out.Recorded, reason) {
				out.Recorded = append(out.Recorded, reason)
				status.Recorded = out.Recorded
			}
		}
	})
	if err := workflow.SetQueryHandler(ctx, pipelineQuery, func() (PipelineStatus, error) { return status, nil }); err != nil {
		return out, err
	}
	timeout := in.StepTimeout
	if timeout <= 0 {
		timeout = 6 * time.Hour
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: timeout,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			MaximumAttempts: max(1, in.Retries), NonRetryableErrorTypes: []string{errBadInput, errBusy}},
	})
	id := workflow.GetInfo(ctx).WorkflowExecution.RunID
	parent := ""
	ran := false
	for _, step := range pipeline.Steps {
		status.Step = step
		var res pipeline.Result
		err := workflow.ExecuteActivity(actx, stepActivityName, stepInput{PipelineInput: in, Step: step, ID: id, ParentRunID: parent}).Get(ctx, &res)
		var ae *temporal.ApplicationError
		if errors.As(err, &ae) && ae.Type() == errBusy {
			out.Status = "busy"
			out.Pipeline, out.Trigger = in.Name, in.Trigger
			out.Recorded = append(out.Recorded, in.Trigger)
			return out, nil
		}
		if err != nil {
			return out, err
		}
		parent = res.RunID
		for _, s := range res.Steps {
			if s.Step == step {
				out.Steps = append(out.Steps, s)
				ran = ran || s.Status == "done"
			}
		}
		status.Done = append(status.Done, step)
		out.ID, out.Pipeline, out.Trigger, out.RunID, out.Version, out.Gate = res.ID, res.Pipeline, res.Trigger, res.RunID, res.Version, res.Gate
		out.Seconds += res.Seconds
		if res.Status != "" {
			out.Status = res.Status
			if res.Status == "rejected" {
				for _, s := range res.Steps {
					if s.Status == "skipped" {
						out.Steps = append(out.Steps, s)
					}
				}
			}
			break
		}
	}
	if out.Status == "unchanged" && ran {
		out.Status = "promoted" // steps ran in earlier activities
	}
	status.Step = ""
	return out, nil
}

// pipelineActivities run pipeline steps against the stores they name,
// opened once per location.
type pipelineActivities struct {
	mu   sync.Mutex
	envs map[string]*pipeline.Env
}

func (a *pipelineActivities) env(ctx context.Context, in PipelineInput) (*pipeline.Env, error) {
	key := in.Store + "\x00" + in.Artifacts
	a.mu.Lock()
	defer a.mu.Unlock()
	if e, ok := a.envs[key]; ok {
		return e, nil
	}
	db, err := sqlstore.Open(ctx, in.Store)
	if err != nil {
		return nil, err
	}
	bs, err := blob.Open(ctx, in.Artifacts)
	if err != nil {
		db.Close()
		return nil, err
	}
	tr := track.New(db, bs)
	tr.Version = in.GyreVersion
	e := &pipeline.Env{DB: db, Blobs: bs, Tracker: tr, Registry: registry.New(db, bs), Datasets: dataset.New(db, bs), GyreVersion: in.GyreVersion}
	if a.envs == nil {
		a.envs = map[string]*pipeline.Env{}
	}
	a.envs[key] = e
	return e, nil
}

// Step runs the pipeline through one step (the earlier ones are cache
// hits), heartbeating meanwhile.
func (a *pipelineActivities) Step(ctx context.Context, in stepInput) (*pipeline.Result, error) {
	p, err := pipeline.Load(in.Project)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), errBadInput, err)
	}
	env, err := a.env(ctx, in.PipelineInput)
	if err != nil {
		return nil, err
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx, in.Step)
			}
		}
	}()
	res, err := pipeline.Run(ctx, env, p, pipeline.Options{Trigger: in.Trigger, ID: in.ID, ParentRunID: in.ParentRunID, Through: in.Step})
	var ie interface{ InputError() bool }
	switch {
	case err == nil:
		return res, nil
	case pipeline.IsBusy(err):
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), errBusy, err)
	case errors.As(err, &ie) && ie.InputError():
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), errBadInput, err)
	}
	return nil, err
}

// PipelineWorkflowID is the workflow ID of a pipeline's runs started by
// StartPipeline: one at a time per pipeline.
func PipelineWorkflowID(name string) string { return "gyre-pipeline-" + name }

// StartPipeline starts a run of the named pipeline, unless one is active:
// then the trigger is signalled to it (recorded, not started) and started
// is false. The run handle is the active or new run.
func StartPipeline(ctx context.Context, c client.Client, taskQueue, name string, in PipelineInput) (run client.WorkflowRun, started bool, err error) {
	id := PipelineWorkflowID(name)
	o := client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue, WorkflowRunTimeout: runTimeout(in.RunTimeout),
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		Memo:                     map[string]any{"pipeline": name, "trigger": in.Trigger}}
	run, err = c.ExecuteWorkflow(ctx, o, PipelineWorkflowName, in)
	if err == nil {
		return run, true, nil
	}
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if !errors.As(err, &already) {
		return nil, false, fmt.Errorf("start pipeline %s: %w", name, err)
	}
	if err := c.SignalWorkflow(ctx, id, "", triggerSignal, in.Trigger); err != nil {
		return nil, false, fmt.Errorf("pipeline %s: record trigger: %w", name, err)
	}
	return c.GetWorkflow(ctx, id, ""), false, nil
}

// SchedulePipeline creates, or replaces, the Temporal Schedule that starts
// the named pipeline on spec: a cron expression or "@every DURATION".
// Overlapping runs are skipped; each run is bounded by in.RunTimeout, so a
// run that cannot start (no worker polls the task queue) does not hold the
// schedule for longer. It returns the schedule's ID.
func SchedulePipeline(ctx context.Context, c client.Client, taskQueue, name, spec string, in PipelineInput) (string, error) {
	id := PipelineWorkflowID(name) + "-schedule"
	var ss client.ScheduleSpec
	if d, ok := strings.CutPrefix(spec, "@every "); ok {
		every, err := time.ParseDuration(strings.TrimSpace(d))
		if err != nil || every <= 0 {
			return "", fmt.Errorf("schedule %q: want @every DURATION such as @every 6h", spec)
		}
		ss.Intervals = []client.ScheduleIntervalSpec{{Every: every}}
	} else {
		ss.CronExpressions = []string{spec}
	}
	in.Trigger = "schedule"
	action := &client.ScheduleWorkflowAction{ID: PipelineWorkflowID(name), Workflow: PipelineWorkflowName, Args: []any{in}, TaskQueue: taskQueue,
		WorkflowRunTimeout: runTimeout(in.RunTimeout),
		Memo:               map[string]any{"pipeline": name, "trigger": "schedule"}}
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{ID: id, Spec: ss, Action: action, Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		Memo: map[string]any{"pipeline": name}})
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return "", fmt.Errorf("schedule pipeline %s: %w", name, err)
	}
	h := c.ScheduleClient().GetHandle(ctx, id)
	err = h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(u client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		s := u.Description.Schedule
		s.Spec, s.Action = &ss, action
		s.Policy.Overlap = enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
		return &client.ScheduleUpdate{Schedule: &s}, nil
	}})
	if err != nil {
		return "", fmt.Errorf("update schedule of pipeline %s: %w", name, err)
	}
	return id, nil
}

// CancelPipeline cancels the pipeline run with that id (its workflow's run
// ID), and with it its running step.
func CancelPipeline(ctx context.Context, c client.Client, runID string) error {
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("RunId = '%s' AND WorkflowType = '%s'", strings.ReplaceAll(runID, "'", ""), PipelineWorkflowName)})
	if err != nil {
		return fmt.Errorf("cancel pipeline run %s: %w", runID, err)
	}
	if len(resp.GetExecutions()) == 0 {
		return fmt.Errorf("cancel pipeline run %s: no such run on this engine", runID)
	}
	e := resp.GetExecutions()[0]
	if e.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return fmt.Errorf("cancel pipeline run %s: it is %s, not running", runID, strings.ToLower(strings.TrimPrefix(e.GetStatus().String(), "WORKFLOW_EXECUTION_STATUS_")))
	}
	if err := c.CancelWorkflow(ctx, e.GetExecution().GetWorkflowId(), runID); err != nil {
		return fmt.Errorf("cancel pipeline run %s: %w", runID, err)
	}
	return nil
}
