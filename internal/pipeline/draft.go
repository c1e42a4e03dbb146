package pipeline

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/train"
	"github.com/gyre-ml/gyre/internal/trainlog"
)

// Draft describes the project file 'gyre init' writes for a data set.
type Draft struct {
	// Name is the registered model's (and the pipeline's) name.
	Name string
	// Task is the detected task; Target the column to predict.
	Task   learn.Task
	Target string
	// Source is the training data, relative to the project file.
	Source string
	// Purpose says what a prediction is used for.
	Purpose string
	// Rows and Cols are the data's shape when the file is written.
	Rows, Cols int
}

// Write renders the draft as a commented gyre.yaml (problem, data and
// holdout, goals, budget, gate, monitoring, triggers) with goals and a
// metric that suit the task, and checks that it parses as a project.
// path names the file in Parse's errors.
func (d Draft) Write(path string) ([]byte, error) {
	var buf bytes.Buffer
	err := projectTemplate.Execute(&buf, map[string]any{"Name": d.Name, "Task": d.Task.String(), "Target": d.Target, "Source": d.Source,
		"Purpose": d.Purpose, "Goal": defaultGoal(d.Task), "Metric": defaultMetric(d.Task), "Rows": d.Rows, "Cols": d.Cols})
	if err != nil {
		return nil, fmt.Errorf("draft project: %w", err)
	}
	if _, err := Parse(buf.Bytes(), path); err != nil {
		return nil, fmt.Errorf("the generated project does not parse: %w", err)
	}
	return buf.Bytes(), nil
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

// InitOptions are what `gyre init` drafts a project from.
type InitOptions struct {
	// Frame is the data read from Source; Target the column to predict and
	// Task the task (learn.TaskInvalid: detected).
	Frame          *frame.Frame
	Source, Target string
	Task           learn.Task
	// Name is the model's name (default: trainlog.DatasetName(Source));
	// Purpose what a prediction is used for.
	Name, Purpose string
	// Out is the project file written (its directory created).
	Out string
}

// Initialized is the project file Init wrote (`gyre init --json`).
type Initialized struct {
	Name    string `json:"name"`
	Project string `json:"project"`
	// Source is the data's path relative to the project file's directory.
	Source string `json:"source"`
	Target string `json:"target"`
	Task   string `json:"task"`
	// Rows is the data's row count.
	Rows int `json:"-"`
}

// NameError is a model name Init cannot use.
type NameError struct{ Err error }

func (e *NameError) Error() string { return e.Err.Error() }
func (e *NameError) Unwrap() error { return e.Err }

// Init detects the task from the target column and writes a commented
// project file for the data (Draft) to o.Out. A target the problem cannot
// be made of is train.NewProblem's error; an unusable name a *NameError;
// a file not written a failure.
func Init(o InitOptions) (*Initialized, error) {
	p, err := train.NewProblem(o.Frame, o.Target, o.Task)
	if err != nil {
		return nil, err
	}
	name := o.Name
	if name == "" {
		name = trainlog.DatasetName(o.Source)
	}
	if err := CheckName(name); err != nil {
		return nil, &NameError{err}
	}
	rel := o.Source
	if abs, err := filepath.Abs(o.Source); err == nil {
		if dir, err := filepath.Abs(filepath.Dir(o.Out)); err == nil {
			if r, err := filepath.Rel(dir, abs); err == nil {
				rel = r
			}
		}
	}
	f := o.Frame
	data, err := Draft{Name: name, Task: p.Task, Target: o.Target, Source: rel, Purpose: o.Purpose, Rows: f.NumRows(), Cols: f.NumCols()}.Write(o.Out)
	if err != nil {
		return nil, failure{fmt.Errorf("init: %w", err)}
	}
	if dir := filepath.Dir(o.Out); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, failure{err}
		}
	}
	if err := os.WriteFile(o.Out, data, 0o644); err != nil {
		return nil, failure{fmt.Errorf("init: %w", err)}
	}
	return &Initialized{Name: name, Project: o.Out, Source: rel, Target: o.Target, Task: p.Task.String(), Rows: f.NumRows()}, nil
}

// failure marks an error that is not the input's fault (exit code 1).
type failure struct{ error }

func (f failure) Unwrap() error { return f.error }
func (failure) Failure() bool   { return true }
