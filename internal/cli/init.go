package cli

import (
	"bytes"
	"fmt"
	"github.com/gyre-ml/gyre/internal/trainlog"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/pipeline"
	"github.com/gyre-ml/gyre/internal/train"
)

func init() { register(newInitCmd) }

func newInitCmd(app *App) *cobra.Command {
	var target, name, task, out, purpose string
	var force bool
	cmd := &cobra.Command{
		Use:   "init SOURCE --target COL",
		Short: "Write a commented gyre.yaml project file for a data set",
		Long: `Read SOURCE, detect the task from the target column and write a commented
gyre.yaml: the problem, the data source and holdout, goals the model must meet,
the AutoML budget, the promotion gate, monitoring settings and retraining
triggers. 'gyre pipeline run' runs it; 'gyre monitor --project' alerts on it.`,
		Example: `  gyre init examples/data/bike_sharing/bike_sharing.train.csv --target cnt --name bike
  gyre init churn.parquet --target churned --out projects/churn/gyre.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			source := args[0]
			if target == "" {
				return usageErrorf("init: --target is required (the column to predict)")
			}
			if !force {
				if _, err := os.Stat(out); err == nil {
					return usageErrorf("init: %s exists: pass --force to overwrite it", out)
				}
			}
			f, err := app.loadFrame(ctx, source)
			if err != nil {
				return err
			}
			t, err := parseTask(task)
			if err != nil {
				return err
			}
			p, err := train.NewProblem(f, target, t)
			if err != nil {
				return usageErrorf("init %s: %v", source, err)
			}
			if name == "" {
				name = trainlog.DatasetName(source)
			}
			if err := pipeline.CheckName(name); err != nil {
				return usageErrorf("init: --name: %v", err)
			}
			rel := source
			if abs, err := filepath.Abs(source); err == nil {
				if dir, err := filepath.Abs(filepath.Dir(out)); err == nil {
					if r, err := filepath.Rel(dir, abs); err == nil {
						rel = r
					}
				}
			}
			var buf bytes.Buffer
			err = projectTemplate.Execute(&buf, map[string]any{"Name": name, "Task": p.Task.String(), "Target": target, "Source": rel,
				"Purpose": purpose, "Goal": defaultGoal(p.Task), "Metric": defaultMetric(p.Task), "Rows": f.NumRows(), "Cols": f.NumCols()})
			if err != nil {
				return failed(err)
			}
			if _, err := pipeline.Parse(buf.Bytes(), out); err != nil {
				return failed(fmt.Errorf("init: the generated project does not parse: %w", err))
			}
			if dir := filepath.Dir(out); dir != "" {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return failed(err)
				}
			}
			if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
				return failed(fmt.Errorf("init: %w", err))
			}
			return app.done(map[string]any{"project": out, "name": name, "task": p.Task.String(), "target": target, "source": rel}, "wrote %s (%s on %q, %d rows): edit the goals, then run 'gyre pipeline run %s'", out, p.Task, target, f.NumRows(), out)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&target, "target", "", "target column (required)")
	fl.StringVar(&name, "name", "", "model name to register (default: the file name)")
	fl.StringVar(&task, "task", "", "regression, binary, multiclass or classification (default: detect)")
	fl.StringVar(&purpose, "purpose", "", "what a prediction is used for")
	fl.StringVar(&out, "out", "gyre.yaml", "project file to write")
	fl.BoolVar(&force, "force", false, "overwrite an existing project file")
	return cmd
}

func defaultMetric(t learn.Task) string {
	switch t {
	case learn.Regression:
		return "rmse"
	case learn.Binary:
		return "roc_auc"
	}
	return "log_loss"
}

func defaultGoal(t learn.Task) string {
	switch t {
	case learn.Regression:
		return "r2 >= 0.5"
	case learn.Binary:
		return "roc_auc >= 0.8"
	}
	return "accuracy >= 0.7"
}

var projectTemplate = template.Must(template.New("gyre.yaml").Funcs(template.FuncMap{"q": func(s string) string {
	if s == "" || strings.ContainsAny(s, ":#{}[]&*!|>'\"%@`,") || strings.TrimSpace(s) != s {
		return fmt.Sprintf("%q", s)
	}
	return s
}}).Parse(`# Gyre project file: what to predict, from which data, how good it must be,
# and how it is retrained and promoted. Run it with 'gyre pipeline run'.
version: 1

# The registered model name (and the pipeline's name).
name: {{.Name}}

problem:
  # regression, binary, multiclass or classification (detected: {{.Task}})
  task: {{.Task}}
  target: {{q .Target}}
  # What a prediction is used for (documentation for the team).
  purpose: {{q .Purpose}}

data:
  # Training data ({{.Rows}} rows × {{.Cols}} columns when written). Every change
  # of its content is a new data set version and retrains.
  source: {{q .Source}}
  # Share of rows held out to evaluate the candidate and gate it against
  # the production model.
  holdout: 0.2
  # last: the file is in time order, hold out its newest rows (fresh data);
  # random: a seeded random holdout.
  split: last
  # Optional data contract checked before training ('gyre validate --derive').
  # contract: contract.yaml

# Requirements the gate enforces and monitoring alerts on. Metrics:
# 'gyre learners' / 'gyre evaluate' names (rmse, r2, roc_auc, accuracy, ...),
# plus p99_latency (ms, s) and model_size (KB, MB).
goals:
  - {{.Goal}}
  - p99_latency <= 50ms
  - model_size <= 100MB

train:
  # AutoML trial budget (reproducible under the seed); or budget: 2m for a
  # time budget, or learner: gbdt for one learner.
  trials: 20
  metric: {{.Metric}}
  seed: 1

gate:
  # The candidate must beat production on the same holdout by at least this
  # much ({{.Metric}} units; 0: at least as good).
  min_gain: 0
  # The alias servers follow (gyre serve {{.Name}}@production).
  alias: production

monitor:
  # Logged predictions read by 'gyre monitor --project' and the alert trigger.
  window: 24h
  # Share of drifted features that makes data-set drift (Evidently: 0.5).
  drift_share: 0.5
  # Relative decay of {{.Metric}} against the model's test score that alerts.
  tolerance: 0.1
  # webhook: https://hooks.example.com/gyre

triggers:
  # 'gyre pipeline schedule' runs the pipeline on a cron schedule,
  schedule: "0 3 * * *"
  # when the source data changes,
  on_new_data: true
  # and when monitoring raises a drift or decay alert.
  on_alert: true
  poll: 5m
`))
