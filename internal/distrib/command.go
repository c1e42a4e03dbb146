package distrib

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/pipeline"
)

// WorkerEngine parses `gyre worker --temporal`: the frontend's HOST:PORT,
// or an engine URL temporal://HOST:PORT?... (ParseEngine).
func WorkerEngine(hostPort string) (Engine, error) {
	if !strings.HasPrefix(hostPort, "temporal://") {
		hostPort = "temporal://" + hostPort
	}
	return ParseEngine(hostPort)
}

// Work runs a worker on eng's task queue until ctx ends (`gyre worker`):
// o.Identity defaults to PID@HOST, o.TaskQueue is eng's; n hears when it
// starts polling and when it stops.
func Work(ctx context.Context, eng Engine, o WorkerOptions, n Notes) error {
	if o.Identity == "" {
		host, _ := os.Hostname()
		o.Identity = fmt.Sprintf("%d@%s", os.Getpid(), host)
	}
	o.TaskQueue = eng.TaskQueue
	o.Slots = max(1, o.Slots)
	c, err := Dial(ctx, eng, o.Identity)
	if err != nil {
		return err
	}
	defer c.Close()
	n.info("worker %s: polling task queue %q of namespace %q at %s with %d slot(s) of %d core(s)",
		o.Identity, eng.TaskQueue, eng.Namespace, eng.HostPort, o.Slots, max(1, runtime.GOMAXPROCS(0)/o.Slots))
	if err := RunWorker(ctx, c, o); err != nil {
		return err
	}
	n.info("worker %s: stopped", o.Identity)
	return nil
}

// Triggers are what an engine runs a pipeline on: a cron expression
// ("" for none), and whether a watcher checks the new-data and alert
// triggers every Poll.
type Triggers struct {
	Spec  string
	Watch bool
	Poll  time.Duration
}

// ErrNoTrigger is a pipeline scheduled with no trigger to run on.
var ErrNoTrigger = errors.New("no trigger")

// CronError is a cron expression that does not parse.
type CronError struct{ Err error }

func (e *CronError) Error() string { return e.Err.Error() }
func (e *CronError) Unwrap() error { return e.Err }

// ProjectTriggers are p's triggers with the command's overrides: the cron
// expression spec (else triggers.schedule, checked: *CronError), the
// watcher when triggers.on_new_data or triggers.on_alert is set, polling
// every poll (else triggers.poll). ErrNoTrigger when there is none.
func ProjectTriggers(p *pipeline.Project, spec string, poll time.Duration) (Triggers, error) {
	t := Triggers{Spec: spec, Watch: p.Trigger.OnNewData || p.Trigger.OnAlert, Poll: poll}
	if t.Spec == "" {
		t.Spec = p.Trigger.Schedule
	}
	if t.Spec == "" && !t.Watch {
		return t, ErrNoTrigger
	}
	if t.Spec != "" {
		if err := pipeline.CheckCron(t.Spec); err != nil {
			return t, &CronError{Err: err}
		}
	}
	if t.Poll <= 0 {
		t.Poll = p.Trigger.Poll
	}
	return t, nil
}

// WriteText says what was set up on eng for the pipeline name.
func (s EngineSchedule) WriteText(w io.Writer, name string, eng Engine) {
	if s.Schedule != "" {
		fmt.Fprintf(w, "scheduled pipeline %s on %s: %s (Temporal schedule %s; runs never overlap)\n", name, eng.String(), s.Spec, s.Schedule)
	}
	if s.Watcher != "" {
		fmt.Fprintf(w, "watching pipeline %s's new-data and alert triggers every %s on %s (workflow %s)\n", name, s.Poll, eng.String(), s.Watcher)
	}
}
