package track

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/sqlstore"
)

// RunInfo is a run as stored.
type RunInfo struct {
	ID           string `json:"run_id"`
	Experiment   string `json:"experiment"`
	ExperimentID string `json:"experiment_id"`
	// Lifecycle is LifecycleActive or LifecycleDeleted.
	Lifecycle   string             `json:"lifecycle_stage"`
	ParentID    string             `json:"parent_id,omitempty"`
	Name        string             `json:"name,omitempty"`
	Status      Status             `json:"status"`
	Start       time.Time          `json:"start_time"`
	End         *time.Time         `json:"end_time,omitempty"`
	Command     string             `json:"command,omitempty"`
	GyreVersion string             `json:"gyre_version,omitempty"`
	GitCommit   string             `json:"git_commit,omitempty"`
	User        string             `json:"user,omitempty"`
	Params      map[string]string  `json:"params"`
	Metrics     map[string]float64 `json:"metrics"`
	Tags        map[string]string  `json:"tags"`
	Artifacts   []Artifact         `json:"artifacts,omitempty"`
	Datasets    []DatasetInput     `json:"datasets,omitempty"`
	// Inputs are data sets logged by MLflow clients ([Run.LogInputs]).
	Inputs []Input `json:"inputs,omitempty"`
	// LatestMetrics holds each metric's latest point (step and time with
	// the value of Metrics), sorted by key.
	LatestMetrics []Metric `json:"-"`
}

// Duration returns how long the run took, or has been running.
func (r *RunInfo) Duration() time.Duration {
	if r.End == nil {
		return time.Since(r.Start)
	}
	return r.End.Sub(r.Start)
}

// Artifact is a blob logged by a run.
type Artifact struct {
	Name string `json:"name"`
	blob.Ref
}

// DatasetInput is a data set version a run used.
type DatasetInput struct {
	Name    string `json:"name"`
	Version int64  `json:"version"`
	Role    string `json:"role,omitempty"`
}

// Experiment groups runs.
type Experiment struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	Runs    int64     `json:"runs"`
}

// Experiments lists experiments by name with their run counts.
func (t *Tracker) Experiments(ctx context.Context) ([]Experiment, error) {
	rows, err := t.db.QueryContext(ctx, `SELECT e.id, e.name, e.created_ms,
		(SELECT COUNT(*) FROM runs r WHERE r.experiment_id = e.id AND r.lifecycle_stage = 'active')
		FROM experiments e WHERE e.lifecycle_stage = 'active' ORDER BY e.name`)
	if err != nil {
		return nil, fmt.Errorf("list experiments: %w", err)
	}
	defer rows.Close()
	var out []Experiment
	for rows.Next() {
		var e Experiment
		var ms int64
		if err := rows.Scan(&e.ID, &e.Name, &ms, &e.Runs); err != nil {
			return nil, fmt.Errorf("list experiments: %w", err)
		}
		e.Created = time.UnixMilli(ms).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// resolveID expands a unique prefix (at least 4 characters) of a run id.
func (t *Tracker) resolveID(ctx context.Context, id string) (string, error) {
	if len(id) == 32 {
		var got string
		err := t.db.QueryRowContext(ctx, "SELECT id FROM runs WHERE id = ?", id).Scan(&got)
		if err == nil {
			return got, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", fmt.Errorf("find run %s: %w", id, err)
		}
		return "", fmt.Errorf("find run %s: %w", id, ErrNotFound)
	}
	if len(id) < 4 || strings.ContainsAny(id, "%_") {
		return "", fmt.Errorf("find run %q: want a run id or a prefix of at least 4 characters: %w", id, ErrNotFound)
	}
	rows, err := t.db.QueryContext(ctx, "SELECT id FROM runs WHERE id LIKE ? ORDER BY id LIMIT 2", strings.ToLower(id)+"%")
	if err != nil {
		return "", fmt.Errorf("find run %s: %w", id, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return "", fmt.Errorf("find run %s: %w", id, err)
		}
		ids = append(ids, s)
	}
	switch len(ids) {
	case 0:
		return "", fmt.Errorf("find run %s: %w", id, ErrNotFound)
	case 1:
		return ids[0], nil
	default:
		return "", fmt.Errorf("find run %s: matches %s, %s, ...: %w", id, ids[0], ids[1], ErrAmbiguous)
	}
}

// Get returns a run by id or unique id prefix, with its parameters, latest
// metrics, tags, artifacts and data sets.
func (t *Tracker) Get(ctx context.Context, id string) (*RunInfo, error) {
	t.maybeReap(ctx)
	full, err := t.resolveID(ctx, id)
	if err != nil {
		return nil, err
	}
	runs, err := t.load(ctx, []string{full})
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("get run %s: %w", id, ErrNotFound)
	}
	return &runs[0], nil
}

// Children returns the ids of a run's child runs in start order.
func (t *Tracker) Children(ctx context.Context, id string) ([]string, error) {
	rows, err := t.db.QueryContext(ctx, "SELECT id FROM runs WHERE parent_id = ? ORDER BY start_ms, id", id)
	if err != nil {
		return nil, fmt.Errorf("list children of run %s: %w", id, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		ids = append(ids, s)
	}
	return ids, rows.Err()
}

// MetricHistory returns every logged point of a run's metric in step order.
func (t *Tracker) MetricHistory(ctx context.Context, runID, key string) ([]Metric, error) {
	rows, err := t.db.QueryContext(ctx, "SELECT step, ts_ms, value FROM metric_history WHERE run_id = ? AND key = ? ORDER BY step, ts_ms", runID, key)
	if err != nil {
		return nil, fmt.Errorf("metric history %s of run %s: %w", key, runID, err)
	}
	defer rows.Close()
	var out []Metric
	for rows.Next() {
		var m Metric
		var ts int64
		var v sql.NullFloat64
		if err := rows.Scan(&m.Step, &ts, &v); err != nil {
			return nil, fmt.Errorf("metric history %s of run %s: %w", key, runID, err)
		}
		m.Key, m.Time, m.Value = key, time.UnixMilli(ts).UTC(), nanIfNull(v)
		out = append(out, m)
	}
	return out, rows.Err()
}

// MetricSeries is one metric's history in columns: the points in step
// order, a NaN value as null.
type MetricSeries struct {
	Key    string     `json:"key"`
	Steps  []int64    `json:"steps"`
	Values []*float64 `json:"values"`
	// TimesMS holds each point's time in unix milliseconds.
	TimesMS []int64 `json:"times_ms"`
}

// MetricHistories returns the history of every metric of a run, keys
// sorted, in one query: what a chart of all of a run's metrics needs.
func (t *Tracker) MetricHistories(ctx context.Context, runID string) ([]MetricSeries, error) {
	rows, err := t.db.QueryContext(ctx, "SELECT key, step, ts_ms, value FROM metric_history WHERE run_id = ? ORDER BY key, step, ts_ms", runID)
	if err != nil {
		return nil, fmt.Errorf("metric histories of run %s: %w", runID, err)
	}
	defer rows.Close()
	out := []MetricSeries{}
	for rows.Next() {
		var key string
		var step, ts int64
		var v sql.NullFloat64
		if err := rows.Scan(&key, &step, &ts, &v); err != nil {
			return nil, fmt.Errorf("metric histories of run %s: %w", runID, err)
		}
		if len(out) == 0 || out[len(out)-1].Key != key {
			out = append(out, MetricSeries{Key: key})
		}
		s := &out[len(out)-1]
		var val *float64
		if v.Valid && !math.IsInf(v.Float64, 0) {
			val = &v.Float64
		}
		s.Steps, s.Values, s.TimesMS = append(s.Steps, step), append(s.Values, val), append(s.TimesMS, ts)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("metric histories of run %s: %w", runID, err)
	}
	return out, nil
}

func nanIfNull(v sql.NullFloat64) float64 {
	if !v.Valid {
		return math.NaN()
	}
	return v.Float64
}

// Delete removes a run, its child runs and everything they logged, for
// good (MLflow's delete is [Tracker.SetLifecycle]). Artifact blobs stay in
// the artifact store (other runs or model versions may share them).
func (t *Tracker) Delete(ctx context.Context, id string) error {
	full, err := t.resolveID(ctx, id)
	if err != nil {
		return fmt.Errorf("delete run: %w", err)
	}
	var done []string
	err = t.db.Write(ctx, func(tx *sqlstore.Tx) error {
		var err error
		done, err = PurgeTx(ctx, tx, full)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete run %s: %w", full, err)
	}
	for _, id := range done {
		t.forgetRun(id)
	}
	return nil
}

// PurgeTx deletes run id, its descendants and everything they logged
// inside tx, recording a "run.purge" audit entry per run, and returns the
// ids it deleted (children before their parents). It is [Tracker.Delete]
// for callers that check more in the same transaction (retention).
func PurgeTx(ctx context.Context, tx *sqlstore.Tx, id string) ([]string, error) {
	var done []string
	todo := []string{id}
	for len(todo) > 0 {
		cur := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		rows, err := tx.QueryContext(ctx, "SELECT id FROM runs WHERE parent_id = ?", cur)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return nil, err
			}
			todo = append(todo, c)
		}
		rows.Close()
		var before runAudit
		var parent sql.NullString
		var st string
		if err := tx.QueryRowContext(ctx, "SELECT experiment_id, parent_id, name, status, user_name FROM runs WHERE id = ?", cur).
			Scan(&before.Experiment, &parent, &before.Name, &st, &before.User); err != nil {
			return nil, fmt.Errorf("run %s: %w", cur, err)
		}
		before.Parent, before.Status = parent.String, Status(st)
		// The run's lock first: it waits for every transaction logging
		// points into the run and keeps new ones out, so the points
		// deleted next are all there will ever be (PostgreSQL's
		// metric_history has no foreign key to cascade; see lockRuns).
		if err := lockRuns(ctx, tx, []any{cur}, true); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM runs WHERE id = ?", cur); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM metric_history WHERE run_id = ?", cur); err != nil {
			return nil, err
		}
		if err := audit.Record(ctx, tx, "run.purge", "run", cur, before, nil); err != nil {
			return nil, err
		}
		done = append(done, cur)
	}
	return done, nil
}

// SetLifecycle deletes a run softly (stage LifecycleDeleted: hidden from
// searches, kept in the store) or restores it (LifecycleActive), as
// MLflow's delete-run and restore-run do.
func (t *Tracker) SetLifecycle(ctx context.Context, id, stage string) error {
	if stage != LifecycleActive && stage != LifecycleDeleted {
		return fmt.Errorf("set lifecycle of run %s: stage %q: want active or deleted: %w", id, stage, ErrInvalid)
	}
	action := "run.delete"
	if stage == LifecycleActive {
		action = "run.restore"
	}
	err := t.db.Write(ctx, func(tx *sqlstore.Tx) error {
		var old string
		err := tx.QueryRowContext(ctx, "SELECT lifecycle_stage FROM runs WHERE id = ?", id).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("run %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if old == stage {
			return nil
		}
		var deleted any
		if stage == LifecycleDeleted {
			deleted = t.nowMS()
		}
		if _, err := tx.ExecContext(ctx, "UPDATE runs SET lifecycle_stage = ?, deleted_ms = ? WHERE id = ?", stage, deleted, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, action, "run", id, map[string]string{"lifecycle_stage": old}, map[string]string{"lifecycle_stage": stage})
	})
	if err != nil {
		return fmt.Errorf("set lifecycle of run %s: %w", id, err)
	}
	return nil
}

// SearchOptions selects, orders and pages runs.
type SearchOptions struct {
	// Experiments restricts the search to these experiment names, and
	// ExperimentIDs to these experiment ids; both empty means all
	// experiments.
	Experiments   []string
	ExperimentIDs []string
	// View selects active runs (the zero value), deleted runs or both.
	View ViewType
	// OrderASC sorts terms given without a direction ascending, as MLflow
	// does (Gyre's own default sorts metrics and times descending).
	OrderASC bool
	// Filter is a filter expression (see ParseFilter).
	Filter string
	// OrderBy holds ordering terms (see ParseOrderBy); default newest
	// first. Ties are broken by start time (newest first) and run id.
	OrderBy []string
	// Limit is the page size: default 100, at most 10,000.
	Limit int
	// PageToken continues from a previous page's NextPageToken.
	PageToken string
}

// ViewType selects runs or experiments by lifecycle stage.
type ViewType int

// View types, as MLflow's run_view_type.
const (
	ActiveOnly ViewType = iota
	DeletedOnly
	AllViews
)

// Page is one page of search results.
type Page struct {
	Runs []RunInfo `json:"runs"`
	// NextPageToken fetches the next page; empty on the last page.
	NextPageToken string `json:"next_page_token,omitempty"`
}

// MaxLimit bounds SearchOptions.Limit (MLflow's limit).
const MaxLimit = 50000

// Search returns the runs matching the options, one page at a time. The
// filter and ordering run in the database, on indexed latest-metric,
// parameter and tag tables, with every value bound as a parameter.
func (t *Tracker) Search(ctx context.Context, o SearchOptions) (*Page, error) {
	t.maybeReap(ctx)
	sq, err := parseSearch(t.db.Dialect(), o)
	if err != nil {
		var fe *FilterError
		if !errors.As(err, &fe) && !errors.Is(err, ErrInvalid) {
			err = invalidError{err}
		}
		return nil, fmt.Errorf("search runs: %w", err)
	}
	ids, keys, err := sq.run(ctx, t.db)
	if err != nil {
		return nil, fmt.Errorf("search runs: %w", err)
	}
	limit := sq.limit
	page := &Page{}
	if len(ids) > limit {
		ids = ids[:limit]
		// a keyset token: the next page starts after this page's last run
		tok, ok := encodeAfter(keys[limit-1])
		if !ok {
			return nil, fmt.Errorf("search runs: the order values of run %s: %v", ids[limit-1], keys[limit-1])
		}
		page.NextPageToken = tok
	}
	page.Runs, err = t.load(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("search runs: %w", err)
	}
	if page.Runs == nil {
		page.Runs = []RunInfo{}
	}
	return page, nil
}

// invalidError marks an error as matching ErrInvalid too, keeping its
// message.
type invalidError struct{ err error }

func (e invalidError) Error() string   { return e.err.Error() }
func (e invalidError) Unwrap() []error { return []error{e.err, ErrInvalid} }

// EncodePageToken is the opaque next_page_token of a page that ends at
// offset; [DecodePageToken] reads it back.
func EncodePageToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset)))
}

// ErrBadPageToken reports a page token that [EncodePageToken] did not make.
var ErrBadPageToken = errors.New("invalid page token")

// DecodePageToken reads the offset from a token [EncodePageToken] made.
func DecodePageToken(tok string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err == nil {
		if s, ok := strings.CutPrefix(string(b), "offset:"); ok {
			if n, err := strconv.Atoi(s); err == nil && n >= 0 {
				return n, nil
			}
		}
	}
	return 0, fmt.Errorf("%w %q: pass the next_page_token of a previous page", ErrBadPageToken, tok)
}

// load reads full run records for ids, in the order given.
func (t *Tracker) load(ctx context.Context, ids []string) ([]RunInfo, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	byID := make(map[string]*RunInfo, len(ids))
	rows, err := t.db.QueryContext(ctx, `SELECT r.id, e.name, r.experiment_id, r.lifecycle_stage, COALESCE(r.parent_id, ''), r.name, r.status, r.start_ms, r.end_ms,
		r.command, r.gyre_version, r.git_commit, r.user_name
		FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id IN (`+ph+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("load runs: %w", err)
	}
	for rows.Next() {
		ri := &RunInfo{Params: map[string]string{}, Metrics: map[string]float64{}, Tags: map[string]string{}}
		var start int64
		var end sql.NullInt64
		var status string
		if err := rows.Scan(&ri.ID, &ri.Experiment, &ri.ExperimentID, &ri.Lifecycle, &ri.ParentID, &ri.Name, &status, &start, &end,
			&ri.Command, &ri.GyreVersion, &ri.GitCommit, &ri.User); err != nil {
			rows.Close()
			return nil, fmt.Errorf("load runs: %w", err)
		}
		ri.Status = Status(status)
		ri.Start = time.UnixMilli(start).UTC()
		if end.Valid {
			e := time.UnixMilli(end.Int64).UTC()
			ri.End = &e
		}
		byID[ri.ID] = ri
	}
	rows.Close()
	kv := func(table string, set func(ri *RunInfo, k string, v sql.NullString)) error {
		rows, err := t.db.QueryContext(ctx, "SELECT run_id, key, value FROM "+table+" WHERE run_id IN ("+ph+")", args...)
		if err != nil {
			return fmt.Errorf("load %s: %w", table, err)
		}
		defer rows.Close()
		for rows.Next() {
			var id, k string
			var v sql.NullString
			if err := rows.Scan(&id, &k, &v); err != nil {
				return fmt.Errorf("load %s: %w", table, err)
			}
			if ri := byID[id]; ri != nil {
				set(ri, k, v)
			}
		}
		return rows.Err()
	}
	if err := kv("params", func(ri *RunInfo, k string, v sql.NullString) { ri.Params[k] = v.String }); err != nil {
		return nil, err
	}
	if err := kv("tags", func(ri *RunInfo, k string, v sql.NullString) { ri.Tags[k] = v.String }); err != nil {
		return nil, err
	}
	mrows, err := t.db.QueryContext(ctx, "SELECT run_id, key, value, step, ts_ms FROM latest_metrics WHERE run_id IN ("+ph+") ORDER BY key", args...)
	if err != nil {
		return nil, fmt.Errorf("load metrics: %w", err)
	}
	for mrows.Next() {
		var id, k string
		var v sql.NullFloat64
		var step, ts int64
		if err := mrows.Scan(&id, &k, &v, &step, &ts); err != nil {
			mrows.Close()
			return nil, fmt.Errorf("load metrics: %w", err)
		}
		if ri := byID[id]; ri != nil {
			ri.Metrics[k] = nanIfNull(v)
			ri.LatestMetrics = append(ri.LatestMetrics, Metric{Key: k, Value: nanIfNull(v), Step: step, Time: time.UnixMilli(ts).UTC()})
		}
	}
	mrows.Close()
	arows, err := t.db.QueryContext(ctx, "SELECT run_id, name, digest, size FROM run_artifacts WHERE run_id IN ("+ph+") ORDER BY name", args...)
	if err != nil {
		return nil, fmt.Errorf("load artifacts: %w", err)
	}
	for arows.Next() {
		var id string
		var a Artifact
		if err := arows.Scan(&id, &a.Name, &a.Digest, &a.Size); err != nil {
			arows.Close()
			return nil, fmt.Errorf("load artifacts: %w", err)
		}
		if ri := byID[id]; ri != nil {
			ri.Artifacts = append(ri.Artifacts, a)
		}
	}
	arows.Close()
	drows, err := t.db.QueryContext(ctx, "SELECT run_id, dataset, version, role FROM run_datasets WHERE run_id IN ("+ph+") ORDER BY dataset, version", args...)
	if err != nil {
		return nil, fmt.Errorf("load datasets: %w", err)
	}
	for drows.Next() {
		var id string
		var d DatasetInput
		if err := drows.Scan(&id, &d.Name, &d.Version, &d.Role); err != nil {
			drows.Close()
			return nil, fmt.Errorf("load datasets: %w", err)
		}
		if ri := byID[id]; ri != nil {
			ri.Datasets = append(ri.Datasets, d)
		}
	}
	drows.Close()
	if err := t.loadInputs(ctx, ph, args, byID); err != nil {
		return nil, err
	}
	out := make([]RunInfo, 0, len(ids))
	for _, id := range ids {
		if ri := byID[id]; ri != nil {
			out = append(out, *ri)
		}
	}
	return out, nil
}

// runInfoJSON is RunInfo's JSON: a metric whose latest value is NaN or
// infinite is null (JSON has neither), and null reads back as NaN.
type runInfoJSON struct {
	plainRunInfo
	Metrics map[string]*float64 `json:"metrics"`
}

type plainRunInfo RunInfo

// MarshalJSON writes NaN and infinite metrics as null.
func (r RunInfo) MarshalJSON() ([]byte, error) {
	out := runInfoJSON{plainRunInfo: plainRunInfo(r), Metrics: make(map[string]*float64, len(r.Metrics))}
	for k, v := range r.Metrics {
		out.Metrics[k] = nil
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out.Metrics[k] = &v
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads null metrics as NaN.
func (r *RunInfo) UnmarshalJSON(b []byte) error {
	var in runInfoJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*r = RunInfo(in.plainRunInfo)
	if in.Metrics != nil {
		r.Metrics = make(map[string]float64, len(in.Metrics))
		for k, v := range in.Metrics {
			r.Metrics[k] = math.NaN()
			if v != nil {
				r.Metrics[k] = *v
			}
		}
	}
	return nil
}
