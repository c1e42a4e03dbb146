package monitor

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
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
//
// Each LogPredictions or LogFeedback call stores one row per model holding
// the whole batch, one tab-separated line per record (tables
// prediction_batches and feedback_batches): reading a window of a million
// predictions is a few thousand rows. Labels are joined to predictions by
// request id and row when reading; the latest label of a row wins.
type Log struct {
	db *sqlstore.DB
}

// NewLog returns the prediction log of db.
func NewLog(db *sqlstore.DB) *Log { return &Log{db: db} }

// field makes an identifier safe for the line format.
func field(s string) string {
	if strings.ContainsAny(s, "\t\n\r") {
		return strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(s)
	}
	return s
}

// compactJSON returns JSON without raw tabs or newlines (valid JSON only
// has them as insignificant whitespace), or def for empty or invalid input.
func compactJSON(b []byte, def string) []byte {
	if len(b) == 0 {
		return []byte(def)
	}
	if bytes.ContainsAny(b, "\t\n\r") {
		var buf bytes.Buffer
		if err := json.Compact(&buf, b); err != nil {
			return []byte(def)
		}
		return buf.Bytes()
	}
	return b
}

func (l *Log) insertBatch(ctx context.Context, table, model string, lines []byte, n int, lo, hi time.Time) error {
	return l.db.Write(ctx, func(tx *sqlstore.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO "+table+" (id, model, min_time_ms, max_time_ms, n, records) VALUES (?, ?, ?, ?, ?, ?)",
			newBatchID(), model, lo.UnixMilli(), hi.UnixMilli(), int64(n), string(lines))
		return err
	})
}

// LogPredictions stores records: one batch row per model.
func (l *Log) LogPredictions(ctx context.Context, recs []Record) error {
	byModel := map[string][]int{}
	var order []string
	for i, r := range recs {
		if _, ok := byModel[r.Model]; !ok {
			order = append(order, r.Model)
		}
		byModel[r.Model] = append(byModel[r.Model], i)
	}
	for _, model := range order {
		var buf []byte
		lo, hi := recs[byModel[model][0]].Time, recs[byModel[model][0]].Time
		for _, i := range byModel[model] {
			r := &recs[i]
			if r.Time.Before(lo) {
				lo = r.Time
			}
			if r.Time.After(hi) {
				hi = r.Time
			}
			buf = append(buf, field(r.Version)...)
			buf = append(buf, '\t')
			buf = append(buf, field(r.RequestID)...)
			buf = append(buf, '\t')
			buf = strconv.AppendInt(buf, int64(r.Row), 10)
			buf = append(buf, '\t')
			buf = strconv.AppendInt(buf, r.Time.UnixMilli(), 10)
			buf = append(buf, '\t')
			buf = append(buf, compactJSON(r.Input, "{}")...)
			buf = append(buf, '\t')
			buf = append(buf, compactJSON(r.Output, "{}")...)
			buf = append(buf, '\n')
		}
		if err := l.insertBatch(ctx, "prediction_batches", model, buf, len(byModel[model]), lo, hi); err != nil {
			return fmt.Errorf("log predictions of %s: %w", model, err)
		}
	}
	return nil
}

// LogFeedback stores labels: one batch row per model. A later label for the
// same row replaces an earlier one when read.
func (l *Log) LogFeedback(ctx context.Context, fbs []Feedback) error {
	byModel := map[string][]int{}
	var order []string
	for i, f := range fbs {
		if _, ok := byModel[f.Model]; !ok {
			order = append(order, f.Model)
		}
		byModel[f.Model] = append(byModel[f.Model], i)
	}
	for _, model := range order {
		var buf []byte
		lo, hi := fbs[byModel[model][0]].Time, fbs[byModel[model][0]].Time
		for _, i := range byModel[model] {
			f := &fbs[i]
			if f.Time.Before(lo) {
				lo = f.Time
			}
			if f.Time.After(hi) {
				hi = f.Time
			}
			buf = append(buf, field(f.RequestID)...)
			buf = append(buf, '\t')
			buf = strconv.AppendInt(buf, int64(f.Row), 10)
			buf = append(buf, '\t')
			buf = strconv.AppendInt(buf, f.Time.UnixMilli(), 10)
			buf = append(buf, '\t')
			buf = append(buf, compactJSON(f.Label, "null")...)
			buf = append(buf, '\n')
		}
		if err := l.insertBatch(ctx, "feedback_batches", model, buf, len(byModel[model]), lo, hi); err != nil {
			return fmt.Errorf("log feedback of %s: %w", model, err)
		}
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
// with its feedback label when one arrived.
func (l *Log) Predictions(ctx context.Context, q Query) ([]Logged, error) {
	if q.Model == "" {
		return nil, fmt.Errorf("query prediction log: no model given")
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !q.Since.IsZero() {
		lo = q.Since.UnixMilli()
	}
	if !q.Until.IsZero() {
		hi = q.Until.UnixMilli()
	}
	var out []Logged
	err := l.scanBatches(ctx, "prediction_batches", q.Model, lo, hi, func(data []byte) error {
		for len(data) > 0 {
			nl := bytes.IndexByte(data, '\n')
			if nl < 0 {
				nl = len(data)
			}
			line := data[:nl]
			data = data[min(nl+1, len(data)):]
			var f [6][]byte
			k := 0
			for k < 5 {
				tab := bytes.IndexByte(line, '\t')
				if tab < 0 {
					break
				}
				f[k], line = line[:tab], line[tab+1:]
				k++
			}
			if k < 5 {
				continue // a torn line cannot happen (one row per batch); skip defensively
			}
			f[5] = line
			ms, err := strconv.ParseInt(string(f[3]), 10, 64)
			if err != nil || ms < lo || ms >= hi {
				continue
			}
			if q.Version != "" && string(f[0]) != q.Version {
				continue
			}
			row, _ := strconv.Atoi(string(f[2]))
			out = append(out, Logged{Record: Record{Model: q.Model, Version: string(f[0]), RequestID: string(f[1]), Row: row,
				Time: time.UnixMilli(ms).UTC(), Input: json.RawMessage(f[4]), Output: json.RawMessage(f[5])}})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("query prediction log of %s: %w", q.Model, err)
	}
	if !sort.SliceIsSorted(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) }) { // concurrent servers interleave batches
		sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[len(out)-q.Limit:]
	}
	if len(out) == 0 {
		return out, nil
	}
	// join the labels
	// a batch logged twice (a retried write) must not count twice
	index := make(map[string]int, len(out))
	kept := out[:0]
	for _, r := range out {
		k := r.RequestID + "\x00" + strconv.Itoa(r.Row)
		if _, dup := index[k]; dup {
			continue
		}
		index[k] = len(kept)
		kept = append(kept, r)
	}
	out = kept
	var key []byte
	// labels arrive after their predictions; a day of slack absorbs clock
	// skew between the processes that log them
	err = l.scanBatches(ctx, "feedback_batches", q.Model, out[0].Time.Add(-24*time.Hour).UnixMilli(), math.MaxInt64, func(data []byte) error {
		for len(data) > 0 {
			nl := bytes.IndexByte(data, '\n')
			if nl < 0 {
				nl = len(data)
			}
			line := data[:nl]
			data = data[min(nl+1, len(data)):]
			parts := bytes.SplitN(line, []byte{'\t'}, 4)
			if len(parts) != 4 {
				continue
			}
			key = append(append(append(key[:0], parts[0]...), 0), parts[1]...)
			if i, ok := index[string(key)]; ok {
				out[i].Label = json.RawMessage(parts[3])
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("query feedback of %s: %w", q.Model, err)
	}
	return out, nil
}

// scanBatches calls fn with the records of each batch of a model that may
// hold times in [lo, hi), oldest batch first.
func (l *Log) scanBatches(ctx context.Context, table, model string, lo, hi int64, fn func(data []byte) error) error {
	rows, err := l.db.QueryContext(ctx, "SELECT records FROM "+table+" WHERE model = ? AND max_time_ms >= ? AND min_time_ms < ? ORDER BY min_time_ms, id",
		model, lo, hi)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		if err := fn([]byte(s)); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Count returns the number of logged predictions of a model since a time
// (zero: all) and how many of them have a label. It reads the window.
func (l *Log) Count(ctx context.Context, model string, since time.Time) (preds, labels int, err error) {
	recs, err := l.Predictions(ctx, Query{Model: model, Since: since})
	if err != nil {
		return 0, 0, err
	}
	for _, r := range recs {
		if r.Label != nil {
			labels++
		}
	}
	return len(recs), labels, nil
}

func newBatchID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return strconv.FormatInt(time.Now().UnixMilli(), 36) + "-" + hex.EncodeToString(b[:])
}
