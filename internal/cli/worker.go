package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/distrib"
	"github.com/gyre-ml/gyre/internal/pipeline"
)

func init() { register(newWorkerCmd) }

func newWorkerCmd(app *App) *cobra.Command {
	var (
		hostPort, namespace, queue, identity string
		slots                                int
	)
	cmd := &cobra.Command{
		Use:   "worker --temporal HOST:PORT [--namespace N] [--task-queue Q] [--slots N]",
		Short: "Run AutoML trials and pipeline steps for a Temporal cluster",
		Long: `Run as a Temporal worker: poll the task queue for AutoML trials (from
'gyre automl --engine temporal://...') and pipeline steps (from 'gyre pipeline
run --engine temporal://...' and pipeline schedules), and run them here. Start
any number of workers on any number of machines; Temporal spreads the work
and re-runs the trials of a worker that dies on another.

Workers read the data and write large results through the artifact store
that the work names (a directory every worker mounts at the same path, or an
s3:// URL; credentials from each worker's environment); --artifacts makes
this worker use another location for it.

--slots is how many trials run here at once; each fits GOMAXPROCS/slots
cross-validation folds at a time. The worker stops on SIGINT or SIGTERM,
letting running trials finish or be retried elsewhere.

TLS and API keys (a self-hosted cluster with mTLS, Temporal Cloud): give
--temporal as an engine URL with tls_ca, tls_cert, tls_key, tls_server_name
or api_key_env=VAR, or set Temporal's own variables TEMPORAL_TLS_CA,
TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY, TEMPORAL_TLS_SERVER_NAME and
TEMPORAL_API_KEY. The same settings apply to --engine URLs.`,
		Example: `  temporal server start-dev --ip 127.0.0.1 --port 7233 --headless   # a dev server
  gyre worker --temporal 127.0.0.1:7233 --slots 2
  gyre automl data.csv --target y --trials 64 --engine temporal://127.0.0.1:7233`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if hostPort == "" {
				return usageErrorf("worker: --temporal HOST:PORT is required (the Temporal frontend)")
			}
			if slots < 1 {
				return usageErrorf("worker: --slots %d: want at least 1", slots)
			}
			eng, err := distrib.WorkerEngine(hostPort)
			if err != nil {
				return usageErrorf("worker: --temporal: %v", err)
			}
			// the flags' defaults are the URL's: a flag given overrides it
			if cmd.Flags().Changed("namespace") {
				eng.Namespace = namespace
			}
			if cmd.Flags().Changed("task-queue") {
				eng.TaskQueue = queue
			}
			art := app.Artifacts
			if art != "" {
				if art, err = distrib.Location(art); err != nil {
					return usageErrorf("worker: --artifacts: %v", err)
				}
			}
			o := distrib.WorkerOptions{Slots: slots, Artifacts: art, Identity: identity}
			if err := distrib.Work(cmd.Context(), eng, o, distrib.Notes{Infof: app.infof}); err != nil {
				return failed(fmt.Errorf("worker: %w", err))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&hostPort, "temporal", "", "Temporal frontend HOST:PORT, or an engine URL temporal://HOST:PORT?namespace=N&tls_cert=...&api_key_env=VAR (required)")
	f.StringVar(&namespace, "namespace", distrib.DefaultNamespace, "Temporal namespace")
	f.StringVar(&queue, "task-queue", distrib.DefaultTaskQueue, "task queue to poll")
	f.IntVar(&slots, "slots", 1, "trials or pipeline steps run at once")
	f.StringVar(&identity, "identity", "", "worker name in Temporal (default PID@HOST)")
	return cmd
}

// infof prints a progress line on stderr unless --quiet or --json.
func (a *App) infof(format string, args ...any) {
	if a.Quiet || a.JSON {
		return
	}
	fmt.Fprintf(a.Stderr, format+"\n", args...)
}

// defaultEngineBatch is the batch of trials proposed at once on an engine
// when --batch is not given.
const defaultEngineBatch = 8

// pipelineEngine parses --engine and makes the workflow input naming the
// project and this process's stores.
func (a *App) pipelineEngine(engine, project, name, trigger string, runTimeout time.Duration) (distrib.Engine, distrib.PipelineInput, error) {
	if runTimeout < 0 {
		return distrib.Engine{}, distrib.PipelineInput{}, usageErrorf("pipeline: --run-timeout %v: want a positive duration such as 6h", runTimeout)
	}
	if err := a.localOnly("pipeline --engine", "the workers open the store's database and artifact store themselves"); err != nil {
		return distrib.Engine{}, distrib.PipelineInput{}, err
	}
	eng, err := distrib.ParseEngine(engine)
	if err != nil {
		return eng, distrib.PipelineInput{}, usageErrorf("pipeline: --engine: %v", err)
	}
	db, artifacts := a.storeLocations()
	in, err := distrib.NewPipelineInput(db, artifacts, project, name, trigger, Version)
	if err != nil {
		return eng, in, usageErrorf("pipeline: %v", err)
	}
	in.RunTimeout = runTimeout
	return eng, in, nil
}

// runPipelineOnEngine runs the pipeline on --engine and waits for the run.
func (a *App) runPipelineOnEngine(ctx context.Context, engine, project string, p *pipeline.Project, trigger string, runTimeout time.Duration) (*pipeline.Result, error) {
	eng, in, err := a.pipelineEngine(engine, project, p.Name, trigger, runTimeout)
	if err != nil {
		return nil, err
	}
	res, err := distrib.RunPipelineOn(ctx, eng, in, distrib.Notes{Infof: a.infof, Warnf: a.warnf})
	return res, failed(err)
}

// schedulePipelineOnEngine puts the pipeline's triggers on the engine: a
// Temporal Schedule for its cron expression (--cron, else
// triggers.schedule) and a watcher workflow for triggers.on_new_data and
// triggers.on_alert, polling every --poll (else triggers.poll).
func (a *App) schedulePipelineOnEngine(ctx context.Context, engine, project string, p *pipeline.Project, spec string, poll, runTimeout time.Duration) error {
	t, err := distrib.ProjectTriggers(p, spec, poll)
	switch {
	case errors.Is(err, distrib.ErrNoTrigger):
		return usageErrorf("pipeline schedule: no trigger: set --cron, or triggers.schedule, triggers.on_new_data or triggers.on_alert in %s", project)
	case err != nil:
		return usageErrorf("pipeline schedule: --cron: %v", err)
	}
	eng, in, err := a.pipelineEngine(engine, project, p.Name, "schedule", runTimeout)
	if err != nil {
		return err
	}
	s, err := distrib.ScheduleTriggersOn(ctx, eng, in, t.Spec, t.Watch, t.Poll)
	if err != nil {
		return failed(err)
	}
	if a.JSON {
		return a.printJSON(s)
	}
	s.WriteText(a.Stdout, p.Name, eng)
	return nil
}

func newPipelineUnscheduleCmd(app *App) *cobra.Command {
	var engine string
	cmd := &cobra.Command{
		Use:     "unschedule [gyre.yaml] --engine temporal://HOST:PORT",
		Short:   "Remove the pipeline's Temporal Schedule and trigger watcher (runs already started finish)",
		Example: `  gyre pipeline unschedule gyre.yaml --engine temporal://127.0.0.1:7233`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if engine == "" {
				return usageErrorf("pipeline unschedule: --engine is required (a schedule without an engine stops with Ctrl-C)")
			}
			eng, err := distrib.ParseEngine(engine)
			if err != nil {
				return usageErrorf("pipeline unschedule: --engine: %v", err)
			}
			p, err := pipeline.Load(projectArg(args))
			if err != nil {
				return usageErrorf("pipeline unschedule: %v", err)
			}
			sched, watcher, err := distrib.UnscheduleOn(cmd.Context(), eng, p.Name)
			if err != nil {
				return failed(err)
			}
			if !sched && !watcher {
				return failed(fmt.Errorf("pipeline unschedule: %s has no schedule or trigger watcher on %s", p.Name, eng.String()))
			}
			return app.done(map[string]any{"pipeline": p.Name, "schedule_deleted": sched, "watcher_cancelled": watcher},
				"unscheduled pipeline %s on %s (schedule deleted: %t, trigger watcher cancelled: %t)", p.Name, eng.String(), sched, watcher)
		},
	}
	cmd.Flags().StringVar(&engine, "engine", "", "the Temporal engine the pipeline is scheduled on: temporal://HOST:PORT")
	return cmd
}

func newPipelineCancelCmd(app *App) *cobra.Command {
	var engine string
	cmd := &cobra.Command{
		Use:     "cancel RUN --engine temporal://HOST:PORT",
		Short:   "Cancel a pipeline run on the engine (its running step with it)",
		Example: `  gyre pipeline cancel 6f1c2d0e-8a4b-4c1e-9d7f-0b2a3c4d5e6f --engine temporal://127.0.0.1:7233`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if engine == "" {
				return usageErrorf("pipeline cancel: --engine is required (runs without an engine stop with Ctrl-C)")
			}
			eng, err := distrib.ParseEngine(engine)
			if err != nil {
				return usageErrorf("pipeline cancel: --engine: %v", err)
			}
			if err := distrib.CancelPipelineOn(cmd.Context(), eng, args[0]); err != nil {
				return failed(err)
			}
			return app.done(map[string]string{"cancelled": args[0]}, "cancelled pipeline run %s", args[0])
		},
	}
	cmd.Flags().StringVar(&engine, "engine", "", "the Temporal engine the run is on: temporal://HOST:PORT")
	return cmd
}
