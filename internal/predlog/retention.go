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

// ExpiredLabels is one feedback file that Expire removed from the index.
type ExpiredLabels struct {
	// Digest names the labels' Parquet file in the artifact store.
	Digest string `json:"digest"`
	Model  string `json:"model"`
	// Labels is the file's label count, Size its size in bytes.
	Labels int64 `json:"labels"`
	Size   int64 `json:"size"`
	// Newest is the time of the file's newest label.
	Newest time.Time `json:"newest"`
}

// Expired is what [Log.Expire] removed, or with dryRun would remove.
type Expired struct {
	Batches []ExpiredBatch `json:"batches"`
	// Feedback lists the feedback files removed.
	Feedback []ExpiredLabels `json:"feedback"`
	// Labels counts the feedback labels removed (those of Feedback).
	Labels int64 `json:"labels"`
}

// Expire removes from the log every batch whose newest row is older than
// before, and the feedback files whose labels no kept batch can join: per
// model, those whose newest label was given before both before and the
// oldest row still kept (a label comes after its prediction, so such a
// label's prediction is gone). Each removed batch and feedback file is
// recorded in the audit inside the one write transaction. The files stay
// in the artifact store: other rows may share them, so the caller deletes
// them once nothing references them. With dryRun nothing is removed.
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
			return expireApply(ctx, tx, out)
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

// expirePlan lists the batches and feedback files Expire removes: batches
// older than cut, and per model the feedback files older than the earlier
// of cut and the oldest row of the batches kept.
func expirePlan(ctx context.Context, q querier, cut int64) (*Expired, error) {
	out := &Expired{Batches: []ExpiredBatch{}, Feedback: []ExpiredLabels{}}
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
	rows, err = q.QueryContext(ctx, `SELECT f.digest, f.model, f.n, f.size, f.max_time_ms FROM feedback_log f
		WHERE f.max_time_ms < ? AND f.max_time_ms < COALESCE(
			(SELECT MIN(k.min_time_ms) FROM prediction_log k WHERE k.model = f.model AND k.max_time_ms >= ?), ?)
		ORDER BY f.model, f.max_time_ms, f.digest`, cut, cut, cut)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var e ExpiredLabels
		var newest int64
		if err := rows.Scan(&e.Digest, &e.Model, &e.Labels, &e.Size, &newest); err != nil {
			return nil, err
		}
		e.Newest = time.UnixMilli(newest).UTC()
		out.Feedback = append(out.Feedback, e)
		out.Labels += e.Labels
	}
	return out, rows.Err()
}

// expireApply deletes what expirePlan listed, with its audit entries.
func expireApply(ctx context.Context, tx *sqlstore.Tx, out *Expired) error {
	for _, b := range out.Batches {
		if _, err := tx.ExecContext(ctx, "DELETE FROM prediction_log WHERE digest = ?", b.Digest); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, "prediction_log.batch.delete", "model", b.Model, b, nil); err != nil {
			return err
		}
	}
	for _, e := range out.Feedback {
		if _, err := tx.ExecContext(ctx, "DELETE FROM feedback_log WHERE digest = ?", e.Digest); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, "prediction_log.feedback.delete", "model", e.Model, e, nil); err != nil {
			return err
		}
	}
	return nil
}
