package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/metric"
	"github.com/gyre-ml/gyre/internal/monitor"
	"github.com/gyre-ml/gyre/internal/pipeline"
	"github.com/gyre-ml/gyre/internal/workspace"
)

func init() { register(newMonitorCmd) }

var errNoLogged = fmt.Errorf("%w: serve the model with --log-predictions, or pass --current", monitor.ErrNoLogged)

type monitorFlags struct {
	current, reference, html, project, webhook, metric, name string
	window, every                                            time.Duration
	driftShare, tolerance                                    float64
	goals                                                    []string
	noFail                                                   bool
}

func newMonitorCmd(app *App) *cobra.Command {
	var fl monitorFlags
	cmd := &cobra.Command{
		Use:   "monitor MODEL_REF [--current SOURCE | --window 24h]",
		Short: "Detect data drift, prediction drift and performance decay of a model",
		Long: `Compare what a model sees now with what it was trained on: the current data
(--current SOURCE, or the predictions 'gyre serve --log-predictions' logged in
the last --window) against the training profile stored in the bundle (or
--reference SOURCE).

Reported: drift per feature and for the data set (Evidently's default tests
and thresholds), prediction drift against the training target, data quality
(missing shares, unseen categories, values outside the training range),
performance per time window when feedback labels exist (or when --current
holds the target column), and for classifiers a label-free estimate of
accuracy and ROC AUC from the predicted probabilities (CBPE).

Alerts fire on data-set drift, prediction drift, decay of the metric beyond
--tolerance of the model's own test score, and missed goals (--goal, or the
goals of --project gyre.yaml). With alerts the command exits 1 (for CI and
cron) and posts them to --webhook (JSON, retried with backoff).`,
		Example: `  gyre monitor bike@production --window 24h
  gyre monitor bike@production --current last_week.csv --html drift.html
  gyre monitor model.gyre --current new.csv --reference train.csv --json
  gyre monitor bike@production --project gyre.yaml --webhook https://hooks.example.com/gyre`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMonitor(cmd.Context(), app, args[0], fl, cmd.Flags().Changed("window"))
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.current, "current", "", "current data (a file or source); default: logged predictions")
	f.DurationVar(&fl.window, "window", 24*time.Hour, "how far back to read logged predictions")
	f.DurationVar(&fl.every, "every", 0, "width of a performance window (default: 10 windows)")
	f.StringVar(&fl.reference, "reference", "", "reference data (default: the training profile stored in the bundle)")
	f.StringVar(&fl.html, "html", "", "write an HTML report to this file")
	f.StringVar(&fl.project, "project", "", "gyre.yaml whose goals and monitor settings apply")
	f.StringVar(&fl.webhook, "webhook", "", "POST alerts as JSON to this URL")
	f.StringVar(&fl.metric, "metric", "", "performance metric (default: the model's selection metric)")
	f.StringVar(&fl.name, "name", "", "served model name in the prediction log (default: the registered name)")
	f.Float64Var(&fl.driftShare, "drift-share", 0, "share of drifted features that makes data-set drift (default 0.5)")
	f.Float64Var(&fl.tolerance, "tolerance", 0, "relative metric decay that alerts (default 0.1)")
	f.StringArrayVar(&fl.goals, "goal", nil, `goal such as "rmse <= 80" (repeatable)`)
	f.BoolVar(&fl.noFail, "no-fail", false, "exit 0 even when alerts fire")
	return cmd
}

func runMonitor(ctx context.Context, app *App, ref string, fl monitorFlags, windowSet bool) error {
	opt := monitor.Options{Metric: fl.metric, Window: fl.every, Tolerance: fl.tolerance}
	opt.Drift.DriftShare = fl.driftShare
	if fl.project != "" {
		p, err := pipeline.Load(fl.project)
		if err != nil {
			return usageErrorf("monitor: %v", err)
		}
		p.ApplyMonitor(&opt)
		if !windowSet && p.Monitor.Window > 0 {
			fl.window = p.Monitor.Window
		}
		fl.webhook = cmp.Or(fl.webhook, p.Monitor.Webhook)
		fl.name = cmp.Or(fl.name, p.Name)
	}
	for _, g := range fl.goals {
		pg, err := metric.ParseGoal(g)
		if err != nil {
			return usageErrorf("monitor: --goal: %v", err)
		}
		opt.Goals = append(opt.Goals, pg)
	}
	m, err := app.resolveModel(ctx, ref)
	if err != nil {
		return err
	}
	var closeLog func() error
	name := fl.name
	if name == "" {
		name = m.Name
	}
	o := monitor.CheckOptions{Options: opt, Name: name, Version: m.Version, Reference: fl.reference, Current: fl.current,
		Since: time.Now().Add(-fl.window), Load: app.loadFrame, HTML: fl.html,
		OpenLog: func(ctx context.Context) (monitor.LogReader, error) {
			log, closeFn, err := app.predictionLog(ctx, false)
			closeLog = closeFn
			return log, err
		}}
	rep, err := monitor.Check(ctx, m.Bundle, o)
	if closeLog != nil {
		defer closeLog()
	}
	var re *monitor.ReferenceError
	switch {
	case errors.As(err, &re):
		return usageErrorf("monitor %s: %v (--reference train.csv)", ref, re.Err)
	case errors.Is(err, monitor.ErrNoLogged):
		return usageErrorf("monitor %s: %v (model name %q, window %s)", ref, errNoLogged, name, fl.window)
	case err != nil:
		return err
	}
	var notifyErr error
	if fl.webhook != "" && rep.Alerting() {
		notifyErr = (&monitor.Webhook{URL: fl.webhook}).Notify(ctx, rep)
	}
	if app.JSON {
		if err := app.printJSON(rep); err != nil {
			return err
		}
	} else {
		if err := rep.WriteText(app.Stdout); err != nil {
			return err
		}
		if fl.html != "" {
			fmt.Fprintf(app.Stdout, "report: %s\n", fl.html)
		}
	}
	if notifyErr != nil {
		return failed(notifyErr)
	}
	if rep.Alerting() && !fl.noFail {
		return fmt.Errorf("monitor %s: %d alert(s) (%s): %w", ref, len(rep.Alerts), strings.Join(rep.AlertKinds(), ", "), ErrCheckFailed)
	}
	return nil
}

// predictionLog opens the prediction log of the store the commands work
// against: the team server's when one is configured, else the local
// store's (upgraded first with upgrade). The function returned closes it.
func (a *App) predictionLog(ctx context.Context, upgrade bool) (workspace.PredictionLog, func() error, error) {
	b, err := a.openBackend(ctx)
	if err != nil {
		return nil, nil, err
	}
	l, err := b.PredictionLog(ctx, upgrade)
	if err != nil {
		b.Close()
		return nil, nil, failed(err)
	}
	return l, b.Close, nil
}
