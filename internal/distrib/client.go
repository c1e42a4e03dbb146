package distrib

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/pipeline"
)

// Notes receive what a client of the engine reports while it works:
// progress lines (Infof) and problems worked around (Warnf). A nil
// function prints nothing.
type Notes struct {
	Infof, Warnf func(format string, args ...any)
}

func (n Notes) info(format string, args ...any) {
	if n.Infof != nil {
		n.Infof(format, args...)
	}
}

func (n Notes) warn(format string, args ...any) {
	if n.Warnf != nil {
		n.Warnf(format, args...)
	}
}

// Location makes a directory location absolute, so that workers on the
// same file system open the same directory; URLs pass unchanged.
func Location(loc string) (string, error) {
	if strings.Contains(loc, "://") && !strings.HasPrefix(loc, "file://") {
		return loc, nil
	}
	return filepath.Abs(strings.TrimPrefix(loc, "file://"))
}

// NewPipelineInput is the workflow input of a run of the project file at
// project, named name, against the metadata store and artifact store at
// those locations: made absolute, so that workers on the same file system
// open them too (a postgres:// store passes as it is).
func NewPipelineInput(store, artifacts, project, name, trigger, gyreVersion string) (PipelineInput, error) {
	in := PipelineInput{Name: name, Trigger: trigger, Retries: 3, GyreVersion: gyreVersion}
	var err error
	if in.Store, err = Location(store); err == nil {
		in.Artifacts, err = Location(artifacts)
	}
	if err == nil {
		in.Project, err = filepath.Abs(project)
	}
	if err != nil {
		return in, err
	}
	if strings.HasPrefix(store, "postgres") {
		in.Store = store
	}
	return in, nil
}

// clientIdentity names this process to Temporal as a client of kind.
func clientIdentity(kind string) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("gyre-%s-%d@%s", kind, os.Getpid(), host)
}

// RunPipelineOn starts a run of in's pipeline on eng (or, when a run is
// active, signals the trigger to it and fails with pipeline.ErrBusy) and
// waits for its result; cancelling ctx cancels the run.
func RunPipelineOn(ctx context.Context, eng Engine, in PipelineInput, n Notes) (*pipeline.Result, error) {
	c, err := Dial(ctx, eng, clientIdentity("pipeline"))
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	defer c.Close()
	run, started, err := StartPipeline(ctx, c, eng.TaskQueue, in.Name, in)
	if err != nil {
		return nil, err
	}
	if !started {
		return nil, fmt.Errorf("pipeline %s: a run is active (workflow %s, run %s): trigger %q recorded, not started: %w",
			in.Name, run.GetID(), run.GetRunID(), in.Trigger, pipeline.ErrBusy)
	}
	n.info("pipeline %s: run %s on %s (workflow %s)", in.Name, run.GetRunID(), eng.String(), run.GetID())
	var out PipelineOutcome
	if err := run.Get(ctx, &out); err != nil {
		if ctx.Err() != nil {
			cctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
			defer stop()
			if cerr := c.CancelWorkflow(cctx, run.GetID(), run.GetRunID()); cerr != nil {
				n.warn("pipeline %s: cancel run %s: %v", in.Name, run.GetRunID(), cerr)
			}
		}
		return nil, fmt.Errorf("pipeline %s: run %s: %w", in.Name, run.GetRunID(), err)
	}
	for _, r := range out.Recorded {
		n.info("pipeline %s: trigger %q arrived during the run: recorded, not started", in.Name, r)
	}
	if out.Status == "busy" {
		return nil, fmt.Errorf("pipeline %s: another run holds the pipeline's lock: %w", in.Name, pipeline.ErrBusy)
	}
	return &out.Result, nil
}

// CancelPipelineOn cancels the pipeline run runID on eng (see
// CancelPipeline).
func CancelPipelineOn(ctx context.Context, eng Engine, runID string) error {
	c, err := Dial(ctx, eng, "")
	if err != nil {
		return err
	}
	defer c.Close()
	return CancelPipeline(ctx, c, runID)
}

// SearchOptions describe a search whose trials StartSearch hands to the
// engine.
type SearchOptions struct {
	// Artifacts is the artifact store's location as workers open it
	// (see Location); Blobs is that store opened, or nil to open it.
	Artifacts string
	Blobs     blob.Store
	// RunID names the search's workflow (gyre-automl-RUNID); "" picks a
	// random name.
	RunID string
	// Source, Trials, Budget and Seed describe the search in its
	// workflow's input.
	Source string
	Trials int
	Budget time.Duration
	Seed   uint64
	// Warnf reports retries while the engine is unreachable.
	Warnf func(format string, args ...any)
}

// StartSearch connects to eng and returns the executor of one search's
// trials; End it when the search returns.
func StartSearch(ctx context.Context, eng Engine, o SearchOptions) (*Executor, error) {
	blobs := o.Blobs
	if blobs == nil {
		var err error
		if blobs, err = blob.Open(ctx, o.Artifacts); err != nil {
			return nil, err
		}
	}
	c, err := Dial(ctx, eng, clientIdentity("automl"))
	if err != nil {
		return nil, err
	}
	id := o.RunID
	if id == "" {
		var b [8]byte
		rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	x := NewExecutor(c, eng, blobs, o.Artifacts, "gyre-automl-"+id)
	x.Source, x.Trials, x.Budget, x.Seed, x.Logf = o.Source, o.Trials, o.Budget, o.Seed, o.Warnf
	return x, nil
}

// End finishes the search's workflow with the search's outcome (see
// Finish, given 30 seconds) and closes the executor's client.
func (x *Executor) End(err error) error {
	ctx, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	defer x.c.Close()
	return x.Finish(ctx, err)
}

// EngineSchedule is what ScheduleTriggersOn set up on the engine.
type EngineSchedule struct {
	// Schedule is the Temporal Schedule's ID ("" without a cron spec);
	// Watcher is the trigger watcher's workflow ID ("" when the project
	// has neither triggers.on_new_data nor triggers.on_alert).
	Schedule string `json:"schedule,omitempty"`
	Watcher  string `json:"watcher,omitempty"`
	Spec     string `json:"spec,omitempty"`
	Poll     string `json:"poll,omitempty"`
}

// ScheduleTriggersOn puts in's pipeline's triggers on eng: a Temporal
// Schedule for spec (a cron expression; "" for none, see
// SchedulePipeline), and, when watch is set, a trigger watcher that checks
// the data and alert triggers every poll (see WatchWorkflow). Both replace
// the ones set up before.
func ScheduleTriggersOn(ctx context.Context, eng Engine, in PipelineInput, spec string, watch bool, poll time.Duration) (EngineSchedule, error) {
	var s EngineSchedule
	c, err := Dial(ctx, eng, clientIdentity("pipeline"))
	if err != nil {
		return s, fmt.Errorf("pipeline: %w", err)
	}
	defer c.Close()
	if spec != "" {
		if s.Schedule, err = SchedulePipeline(ctx, c, eng.TaskQueue, in.Name, spec, in); err != nil {
			return s, err
		}
		s.Spec = spec
	}
	if watch {
		if poll <= 0 {
			poll = time.Minute
		}
		if s.Watcher, err = WatchPipeline(ctx, c, eng.TaskQueue, WatchInput{PipelineInput: in, Poll: poll}); err != nil {
			return s, err
		}
		s.Poll = poll.String()
	}
	return s, nil
}

// UnscheduleOn removes the named pipeline's schedule and trigger watcher
// from eng (see Unschedule).
func UnscheduleOn(ctx context.Context, eng Engine, name string) (schedule, watcher bool, err error) {
	c, err := Dial(ctx, eng, clientIdentity("pipeline"))
	if err != nil {
		return false, false, fmt.Errorf("pipeline: %w", err)
	}
	defer c.Close()
	return Unschedule(ctx, c, name)
}
