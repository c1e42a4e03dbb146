package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/ingest/httpsource"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/metric"
)

// ProjectVersion is the gyre.yaml format version.
const ProjectVersion = 1

// Project is a gyre.yaml project file: the problem, its data, the goals a
// model must meet, the training budget, the promotion gate, monitoring and
// triggers. Unknown keys are errors.
type Project struct {
	Version int `yaml:"version" json:"version"`
	// Name is the registered model name and the pipeline's name.
	Name    string  `yaml:"name" json:"name"`
	Problem Problem `yaml:"problem" json:"problem"`
	Data    Data    `yaml:"data" json:"data"`
	// Goals are requirements such as "roc_auc >= 0.90", "p99_latency <=
	// 20ms" or "model_size <= 50MB": the gate requires them and monitoring
	// alerts when a metric goal is missed.
	Goals Goals `yaml:"goals,omitempty" json:"goals,omitempty"`
	Train Train `yaml:"train" json:"train"`
	// Recipe is an optional recipe file (see 'gyre prepare') fitted on the
	// training rows and stored in the model, so serving and monitoring
	// apply it to raw rows.
	Recipe  string   `yaml:"recipe,omitempty" json:"recipe,omitempty"`
	Gate    Gate     `yaml:"gate,omitempty" json:"gate"`
	Monitor Monitor  `yaml:"monitor,omitempty" json:"monitor"`
	Trigger Triggers `yaml:"triggers,omitempty" json:"triggers"`

	// Dir is the project file's directory: relative paths resolve from it.
	Dir string `yaml:"-" json:"-"`
	// Path is the project file, if read from one.
	Path string `yaml:"-" json:"-"`
}

// Problem says what is predicted and why.
type Problem struct {
	// Task is regression, binary, multiclass or classification ("" = detect).
	Task   string `yaml:"task,omitempty" json:"task,omitempty"`
	Target string `yaml:"target" json:"target"`
	// Purpose says what a prediction is used for (documentation).
	Purpose string `yaml:"purpose,omitempty" json:"purpose,omitempty"`
}

// Data names the training source and how fresh holdout data is cut from it.
type Data struct {
	// Source is the training data: a file (CSV, Parquet, JSON Lines, ...)
	// or any source 'gyre data inspect' reads. Each change is a new data set
	// version.
	Source string `yaml:"source" json:"source"`
	// Dataset names the data set in the catalog (default: the project name).
	Dataset string `yaml:"dataset,omitempty" json:"dataset,omitempty"`
	// Contract is an optional data contract file (see 'gyre validate').
	Contract string `yaml:"contract,omitempty" json:"contract,omitempty"`
	// Holdout is the share of rows held out to evaluate and gate (default
	// 0.2).
	Holdout float64 `yaml:"holdout,omitempty" json:"holdout,omitempty"`
	// Split is "last" (the source is in time order: hold out its newest
	// rows, the default) or "random".
	Split string `yaml:"split,omitempty" json:"split,omitempty"`
	// Seed drives the random split.
	Seed uint64 `yaml:"seed,omitempty" json:"seed,omitempty"`
	// API configures pulling an http(s) JSON API source: pagination,
	// headers from environment variables, rate limit and retries.
	API *API `yaml:"api,omitempty" json:"api,omitempty"`
}

// API is how an http(s) source is pulled (see package httpsource). A
// source given by URL (an API, a database, a topic) is pulled whole by the
// ingest step and versioned as a Parquet snapshot.
type API struct {
	// Paginate is link, cursor:FIELD[:PARAM], offset[:OFFSET_PARAM:LIMIT_PARAM]
	// or page ("" reads one page).
	Paginate string `yaml:"paginate,omitempty" json:"paginate,omitempty"`
	// Items is the dotted path of the records array in each page ("" to
	// find it).
	Items string `yaml:"items,omitempty" json:"items,omitempty"`
	// Headers maps a header to the environment variable holding its value
	// (Authorization: EXAMPLE_API_AUTH); values never appear in the file.
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	// RateLimit is the most requests per second (0: no limit).
	RateLimit float64 `yaml:"rate_limit,omitempty" json:"rate_limit,omitempty"`
	// Retries of a request answered 429/5xx or failing on the network
	// (default 4).
	Retries *int `yaml:"retries,omitempty" json:"retries,omitempty"`
	// MaxPages bounds a pull (0: no bound).
	MaxPages int `yaml:"max_pages,omitempty" json:"max_pages,omitempty"`
	// Timeout bounds each request (default 1m).
	Timeout time.Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Train configures model fitting: one learner, or AutoML with a budget.
type Train struct {
	// Learner trains one learner ("" = AutoML).
	Learner string            `yaml:"learner,omitempty" json:"learner,omitempty"`
	Params  map[string]string `yaml:"params,omitempty" json:"params,omitempty"`
	// Trials is the AutoML trial budget (reproducible); Budget a time
	// budget. Neither: 20 trials.
	Trials   int           `yaml:"trials,omitempty" json:"trials,omitempty"`
	Budget   time.Duration `yaml:"budget,omitempty" json:"budget,omitempty"`
	Learners []string      `yaml:"learners,omitempty" json:"learners,omitempty"`
	// Metric is the metric optimised and gated on ("" = the task's default).
	Metric string `yaml:"metric,omitempty" json:"metric,omitempty"`
	Seed   uint64 `yaml:"seed,omitempty" json:"seed,omitempty"`
	// Ensemble enables AutoML ensemble selection.
	Ensemble bool `yaml:"ensemble,omitempty" json:"ensemble,omitempty"`
}

// Gate configures promotion.
type Gate struct {
	// MinGain is the least improvement of the metric over the production
	// model on the same holdout (absolute, in the metric's units; default 0:
	// at least as good).
	MinGain float64 `yaml:"min_gain,omitempty" json:"min_gain"`
	// Alias is the alias a passing model is promoted to (default
	// production).
	Alias string `yaml:"alias,omitempty" json:"alias"`
}

// Monitor configures 'gyre monitor' for the project's model.
type Monitor struct {
	// Window is how far back logged predictions are read (default 24h).
	Window time.Duration `yaml:"window,omitempty" json:"window,omitempty"`
	// Every is the width of a performance window (default: 10 windows).
	Every time.Duration `yaml:"every,omitempty" json:"every,omitempty"`
	// DriftShare is the share of drifted features at which the data set
	// drifts (default 0.5).
	DriftShare float64 `yaml:"drift_share,omitempty" json:"drift_share,omitempty"`
	// Tolerance is the relative decay of the metric that alerts (default
	// 0.1).
	Tolerance float64 `yaml:"tolerance,omitempty" json:"tolerance,omitempty"`
	// Webhook receives alerts as JSON.
	Webhook string `yaml:"webhook,omitempty" json:"webhook,omitempty"`
}

// Triggers say when 'gyre pipeline schedule' retrains.
type Triggers struct {
	// Schedule is a cron expression (5 fields, or @daily, @every 1h, ...).
	Schedule string `yaml:"schedule,omitempty" json:"schedule,omitempty"`
	// OnNewData retrains when the source data changes (checked every
	// Poll, default 1m).
	OnNewData bool          `yaml:"on_new_data,omitempty" json:"on_new_data,omitempty"`
	Poll      time.Duration `yaml:"poll,omitempty" json:"poll,omitempty"`
	// OnAlert retrains when monitoring raises a drift or decay alert
	// (checked every Poll).
	OnAlert bool `yaml:"on_alert,omitempty" json:"on_alert,omitempty"`
}

// Goals is the goal list of a project; each is written as a string and
// parsed by metric.ParseGoal.
type Goals []metric.Goal

// UnmarshalYAML parses goal strings; errors name the line.
func (gs *Goals) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode {
		return fmt.Errorf("line %d: key goals: want a list such as [\"roc_auc >= 0.9\"]", n.Line)
	}
	for _, item := range n.Content {
		var s string
		if err := item.Decode(&s); err != nil {
			return fmt.Errorf("line %d: key goals: want a string such as \"rmse <= 80\"", item.Line)
		}
		g, err := metric.ParseGoal(s)
		if err != nil {
			return fmt.Errorf("line %d: key goals: %w", item.Line, err)
		}
		*gs = append(*gs, g)
	}
	return nil
}

// Load reads a project file.
func Load(path string) (*Project, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load project: %w", err)
	}
	p, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	p.Path = path
	p.Dir = dirOf(path)
	return p, nil
}

func dirOf(path string) string {
	i := strings.LastIndexAny(path, `/\`)
	if i < 0 {
		return "."
	}
	return path[:i]
}

var unknownFieldRE = regexp.MustCompile(`line (\d+): field (\S+) not found in type \S+`)

// Parse decodes a project file; name labels it in errors. Unknown keys, bad
// values and missing requirements are errors naming the line and key.
func Parse(data []byte, name string) (*Project, error) {
	var p Project
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("project %s: empty file: run 'gyre init SOURCE --target COL' to write one", name)
		}
		msg := err.Error()
		msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:\n  ")
		msg = strings.TrimPrefix(msg, "yaml: ")
		msg = unknownFieldRE.ReplaceAllString(msg, `line $1: unknown key "$2"`)
		msg = strings.ReplaceAll(msg, "\n  ", "; ")
		return nil, fmt.Errorf("project %s: %s", name, msg)
	}
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	line := func(path ...string) int { return keyLine(&root, path...) }
	bad := func(key string, format string, args ...any) error {
		path := strings.Split(key, ".")
		return fmt.Errorf("project %s: line %d: key %s: %s", name, line(path...), key, fmt.Sprintf(format, args...))
	}
	if p.Version != ProjectVersion {
		return nil, bad("version", "got %d, want %d", p.Version, ProjectVersion)
	}
	if p.Name == "" {
		return nil, bad("name", "required: the model name to register, e.g. bike-demand")
	}
	if err := checkName(p.Name); err != nil {
		return nil, bad("name", "%v", err)
	}
	if p.Problem.Target == "" {
		return nil, bad("problem.target", "required: the column to predict")
	}
	if p.Problem.Task != "" && p.Problem.Task != "classification" {
		if _, err := learn.ParseTask(p.Problem.Task); err != nil {
			return nil, bad("problem.task", "%v", err)
		}
	}
	if p.Data.Source == "" {
		return nil, bad("data.source", "required: the training data file")
	}
	if a := p.Data.API; a != nil {
		if !strings.HasPrefix(p.Data.Source, "http://") && !strings.HasPrefix(p.Data.Source, "https://") {
			return nil, bad("data.api", "applies to an http(s) source; data.source is %s", ingest.Redact(p.Data.Source))
		}
		if err := httpsource.CheckPaginate(a.Paginate); err != nil {
			return nil, bad("data.api.paginate", "%v", strings.TrimPrefix(err.Error(), "--paginate "))
		}
		for h, v := range a.Headers {
			if !envNameRE.MatchString(v) {
				return nil, bad("data.api.headers", "header %s: want the name of the environment variable holding its value (%s: EXAMPLE_API_AUTH), never the value itself", h, h)
			}
		}
		if a.RateLimit < 0 || a.MaxPages < 0 || a.Timeout < 0 {
			return nil, bad("data.api", "rate_limit, max_pages and timeout must not be negative")
		}
	}
	if h := p.Data.Holdout; h < 0 || h >= 1 {
		return nil, bad("data.holdout", "got %g, want a share in [0, 1), e.g. 0.2", h)
	}
	switch p.Data.Split {
	case "", "last", "random":
	default:
		return nil, bad("data.split", "got %q, want last or random", p.Data.Split)
	}
	if p.Train.Trials < 0 || p.Train.Budget < 0 {
		return nil, bad("train", "trials and budget must not be negative")
	}
	if p.Train.Learner != "" {
		if _, err := learn.Lookup(p.Train.Learner); err != nil {
			return nil, bad("train.learner", "%v", err)
		}
	}
	for _, l := range p.Train.Learners {
		if _, err := learn.Lookup(l); err != nil {
			return nil, bad("train.learners", "%v", err)
		}
	}
	if p.Gate.Alias != "" {
		if err := checkName(p.Gate.Alias); err != nil {
			return nil, bad("gate.alias", "%v", err)
		}
	}
	if s := p.Monitor.DriftShare; s < 0 || s > 1 {
		return nil, bad("monitor.drift_share", "got %g, want a share in [0, 1]", s)
	}
	if p.Trigger.Schedule != "" {
		if _, err := parseCron(p.Trigger.Schedule); err != nil {
			return nil, bad("triggers.schedule", "%v", err)
		}
	}
	p.Dir = "."
	return &p, nil
}

// withDefaults fills unset values.
func (p *Project) withDefaults() *Project {
	q := *p
	if q.Data.Holdout == 0 {
		q.Data.Holdout = 0.2
	}
	if q.Data.Split == "" {
		q.Data.Split = "last"
	}
	if q.Data.Dataset == "" {
		q.Data.Dataset = q.Name
	}
	if q.Train.Learner == "" && q.Train.Trials == 0 && q.Train.Budget == 0 {
		q.Train.Trials = 20
	}
	if q.Gate.Alias == "" {
		q.Gate.Alias = "production"
	}
	return &q
}

// Resolve returns a path relative to the project file's directory.
func (p *Project) Resolve(path string) string {
	if path == "" || strings.Contains(path, "://") || strings.HasPrefix(path, "/") || p.Dir == "" || p.Dir == "." {
		return path
	}
	return p.Dir + "/" + path
}

func checkName(s string) error {
	if s == "" || s[0] == '.' {
		return fmt.Errorf("name %q: want letters, digits, '-', '_' or '.', not starting with '.'", s)
	}
	for _, r := range s {
		if !(r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return fmt.Errorf("name %q: want letters, digits, '-', '_' or '.'", s)
		}
	}
	return nil
}

// keyLine finds the line of a nested mapping key (0 when absent: the
// nearest existing parent's line is used).
func keyLine(root *yaml.Node, path ...string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, key := range path {
		if n.Kind != yaml.MappingNode {
			return line
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				line = n.Content[i].Line
				n = n.Content[i+1]
				found = true
				break
			}
		}
		if !found {
			return line
		}
	}
	return line
}

// CheckName validates a model or alias name: letters, digits, '-', '_' and
// '.', not starting with '.'.
func CheckName(s string) error { return checkName(s) }
