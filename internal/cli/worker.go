package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/gyre-ml/gyre/internal/automl"
	"github.com/gyre-ml/gyre/internal/blob"
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
letting running trials finish or be retried elsewhere.`,
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
			eng, err := distrib.ParseEngine("temporal://" + hostPort)
			if err != nil {
				return usageErrorf("worker: --temporal: %v", err)
			}
			eng.Namespace, eng.TaskQueue = namespace, queue
			if identity == "" {
				host, _ := os.Hostname()
				identity = fmt.Sprintf("%d@%s", os.Getpid(), host)
			}
			ctx := cmd.Context()
			c, err := distrib.Dial(ctx, eng, identity)
			if err != nil {
				return failed(fmt.Errorf("worker: %w", err))
			}
			defer c.Close()
			art := app.Artifacts
			if art != "" {
				if art, err = storeLocation(art); err != nil {
					return usageErrorf("worker: --artifacts: %v", err)
				}
			}
			app.infof("worker %s: polling task queue %q of namespace %q at %s with %d slot(s) of %d core(s)",
				identity, eng.TaskQueue, eng.Namespace, eng.HostPort, slots, max(1, runtime.GOMAXPROCS(0)/slots))
			if err := distrib.RunWorker(ctx, c, distrib.WorkerOptions{TaskQueue: eng.TaskQueue, Slots: slots, Artifacts: art, Identity: identity}); err != nil {
				return failed(fmt.Errorf("worker: %w", err))
			}
			app.infof("worker %s: stopped", identity)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&hostPort, "temporal", "", "Temporal frontend HOST:PORT (required)")
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

// storeLocation makes a directory location absolute, so that workers on
// the same file system open the same directory; URLs pass unchanged.
func storeLocation(loc string) (string, error) {
	if strings.Contains(loc, "://") && !strings.HasPrefix(loc, "file://") {
		return loc, nil
	}
	path := strings.TrimPrefix(loc, "file://")
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return abs, nil
}

// defaultEngineBatch is the batch of trials proposed at once on an engine
// when --batch is not given.
const defaultEngineBatch = 8

// engineSearch connects an AutoML search to --engine: it returns the
// executor for the search's options (nil without an engine) and the
// function that ends its workflow once the search returns.
func (a *App) engineSearch(ctx context.Context, engine string, blobs blob.Store, runID, source string, o automlFlags) (*distrib.Executor, func(error), error) {
	eng, err := distrib.ParseEngine(engine)
	if err != nil {
		return nil, nil, usageErrorf("automl: --engine: %v", err)
	}
	_, artifacts := a.storeLocations()
	loc, err := storeLocation(artifacts)
	if err != nil {
		return nil, nil, usageErrorf("automl: artifact store %s: %v", artifacts, err)
	}
	if blobs == nil {
		if blobs, err = blob.Open(ctx, loc); err != nil {
			return nil, nil, failed(fmt.Errorf("automl: %w", err))
		}
	}
	host, _ := os.Hostname()
	c, err := distrib.Dial(ctx, eng, fmt.Sprintf("gyre-automl-%d@%s", os.Getpid(), host))
	if err != nil {
		return nil, nil, failed(fmt.Errorf("automl: %w", err))
	}
	id := runID
	if id == "" {
		var b [8]byte
		rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	x := distrib.NewExecutor(c, eng, blobs, loc, "gyre-automl-"+id)
	x.Source, x.Trials, x.Budget, x.Seed = source, o.trials, o.budget, o.seed
	x.Logf = func(format string, args ...any) { a.warnf(format, args...) }
	a.infof("automl: trials run on %s as workflow %s (batches of %d)", eng.String(), x.ID, o.batch)
	done := func(err error) {
		fctx, stop := context.WithTimeout(context.Background(), 30*time.Second)
		defer stop()
		if ferr := x.Finish(fctx, err); ferr != nil {
			a.warnf("automl: end workflow %s: %v", x.ID, ferr)
		}
		c.Close()
	}
	return x, done, nil
}

// engineProgress reports a trial to the search's workflow.
func engineProgress(x *distrib.Executor, metric string, loss func(float64) float64, t, best automl.Trial) {
	if x != nil {
		x.SetProgress(distrib.Progress{Trials: t.ID + 1, Best: loss(best.Loss), Metric: metric, Learner: best.Learner})
	}
}

// pipelineEngine connects the pipeline commands to --engine: the client
// and the workflow input naming the project and this process's stores
// (absolute, so that workers on the same file system open them too).
func (a *App) pipelineEngine(ctx context.Context, engine, project, name, trigger string) (client.Client, distrib.Engine, distrib.PipelineInput, error) {
	var in distrib.PipelineInput
	if err := a.localOnly("pipeline --engine"); err != nil {
		return nil, distrib.Engine{}, in, err
	}
	eng, err := distrib.ParseEngine(engine)
	if err != nil {
		return nil, eng, in, usageErrorf("pipeline: --engine: %v", err)
	}
	db, artifacts := a.storeLocations()
	if in.Store, err = storeLocation(db); err == nil {
		in.Artifacts, err = storeLocation(artifacts)
	}
	if err == nil {
		in.Project, err = filepath.Abs(project)
	}
	if err != nil {
		return nil, eng, in, usageErrorf("pipeline: %v", err)
	}
	if strings.HasPrefix(db, "postgres") {
		in.Store = db
	}
	in.Name, in.Trigger, in.Retries, in.GyreVersion = name, trigger, 3, Version
	host, _ := os.Hostname()
	c, err := distrib.Dial(ctx, eng, fmt.Sprintf("gyre-pipeline-%d@%s", os.Getpid(), host))
	if err != nil {
		return nil, eng, in, failed(fmt.Errorf("pipeline: %w", err))
	}
	return c, eng, in, nil
}

// runPipelineOnEngine starts (or, when a run is active, signals) the
// pipeline's workflow and waits for the run; interrupting cancels it.
func (a *App) runPipelineOnEngine(ctx context.Context, engine, project string, p *pipeline.Project, trigger string) (*pipeline.Result, error) {
	c, eng, in, err := a.pipelineEngine(ctx, engine, project, p.Name, trigger)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	run, started, err := distrib.StartPipeline(ctx, c, eng.TaskQueue, p.Name, in)
	if err != nil {
		return nil, failed(err)
	}
	if !started {
		return nil, failed(fmt.Errorf("pipeline %s: a run is active (workflow %s, run %s): trigger %q recorded, not started: %w",
			p.Name, run.GetID(), run.GetRunID(), trigger, pipeline.ErrBusy))
	}
	a.infof("pipeline %s: run %s on %s (workflow %s)", p.Name, run.GetRunID(), eng.String(), run.GetID())
	var out distrib.PipelineOutcome
	if err := run.Get(ctx, &out); err != nil {
		if ctx.Err() != nil {
			cctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
			defer stop()
			if cerr := c.CancelWorkflow(cctx, run.GetID(), run.GetRunID()); cerr != nil {
				a.warnf("pipeline %s: cancel run %s: %v", p.Name, run.GetRunID(), cerr)
			}
		}
		return nil, failed(fmt.Errorf("pipeline %s: run %s: %w", p.Name, run.GetRunID(), err))
	}
	for _, r := range out.Recorded {
		a.infof("pipeline %s: trigger %q arrived during the run: recorded, not started", p.Name, r)
	}
	if out.Status == "busy" {
		return nil, failed(fmt.Errorf("pipeline %s: another run holds the pipeline's lock: %w", p.Name, pipeline.ErrBusy))
	}
	return &out.Result, nil
}

// schedulePipelineOnEngine creates or replaces the pipeline's Temporal
// Schedule.
func (a *App) schedulePipelineOnEngine(ctx context.Context, engine, project string, p *pipeline.Project, spec string) error {
	c, eng, in, err := a.pipelineEngine(ctx, engine, project, p.Name, "schedule")
	if err != nil {
		return err
	}
	defer c.Close()
	id, err := distrib.SchedulePipeline(ctx, c, eng.TaskQueue, p.Name, spec, in)
	if err != nil {
		return failed(err)
	}
	if a.JSON {
		return a.printJSON(map[string]string{"schedule": id, "pipeline": p.Name, "spec": spec, "engine": eng.String()})
	}
	fmt.Fprintf(a.Stdout, "scheduled pipeline %s on %s: %s (Temporal schedule %s; runs never overlap)\n", p.Name, eng.String(), spec, id)
	return nil
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
			c, err := distrib.Dial(cmd.Context(), eng, "")
			if err != nil {
				return failed(err)
			}
			defer c.Close()
			if err := distrib.CancelPipeline(cmd.Context(), c, args[0]); err != nil {
				return failed(err)
			}
			return app.done(map[string]string{"cancelled": args[0]}, "cancelled pipeline run %s", args[0])
		},
	}
	cmd.Flags().StringVar(&engine, "engine", "", "the Temporal engine the run is on: temporal://HOST:PORT")
	return cmd
}
