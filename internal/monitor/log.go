package monitor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
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
// the whole batch in columnar form (tables prediction_chunks and
// feedback_chunks, see colbatch.go): reading a window of a million
// predictions is a few thousand rows, decoded on all cores without JSON.
// Batches written by older versions as tab-separated lines (tables
// prediction_batches and feedback_batches) are still read. Labels are
// joined to predictions by request id and row when reading; the latest
// label of a row wins.
type Log struct {
	db *sqlstore.DB
}

// NewLog returns the prediction log of db.
func NewLog(db *sqlstore.DB) *Log { return &Log{db: db} }

func (l *Log) insertBatch(ctx context.Context, table, model string, data []byte, n int, lo, hi int64) error {
	return l.db.Write(ctx, func(tx *sqlstore.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO "+table+" (id, model, min_time_ms, max_time_ms, n, data) VALUES (?, ?, ?, ?, ?, ?)",
			newBatchID(), model, lo, hi, int64(n), data)
		return err
	})
}

// groupByModel returns the indexes of each model's items, models in order
// of first appearance.
func groupByModel(n int, model func(int) string) (order []string, byModel map[string][]int) {
	byModel = map[string][]int{}
	for i := 0; i < n; i++ {
		m := model(i)
		if _, ok := byModel[m]; !ok {
			order = append(order, m)
		}
		byModel[m] = append(byModel[m], i)
	}
	return order, byModel
}

// timeRange returns the least and greatest of a batch's times.
func timeRange(ts []int64) (lo, hi int64) {
	lo, hi = ts[0], ts[0]
	for _, t := range ts {
		lo, hi = min(lo, t), max(hi, t)
	}
	return lo, hi
}

// LogPredictions stores records: one columnar batch row per model (table
// prediction_chunks). Inputs and outputs are turned into typed columns
// here, once, so that reading a window needs no JSON.
func (l *Log) LogPredictions(ctx context.Context, recs []Record) error {
	order, byModel := groupByModel(len(recs), func(i int) string { return recs[i].Model })
	for _, model := range order {
		idx := byModel[model]
		bb := newBatchBuilder(len(idx))
		version, reqID, row := bb.metaCol(colVersion), bb.metaCol(colRequestID), bb.metaCol(colRow)
		for _, k := range idx {
			r := &recs[k]
			i := bb.row(r.Time.UnixMilli())
			version.setEntry(i, jsString, []byte(r.Version))
			reqID.setEntry(i, jsString, []byte(r.RequestID))
			row.setNum(i, float64(r.Row))
			// a record that is not a JSON object keeps its row with the
			// inputs (or outputs) missing rather than losing the batch
			_ = bb.addObject(i, inPrefix, r.Input)
			_ = bb.addObject(i, outPrefix, r.Output)
		}
		b := bb.finish()
		lo, hi := timeRange(b.times)
		if err := l.insertBatch(ctx, "prediction_chunks", model, appendBatch(nil, b), b.n, lo, hi); err != nil {
			return fmt.Errorf("log predictions of %s: %w", model, err)
		}
	}
	return nil
}

// LogFeedback stores labels: one columnar batch row per model (table
// feedback_chunks). A later label for the same row replaces an earlier one
// when read.
func (l *Log) LogFeedback(ctx context.Context, fbs []Feedback) error {
	order, byModel := groupByModel(len(fbs), func(i int) string { return fbs[i].Model })
	for _, model := range order {
		idx := byModel[model]
		bb := newBatchBuilder(len(idx))
		reqID, row, label := bb.metaCol(colRequestID), bb.metaCol(colRow), bb.metaCol(colLabel)
		for _, k := range idx {
			f := &fbs[k]
			i := bb.row(f.Time.UnixMilli())
			reqID.setEntry(i, jsString, []byte(f.RequestID))
			row.setNum(i, float64(f.Row))
			if kind, val, esc, ok := scanValue(f.Label); ok {
				label.setJSON(i, kind, val, esc)
			}
		}
		b := bb.finish()
		lo, hi := timeRange(b.times)
		if err := l.insertBatch(ctx, "feedback_chunks", model, appendBatch(nil, b), b.n, lo, hi); err != nil {
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
// with its feedback label when one arrived. It rebuilds each row's JSON;
// monitoring reads typed columns with [Log.Current] instead.
func (l *Log) Predictions(ctx context.Context, q Query) ([]Logged, error) {
	sel, err := l.selectRows(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]Logged, len(sel.refs))
	layouts := make([]*[2][]member, len(sel.batches))
	var buf []byte
	for j, r := range sel.refs {
		b := sel.batches[r.b]
		if layouts[r.b] == nil {
			layouts[r.b] = &[2][]member{objectLayout(b, inPrefix), objectLayout(b, outPrefix)}
		}
		i := int(r.i)
		lg := &out[j]
		lg.Model = q.Model
		lg.Version = textAt(b.index[colVersion], i)
		lg.RequestID = textAt(b.index[colRequestID], i)
		if c := b.index[colRow]; c != nil {
			v, _ := c.number(i)
			lg.Row = int(v)
		}
		lg.Time = time.UnixMilli(b.times[i]).UTC()
		buf = appendObject(buf[:0], layouts[r.b][0], i)
		lg.Input = json.RawMessage(append([]byte(nil), buf...))
		buf = appendObject(buf[:0], layouts[r.b][1], i)
		lg.Output = json.RawMessage(append([]byte(nil), buf...))
		if lr := sel.labels[j]; lr.b >= 0 {
			if c := sel.feedback[lr.b].index[colLabel]; c != nil {
				lg.Label = json.RawMessage(c.appendJSON(nil, int(lr.i)))
			}
		}
	}
	return out, nil
}

// textAt returns row i of a column as text ("" when missing).
func textAt(c *bcol, i int) string {
	if c == nil || !c.present(i) {
		return ""
	}
	if c.num {
		return strconv.FormatFloat(c.f(i), 'g', -1, 64)
	}
	return c.dict[c.codes[i]-1].text
}

// member is one member of a rebuilt JSON object: a column, or an object of
// flattened child columns.
type member struct {
	key      []byte // the quoted name and a colon
	col      *bcol
	children []member
}

func newMember(name string, c *bcol) member {
	q, _ := json.Marshal(name)
	if c != nil && !c.num && c.quoted == nil {
		c.quoted = make([][]byte, len(c.dict)+1)
		for e := range c.dict {
			c.quoted[e+1] = c.appendEntryJSON(nil, e)
		}
	}
	return member{key: append(q, ':'), col: c}
}

// objectLayout groups a batch's columns of one section into object members.
func objectLayout(b *colBatch, prefix byte) []member {
	var out []member
	parents := map[string]int{}
	for _, c := range b.cols {
		if c.name == "" || c.name[0] != prefix {
			continue
		}
		name := c.name[1:]
		parent, child, nested := strings.Cut(name, "\x00")
		if !nested {
			out = append(out, newMember(name, c))
			continue
		}
		k, ok := parents[parent]
		if !ok {
			k = len(out)
			parents[parent] = k
			out = append(out, newMember(parent, nil))
		}
		out[k].children = append(out[k].children, newMember(child, c))
	}
	return out
}

// appendObject appends row i of a layout as a JSON object; missing values
// are left out.
func appendObject(buf []byte, ms []member, i int) []byte {
	buf = append(buf, '{')
	first := true
	for _, m := range ms {
		if m.col != nil && !m.col.present(i) {
			continue
		}
		if m.col == nil {
			some := false
			for _, c := range m.children {
				some = some || c.col.present(i)
			}
			if !some {
				continue
			}
		}
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = append(buf, m.key...)
		if m.col != nil {
			if m.col.num {
				buf = strconv.AppendFloat(buf, m.col.f(i), 'g', -1, 64)
			} else {
				buf = append(buf, m.col.quoted[m.col.codes[i]]...)
			}
			continue
		}
		buf = appendObject(buf, m.children, i)
	}
	return append(buf, '}')
}

// Count returns the number of logged predictions of a model since a time
// (zero: all) and how many of them have a label. It reads the window.
func (l *Log) Count(ctx context.Context, model string, since time.Time) (preds, labels int, err error) {
	sel, err := l.selectRows(ctx, Query{Model: model, Since: since})
	if err != nil {
		return 0, 0, err
	}
	for _, r := range sel.labels {
		if r.b >= 0 {
			labels++
		}
	}
	return len(sel.refs), labels, nil
}

func newBatchID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return strconv.FormatInt(time.Now().UnixMilli(), 36) + "-" + hex.EncodeToString(b[:])
}
