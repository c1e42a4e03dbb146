package predlog

import (
	"bytes"
	"context"
	"fmt"
	"hash/maphash"
	"slices"
	"time"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest/parquetio"
	"github.com/gyre-ml/gyre/internal/sqlstore"
)

// ColLabel is the label column of a feedback file. A feedback file is a
// flat table any Parquet tool reads, one row per label:
//
//	__time         TIMESTAMP(NANOS)  when the label was given
//	__model        string            the served model name
//	__request_id   string            the labelled prediction's request id
//	__row          int64             and its row in that request
//	__label        string            the truth, as text
const ColLabel = "__label"

// LogFeedback stores labels: each model's labels in fbs become one Parquet
// file in the artifact store, then its index row (model, time range, row
// count, digest) in table feedback_log, so a crash never indexes a missing
// file. A row's label is the one given last (by Feedback.Time; among equal
// times, the one stored last): a later label replaces an earlier one.
// Storing the same labels twice stores them once.
func (l *Log) LogFeedback(ctx context.Context, fbs []Feedback) error {
	if len(fbs) == 0 {
		return nil
	}
	if err := l.Upgrade(ctx); err != nil {
		return err
	}
	for _, group := range byModel(fbs) {
		if err := l.storeFeedback(ctx, group); err != nil {
			return fmt.Errorf("log feedback of %s: %w", group[0].Model, err)
		}
	}
	return nil
}

// byModel splits labels by model, each group in the labels' order.
func byModel(fbs []Feedback) [][]Feedback {
	first := fbs[0].Model
	if !slices.ContainsFunc(fbs, func(f Feedback) bool { return f.Model != first }) {
		return [][]Feedback{fbs}
	}
	at := map[string]int{}
	var out [][]Feedback
	for _, f := range fbs {
		k, ok := at[f.Model]
		if !ok {
			k = len(out)
			at[f.Model] = k
			out = append(out, nil)
		}
		out[k] = append(out[k], f)
	}
	return out
}

// storeFeedback writes one model's labels as a file and indexes it.
func (l *Log) storeFeedback(ctx context.Context, fbs []Feedback) error {
	p, err := l.putFeedback(ctx, fbs)
	if err != nil {
		return err
	}
	if err := l.db.Write(ctx, func(tx *sqlstore.Tx) error { return indexFeedback(ctx, tx, p) }); err != nil {
		return err
	}
	l.noteFeedbackFile(ctx, p.model)
	return nil
}

// storedFeedback is a feedback file put in the artifact store, to index.
type storedFeedback struct {
	model  string
	n      int
	ref    blob.Ref
	lo, hi int64 // unix nanoseconds
}

// putFeedback writes one model's labels as a Parquet file to the artifact
// store.
func (l *Log) putFeedback(ctx context.Context, fbs []Feedback) (storedFeedback, error) {
	p := storedFeedback{model: fbs[0].Model, n: len(fbs)}
	if p.model == "" {
		return p, fmt.Errorf("feedback without a model name")
	}
	f, err := feedbackFrame(fbs)
	if err != nil {
		return p, err
	}
	var buf bytes.Buffer
	if err := parquetio.Write(&buf, f); err != nil {
		return p, fmt.Errorf("encode feedback: %w", err)
	}
	if p.ref, err = l.blobs.Put(ctx, &buf); err != nil {
		return p, fmt.Errorf("store feedback: %w", err)
	}
	times := f.Col(0).(*frame.Time).Values
	p.lo, p.hi = slices.Min(times), slices.Max(times)
	return p, nil
}

// indexFeedback inserts a stored feedback file's index row.
func indexFeedback(ctx context.Context, tx *sqlstore.Tx, p storedFeedback) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO feedback_log (digest, model, min_time_ms, max_time_ms, n, size, logged_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING`,
		p.ref.Digest, p.model, floorMs(p.lo), floorMs(p.hi), int64(p.n), p.ref.Size, time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("index feedback: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	return audit.Record(ctx, tx, "prediction_log.feedback.put", "model", p.model, nil,
		map[string]any{"digest": p.ref.Digest, "labels": p.n, "size": p.ref.Size})
}

// feedbackFrame lays one model's labels out as the table a feedback file
// holds. Labels are stored as a dictionary when they repeat (class names),
// as plain text otherwise (numbers).
func feedbackFrame(fbs []Feedback) (*frame.Frame, error) {
	n := len(fbs)
	times := make([]int64, n)
	ids := make([]string, n)
	rows := make([]int64, n)
	labels := make([]string, n)
	distinct := map[string]bool{}
	for i, f := range fbs {
		times[i], ids[i], rows[i], labels[i] = f.Time.UnixNano(), f.RequestID, int64(f.Row), f.Label
		if len(distinct) <= n/2 {
			distinct[f.Label] = true
		}
	}
	var label frame.Column = &frame.String{ColName: ColLabel, Values: labels}
	if len(distinct) <= n/2 {
		label = frame.NewCategorical(ColLabel, labels, nil)
	}
	f, err := frame.New(&frame.Time{ColName: ColTime, Values: times}, constant(ColModel, fbs[0].Model, n),
		&frame.String{ColName: ColRequestID, Values: ids}, &frame.Int{ColName: ColRow, Values: rows}, label)
	if err != nil {
		return nil, fmt.Errorf("feedback columns: %w", err)
	}
	return f, nil
}

// labelFile is one feedback file read back.
type labelFile struct {
	times []int64
	reqID func(i int) string
	row   func(i int) int32
	label func(i int) string
}

// openLabels checks a table read from a feedback file.
func openLabels(f *frame.Frame) (*labelFile, error) {
	s, err := openStored(f)
	if err != nil {
		return nil, err
	}
	out := &labelFile{times: s.times, reqID: s.reqID, row: s.row}
	switch c := colOf(f, ColLabel).(type) {
	case *frame.String:
		out.label = func(i int) string { return c.Values[i] }
	case *frame.Categorical:
		out.label = c.Value
	default:
		return nil, fmt.Errorf("not a feedback file: no text column %s", ColLabel)
	}
	return out, nil
}

// readLabels reads a model's labels given at or after since (unix
// nanoseconds): the feedback files whose newest label is that recent, read
// on all cores, then per row the label given last (among equal times, the
// one stored last).
func (l *Log) readLabels(ctx context.Context, model string, since int64) (*labels, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT digest FROM feedback_log WHERE model = ? AND max_time_ms >= ?
		ORDER BY logged_ms, digest`, model, floorMs(since))
	if err != nil {
		return nil, fmt.Errorf("query feedback index: %w", err)
	}
	var digests []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return nil, fmt.Errorf("query feedback index: %w", err)
		}
		digests = append(digests, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query feedback index: %w", err)
	}
	out := &labels{files: make([]*labelFile, len(digests)), seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
	errs := make([]error, len(digests))
	parallel(len(digests), func(i int) {
		f, err := l.readFile(ctx, digests[i])
		if err == nil {
			out.files[i], err = openLabels(f)
		}
		errs[i] = err
	})
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("feedback %s: %w", digests[i], err)
		}
	}
	out.partition(since)
	return out, nil
}

// feedbackUpgradeRows bounds the labels of one file the upgrade of the
// feedback table writes.
const feedbackUpgradeRows = 1 << 16

// upgradeFeedbackTable carries the labels of table feedback (migration
// 0005, one row per label) into feedback files, one model at a time, each
// in the transaction that deletes its rows; the files are written in the
// rows' time order, so processes that upgrade at once write the same files
// and index them once.
func (l *Log) upgradeFeedbackTable(ctx context.Context) error {
	rows, err := l.db.QueryContext(ctx, "SELECT DISTINCT model FROM feedback ORDER BY model")
	if err != nil {
		return err
	}
	var models []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			rows.Close()
			return err
		}
		models = append(models, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, model := range models {
		err := l.db.Write(ctx, func(tx *sqlstore.Tx) error {
			fbs, err := tableFeedback(ctx, tx, model)
			if err != nil || len(fbs) == 0 {
				return err
			}
			for lo := 0; lo < len(fbs); lo += feedbackUpgradeRows {
				p, err := l.putFeedback(ctx, fbs[lo:min(lo+feedbackUpgradeRows, len(fbs))])
				if err != nil {
					return err
				}
				if err := indexFeedback(ctx, tx, p); err != nil {
					return err
				}
			}
			_, err = tx.ExecContext(ctx, "DELETE FROM feedback WHERE model = ?", model)
			return err
		})
		if err != nil {
			return fmt.Errorf("model %s: %w", model, err)
		}
	}
	return nil
}

// tableFeedback reads one model's rows of table feedback in time order.
func tableFeedback(ctx context.Context, tx *sqlstore.Tx, model string) ([]Feedback, error) {
	rows, err := tx.QueryContext(ctx, `SELECT request_id, row_index, label, time_ms FROM feedback WHERE model = ?
		ORDER BY time_ms, request_id, row_index`, model)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Feedback
	for rows.Next() {
		f := Feedback{Model: model}
		var ms int64
		if err := rows.Scan(&f.RequestID, &f.Row, &f.Label, &ms); err != nil {
			return nil, err
		}
		f.Time = time.UnixMilli(ms).UTC()
		out = append(out, f)
	}
	return out, rows.Err()
}
