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
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

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
	// StatusScheduled is a run created but not started (MLflow's state).
	StatusScheduled Status = "SCHEDULED"
)

// Lifecycle stages of experiments and runs (MLflow's): a deleted one is
// hidden from searches and may be restored until it is purged.
const (
	LifecycleActive  = "active"
	LifecycleDeleted = "deleted"
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
	// ErrDeleted: the run or experiment is deleted (restore it first).
	ErrDeleted = errors.New("deleted")
	// ErrExists: an experiment with that name exists already.
	ErrExists = errors.New("already exists")
	// ErrInvalid: a key, name or value breaks a rule; the message says which.
	ErrInvalid = errors.New("invalid")
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
	// User is recorded on runs started by a local command; New takes it
	// from [audit.LocalUser]. A run started through the team server is
	// attributed to the server's authenticated actor instead.
	User string
	// Now returns the current time; tests may replace it.
	Now func() time.Time

	reapMu   sync.Mutex
	lastReap time.Time

	groupOnce sync.Once
	group     *sqlstore.Group[metricWrite]

	expMu   sync.Mutex
	expOfRn map[string]string // run id → experiment id, see LoggingRun
}

// runCacheMax bounds the cache of runs' experiments; it is emptied when
// full.
const runCacheMax = 8192

// New returns a Tracker writing into db and blobs. blobs may be nil when no
// artifacts are logged.
func New(db *sqlstore.DB, blobs blob.Store) *Tracker {
	wd, _ := os.Getwd()
	return &Tracker{db: db, blobs: blobs, GitCommit: GitCommit(wd), User: audit.LocalUser(), Now: time.Now}
}

// author returns the name a write is attributed to: the team server's
// authenticated actor when the context carries one, else t.User.
func (t *Tracker) author(ctx context.Context) string {
	if a := audit.ActorFrom(ctx); a.Kind != audit.KindLocal {
		return a.Name
	}
	return t.User
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
		return fmt.Errorf("invalid %s name %q: want 1 to 250 characters: %w", kind, key, ErrInvalid)
	}
	for _, r := range key {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("invalid %s name %q: contains a control character: %w", kind, key, ErrInvalid)
		}
	}
	return nil
}

// CheckRelPath validates a path that must stay under the directory it is
// joined to (an artifact path, a run's artifact directory): valid UTF-8,
// relative, slash-separated, with no empty, "." or ".." segment and no
// backslash or control character. The error matches ErrInvalid.
func CheckRelPath(p string) error {
	if !utf8.ValidString(p) {
		return invalidError{fmt.Errorf("artifact path %q: want UTF-8", p)}
	}
	if strings.HasPrefix(p, "/") {
		return invalidError{fmt.Errorf("artifact path %q: want a relative path, not an absolute one", p)}
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return invalidError{fmt.Errorf("artifact path %q: contains %q: want no control characters or backslashes", p, c)}
		}
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return invalidError{fmt.Errorf("artifact path %q: segment %q: want no empty, '.' or '..' segments", p, seg)}
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
	// Command is the command line that made the run; default os.Args
	// when the caller is local (not a client of the team server).
	Command string
	// Params and Tags are logged when the run starts.
	Params map[string]string
	Tags   map[string]string
	// ExperimentID names the experiment by id instead of by name; it must
	// exist and be active ("0", the Default experiment, is created on first
	// use).
	ExperimentID string
	// Start is the start time in unix milliseconds; default now.
	Start int64
	// User is the author recorded when no team-server actor is in the
	// context; default Tracker.User.
	User string
}

// Run is a run being logged. Its methods are safe for concurrent use.
type Run struct {
	t  *Tracker
	id string
	// stop ends the heartbeat of a run this process started.
	stop func()
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

// OpenRun returns a handle to log into the run whose id is exactly id,
// with the run's experiment id and lifecycle stage, in one query: what a
// write checks before logging ([Tracker.Get] reads everything the run
// logged). An unknown id wraps ErrNotFound.
func (t *Tracker) OpenRun(ctx context.Context, id string) (r *Run, experimentID, lifecycle string, err error) {
	err = t.db.QueryRowContext(ctx, "SELECT experiment_id, lifecycle_stage FROM runs WHERE id = ?", id).Scan(&experimentID, &lifecycle)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", "", fmt.Errorf("find run %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, "", "", fmt.Errorf("find run %s: %w", id, err)
	}
	return &Run{t: t, id: id}, experimentID, lifecycle, nil
}

// LoggingRun opens run id (an exact id) for logging and returns its
// experiment's id, as [Tracker.OpenRun] does, but from a cache after the
// first call: a run never changes experiment, so a server taking one point
// per request from each client does not read the run for each. It does not
// report the run's lifecycle: the writes ([Run.LogBatch] and what calls it)
// check that the run exists and is active in their own transaction, and
// fail with ErrNotFound or ErrDeleted (a run not found is then dropped
// from the cache).
func (t *Tracker) LoggingRun(ctx context.Context, id string) (*Run, string, error) {
	t.expMu.Lock()
	exp, ok := t.expOfRn[id]
	t.expMu.Unlock()
	if ok {
		return &Run{t: t, id: id}, exp, nil
	}
	r, exp, _, err := t.OpenRun(ctx, id)
	if err != nil {
		return nil, "", err
	}
	t.expMu.Lock()
	if t.expOfRn == nil || len(t.expOfRn) >= runCacheMax {
		t.expOfRn = map[string]string{}
	}
	t.expOfRn[id] = exp
	t.expMu.Unlock()
	return r, exp, nil
}

// forgetRun drops run id from LoggingRun's cache.
func (t *Tracker) forgetRun(id string) {
	t.expMu.Lock()
	delete(t.expOfRn, id)
	t.expMu.Unlock()
}

// StartRun starts a RUNNING run in experiment, under parentID when not empty,
// with params logged. It is the short form of [Tracker.Start] for recorders
// such as AutoML's.
func (t *Tracker) StartRun(ctx context.Context, experiment, parentID string, params map[string]string) (*Run, error) {
	return t.Start(ctx, RunOptions{Experiment: experiment, ParentID: parentID, Params: params})
}

// Start starts a RUNNING run.
func (t *Tracker) Start(ctx context.Context, o RunOptions) (*Run, error) {
	local := audit.ActorFrom(ctx).Kind == audit.KindLocal
	if o.Command == "" && local {
		// The process starting the run made it; a run started through a
		// server for a client that named no command has none (not the
		// server's command line).
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
	start := now
	if o.Start > 0 {
		start = o.Start
	}
	user := t.author(ctx)
	if o.User != "" && local {
		user = o.User
	}
	if name, ok := o.Tags[RunNameTag]; ok && o.Name == "" {
		o.Name = name
	}
	err := t.db.Write(ctx, func(tx *sqlstore.Tx) error {
		if o.ExperimentID != "" {
			if err := activeExperiment(ctx, tx, o.ExperimentID, now); err != nil {
				return err
			}
			return t.insertRun(ctx, tx, newRun{id: id, expID: o.ExperimentID, parentID: o.ParentID, name: o.Name, start: start,
				command: o.Command, user: user, params: o.Params, tags: o.Tags, local: local})
		}
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
		return t.insertRun(ctx, tx, newRun{id: id, expID: expID, parentID: o.ParentID, name: o.Name, start: start,
			command: o.Command, user: user, params: o.Params, tags: o.Tags, local: local})
	})
	if err != nil {
		return nil, fmt.Errorf("start run: %w", err)
	}
	r := &Run{t: t, id: id}
	if local {
		r.stop = r.heartbeat(HeartbeatInterval)
	}
	return r, nil
}

// newRun is a run row to insert.
type newRun struct {
	id, expID, parentID, name string
	start                     int64
	command, user             string
	params, tags              map[string]string
	// local records this process as the run's owner (liveness).
	local bool
}

// runAudit is a run's audited creation.
type runAudit struct {
	Experiment string            `json:"experiment_id"`
	Parent     string            `json:"parent_id,omitempty"`
	Name       string            `json:"name,omitempty"`
	Status     Status            `json:"status"`
	User       string            `json:"user"`
	Params     map[string]string `json:"params,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
}

func (t *Tracker) insertRun(ctx context.Context, tx *sqlstore.Tx, r newRun) error {
	var parent any
	if r.parentID != "" {
		parent = r.parentID
	}
	host, pid, pstart := "", 0, ""
	var beat *int64
	if r.local {
		host, pid, pstart = owner()
		now := t.nowMS()
		beat = &now
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO runs (id, experiment_id, parent_id, name, status, start_ms, command, gyre_version, git_commit, user_name,
		host, pid, proc_start, heartbeat_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.id, r.expID, parent, r.name, string(StatusRunning), r.start, r.command, t.Version, t.GitCommit, r.user, host, pid, pstart, beat); err != nil {
		return err
	}
	if _, err := insertParams(ctx, tx, r.id, r.params); err != nil {
		return err
	}
	if _, err := upsertTags(ctx, tx, r.id, r.tags); err != nil {
		return err
	}
	return audit.Record(ctx, tx, "run.create", "run", r.id, nil, runAudit{Experiment: r.expID, Parent: r.parentID, Name: r.name,
		Status: StatusRunning, User: r.user, Params: r.params, Tags: r.tags})
}

// DefaultExperimentID is the identifier of [DefaultExperiment], the one
// MLflow clients know as experiment "0".
const DefaultExperimentID = "0"

// ensureExperiment returns the id of the named active experiment, creating
// it (and auditing the creation) when there is none.
func ensureExperiment(ctx context.Context, tx *sqlstore.Tx, name string, now int64) (string, error) {
	if err := CheckKey("experiment", name); err != nil {
		return "", err
	}
	id := NewID()
	if name == DefaultExperiment {
		id = DefaultExperimentID
	}
	res, err := tx.ExecContext(ctx, "INSERT INTO experiments (id, name, created_ms, last_update_ms) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", id, name, now, now)
	if err != nil {
		return "", err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return id, audit.Record(ctx, tx, "experiment.create", "experiment", id, nil, map[string]string{"name": name})
	}
	var stage string
	err = tx.QueryRowContext(ctx, "SELECT id, lifecycle_stage FROM experiments WHERE name = ?", name).Scan(&id, &stage)
	if err != nil {
		return "", err
	}
	if stage != LifecycleActive {
		return "", fmt.Errorf("experiment %q is deleted: restore it or choose another name: %w", name, ErrDeleted)
	}
	return id, nil
}

// activeExperiment checks that experiment id exists and is active; the
// Default experiment is created on first use.
func activeExperiment(ctx context.Context, tx *sqlstore.Tx, id string, now int64) error {
	if id == DefaultExperimentID {
		_, err := ensureExperiment(ctx, tx, DefaultExperiment, now)
		return err
	}
	var stage string
	err := tx.QueryRowContext(ctx, "SELECT lifecycle_stage FROM experiments WHERE id = ?", id).Scan(&stage)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("experiment %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return err
	}
	if stage != LifecycleActive {
		return fmt.Errorf("experiment %q is deleted: restore it to log into it: %w", id, ErrDeleted)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// insertParams inserts write-once parameters and returns those that were
// new (the rest were already logged with the same value).
func insertParams(ctx context.Context, tx *sqlstore.Tx, runID string, params map[string]string) (map[string]string, error) {
	added := map[string]string{}
	for _, k := range sortedKeys(params) {
		v := params[k]
		res, err := tx.ExecContext(ctx, "INSERT INTO params (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO NOTHING", runID, k, v)
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			added[k] = v
			continue
		}
		var old string
		if err := tx.QueryRowContext(ctx, "SELECT value FROM params WHERE run_id = ? AND key = ?", runID, k).Scan(&old); err != nil {
			return nil, err
		}
		if old != v {
			return nil, &ParamChangedError{Key: k, Old: old, New: v}
		}
	}
	return added, nil
}

// ParamChangedError reports a parameter logged again with another value.
// It matches [ErrParamChanged].
type ParamChangedError struct {
	Key, Old, New string
}

func (e *ParamChangedError) Error() string {
	return fmt.Sprintf("parameter %q = %q: %v (%q)", e.Key, e.New, ErrParamChanged, e.Old)
}

// Unwrap returns ErrParamChanged.
func (e *ParamChangedError) Unwrap() error { return ErrParamChanged }

// upsertTags sets tags and returns the previous values of those that
// existed.
func upsertTags(ctx context.Context, tx *sqlstore.Tx, runID string, tags map[string]string) (map[string]string, error) {
	before := map[string]string{}
	if len(tags) == 0 {
		return before, nil
	}
	for _, k := range sortedKeys(tags) {
		var old string
		err := tx.QueryRowContext(ctx, "SELECT value FROM tags WHERE run_id = ? AND key = ?", runID, k).Scan(&old)
		switch {
		case err == nil:
			before[k] = old
		case !errors.Is(err, sql.ErrNoRows):
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value", runID, k, tags[k]); err != nil {
			return nil, err
		}
	}
	return before, nil
}

// LogParam logs one parameter (write-once).
func (r *Run) LogParam(ctx context.Context, key, value string) error {
	return r.LogBatch(ctx, Batch{Params: map[string]string{key: value}})
}

// LogParams logs parameters. Logging a parameter again with the same value
// is a no-op; with a different value it fails with ErrParamChanged and
// logs nothing.
func (r *Run) LogParams(ctx context.Context, params map[string]string) error {
	return r.LogBatch(ctx, Batch{Params: params})
}

// SetTag sets a tag, replacing any previous value.
func (r *Run) SetTag(ctx context.Context, key, value string) error {
	return r.SetTags(ctx, map[string]string{key: value})
}

// SetTags sets tags, replacing previous values.
func (r *Run) SetTags(ctx context.Context, tags map[string]string) error {
	return r.LogBatch(ctx, Batch{Tags: tags})
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

// LogMetrics logs a batch of points in one transaction. Points with a zero
// Time are stamped now. NaN values are kept as NaN.
func (r *Run) LogMetrics(ctx context.Context, points []Metric) error {
	return r.LogBatch(ctx, Batch{Metrics: points})
}

// Batch is what [Run.LogBatch] logs in one transaction.
type Batch struct {
	Metrics []Metric
	// Params are write-once (see [Run.LogParams]).
	Params map[string]string
	// Tags replace previous values.
	Tags map[string]string
}

// batchAudit is the audit entry of one batch: metrics are summarised by
// count and keys, not listed point by point.
type batchAudit struct {
	Metrics    int               `json:"metrics,omitempty"`
	MetricKeys []string          `json:"metric_keys,omitempty"`
	Params     map[string]string `json:"params,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
}

// LogBatch logs metrics, parameters and tags in one transaction, with one
// audit entry: all of it is logged or none. The run must exist and be
// active (not deleted). A batch of metrics only goes through the tracker's
// group commit: it shares its transaction and statements with the batches
// other goroutines log meanwhile (and still fails or succeeds alone).
func (r *Run) LogBatch(ctx context.Context, b Batch) error {
	if len(b.Metrics) == 0 && len(b.Params) == 0 && len(b.Tags) == 0 {
		return nil
	}
	now := r.t.nowMS()
	pts := make([]point, len(b.Metrics))
	seen := map[string]bool{}
	var keys []string
	for i, p := range b.Metrics {
		if err := CheckKey("metric", p.Key); err != nil {
			return fmt.Errorf("log batch for run %s: %w", r.id, err)
		}
		ts := now
		if !p.Time.IsZero() {
			ts = p.Time.UnixMilli()
		}
		pts[i] = point{run: r.id, key: p.Key, step: p.Step, ts: ts, value: p.Value}
		if !seen[p.Key] {
			seen[p.Key] = true
			keys = append(keys, p.Key)
		}
	}
	sort.Strings(keys)
	for k := range b.Params {
		if err := CheckKey("parameter", k); err != nil {
			return fmt.Errorf("log batch for run %s: %w", r.id, err)
		}
	}
	for k := range b.Tags {
		if err := CheckKey("tag", k); err != nil {
			return fmt.Errorf("log batch for run %s: %w", r.id, err)
		}
	}
	var err error
	if len(b.Params) == 0 && len(b.Tags) == 0 {
		err = r.t.metricGroup().Write(ctx, metricWrite{run: r.id, points: pts, keys: keys, actor: audit.ActorFrom(ctx)})
	} else {
		err = r.t.db.Write(ctx, func(tx *sqlstore.Tx) error {
			if err := activeRun(ctx, tx, r.id); err != nil {
				return err
			}
			if len(pts) > 0 {
				if err := insertHistory(ctx, tx, pts); err != nil {
					return err
				}
				if err := upsertLatest(ctx, tx, latestPoints(pts)); err != nil {
					return err
				}
			}
			added, err := insertParams(ctx, tx, r.id, b.Params)
			if err != nil {
				return err
			}
			before, err := upsertTags(ctx, tx, r.id, b.Tags)
			if err != nil {
				return err
			}
			if name, ok := b.Tags[RunNameTag]; ok {
				if _, err := tx.ExecContext(ctx, "UPDATE runs SET name = ? WHERE id = ?", name, r.id); err != nil {
					return err
				}
			}
			if len(b.Metrics) == 0 && len(added) == 0 && len(b.Tags) == 0 {
				return nil // parameters already logged with the same values: nothing changed
			}
			after := batchAudit{Metrics: len(b.Metrics), MetricKeys: keys, Params: added, Tags: b.Tags}
			var beforeTags any
			if len(before) > 0 {
				beforeTags = batchAudit{Tags: before}
			}
			return audit.Record(ctx, tx, "run.log", "run", r.id, beforeTags, after)
		})
	}
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			r.t.forgetRun(r.id)
		}
		return fmt.Errorf("log batch for run %s: %w", r.id, err)
	}
	return nil
}

// RunNameTag is the tag MLflow clients keep a run's name in; setting it
// renames the run.
const RunNameTag = "mlflow.runName"

// activeRun checks that run id exists and is not deleted, and locks it
// against purging until tx ends (see [lockRuns]).
func activeRun(ctx context.Context, tx *sqlstore.Tx, id string) error {
	var stage string
	if err := lockRuns(ctx, tx, []any{id}, false); err != nil {
		return err
	}
	err := tx.QueryRowContext(ctx, "SELECT lifecycle_stage FROM runs WHERE id = ?", id).Scan(&stage)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("run %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return err
	}
	if stage != LifecycleActive {
		return fmt.Errorf("run %s is deleted: restore it to log into it: %w", id, ErrDeleted)
	}
	return nil
}

// DeleteTag removes a tag from the run.
func (r *Run) DeleteTag(ctx context.Context, key string) error {
	err := r.t.db.Write(ctx, func(tx *sqlstore.Tx) error {
		if err := activeRun(ctx, tx, r.id); err != nil {
			return err
		}
		var old string
		err := tx.QueryRowContext(ctx, "SELECT value FROM tags WHERE run_id = ? AND key = ?", r.id, key).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("tag %q: %w", key, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM tags WHERE run_id = ? AND key = ?", r.id, key); err != nil {
			return err
		}
		return audit.Record(ctx, tx, "run.tag.delete", "run", r.id, map[string]string{key: old}, nil)
	})
	if err != nil {
		return fmt.Errorf("delete tag of run %s: %w", r.id, err)
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
		var before any
		var old Artifact
		err := tx.QueryRowContext(ctx, "SELECT digest, size FROM run_artifacts WHERE run_id = ? AND name = ?", r.id, name).Scan(&old.Digest, &old.Size)
		switch {
		case err == nil:
			if old.Digest == ref.Digest {
				return nil // the same bytes again: nothing changes
			}
			old.Name = name
			before = old
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO run_artifacts (run_id, name, digest, size) VALUES (?, ?, ?, ?)
			ON CONFLICT (run_id, name) DO UPDATE SET digest = excluded.digest, size = excluded.size`, r.id, name, ref.Digest, ref.Size); err != nil {
			return err
		}
		return audit.Record(ctx, tx, "run.artifact.log", "run", r.id, before, Artifact{Name: name, Ref: ref})
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
		if _, err := tx.ExecContext(ctx, `INSERT INTO run_datasets (run_id, dataset, version, role) VALUES (?, ?, ?, ?)
			ON CONFLICT (run_id, dataset, version) DO UPDATE SET role = excluded.role`, r.id, name, version, role); err != nil {
			return err
		}
		return audit.Record(ctx, tx, "run.dataset.log", "run", r.id, nil, DatasetInput{Name: name, Version: version, Role: role})
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
	if r.stop != nil {
		r.stop()
	}
	end := r.t.nowMS()
	if err := r.t.Update(ctx, r.id, RunUpdate{Status: status, End: &end}); err != nil {
		return fmt.Errorf("end run %s: %w", r.id, err)
	}
	return nil
}

// RunUpdate changes a run's status, end time or name; zero fields are left
// as they are.
type RunUpdate struct {
	Status Status
	// End is the end time in unix milliseconds.
	End  *int64
	Name *string
}

type runState struct {
	Status Status `json:"status"`
	End    *int64 `json:"end_ms,omitempty"`
	Name   string `json:"name"`
}

// Update changes a run's status, end time or name (the name is kept in the
// mlflow.runName tag too), recording the change in the audit trail.
func (t *Tracker) Update(ctx context.Context, id string, u RunUpdate) error {
	switch u.Status {
	case "", StatusRunning, StatusFinished, StatusFailed, StatusKilled, StatusScheduled:
	default:
		return fmt.Errorf("update run %s: status %q: want RUNNING, SCHEDULED, FINISHED, FAILED or KILLED: %w", id, u.Status, ErrInvalid)
	}
	err := t.db.Write(ctx, func(tx *sqlstore.Tx) error {
		var before runState
		var st string
		var end sql.NullInt64
		err := tx.QueryRowContext(ctx, "SELECT status, end_ms, name FROM runs WHERE id = ?", id).Scan(&st, &end, &before.Name)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("run %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		before.Status = Status(st)
		if end.Valid {
			before.End = &end.Int64
		}
		after := before
		if u.Status != "" {
			after.Status = u.Status
		}
		if u.End != nil {
			after.End = u.End
		}
		if u.Name != nil {
			after.Name = *u.Name
		}
		if after.Status == before.Status && after.Name == before.Name && (after.End == nil) == (before.End == nil) &&
			(after.End == nil || *after.End == *before.End) {
			return nil
		}
		var endArg any
		if after.End != nil {
			endArg = *after.End
		}
		if _, err := tx.ExecContext(ctx, "UPDATE runs SET status = ?, end_ms = ?, name = ? WHERE id = ?", string(after.Status), endArg, after.Name, id); err != nil {
			return err
		}
		if after.Name != before.Name {
			if _, err := upsertTags(ctx, tx, id, map[string]string{RunNameTag: after.Name}); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, "run.update", "run", id, before, after)
	})
	if err != nil {
		return fmt.Errorf("update run %s: %w", id, err)
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
