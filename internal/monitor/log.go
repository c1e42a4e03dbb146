package monitor

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/gyre-ml/gyre/internal/sqlstore"
)

// Record is one logged prediction: one row of one request.
type Record struct {
	Model     string          `json:"model"`
	Version   string          `json:"version"`
	RequestID string          `json:"request_id"`
	Row       int             `json:"row"`
	Time      time.Time       `json:"time"`
	Input     json.RawMessage `json:"input"`
	Output    json.RawMessage `json:"output"`
}

// Feedback is the ground truth of one logged row.
type Feedback struct {
	Model     string          `json:"model"`
	RequestID string          `json:"request_id"`
	Row       int             `json:"row"`
	Label     json.RawMessage `json:"label"`
	Time      time.Time       `json:"time"`
}

// Logged is a logged prediction with its feedback label, if any.
type Logged struct {
	Record
	// Label is the JSON label from feedback, nil when none arrived.
	Label json.RawMessage `json:"label,omitempty"`
}

// Log is the prediction log in the metadata store. It is safe for
// concurrent use.
type Log struct {
	db *sqlstore.DB
}

// NewLog returns the prediction log of db.
func NewLog(db *sqlstore.DB) *Log { return &Log{db: db} }

// insertBatch is the number of rows per INSERT statement.
const insertBatch = 200

// LogPredictions stores records in one transaction (multi-row inserts).
// A record already logged (same model, request id and row) is ignored.
func (l *Log) LogPredictions(ctx context.Context, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	err := l.db.Write(ctx, func(tx *sqlstore.Tx) error {
		for lo := 0; lo < len(recs); lo += insertBatch {
			hi := min(lo+insertBatch, len(recs))
			var q strings.Builder
			q.WriteString("INSERT INTO predictions (model, version, request_id, row_index, time_ms, input, output) VALUES ")
			args := make([]any, 0, 7*(hi-lo))
			for i, r := range recs[lo:hi] {
				if i > 0 {
					q.WriteByte(',')
				}
				q.WriteString("(?,?,?,?,?,?,?)")
				in, out := string(r.Input), string(r.Output)
				if in == "" {
					in = "{}"
				}
				if out == "" {
					out = "{}"
				}
				args = append(args, r.Model, r.Version, r.RequestID, int64(r.Row), r.Time.UnixMilli(), in, out)
			}
			q.WriteString(" ON CONFLICT (model, request_id, row_index) DO NOTHING")
			if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("log predictions: %w", err)
	}
	return nil
}

// LogFeedback stores labels; a later label for the same row replaces the
// earlier one.
func (l *Log) LogFeedback(ctx context.Context, fbs []Feedback) error {
	if len(fbs) == 0 {
		return nil
	}
	err := l.db.Write(ctx, func(tx *sqlstore.Tx) error {
		for lo := 0; lo < len(fbs); lo += insertBatch {
			hi := min(lo+insertBatch, len(fbs))
			var q strings.Builder
			q.WriteString("INSERT INTO feedback (model, request_id, row_index, label, time_ms) VALUES ")
			args := make([]any, 0, 5*(hi-lo))
			seen := map[[2]any]bool{}
			n := 0
			for _, f := range fbs[lo:hi] {
				key := [2]any{f.RequestID, f.Row}
				if seen[key] { // one statement cannot update a row twice
					continue
				}
				seen[key] = true
				if n > 0 {
					q.WriteByte(',')
				}
				n++
				q.WriteString("(?,?,?,?,?)")
				args = append(args, f.Model, f.RequestID, int64(f.Row), string(f.Label), f.Time.UnixMilli())
			}
			q.WriteString(" ON CONFLICT (model, request_id, row_index) DO UPDATE SET label = excluded.label, time_ms = excluded.time_ms")
			if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("log feedback: %w", err)
	}
	return nil
}

// Query selects logged predictions.
type Query struct {
	// Model is the served model name (required).
	Model string
	// Version restricts to one model version ("" = all).
	Version string
	// Since and Until bound the prediction time: Since ≤ t < Until (zero =
	// unbounded).
	Since, Until time.Time
	// Limit bounds the rows, newest kept (0 = all).
	Limit int
}

// Predictions returns the logged predictions matching q in time order, each
// with its feedback label when one arrived. Without a Limit, the time range
// is read in parallel slices (SQLite and PostgreSQL both serve concurrent
// readers).
func (l *Log) Predictions(ctx context.Context, q Query) ([]Logged, error) {
	if q.Model == "" {
		return nil, fmt.Errorf("query prediction log: no model given")
	}
	if q.Limit > 0 {
		out, err := l.query(ctx, q, true)
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 { // oldest first
			out[i], out[j] = out[j], out[i]
		}
		return out, err
	}
	lo, hi := q.Since.UnixMilli(), q.Until.UnixMilli()
	if q.Since.IsZero() {
		lo = math.MinInt64
	}
	if q.Until.IsZero() {
		hi = math.MaxInt64
	}
	var minMS, maxMS sql.NullInt64
	var n int
	if err := l.db.QueryRowContext(ctx, "SELECT MIN(time_ms), MAX(time_ms), COUNT(*) FROM predictions WHERE model = ? AND time_ms >= ? AND time_ms < ?",
		q.Model, lo, hi).Scan(&minMS, &maxMS, &n); err != nil {
		return nil, fmt.Errorf("query prediction log of %s: %w", q.Model, err)
	}
	if n == 0 {
		return nil, nil
	}
	parts := 1
	if n > 20000 {
		parts = min(4, runtime.GOMAXPROCS(0))
	}
	step := (maxMS.Int64-minMS.Int64)/int64(parts) + 1
	results := make([][]Logged, parts)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for k := 0; k < parts; k++ {
		sub := q
		sub.Since = time.UnixMilli(minMS.Int64 + int64(k)*step)
		sub.Until = time.UnixMilli(min(minMS.Int64+int64(k+1)*step, maxMS.Int64+1))
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			results[k], errs[k] = l.query(ctx, sub, false)
		}(k)
	}
	wg.Wait()
	total := 0
	for k := range results {
		if errs[k] != nil {
			return nil, errs[k]
		}
		total += len(results[k])
	}
	out := make([]Logged, 0, total)
	for _, r := range results {
		out = append(out, r...)
	}
	return out, nil
}

func (l *Log) query(ctx context.Context, q Query, newestFirst bool) ([]Logged, error) {
	var sb strings.Builder
	sb.WriteString(`SELECT p.version, p.request_id, p.row_index, p.time_ms, p.input, p.output, f.label
		FROM predictions p LEFT JOIN feedback f
		ON f.model = p.model AND f.request_id = p.request_id AND f.row_index = p.row_index
		WHERE p.model = ?`)
	args := []any{q.Model}
	if q.Version != "" {
		sb.WriteString(" AND p.version = ?")
		args = append(args, q.Version)
	}
	if !q.Since.IsZero() {
		sb.WriteString(" AND p.time_ms >= ?")
		args = append(args, q.Since.UnixMilli())
	}
	if !q.Until.IsZero() {
		sb.WriteString(" AND p.time_ms < ?")
		args = append(args, q.Until.UnixMilli())
	}
	if newestFirst {
		sb.WriteString(" ORDER BY p.time_ms DESC, p.request_id, p.row_index")
	} else {
		sb.WriteString(" ORDER BY p.time_ms")
	}
	if q.Limit > 0 {
		sb.WriteString(fmt.Sprintf(" LIMIT %d", q.Limit))
	}
	rows, err := l.db.QueryContext(ctx, sb.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("query prediction log of %s: %w", q.Model, err)
	}
	defer rows.Close()
	var out []Logged
	for rows.Next() {
		var r Logged
		var ms, row int64
		var in, outJSON string
		var label *string
		if err := rows.Scan(&r.Version, &r.RequestID, &row, &ms, &in, &outJSON, &label); err != nil {
			return nil, fmt.Errorf("query prediction log of %s: %w", q.Model, err)
		}
		r.Model, r.Row, r.Time = q.Model, int(row), time.UnixMilli(ms).UTC()
		r.Input, r.Output = json.RawMessage(in), json.RawMessage(outJSON)
		if label != nil {
			r.Label = json.RawMessage(*label)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query prediction log of %s: %w", q.Model, err)
	}
	return out, nil
}

// Count returns the number of logged predictions and labelled ones of a
// model since a time (zero: all).
func (l *Log) Count(ctx context.Context, model string, since time.Time) (preds, labels int, err error) {
	err = l.db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(f.label) FROM predictions p LEFT JOIN feedback f
		ON f.model = p.model AND f.request_id = p.request_id AND f.row_index = p.row_index
		WHERE p.model = ? AND p.time_ms >= ?`, model, since.UnixMilli()).Scan(&preds, &labels)
	if err != nil {
		return 0, 0, fmt.Errorf("count prediction log of %s: %w", model, err)
	}
	return preds, labels, nil
}
