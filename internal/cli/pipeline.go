package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/pipeline"
)

func init() { register(newPipelineCmd) }

func newPipelineCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pipeline",
		Short: "Run, schedule and inspect retraining pipelines declared in gyre.yaml",
		Long: `A pipeline retrains the model a gyre.yaml project declares:

  ingest → validate → prepare → train → evaluate → gate → register → promote

Each step is cached by the content hash of its inputs and configuration, so
re-running an unchanged pipeline does no work. The gate compares the candidate
with the production model on the same fresh holdout and requires the goals and
gate.min_gain; only then is it registered and the alias moved (servers
watching NAME@ALIAS switch to it). 'gyre init' writes a project file.`,
		Example: `  gyre init data.csv --target cnt --name bike
  gyre pipeline run gyre.yaml
  gyre pipeline schedule gyre.yaml --cron "0 3 * * *"
  gyre pipeline status gyre.yaml`,
	}
	cmd.AddCommand(newPipelineRunCmd(app), newPipelineScheduleCmd(app), newPipelineStatusCmd(app), newPipelineCancelCmd(app), newPipelineUnscheduleCmd(app))
	return cmd
}

func projectArg(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	return "gyre.yaml"
}

func (a *App) pipelineEnv(ctx context.Context) (*pipeline.Env, *stores, error) {
	if err := a.localOnly("pipeline run and schedule", "a run's records, step cache and run lock are tables of the store the server's API does not serve (gyre pipeline status does go through it)"); err != nil {
		return nil, nil, err
	}
	st, err := a.openStores(ctx)
	if err != nil {
		return nil, nil, err
	}
	env := &pipeline.Env{DB: st.DB, Blobs: st.Blobs, Tracker: st.Tracker, Registry: st.Registry, Datasets: st.Datasets, GyreVersion: Version}
	if !a.JSON && !a.Quiet {
		env.Progress = func(s pipeline.StepResult) { s.WriteText(a.Stderr) }
	}
	return env, st, nil
}

func newPipelineRunCmd(app *App) *cobra.Command {
	var trigger, engine string
	var runTimeout time.Duration
	cmd := &cobra.Command{
		Use:   "run [gyre.yaml]",
		Short: "Run the pipeline once (unchanged steps are cached)",
		Example: `  gyre pipeline run
  gyre pipeline run projects/bike/gyre.yaml --json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, err := pipeline.Load(projectArg(args))
			if err != nil {
				return usageErrorf("pipeline run: %v", err)
			}
			if engine != "" {
				res, err := app.runPipelineOnEngine(ctx, engine, projectArg(args), p, trigger, runTimeout)
				if err != nil {
					return err
				}
				return reportPipeline(app, res)
			}
			env, st, err := app.pipelineEnv(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			if env.Progress != nil {
				fmt.Fprintf(app.Stderr, "pipeline %s (%s)\n", p.Name, projectArg(args))
			}
			res, err := pipeline.Run(ctx, env, p, pipeline.Options{Trigger: trigger})
			if err != nil {
				if pipeline.IsBusy(err) {
					return failed(err)
				}
				if res != nil && app.JSON {
					app.printJSON(res)
				}
				return failed(err)
			}
			return reportPipeline(app, res)
		},
	}
	cmd.Flags().StringVar(&trigger, "trigger", "manual", "why the pipeline runs (recorded with the run)")
	cmd.Flags().StringVar(&engine, "engine", "", "run each step as an activity on Temporal workers: temporal://HOST:PORT (see 'gyre worker')")
	cmd.Flags().DurationVar(&runTimeout, "run-timeout", 0, "with --engine: how long the run may take, waiting for a worker included (default 24h)")
	return cmd
}

func reportPipeline(app *App, res *pipeline.Result) error {
	if err := app.print(res); err != nil {
		return err
	}
	if res.Status == "rejected" {
		return fmt.Errorf("pipeline %s: the gate rejected the candidate: %w", res.Pipeline, ErrCheckFailed)
	}
	return nil
}

func newPipelineScheduleCmd(app *App) *cobra.Command {
	var cronSpec, engine string
	var poll, runTimeout time.Duration
	cmd := &cobra.Command{
		Use:   "schedule [gyre.yaml]",
		Short: "Run the pipeline on its triggers: cron schedule, new data, monitoring alerts",
		Long: `Keep running, and run the pipeline when a trigger fires: the cron expression
(--cron or triggers.schedule), a new version of the source data
(triggers.on_new_data) or a drift or decay alert on the production model's
logged predictions (triggers.on_alert, with the project's monitor settings).
Runs never overlap; a trigger that fires during a run collapses into it.
SIGTERM or Ctrl-C stops after the current run.`,
		Example: `  gyre pipeline schedule gyre.yaml --cron "0 3 * * *"
  gyre pipeline schedule --cron "@every 6h" --poll 5m
  gyre pipeline schedule gyre.yaml --engine temporal://127.0.0.1:7233`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			p, err := pipeline.Load(projectArg(args))
			if err != nil {
				return usageErrorf("pipeline schedule: %v", err)
			}
			if engine != "" {
				return app.schedulePipelineOnEngine(ctx, engine, projectArg(args), p, cronSpec, poll, runTimeout)
			}
			env, st, err := app.pipelineEnv(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			o := pipeline.ScheduleOptions{Cron: cronSpec, Poll: poll,
				Alert: pipeline.AlertCheck(env, p),
				OnRun: func(trigger string, res *pipeline.Result, err error) {
					switch {
					case err != nil && pipeline.IsBusy(err):
						fmt.Fprintf(app.Stderr, "gyre: %s: %v\n", trigger, err)
					case err != nil:
						fmt.Fprintf(app.Stderr, "gyre: %s: pipeline failed: %v\n", trigger, err)
					case app.JSON:
						app.printJSON(res)
					default:
						res.WriteTriggered(app.Stdout, trigger, time.Now())
					}
				}}
			if cronSpec != "" {
				if err := pipeline.CheckCron(cronSpec); err != nil {
					return usageErrorf("pipeline schedule: --cron: %v", err)
				}
			}
			if !app.JSON {
				fmt.Fprintf(app.Stderr, "gyre: scheduling pipeline %s (Ctrl-C to stop)\n", p.Name)
			}
			if err := pipeline.Schedule(ctx, env, p, o); err != nil {
				return usageErrorf("%v", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&cronSpec, "cron", "", `cron expression ("MIN HOUR DOM MON DOW", @daily, @every 6h); default triggers.schedule`)
	cmd.Flags().DurationVar(&poll, "poll", 0, "how often new data and alerts are checked (default triggers.poll, else 1m)")
	cmd.Flags().StringVar(&engine, "engine", "", "put the triggers on Temporal instead, and exit: a Schedule for the cron expression, a watcher workflow for new data and alerts (temporal://HOST:PORT)")
	cmd.Flags().DurationVar(&runTimeout, "run-timeout", 0, "with --engine: how long one run may take, waiting for a worker included (default 24h)")
	return cmd
}

func newPipelineStatusCmd(app *App) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:     "status [gyre.yaml]",
		Short:   "List the pipeline's recent runs",
		Example: `  gyre pipeline status gyre.yaml --limit 5`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, err := pipeline.Load(projectArg(args))
			if err != nil {
				return usageErrorf("pipeline status: %v", err)
			}
			runs, err := app.pipelineRuns(ctx, p.Name, limit)
			if err != nil {
				return err
			}
			if app.JSON {
				return app.printJSON(map[string]any{"pipeline": p.Name, "runs": runs})
			}
			if len(runs) == 0 {
				fmt.Fprintf(app.Stdout, "pipeline %s has not run yet: gyre pipeline run %s\n", p.Name, projectArg(args))
				return nil
			}
			return pipeline.WriteRuns(app.Stdout, runs)
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "runs to list")
	return cmd
}

// pipelineRuns lists a pipeline's recent runs from the team server when
// one is configured, else from the local store.
func (a *App) pipelineRuns(ctx context.Context, name string, limit int) ([]pipeline.RunInfo, error) {
	b, err := a.openBackend(ctx)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	runs, err := b.PipelineRuns(ctx, name, limit)
	return runs, storeError(err)
}
