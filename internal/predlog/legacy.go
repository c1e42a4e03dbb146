package predlog

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/sqlstore"
)

// Upgrade converts what older versions logged (tables prediction_batches
// and feedback_batches of migration 0003, one text line per prediction;
// prediction_chunks and feedback_chunks of migration 0004, a private
// columnar encoding) into the Parquet log, once per Log; every read and
// write calls it first. Each old batch becomes Parquet files and index rows
// in the transaction that deletes it, so processes that upgrade at once
// convert each batch once; old labels become feedback files, and so do
// the rows of table feedback (migration 0005), a label logged since
// keeping its place (the last given label wins).
//
// Old rows keep what monitoring used: top-level input members (a nested
// input object, which gyre serve never logged, is dropped), the prediction
// and the class probabilities. A column becomes float, bool or categorical
// when all its values in a batch are numbers, booleans or strings, and text
// otherwise, so readers convert it as before.
func (l *Log) Upgrade(ctx context.Context) error {
	l.upgradeMu.Lock()
	defer l.upgradeMu.Unlock()
	if l.upgraded {
		return nil
	}
	for _, t := range []struct{ table, col string }{{"prediction_batches", "records"}, {"prediction_chunks", "data"}} {
		if err := l.upgradePredictions(ctx, t.table, t.col); err != nil {
			return fmt.Errorf("upgrade prediction log: %s: %w", t.table, err)
		}
	}
	if err := l.upgradeFeedback(ctx); err != nil {
		return fmt.Errorf("upgrade prediction log: feedback: %w", err)
	}
	if err := l.upgradeFeedbackTable(ctx); err != nil {
		return fmt.Errorf("upgrade prediction log: feedback table: %w", err)
	}
	l.upgraded = true
	return nil
}

// upgradePredictions converts the batches of an old table one at a time.
func (l *Log) upgradePredictions(ctx context.Context, table, col string) error {
	ids, err := l.legacyIDs(ctx, table)
	if err != nil {
		return err
	}
	for _, id := range ids {
		var model string
		var data []byte
		err := l.db.QueryRowContext(ctx, "SELECT model, "+col+" FROM "+table+" WHERE id = ?", id).Scan(&model, &data)
		if err != nil {
			continue // converted by another process meanwhile
		}
		t, err := parseLegacy(table, data)
		if err != nil {
			return fmt.Errorf("batch %s: %w", id, err)
		}
		batches := t.predictions(model)
		type put struct {
			b      *Batch
			ref    blob.Ref
			lo, hi int64
		}
		puts := make([]put, len(batches))
		for i, b := range batches {
			ref, lo, hi, err := l.put(ctx, b)
			if err != nil {
				return fmt.Errorf("batch %s: %w", id, err)
			}
			puts[i] = put{b, ref, lo, hi}
		}
		err = l.db.Write(ctx, func(tx *sqlstore.Tx) error {
			res, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE id = ?", id)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err == nil && n == 0 {
				return nil // another process converted it
			}
			for _, p := range puts {
				if err := indexBatch(ctx, tx, p.b, p.ref, p.lo, p.hi); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("batch %s: %w", id, err)
		}
	}
	return nil
}

// legacyIDs lists an old table's batches in the order older versions read
// them: by first time, then id.
func (l *Log) legacyIDs(ctx context.Context, table string) ([]string, error) {
	rows, err := l.db.QueryContext(ctx, "SELECT id FROM "+table+" ORDER BY min_time_ms, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// upgradeFeedback moves old labels into feedback files: text batches,
// then columnar ones, each by first time, the later of a row's labels
// winning; the files are indexed in the transaction that deletes the old
// batches.
func (l *Log) upgradeFeedback(ctx context.Context) error {
	var fbs []Feedback
	var done []string // table + "\x00" + id
	for _, t := range []struct{ table, col string }{{"feedback_batches", "records"}, {"feedback_chunks", "data"}} {
		ids, err := l.legacyIDs(ctx, t.table)
		if err != nil {
			return err
		}
		for _, id := range ids {
			var model string
			var data []byte
			if err := l.db.QueryRowContext(ctx, "SELECT model, "+t.col+" FROM "+t.table+" WHERE id = ?", id).Scan(&model, &data); err != nil {
				continue
			}
			lt, err := parseLegacy(t.table, data)
			if err != nil {
				return fmt.Errorf("batch %s: %w", id, err)
			}
			fbs = append(fbs, lt.feedback(model)...)
			done = append(done, t.table+"\x00"+id)
		}
	}
	if len(done) == 0 {
		return nil
	}
	var puts []storedFeedback
	if len(fbs) > 0 {
		for _, group := range byModel(fbs) {
			p, err := l.putFeedback(ctx, group)
			if err != nil {
				return err
			}
			puts = append(puts, p)
		}
	}
	return l.db.Write(ctx, func(tx *sqlstore.Tx) error {
		for _, d := range done {
			table, id, _ := strings.Cut(d, "\x00")
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE id = ?", id); err != nil {
				return err
			}
		}
		for _, p := range puts {
			if err := indexFeedback(ctx, tx, p); err != nil {
				return err
			}
		}
		return nil
	})
}

// A legacy table is an old batch as columns of JSON-typed cells. Column
// names carry their section as a first byte: 0 for the record's own fields
// (version, request_id, row, label), 'i' for input members, 'o' for output
// members; an object member is flattened one level (parent + "\x00" +
// child).
type legacyTable struct {
	n     int
	times []int64 // unix milliseconds
	names []string
	cols  map[string][]cell
}

// cell is one JSON value: kind 0 (missing), 'n' (number), 's' (string),
// 't', 'f' (booleans) or 'r' (an object or array, as JSON text).
type cell struct {
	kind byte
	text string
	num  float64
}

// str renders a cell as text, numbers in Go's shortest form.
func (c cell) str() string {
	switch c.kind {
	case 'n':
		return strconv.FormatFloat(c.num, 'g', -1, 64)
	case 't':
		return "true"
	case 'f':
		return "false"
	}
	return c.text
}

func newLegacyTable(n int) *legacyTable {
	return &legacyTable{times: make([]int64, 0, n), cols: map[string][]cell{}}
}

// set stores a cell in row i of a column, creating it.
func (t *legacyTable) set(name string, i int, c cell) {
	col, ok := t.cols[name]
	if !ok {
		t.names = append(t.names, name)
		col = make([]cell, t.n)
	}
	for len(col) < t.n {
		col = append(col, cell{})
	}
	col[i] = c
	t.cols[name] = col
}

// get returns row i of a column (missing when absent).
func (t *legacyTable) get(name string, i int) cell {
	if col := t.cols[name]; i < len(col) {
		return col[i]
	}
	return cell{}
}

func (t *legacyTable) row(ms int64) int {
	t.times = append(t.times, ms)
	t.n++
	return t.n - 1
}

// parseLegacy decodes an old batch of the named table.
func parseLegacy(table string, data []byte) (*legacyTable, error) {
	if strings.HasSuffix(table, "_chunks") {
		return decodeChunk(data)
	}
	prediction := table == "prediction_batches"
	fields, timeField := 4, 2 // request id, row, time, label
	if prediction {
		fields, timeField = 6, 3 // version, request id, row, time, input, output
	}
	t := newLegacyTable(bytes.Count(data, []byte{'\n'}) + 1)
	for len(data) > 0 {
		line, rest, _ := bytes.Cut(data, []byte{'\n'})
		data = rest
		f := bytes.SplitN(line, []byte{'\t'}, fields)
		if len(f) < fields {
			continue
		}
		ms, err := strconv.ParseInt(string(f[timeField]), 10, 64)
		if err != nil {
			continue
		}
		i := t.row(ms)
		if prediction {
			t.set("\x00version", i, cell{kind: 's', text: string(f[0])})
			f = f[1:]
		}
		t.set("\x00request_id", i, cell{kind: 's', text: string(f[0])})
		r, _ := strconv.Atoi(string(f[1]))
		t.set("\x00row", i, cell{kind: 'n', num: float64(r)})
		if prediction {
			t.setObject('i', i, f[3])
			t.setObject('o', i, f[4])
		} else {
			t.set("\x00label", i, jsonCell(json.RawMessage(f[3])))
		}
	}
	return t, nil
}

// setObject stores the members of a JSON object (objects flattened one
// level); a line that is not an object leaves the row's members missing.
func (t *legacyTable) setObject(prefix byte, i int, raw []byte) {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return
	}
	for _, k := range slices.Sorted(mapKeys(m)) {
		v := bytes.TrimSpace(m[k])
		if len(v) > 0 && v[0] == '{' {
			var sub map[string]json.RawMessage
			if json.Unmarshal(v, &sub) == nil {
				for _, ck := range slices.Sorted(mapKeys(sub)) {
					t.set(string(prefix)+k+"\x00"+ck, i, jsonCell(sub[ck]))
				}
			}
			continue
		}
		t.set(string(prefix)+k, i, jsonCell(v))
	}
}

func mapKeys(m map[string]json.RawMessage) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// jsonCell classifies one JSON value.
func jsonCell(raw json.RawMessage) cell {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return cell{}
	}
	switch raw[0] {
	case 'n':
		return cell{}
	case 't':
		return cell{kind: 't'}
	case 'f':
		return cell{kind: 'f'}
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return cell{}
		}
		return cell{kind: 's', text: s}
	case '{', '[':
		return cell{kind: 'r', text: string(raw)}
	}
	v, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return cell{kind: 's', text: string(raw)}
	}
	return cell{kind: 'n', num: v}
}

var errChunk = errors.New("corrupt columnar batch")

// decodeChunk decodes a batch of migration 0004:
//
//	"GYC1" uvarint(n) n×varint(time delta ms) uvarint(columns)
//	per column: uvarint(len) name, then
//	  'F' byte(bitmap?) [bitmap] n×float64 (little endian), or
//	  'D' uvarint(entries) entries×(kind uvarint(len) text) byte(width) n×code
//
// where dictionary kinds are 's' (string), 'n' (number), 't', 'f', '{'
// and '[' (raw JSON), and code 0 is a missing value.
func decodeChunk(data []byte) (*legacyTable, error) {
	if !bytes.HasPrefix(data, []byte("GYC1")) {
		return nil, fmt.Errorf("%w: no GYC1 header", errChunk)
	}
	r := chunkReader{data: data[4:]}
	n := r.uvarint()
	if n > uint64(len(r.data)) {
		return nil, fmt.Errorf("%w: %d rows in %d bytes", errChunk, n, len(data))
	}
	t := newLegacyTable(int(n))
	prev := int64(0)
	for range n {
		d, k := binary.Varint(r.data)
		if k <= 0 {
			return nil, fmt.Errorf("%w: row times", errChunk)
		}
		r.data = r.data[k:]
		prev += d
		t.row(prev)
	}
	ncols := r.uvarint()
	for c := uint64(0); c < ncols && r.err == nil; c++ {
		name := string(r.bytes(r.uvarint()))
		mode := r.bytes(1)
		if r.err != nil {
			break
		}
		switch mode[0] {
		case 'F':
			var valid []byte
			if hb := r.bytes(1); r.err == nil && hb[0] == 1 {
				valid = r.bytes((n + 7) / 8)
			}
			raw := r.bytes(8 * n)
			for i := 0; r.err == nil && i < int(n); i++ {
				if valid == nil || valid[i>>3]&(1<<(i&7)) != 0 {
					t.set(name, i, cell{kind: 'n', num: math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))})
				}
			}
		case 'D':
			m := r.uvarint()
			if m > uint64(len(r.data)) {
				r.err = errChunk
				break
			}
			dict := make([]cell, m+1)
			for e := uint64(1); e <= m && r.err == nil; e++ {
				kind := r.bytes(1)
				text := r.bytes(r.uvarint())
				if r.err == nil {
					dict[e] = dictCell(kind[0], string(text))
				}
			}
			w := r.bytes(1)
			if r.err != nil {
				break
			}
			raw := r.bytes(uint64(w[0]) * n)
			for i := 0; r.err == nil && i < int(n); i++ {
				var code uint64
				switch w[0] {
				case 1:
					code = uint64(raw[i])
				case 2:
					code = uint64(binary.LittleEndian.Uint16(raw[2*i:]))
				case 4:
					code = uint64(binary.LittleEndian.Uint32(raw[4*i:]))
				default:
					r.err = errChunk
				}
				if code > m {
					r.err = errChunk
				}
				if r.err == nil && code > 0 {
					t.set(name, i, dict[code])
				}
			}
		default:
			r.err = errChunk
		}
		if r.err != nil {
			return nil, fmt.Errorf("%w: column %q", r.err, name)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return t, nil
}

// dictCell is a dictionary entry of a columnar batch as a cell.
func dictCell(kind byte, text string) cell {
	switch kind {
	case 'n':
		if v, err := strconv.ParseFloat(text, 64); err == nil {
			return cell{kind: 'n', num: v}
		}
		return cell{kind: 's', text: text}
	case 's', 't', 'f':
		return cell{kind: kind, text: text}
	}
	return cell{kind: 'r', text: text}
}

type chunkReader struct {
	data []byte
	err  error
}

func (r *chunkReader) uvarint() uint64 {
	v, k := binary.Uvarint(r.data)
	if k <= 0 {
		r.err, r.data = errChunk, nil
		return 0
	}
	r.data = r.data[k:]
	return v
}

func (r *chunkReader) bytes(n uint64) []byte {
	if uint64(len(r.data)) < n {
		r.err, r.data = errChunk, nil
		return nil
	}
	b := r.data[:n]
	r.data = r.data[n:]
	return b
}

// feedback returns an old feedback batch's labels.
func (t *legacyTable) feedback(model string) []Feedback {
	out := make([]Feedback, 0, t.n)
	for i, ms := range t.times {
		id, label := t.get("\x00request_id", i), t.get("\x00label", i)
		if id.kind == 0 || label.kind == 0 {
			continue
		}
		out = append(out, Feedback{Model: model, RequestID: id.str(), Row: int(t.get("\x00row", i).num),
			Label: label.str(), Time: msTime(ms)})
	}
	return out
}

// predictions returns an old prediction batch as batches, one per version.
func (t *legacyTable) predictions(model string) []*Batch {
	byVersion := map[string][]int{}
	var versions []string
	for i := range t.n {
		v := t.get("\x00version", i).str()
		if _, ok := byVersion[v]; !ok {
			versions = append(versions, v)
		}
		byVersion[v] = append(byVersion[v], i)
	}
	out := make([]*Batch, 0, len(versions))
	for _, v := range versions {
		out = append(out, t.batch(model, v, byVersion[v]))
	}
	return out
}

// batch builds the batch of some rows, each input column typed by what
// its values are.
func (t *legacyTable) batch(model, version string, rows []int) *Batch {
	n := len(rows)
	b := &Batch{Model: model, Version: version, RequestID: make([]string, n), Row: make([]int32, n), Time: make([]int64, n)}
	for j, i := range rows {
		b.RequestID[j] = t.get("\x00request_id", i).str()
		b.Row[j] = int32(t.get("\x00row", i).num)
		b.Time[j] = t.times[i] * 1e6
	}
	var inputs []frame.Column
	var classes []string
	for _, name := range t.names {
		switch {
		case name[0] == 'i' && !strings.Contains(name, "\x00"):
			inputs = append(inputs, t.typedColumn(name[1:], t.cols[name], rows))
		case strings.HasPrefix(name, "oprobabilities\x00"):
			classes = append(classes, strings.TrimPrefix(name, "oprobabilities\x00"))
		}
	}
	b.Input = frame.MustNew(inputs...)
	pc := t.cols["oprediction"]
	regression := len(classes) == 0
	for _, i := range rows {
		if c := at(pc, i); c.kind != 0 && c.kind != 'n' {
			regression = false
		}
	}
	p := newPrediction(nil, n)
	b.Pred = p
	if regression {
		for _, i := range rows {
			v := math.NaN()
			if c := at(pc, i); c.kind == 'n' {
				v = c.num
			}
			p.Values = append(p.Values, v)
		}
		return b
	}
	for _, i := range rows {
		if c := at(pc, i); c.kind != 0 && !slices.Contains(classes, c.str()) {
			classes = append(classes, c.str())
		}
	}
	slices.Sort(classes)
	*p = *newPrediction(classes, n)
	k := len(classes)
	for j, i := range rows {
		v := -1.0
		if c := at(pc, i); c.kind != 0 {
			v = float64(slices.Index(classes, c.str()))
		}
		p.Values = append(p.Values, v)
		for ci, name := range classes {
			if c := t.get("oprobabilities\x00"+name, i); c.kind == 'n' {
				p.Proba[j*k+ci] = c.num
			}
		}
	}
	return b
}

func at(col []cell, i int) cell {
	if i < len(col) {
		return col[i]
	}
	return cell{}
}

// typedColumn is an input column of some rows: float, bool or categorical
// when every present value is a number, a boolean or a string, else text.
func (t *legacyTable) typedColumn(name string, col []cell, rows []int) frame.Column {
	kinds := map[byte]bool{}
	for _, i := range rows {
		if c := at(col, i); c.kind != 0 {
			k := c.kind
			if k == 'f' {
				k = 't'
			}
			kinds[k] = true
		}
	}
	kind := frame.KindString
	if len(kinds) == 1 {
		switch {
		case kinds['n']:
			kind = frame.KindFloat
		case kinds['t']:
			kind = frame.KindBool
		case kinds['s']:
			kind = frame.KindCategorical
		}
	}
	c := newColumn(frame.Field{Name: name, Kind: kind})
	for _, i := range rows {
		switch v := at(col, i); {
		case v.kind == 0:
			c.appendNulls(1)
		case v.kind == 'n':
			c.appendNumber(v.num, true)
		default:
			c.appendText(v.str(), true)
		}
	}
	return c.finish()
}

// msTime is a unix-millisecond time.
func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
