package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/gyre-ml/gyre/internal/dataset"
)

// parseCron parses a standard 5-field cron expression or a descriptor
// (@daily, @hourly, @every 30m, ...).
func parseCron(spec string) (cron.Schedule, error) {
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("cron expression %q: %v (want 5 fields \"MIN HOUR DOM MON DOW\", e.g. \"0 3 * * *\", or @daily, @every 6h)", spec, err)
	}
	return s, nil
}

// ScheduleOptions configure Schedule.
type ScheduleOptions struct {
	// Cron overrides the project's triggers.schedule ("" = the project's).
	Cron string
	// Poll is how often new data and alerts are checked (default: the
	// project's triggers.poll, else 1m).
	Poll time.Duration
	// Alert, when set and the project enables triggers.on_alert, is asked
	// every Poll whether monitoring raises an alert; a non-empty reason
	// triggers a run.
	Alert func(ctx context.Context) (reason string, err error)
	// OnRun receives every run's result or error (a collapsed trigger gives
	// an error wrapping ErrBusy).
	OnRun func(trigger string, res *Result, err error)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Schedule runs the pipeline on its triggers until ctx ends: at the cron
// schedule's times, when the source data changes (triggers.on_new_data)
// and when monitoring alerts (triggers.on_alert). Runs never overlap: a
// trigger that fires while a run is in progress, here or in another process,
// collapses into it.
func Schedule(ctx context.Context, env *Env, p *Project, o ScheduleOptions) error {
	spec := o.Cron
	if spec == "" {
		spec = p.Trigger.Schedule
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	var sched cron.Schedule
	if spec != "" {
		s, err := parseCron(spec)
		if err != nil {
			return fmt.Errorf("pipeline %s: schedule: %w", p.Name, err)
		}
		sched = s
	}
	poll := o.Poll
	if poll <= 0 {
		poll = p.Trigger.Poll
	}
	if poll <= 0 {
		poll = time.Minute
	}
	watchData, watchAlert := p.Trigger.OnNewData, p.Trigger.OnAlert && o.Alert != nil
	alertFn := o.Alert
	if sched == nil && !watchData && !watchAlert {
		return fmt.Errorf("pipeline %s: schedule: no trigger: set triggers.schedule, triggers.on_new_data or triggers.on_alert", p.Name)
	}
	run := func(trigger string) {
		res, err := Run(ctx, env, p, Options{Trigger: trigger})
		if o.OnRun != nil {
			o.OnRun(trigger, res, err)
		}
	}
	var cronC <-chan time.Time
	var timer *time.Timer
	arm := func() {
		if sched == nil {
			return
		}
		d := sched.Next(now()).Sub(now())
		if timer == nil {
			timer = time.NewTimer(d)
		} else {
			timer.Reset(d)
		}
		cronC = timer.C
	}
	arm()
	var pollC <-chan time.Time
	if watchData || watchAlert {
		t := time.NewTicker(poll)
		defer t.Stop()
		pollC = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-cronC:
			run("schedule " + spec)
			arm()
		case <-pollC:
			reason, err := Due(ctx, env, p, alertFn)
			switch {
			case err != nil && o.OnRun != nil:
				o.OnRun("trigger check", nil, err)
			case err == nil && reason != "":
				run(reason)
			}
		}
	}
}

// Due reports why the project's data and alert triggers call for a run now,
// or "" when neither does: "new data version" when triggers.on_new_data is
// set and the source's content differs from what the pipeline last
// validated (the check versions the source), else "alert: KINDS" when
// triggers.on_alert is set and alert (AlertCheck's check; nil checks no
// alerts) raises one. Schedule polls it, and so does the engine's trigger
// watcher.
func Due(ctx context.Context, env *Env, p *Project, alert func(context.Context) (string, error)) (string, error) {
	if p.Trigger.OnNewData {
		changed, err := dataChanged(ctx, env, p)
		if err != nil {
			return "", fmt.Errorf("pipeline %s: new-data check: %w", p.Name, err)
		}
		if changed {
			return "new data version", nil
		}
	}
	if p.Trigger.OnAlert && alert != nil {
		reason, err := alert(ctx)
		if err != nil {
			return "", fmt.Errorf("pipeline %s: alert check: %w", p.Name, err)
		}
		if reason != "" {
			return "alert: " + reason, nil
		}
	}
	return "", nil
}

// dataChanged versions the source (a file by its bytes; a URL source by
// pulling it) and reports whether its content differs from what the
// pipeline last ingested.
func dataChanged(ctx context.Context, env *Env, p *Project) (bool, error) {
	q := p.withDefaults()
	var res *dataset.Result
	var err error
	if pulledSource(q.Data.Source) {
		res, _, err = pull(ctx, env, q)
	} else {
		res, err = env.Datasets.Version(ctx, q.Resolve(q.Data.Source), q.Data.Dataset)
	}
	if err != nil {
		return false, err
	}
	key := hashKey("ingest", res.Blob.Digest)
	var n int
	// the validate step's cache key chains the ingest key; a completed
	// validate with this data means the pipeline has seen it
	err = env.DB.QueryRowContext(ctx, "SELECT COUNT(*) FROM pipeline_steps WHERE pipeline = ? AND step = 'validate' AND cache_key = ?",
		q.Name, hashKey("validate", key, contractDigest(q))).Scan(&n)
	if err != nil {
		return false, err
	}
	return n == 0, nil
}

func contractDigest(p *Project) string {
	if p.Data.Contract == "" {
		return ""
	}
	b, err := readFile(p.Resolve(p.Data.Contract))
	if err != nil {
		return ""
	}
	return digestBytes(b)
}

// IsBusy reports whether err says the pipeline was already running.
func IsBusy(err error) bool { return errors.Is(err, ErrBusy) }

// CheckCron reports whether spec is a valid cron expression for Schedule.
func CheckCron(spec string) error {
	_, err := parseCron(spec)
	return err
}
