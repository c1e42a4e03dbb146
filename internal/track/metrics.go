package track

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/sqlstore"
)

// point is one metric point as stored: its run, and its time in Unix
// milliseconds.
type point struct {
	run   string
	key   string
	step  int64
	ts    int64
	value float64 // NaN is stored as NULL
}

// metricWrite is one caller's metric points in the tracker's group commit,
// with the actor its audit entry names.
type metricWrite struct {
	run    string
	points []point
	keys   []string // sorted, distinct
	actor  audit.Actor
}

// metricGroup is the group commit of metric-only batches: concurrent
// loggers' points (one per request from many clients) are written with
// one statement per table and one transaction per group.
func (t *Tracker) metricGroup() *sqlstore.Group[metricWrite] {
	t.groupOnce.Do(func() {
		t.group = &sqlstore.Group[metricWrite]{DB: t.db, Apply: applyMetrics, Concurrency: 1}
		if t.db.Dialect() == sqlstore.Postgres {
			// Four of the pool's eight connections: groups overlap their
			// round trips; latest values are upserted in (run, key) order,
			// so concurrent groups cannot deadlock. Each group is one
			// pipelined round trip (commitMetricsPG).
			t.group.Concurrency = 4
			t.group.Commit = func(ctx context.Context, ws []metricWrite) ([]error, error) { return commitMetricsPG(ctx, t.db, ws) }
		}
	})
	return t.group
}

// applyMetrics writes a group of metric batches: the runs are checked
// (a missing or deleted run fails its own batches only), after locking
// them against purging (see [lockRuns]), then every point goes into the
// history, each (run, key)'s highest step into the latest values, and
// each batch's audit entry into the trail. On PostgreSQL the check and the
// three inserts are one statement (see [applyMetricsPG]).
func applyMetrics(ctx context.Context, tx *sqlstore.Tx, ws []metricWrite) ([]error, error) {
	ids := groupRuns(ws)
	if err := lockRuns(ctx, tx, ids, false); err != nil {
		return nil, err
	}
	if tx.Dialect() == sqlstore.Postgres {
		return applyMetricsPG(ctx, tx, ws, ids)
	}
	rows, err := tx.QueryContext(ctx, "SELECT id, lifecycle_stage FROM runs WHERE id IN ("+placeholders(len(ids))+")", ids...)
	if err != nil {
		return nil, err
	}
	stages, err := scanStages(rows)
	if err != nil {
		return nil, err
	}
	errs := batchErrors(ws, stages)
	var pts []point
	var live []metricWrite
	for i, w := range ws {
		if errs[i] == nil {
			pts = append(pts, w.points...)
			live = append(live, w)
		}
	}
	if len(pts) == 0 {
		return errs, nil
	}
	entries, err := batchEntries(live)
	if err != nil {
		return nil, err
	}
	if err := insertHistory(ctx, tx, pts); err != nil {
		return nil, err
	}
	if err := upsertLatest(ctx, tx, latestPoints(pts)); err != nil {
		return nil, err
	}
	if err := audit.RecordEntries(ctx, tx, entries); err != nil {
		return nil, err
	}
	return errs, nil
}

// commitMetricsPG writes a group of metric batches on PostgreSQL as
// applyMetrics does, in one transaction sent in one round trip: the run
// locks ([lockRuns]'s statement), then [metricsStatement], whose rows are
// the runs' stages.
func commitMetricsPG(ctx context.Context, db *sqlstore.DB, ws []metricWrite) ([]error, error) {
	ids := groupRuns(ws)
	q, args, err := metricsStatement(ctx, ws, ids)
	if err != nil {
		return nil, err
	}
	var stages map[string]string
	err = db.Pipelined(ctx, []sqlstore.Stmt{lockStatement(ids, false), {SQL: q, Args: args}}, func(row sqlstore.Row) error {
		var id, stage string
		if err := row.Scan(&id, &stage); err != nil {
			return err
		}
		stages[id] = stage
		return nil
	}, func() { stages = map[string]string{} })
	if err != nil {
		return nil, err
	}
	return batchErrors(ws, stages), nil
}

// groupRuns is the distinct runs of a group, in the order first named.
func groupRuns(ws []metricWrite) []any {
	seen := map[string]bool{}
	var ids []any
	for _, w := range ws {
		if !seen[w.run] {
			seen[w.run] = true
			ids = append(ids, w.run)
		}
	}
	return ids
}

// applyMetricsPG is applyMetrics' check and writes on PostgreSQL in one
// statement (a round trip and a plan instead of four): data-modifying
// CTEs insert the points, latest values and audit entries of the batches
// whose run the same statement finds active, and it returns the runs'
// stages, from which each batch's error follows. It runs after lockRuns,
// in a statement of its own, so its snapshot sees any purge that
// committed before the lock was granted.
func applyMetricsPG(ctx context.Context, tx *sqlstore.Tx, ws []metricWrite, ids []any) ([]error, error) {
	q, args, err := metricsStatement(ctx, ws, ids)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	stages, err := scanStages(rows)
	if err != nil {
		return nil, err
	}
	return batchErrors(ws, stages), nil
}

// metricsStatement is the one statement of applyMetricsPG with its
// arguments.
func metricsStatement(ctx context.Context, ws []metricWrite, ids []any) (string, []any, error) {
	var pts []point
	for _, w := range ws {
		pts = append(pts, w.points...)
	}
	entries, err := batchEntries(ws)
	if err != nil {
		return "", nil, err
	}
	cols, err := audit.Columns(ctx, entries)
	if err != nil {
		return "", nil, err
	}
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = id.(string)
	}
	const unnest = "unnest(?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::float8[]) AS p(run_id, key, step, ts_ms, value)"
	q := `WITH found AS (SELECT id, lifecycle_stage FROM runs WHERE id = ANY(?::text[])),
		live AS (SELECT id FROM found WHERE lifecycle_stage = '` + LifecycleActive + `'),
		h AS (INSERT INTO metric_history (run_id, key, step, ts_ms, value)
			SELECT * FROM ` + unnest + ` WHERE p.run_id IN (SELECT id FROM live)),
		l AS (INSERT INTO latest_metrics (run_id, key, step, ts_ms, value)
			SELECT * FROM ` + unnest + ` WHERE p.run_id IN (SELECT id FROM live)
			ON CONFLICT (run_id, key) DO UPDATE SET step = excluded.step, ts_ms = excluded.ts_ms, value = excluded.value
			WHERE excluded.step >= latest_metrics.step),
		a AS (INSERT INTO audit_log (` + audit.ColumnList + `)
			SELECT * FROM ` + audit.Unnest + ` AS e(` + audit.ColumnList + `) WHERE e.resource IN (SELECT id FROM live))
		SELECT id, lifecycle_stage FROM found`
	args := []any{names}
	for _, ps := range [][]point{pts, latestPoints(pts)} {
		runs, keys, steps, ts, vals := columns(ps)
		args = append(args, runs, keys, steps, ts, vals)
	}
	args = append(args, cols...)
	return q, args, nil
}

// scanStages reads (id, lifecycle_stage) rows and closes them.
func scanStages(rows *sql.Rows) (map[string]string, error) {
	defer rows.Close()
	stages := map[string]string{}
	for rows.Next() {
		var id, stage string
		if err := rows.Scan(&id, &stage); err != nil {
			return nil, err
		}
		stages[id] = stage
	}
	return stages, rows.Err()
}

// batchErrors is each batch's error given its run's stage: not found,
// deleted, or nil for an active run.
func batchErrors(ws []metricWrite, stages map[string]string) []error {
	errs := make([]error, len(ws))
	for i, w := range ws {
		switch stages[w.run] {
		case "":
			errs[i] = fmt.Errorf("run %s: %w", w.run, ErrNotFound)
		case LifecycleActive:
		default:
			errs[i] = fmt.Errorf("run %s is deleted: restore it to log into it: %w", w.run, ErrDeleted)
		}
	}
	return errs
}

// batchEntries is the audit entry of each batch.
func batchEntries(ws []metricWrite) ([]audit.Entry, error) {
	entries := make([]audit.Entry, len(ws))
	for i, w := range ws {
		after, err := json.Marshal(batchAudit{Metrics: len(w.points), MetricKeys: w.keys})
		if err != nil {
			return nil, err
		}
		entries[i] = audit.Entry{Action: "run.log", ResourceKind: "run", Resource: w.run, Actor: w.actor, After: after}
	}
	return entries, nil
}

// latestPoints keeps, per (run, key), the point a serial application of
// pts would leave as the latest: the last of those with the highest step,
// in (run, key) order.
func latestPoints(pts []point) []point {
	type rk struct{ run, key string }
	at := map[rk]int{}
	var out []point
	for _, p := range pts {
		k := rk{p.run, p.key}
		if j, ok := at[k]; !ok {
			at[k] = len(out)
			out = append(out, p)
		} else if p.step >= out[j].step {
			out[j] = p
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].run != out[j].run {
			return out[i].run < out[j].run
		}
		return out[i].key < out[j].key
	})
	return out
}

// metricChunk is the number of points per multi-row INSERT on SQLite.
const metricChunk = 400

// insertHistory appends points to metric_history: on PostgreSQL in one
// statement over arrays (one round trip and one plan for a batch of any
// size), on SQLite in multi-row INSERTs.
func insertHistory(ctx context.Context, tx *sqlstore.Tx, pts []point) error {
	if tx.Dialect() == sqlstore.Postgres {
		runs, keys, steps, ts, vals := columns(pts)
		_, err := tx.ExecContext(ctx, `INSERT INTO metric_history (run_id, key, step, ts_ms, value)
			SELECT * FROM unnest(?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::float8[])`, runs, keys, steps, ts, vals)
		return err
	}
	return insertChunks(ctx, tx, "INSERT INTO metric_history (run_id, key, step, ts_ms, value) VALUES ", "", pts)
}

// upsertLatest sets latest_metrics from pts, which hold at most one point
// per (run, key), keeping a stored value of a higher step.
func upsertLatest(ctx context.Context, tx *sqlstore.Tx, pts []point) error {
	const onConflict = ` ON CONFLICT (run_id, key) DO UPDATE SET step = excluded.step, ts_ms = excluded.ts_ms, value = excluded.value
		WHERE excluded.step >= latest_metrics.step`
	if tx.Dialect() == sqlstore.Postgres {
		runs, keys, steps, ts, vals := columns(pts)
		_, err := tx.ExecContext(ctx, `INSERT INTO latest_metrics (run_id, key, step, ts_ms, value)
			SELECT * FROM unnest(?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::float8[])`+onConflict, runs, keys, steps, ts, vals)
		return err
	}
	return insertChunks(ctx, tx, "INSERT INTO latest_metrics (run_id, key, step, ts_ms, value) VALUES ", onConflict, pts)
}

// insertChunks inserts pts in statements of metricChunk rows.
func insertChunks(ctx context.Context, tx *sqlstore.Tx, head, tail string, pts []point) error {
	var sb strings.Builder
	args := make([]any, 0, 5*min(metricChunk, len(pts)))
	for start := 0; start < len(pts); start += metricChunk {
		end := min(start+metricChunk, len(pts))
		sb.Reset()
		args = args[:0]
		sb.WriteString(head)
		for i, p := range pts[start:end] {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(?, ?, ?, ?, ?)")
			args = append(args, p.run, p.key, p.step, p.ts, nullable(p.value))
		}
		sb.WriteString(tail)
		if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// columns splits points into the arrays PostgreSQL's unnest takes; a NaN
// value becomes NULL.
func columns(pts []point) (runs, keys []string, steps, ts []int64, vals []*float64) {
	runs = make([]string, len(pts))
	keys = make([]string, len(pts))
	steps = make([]int64, len(pts))
	ts = make([]int64, len(pts))
	vals = make([]*float64, len(pts))
	for i, p := range pts {
		runs[i], keys[i], steps[i], ts[i] = p.run, p.key, p.step, p.ts
		if !math.IsNaN(p.value) {
			v := p.value
			vals[i] = &v
		}
	}
	return runs, keys, steps, ts, vals
}

// runLockClass is the first key of the PostgreSQL advisory locks that
// [lockRuns] takes on runs ("gyrf" in ASCII).
const runLockClass = 0x67797266

// lockRuns holds, until tx ends, a lock on each run in ids: shared by
// writers of metric points, exclusive by a run's purge ([PurgeTx]). On
// PostgreSQL metric_history has no foreign key (migration 0015): this lock
// is what keeps points from outliving their run. A purge waits for the
// writers in flight and, once it holds its lock, a writer waits for the
// purge to commit and then no longer finds the run (each statement in
// READ COMMITTED sees what committed before it began, so the lock is its
// own statement, before the run is read). Advisory locks are granted in
// queue order, so a purge is not starved by a stream of writers, as it
// would be waiting for a row lock that each new writer could still share.
// Shared locks are taken in id order. SQLite's writers are serial and it
// keeps the foreign key: nothing to do there.
func lockRuns(ctx context.Context, tx *sqlstore.Tx, ids []any, exclusive bool) error {
	if tx.Dialect() != sqlstore.Postgres || len(ids) == 0 {
		return nil
	}
	st := lockStatement(ids, exclusive)
	_, err := tx.ExecContext(ctx, st.SQL, st.Args...)
	if err != nil {
		return fmt.Errorf("lock runs: %w", err)
	}
	return nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// lockStatement is [lockRuns]' statement on PostgreSQL.
func lockStatement(ids []any, exclusive bool) sqlstore.Stmt {
	fn := "pg_advisory_xact_lock_shared"
	if exclusive {
		fn = "pg_advisory_xact_lock"
	}
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = id.(string)
	}
	sort.Strings(names)
	return sqlstore.Stmt{SQL: "SELECT " + fn + "(?, hashtext(id)) FROM (SELECT unnest(?::text[]) AS id ORDER BY 1) AS r", Args: []any{runLockClass, names}}
}
