package predlog

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/sqlstore"
)

// ExpiredBatch is one logged batch that Expire removed from the index.
type ExpiredBatch struct {
	// Digest names the batch's Parquet file in the artifact store.
	Digest  string `json:"digest"`
	Model   string `json:"model"`
	Version string `json:"version"`
	// Rows is the batch's row count, Size its file's size in bytes.
	Rows int64 `json:"rows"`
	Size int64 `json:"size"`
	// Newest is the time of the batch's newest row.
	Newest time.Time `json:"newest"`
}

// Expired is what [Log.Expire] removed, or with dryRun would remove.
type Expired struct {
	Batches []ExpiredBatch `json:"batches"`
	// Labels counts the feedback labels removed.
	Labels int64 `json:"labels"`
}

// Expire removes from the log every batch whose newest row is older than
// before, and the feedback labels that no kept batch can join: per model,
// those given before both before and the oldest row still kept (a label
// comes after its prediction, so such a label's prediction is gone). Each
// removed batch and each model's removed labels are recorded in the audit
// inside the one write transaction. The batches' Parquet files stay in the
// artifact store: other rows may share them, so the caller deletes them
// once nothing references them. With dryRun nothing is removed.
func (l *Log) Expire(ctx context.Context, before time.Time, dryRun bool) (*Expired, error) {
	if err := l.Upgrade(ctx); err != nil {
		return nil, err
	}
	cut := before.UnixMilli()
	var out *Expired
	plan := func(q querier) error {
		var err error
		out, err = expirePlan(ctx, q, cut)
		return err
	}
	var err error
	if dryRun {
		err = plan(l.db)
	} else {
		err = l.db.Write(ctx, func(tx *sqlstore.Tx) error {
			if err := plan(tx); err != nil {
				return err
			}
			return expireApply(ctx, tx, cut, out)
		})
	}
	if err != nil {
		return nil, fmt.Errorf("expire prediction log before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return out, nil
}

// querier is what the plan reads through: the store, or the write
// transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// labelCut is one model's feedback cut-off and how many labels fall before
// it.
type labelCut struct {
	model string
	cut   int64
	n     int64
}

// expirePlan lists the batches older than cut and counts the labels Expire
// removes.
func expirePlan(ctx context.Context, q querier, cut int64) (*Expired, error) {
	out := &Expired{}
	rows, err := q.QueryContext(ctx, `SELECT digest, model, version, n, size, max_time_ms FROM prediction_log
		WHERE max_time_ms < ? ORDER BY model, max_time_ms, digest`, cut)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var b ExpiredBatch
		var newest int64
		if err := rows.Scan(&b.Digest, &b.Model, &b.Version, &b.Rows, &b.Size, &newest); err != nil {
			rows.Close()
			return nil, err
		}
		b.Newest = time.UnixMilli(newest).UTC()
		out.Batches = append(out.Batches, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	cuts, err := labelCuts(ctx, q, cut)
	if err != nil {
		return nil, err
	}
	for _, c := range cuts {
		out.Labels += c.n
	}
	return out, nil
}

// labelCuts gives, per model with labels to remove, the cut-off: the
// earlier of cut and the oldest row of the batches kept.
func labelCuts(ctx context.Context, q querier, cut int64) ([]labelCut, error) {
	rows, err := q.QueryContext(ctx, `SELECT f.model, COALESCE(MIN(k.min_time_ms), ?) FROM
		(SELECT DISTINCT model FROM feedback WHERE time_ms < ?) f
		LEFT JOIN prediction_log k ON k.model = f.model AND k.max_time_ms >= ?
		GROUP BY f.model ORDER BY f.model`, cut, cut, cut)
	if err != nil {
		return nil, err
	}
	var cuts []labelCut
	for rows.Next() {
		var c labelCut
		if err := rows.Scan(&c.model, &c.cut); err != nil {
			rows.Close()
			return nil, err
		}
		c.cut = min(c.cut, cut)
		cuts = append(cuts, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range cuts {
		if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM feedback WHERE model = ? AND time_ms < ?",
			cuts[i].model, cuts[i].cut).Scan(&cuts[i].n); err != nil {
			return nil, err
		}
	}
	return cuts, nil
}

// expireApply deletes what expirePlan listed, with its audit entries.
func expireApply(ctx context.Context, tx *sqlstore.Tx, cut int64, out *Expired) error {
	for _, b := range out.Batches {
		if _, err := tx.ExecContext(ctx, "DELETE FROM prediction_log WHERE digest = ?", b.Digest); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, "prediction_log.batch.delete", "model", b.Model, b, nil); err != nil {
			return err
		}
	}
	cuts, err := labelCuts(ctx, tx, cut)
	if err != nil {
		return err
	}
	for _, c := range cuts {
		if c.n == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM feedback WHERE model = ? AND time_ms < ?", c.model, c.cut); err != nil {
			return err
		}
		before := map[string]any{"labels": c.n, "before": time.UnixMilli(c.cut).UTC()}
		if err := audit.Record(ctx, tx, "prediction_log.feedback.delete", "model", c.model, before, nil); err != nil {
			return err
		}
	}
	return nil
}
