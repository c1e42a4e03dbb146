package track

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/sqlstore"
)

// Status is a run's lifecycle state.
type Status string

// Run states. A run starts RUNNING and ends in one of the others.
const (
	StatusRunning  Status = "RUNNING"
	StatusFinished Status = "FINISHED"
	StatusFailed   Status = "FAILED"
	StatusKilled   Status = "KILLED"
)

// DefaultExperiment is the experiment runs go to when none is named.
const DefaultExperiment = "Default"

// Errors callers can match with errors.Is.
var (
	// ErrNotFound: no run or experiment with that identifier.
	ErrNotFound = errors.New("not found")
	// ErrParamChanged: a parameter was logged again with a different value.
	ErrParamChanged = errors.New("parameter already logged with a different value")
	// ErrAmbiguous: a run id prefix matches several runs.
	ErrAmbiguous = errors.New("ambiguous run id prefix")
)

// Tracker records runs into a metadata store and an artifact store.
type Tracker struct {
	db    *sqlstore.DB
	blobs blob.Store

	// Version is the Gyre version recorded on every run.
	Version string
	// GitCommit is recorded on every run; New detects it from the working
	// directory's git work tree.
	GitCommit string
	// User is recorded on every run; New takes it from audit.LocalUser
	// (GYRE_USER or the OS user).
	User string
	// Now returns the current time; tests may replace it.
	Now func() time.Time
}

// New returns a Tracker writing into db and blobs. blobs may be nil when no
// artifacts are logged.
func New(db *sqlstore.DB, blobs blob.Store) *Tracker {
	wd, _ := os.Getwd()
	return &Tracker{db: db, blobs: blobs, GitCommit: GitCommit(wd), User: audit.LocalUser(), Now: time.Now}
}

// DB returns the tracker's metadata store.
func (t *Tracker) DB() *sqlstore.DB { return t.db }

func (t *Tracker) nowMS() int64 { return t.Now().UnixMilli() }

// NewID returns a random 32-hex-digit identifier.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// CheckKey validates a parameter, metric or tag key or an experiment name:
// 1 to 250 printable characters.
func CheckKey(kind, key string) error {
	if key == "" || len(key) > 250 {
		return fmt.Errorf("invalid %s name %q: want 1 to 250 characters", kind, key)
	}
	for _, r := range key {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("invalid %s name %q: contains a control character", kind, key)
		}
	}
	return nil
}

// RunOptions describes a run to start.
type RunOptions struct {
	// Experiment names the experiment, created on first use; default
	// DefaultExperiment. A child run defaults to its parent's experiment.
	Experiment string
	// Name is a human-readable run name (optional).
	Name string
	// ParentID makes this a child run (an AutoML trial under its search).
	ParentID string
	// Command is the command line that made the run; default os.Args.
	Command string
	// Params and Tags are logged when the run starts.
	Params map[string]string
	Tags   map[string]string
}

// Run is a run being logged. Its methods are safe for concurrent use.
type Run struct {
	t  *Tracker
	id string
}

// ID returns the run's identifier.
func (r *Run) ID() string { return r.id }

// Tracker returns the tracker the run logs into.
func (r *Run) Tracker() *Tracker { return r.t }

// Resume returns a handle to log into an existing run.
func (t *Tracker) Resume(ctx context.Context, id string) (*Run, error) {
	full, err := t.resolveID(ctx, id)
	if err != nil {
		return nil, err
	}
	return &Run{t: t, id: full}, nil
}

// StartRun starts a RUNNING run in experiment, under parentID when not empty,
// with params logged. It is the short form of [Tracker.Start] for recorders
// such as AutoML's.
func (t *Tracker) StartRun(ctx context.Context, experiment, parentID string, params map[string]string) (*Run, error) {
	return t.Start(ctx, RunOptions{Experiment: experiment, ParentID: parentID, Params: params})
}

// Start starts a RUNNING run.
func (t *Tracker) Start(ctx context.Context, o RunOptions) (*Run, error) {
	if o.Command == "" {
		o.Command = QuoteArgs(os.Args)
	}
	for k := range o.Params {
		if err := CheckKey("parameter", k); err != nil {
			return nil, fmt.Errorf("start run: %w", err)
		}
	}
	for k := range o.Tags {
		if err := CheckKey("tag", k); err != nil {
			return nil, fmt.Errorf("start run: %w", err)
		}
	}
	id := NewID()
	now := t.nowMS()
	err := t.db.Write(ctx, func(tx *sqlstore.Tx) error {
		exp := o.Experiment
		if o.ParentID != "" {
			var pexp string
			err := tx.QueryRowContext(ctx, "SELECT e.name FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id = ?", o.ParentID).Scan(&pexp)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("parent run %s: %w", o.ParentID, ErrNotFound)
			}
			if err != nil {
				return err
			}
			if exp == "" {
				exp = pexp
			}
		}
		if exp == "" {
			exp = DefaultExperiment
		}
		expID, err := ensureExperiment(ctx, tx, exp, now)
		if err != nil {
			return err
		}
		var parent any
		if o.ParentID != "" {
			parent = o.ParentID
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO runs (id, experiment_id, parent_id, name, status, start_ms, command, gyre_version, git_commit, user_name)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, expID, parent, o.Name, string(StatusRunning), now, o.Command, t.Version, t.GitCommit, t.User); err != nil {
			return err
		}
		if err := insertParams(ctx, tx, id, o.Params); err != nil {
			return err
		}
		return upsertTags(ctx, tx, id, o.Tags)
	})
	if err != nil {
		return nil, fmt.Errorf("start run: %w", err)
	}
	return &Run{t: t, id: id}, nil
}

func ensureExperiment(ctx context.Context, tx *sqlstore.Tx, name string, now int64) (string, error) {
	if err := CheckKey("experiment", name); err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO experiments (id, name, created_ms) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING", NewID(), name, now); err != nil {
		return "", err
	}
	var id string
	err := tx.QueryRowContext(ctx, "SELECT id FROM experiments WHERE name = ?", name).Scan(&id)
	return id, err
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func insertParams(ctx context.Context, tx *sqlstore.Tx, runID string, params map[string]string) error {
	for _, k := range sortedKeys(params) {
		v := params[k]
		res, err := tx.ExecContext(ctx, "INSERT INTO params (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO NOTHING", runID, k, v)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			continue
		}
		var old string
		if err := tx.QueryRowContext(ctx, "SELECT value FROM params WHERE run_id = ? AND key = ?", runID, k).Scan(&old); err != nil {
			return err
		}
		if old != v {
			return fmt.Errorf("parameter %q = %q: %w (%q)", k, v, ErrParamChanged, old)
		}
	}
	return nil
}

func upsertTags(ctx context.Context, tx *sqlstore.Tx, runID string, tags map[string]string) error {
	for _, k := range sortedKeys(tags) {
		if _, err := tx.ExecContext(ctx, "INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value", runID, k, tags[k]); err != nil {
			return err
		}
	}
	return nil
}

// LogParam logs one parameter (write-once).
func (r *Run) LogParam(ctx context.Context, key, value string) error {
	return r.LogParams(ctx, map[string]string{key: value})
}

// LogParams logs parameters. Logging a parameter again with the same value
// is a no-op; with a different value it fails with ErrParamChanged and
// logs nothing.
func (r *Run) LogParams(ctx context.Context, params map[string]string) error {
	for k := range params {
		if err := CheckKey("parameter", k); err != nil {
			return fmt.Errorf("log params for run %s: %w", r.id, err)
		}
	}
	err := r.t.db.Write(ctx, func(tx *sqlstore.Tx) error { return insertParams(ctx, tx, r.id, params) })
	if err != nil {
		return fmt.Errorf("log params for run %s: %w", r.id, err)
	}
	return nil
}

// SetTag sets a tag, replacing any previous value.
func (r *Run) SetTag(ctx context.Context, key, value string) error {
	return r.SetTags(ctx, map[string]string{key: value})
}

// SetTags sets tags, replacing previous values.
func (r *Run) SetTags(ctx context.Context, tags map[string]string) error {
	for k := range tags {
		if err := CheckKey("tag", k); err != nil {
			return fmt.Errorf("set tags on run %s: %w", r.id, err)
		}
	}
	if err := r.t.db.Write(ctx, func(tx *sqlstore.Tx) error { return upsertTags(ctx, tx, r.id, tags) }); err != nil {
		return fmt.Errorf("set tags on run %s: %w", r.id, err)
	}
	return nil
}

// Metric is one point of a metric's step series.
type Metric struct {
	Key   string    `json:"key"`
	Value float64   `json:"value"`
	Step  int64     `json:"step"`
	Time  time.Time `json:"time"`
}

// LogMetric logs one metric point at step, stamped now.
func (r *Run) LogMetric(ctx context.Context, key string, value float64, step int64) error {
	return r.LogMetrics(ctx, []Metric{{Key: key, Value: value, Step: step}})
}

// metricChunk is the number of points per multi-row INSERT.
const metricChunk = 400

// LogMetrics logs a batch of points in one transaction. Points with a zero
// Time are stamped now. NaN values are kept as NaN.
func (r *Run) LogMetrics(ctx context.Context, points []Metric) error {
	if len(points) == 0 {
		return nil
	}
	now := r.t.nowMS()
	latest := map[string]int{}
	for i, p := range points {
		if err := CheckKey("metric", p.Key); err != nil {
			return fmt.Errorf("log metrics for run %s: %w", r.id, err)
		}
		if j, ok := latest[p.Key]; !ok || p.Step >= points[j].Step {
			latest[p.Key] = i
		}
	}
	ts := func(p Metric) int64 {
		if p.Time.IsZero() {
			return now
		}
		return p.Time.UnixMilli()
	}
	err := r.t.db.Write(ctx, func(tx *sqlstore.Tx) error {
		var st string
		if err := tx.QueryRowContext(ctx, "SELECT status FROM runs WHERE id = ?", r.id).Scan(&st); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("run %s: %w", r.id, ErrNotFound)
			}
			return err
		}
		var b strings.Builder
		args := make([]any, 0, 5*metricChunk)
		for start := 0; start < len(points); start += metricChunk {
			end := min(start+metricChunk, len(points))
			b.Reset()
			args = args[:0]
			b.WriteString("INSERT INTO metric_history (run_id, key, step, ts_ms, value) VALUES ")
			for i, p := range points[start:end] {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString("(?, ?, ?, ?, ?)")
				args = append(args, r.id, p.Key, p.Step, ts(p), nullable(p.Value))
			}
			if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
				return err
			}
		}
		for _, k := range sortedKeys(latest) {
			p := points[latest[k]]
			if _, err := tx.ExecContext(ctx, `INSERT INTO latest_metrics (run_id, key, step, ts_ms, value) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (run_id, key) DO UPDATE SET step = excluded.step, ts_ms = excluded.ts_ms, value = excluded.value
				WHERE excluded.step >= latest_metrics.step`, r.id, k, p.Step, ts(p), nullable(p.Value)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("log metrics for run %s: %w", r.id, err)
	}
	return nil
}

// nullable stores NaN as NULL: SQLite cannot hold NaN.
func nullable(v float64) any {
	if math.IsNaN(v) {
		return nil
	}
	return v
}

// LogArtifact stores the bytes read from rd as a blob and records it under
// name (a relative path such as "model.gyre" or "plots/roc.svg").
func (r *Run) LogArtifact(ctx context.Context, name string, rd io.Reader) (blob.Ref, error) {
	if err := CheckKey("artifact", name); err != nil {
		return blob.Ref{}, fmt.Errorf("log artifact for run %s: %w", r.id, err)
	}
	if r.t.blobs == nil {
		return blob.Ref{}, fmt.Errorf("log artifact %s for run %s: no artifact store configured", name, r.id)
	}
	ref, err := r.t.blobs.Put(ctx, rd)
	if err != nil {
		return blob.Ref{}, fmt.Errorf("log artifact %s for run %s: %w", name, r.id, err)
	}
	if err := r.LogArtifactRef(ctx, name, ref); err != nil {
		return blob.Ref{}, err
	}
	return ref, nil
}

// LogArtifactRef records an already stored blob under name.
func (r *Run) LogArtifactRef(ctx context.Context, name string, ref blob.Ref) error {
	if _, err := blob.ParseDigest(ref.Digest); err != nil {
		return fmt.Errorf("log artifact %s for run %s: %w", name, r.id, err)
	}
	err := r.t.db.Write(ctx, func(tx *sqlstore.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO run_artifacts (run_id, name, digest, size) VALUES (?, ?, ?, ?)
			ON CONFLICT (run_id, name) DO UPDATE SET digest = excluded.digest, size = excluded.size`, r.id, name, ref.Digest, ref.Size)
		return err
	})
	if err != nil {
		return fmt.Errorf("log artifact %s for run %s: %w", name, r.id, err)
	}
	return nil
}

// LogDataset records that the run used version of the named data set in a
// role such as "train" or "test".
func (r *Run) LogDataset(ctx context.Context, name string, version int64, role string) error {
	err := r.t.db.Write(ctx, func(tx *sqlstore.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO run_datasets (run_id, dataset, version, role) VALUES (?, ?, ?, ?)
			ON CONFLICT (run_id, dataset, version) DO UPDATE SET role = excluded.role`, r.id, name, version, role)
		return err
	})
	if err != nil {
		return fmt.Errorf("log dataset %s@%d for run %s: %w", name, version, r.id, err)
	}
	return nil
}

// End marks the run finished, failed or killed and stamps its end time.
func (r *Run) End(ctx context.Context, status Status) error {
	switch status {
	case StatusFinished, StatusFailed, StatusKilled:
	default:
		return fmt.Errorf("end run %s: status %q: want FINISHED, FAILED or KILLED", r.id, status)
	}
	err := r.t.db.Write(ctx, func(tx *sqlstore.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE runs SET status = ?, end_ms = ? WHERE id = ?", string(status), r.t.nowMS(), r.id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("end run %s: %w", r.id, err)
	}
	return nil
}

// QuoteArgs joins a command line, quoting arguments for a POSIX shell where
// needed.
func QuoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_./=:,@+%", r))
		}) < 0 {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
