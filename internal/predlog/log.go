package predlog

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest/parquetio"
	"github.com/gyre-ml/gyre/internal/sqlstore"
)

// Log is the prediction log of a metadata store and an artifact store. It
// is safe for concurrent use, and several processes may share the stores.
type Log struct {
	// CompactAfter is how many feedback files the Log writes for a model
	// before it compacts that model's feedback (Compact): 0 means
	// DefaultCompactAfter, a negative number never (gyre gc still does).
	// Set it before first use.
	CompactAfter int

	db    *sqlstore.DB
	blobs blob.Store

	compactMu sync.Mutex
	written   map[string]int // feedback files written per model since its last compaction

	upgradeMu sync.Mutex
	upgraded  bool
}

// New returns the prediction log kept in db (the index and the feedback)
// and blobs (the batch files).
func New(db *sqlstore.DB, blobs blob.Store) *Log { return &Log{db: db, blobs: blobs} }

// LogPredictions stores a batch: its Parquet file goes to the artifact
// store first, then its index row (model, version, time range, row count,
// digest) to the metadata store, so a crash never indexes a missing file.
// Storing the same batch twice stores it once.
func (l *Log) LogPredictions(ctx context.Context, b *Batch) error {
	if b.Len() == 0 {
		return nil
	}
	if b.Model == "" {
		return fmt.Errorf("log predictions: batch without a model name")
	}
	if err := l.Upgrade(ctx); err != nil {
		return err
	}
	if err := l.store(ctx, b); err != nil {
		return fmt.Errorf("log predictions of %s: %w", b.Model, err)
	}
	return nil
}

// store writes a batch's file and indexes it.
func (l *Log) store(ctx context.Context, b *Batch) error {
	ref, lo, hi, err := l.put(ctx, b)
	if err != nil {
		return err
	}
	return l.db.Write(ctx, func(tx *sqlstore.Tx) error { return indexBatch(ctx, tx, b, ref, lo, hi) })
}

// put writes a batch's Parquet file to the artifact store.
func (l *Log) put(ctx context.Context, b *Batch) (ref blob.Ref, lo, hi int64, err error) {
	f, err := toFrame(b)
	if err != nil {
		return ref, 0, 0, err
	}
	var buf bytes.Buffer
	if err := parquetio.Write(&buf, f); err != nil {
		return ref, 0, 0, fmt.Errorf("encode batch: %w", err)
	}
	if ref, err = l.blobs.Put(ctx, &buf); err != nil {
		return ref, 0, 0, fmt.Errorf("store batch: %w", err)
	}
	lo, hi = b.Time[0], b.Time[0]
	for _, t := range b.Time {
		lo, hi = min(lo, t), max(hi, t)
	}
	return ref, lo, hi, nil
}

// indexBatch inserts a stored batch's index row.
func indexBatch(ctx context.Context, tx *sqlstore.Tx, b *Batch, ref blob.Ref, lo, hi int64) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO prediction_log (digest, model, version, min_time_ms, max_time_ms, n, size, logged_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING`,
		ref.Digest, b.Model, b.Version, floorMs(lo), floorMs(hi), int64(b.Len()), ref.Size, time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("index batch: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // stored before: recorded then
	}
	return audit.Record(ctx, tx, "prediction_log.batch.put", "model", b.Model, nil,
		map[string]any{"digest": ref.Digest, "version": b.Version, "rows": b.Len(), "size": ref.Size})
}

// floorMs is a unix-nanosecond time in whole milliseconds, rounded down.
func floorMs(ns int64) int64 {
	ms := ns / 1e6
	if ns < 0 && ns%1e6 != 0 {
		ms--
	}
	return ms
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

// Logged is what a query read: the logged rows in time order, a row
// logged twice (a retried write, a replayed write-ahead file) kept once,
// typed by the reader's schema, with each row's latest label.
type Logged struct {
	Batch
	// Labels holds each row's feedback label, "" when none arrived.
	Labels []string
	// Labeled counts the rows with a label.
	Labeled int
}

// feedbackSlack is how long before a prediction its label may be stamped:
// labels arrive after their predictions, a day absorbs clock skew between
// the processes that log them.
const feedbackSlack = 24 * time.Hour

// Read returns the logged predictions matching q, inputs typed by schema
// (columns matched by name and converted: a value that does not convert is
// missing, a column a batch lacks is missing) and predictions by classes
// (nil for regression; a class not among them is -1).
func (l *Log) Read(ctx context.Context, q Query, schema frame.Schema, classes []string) (*Logged, error) {
	if q.Model == "" {
		return nil, fmt.Errorf("read prediction log: no model given")
	}
	if err := l.Upgrade(ctx); err != nil {
		return nil, err
	}
	out, err := l.read(ctx, q, schema, classes)
	if err != nil {
		return nil, fmt.Errorf("read prediction log of %s: %w", q.Model, err)
	}
	return out, nil
}

// Count returns the number of logged predictions of a model since a time
// (zero: all), each row counted once, and how many of them have a label.
func (l *Log) Count(ctx context.Context, model string, since time.Time) (preds, labels int, err error) {
	lg, err := l.Read(ctx, Query{Model: model, Since: since}, frame.Schema{}, nil)
	if err != nil {
		return 0, 0, err
	}
	return lg.Len(), lg.Labeled, nil
}

func (l *Log) read(ctx context.Context, q Query, schema frame.Schema, classes []string) (*Logged, error) {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !q.Since.IsZero() {
		lo = q.Since.UnixNano()
	}
	if !q.Until.IsZero() {
		hi = q.Until.UnixNano()
	}
	query := "SELECT digest, n FROM prediction_log WHERE model = ? AND max_time_ms >= ? AND min_time_ms <= ?"
	args := []any{q.Model, floorMs(lo), floorMs(hi)}
	if q.Version != "" {
		query += " AND version = ?"
		args = append(args, q.Version)
	}
	rows, err := l.db.QueryContext(ctx, query+" ORDER BY min_time_ms, digest", args...)
	if err != nil {
		return nil, fmt.Errorf("query index: %w", err)
	}
	var digests []string
	rowsHint := 0
	for rows.Next() {
		var d string
		var n int
		if err := rows.Scan(&d, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("query index: %w", err)
		}
		digests = append(digests, d)
		rowsHint += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query index: %w", err)
	}
	// labels arrive after their predictions: with a lower time bound the
	// feedback is read while the batch files are
	type fbResult struct {
		labels *labels
		err    error
	}
	var early chan fbResult
	if lo > math.MinInt64+int64(feedbackSlack) {
		early = make(chan fbResult, 1)
		go func() {
			x, err := l.readLabels(ctx, q.Model, lo-int64(feedbackSlack))
			early <- fbResult{x, err}
		}()
	}
	files, err := l.load(ctx, digests)
	if err != nil {
		if early != nil {
			<-early
		}
		return nil, err
	}
	sel := selectRows(files, lo, hi, q.Limit)
	out := assemble(files, sel, schema, classes)
	out.Model, out.Version = q.Model, q.Version
	var lab *labels
	switch {
	case early != nil:
		r := <-early
		lab, err = r.labels, r.err
	case out.Len() > 0:
		lab, err = l.readLabels(ctx, q.Model, out.Time[0]-int64(feedbackSlack))
	}
	if err != nil {
		return nil, err
	}
	out.Labels = make([]string, out.Len())
	if lab != nil {
		out.Labeled = lab.join(out.RequestID, out.Row, out.Labels)
	}
	return out, nil
}

// load reads and decodes batch files on all cores.
func (l *Log) load(ctx context.Context, digests []string) ([]*stored, error) {
	files := make([]*stored, len(digests))
	errs := make([]error, len(digests))
	parallel(len(digests), func(i int) { files[i], errs[i] = l.loadOne(ctx, digests[i]) })
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("batch %s: %w", digests[i], err)
		}
	}
	return files, nil
}

func (l *Log) loadOne(ctx context.Context, digest string) (*stored, error) {
	f, err := l.readFile(ctx, digest)
	if err != nil {
		return nil, err
	}
	return openStored(f)
}

// readFile reads a Parquet file of the log from the artifact store.
func (l *Log) readFile(ctx context.Context, digest string) (*frame.Frame, error) {
	rc, err := l.blobs.Get(ctx, digest)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return nil, err
	}
	return parquetio.Read(bytes.NewReader(data), int64(len(data)), digest)
}

// rowKey identifies a logged row.
type rowKey struct {
	id  string
	row int32
}

// run is a stretch of consecutive selected rows of one file.
type run struct{ file, lo, hi int }

// selection is the rows a query keeps, as runs of files.
type selection struct {
	runs  []run
	times []int64
}

// selectRows picks the rows of files in [lo, hi) in time order, a row
// logged twice kept once, then the newest limit of them. A row logged twice
// (a retried write, a replayed write-ahead file) carries the same time both
// times, so only rows of equal times are compared.
func selectRows(files []*stored, lo, hi int64, limit int) *selection {
	type ref struct {
		t       int64
		file, i int32
	}
	var refs []ref
	for fi, f := range files {
		for i, t := range f.times {
			if t >= lo && t < hi {
				refs = append(refs, ref{t, int32(fi), int32(i)})
			}
		}
	}
	byTime := func(a, b ref) int { return cmp.Compare(a.t, b.t) }
	if !slices.IsSortedFunc(refs, byTime) { // concurrent servers interleave batches
		slices.SortStableFunc(refs, byTime)
	}
	key := func(r ref) rowKey {
		f := files[r.file]
		return rowKey{f.reqID(int(r.i)), f.row(int(r.i))}
	}
	kept := refs[:0]
	var seen map[rowKey]bool
	for g := 0; g < len(refs); {
		e := g + 1
		for e < len(refs) && refs[e].t == refs[g].t {
			e++
		}
		if e == g+1 {
			kept = append(kept, refs[g])
			g = e
			continue
		}
		if seen == nil {
			seen = map[rowKey]bool{}
		}
		clear(seen)
		for _, r := range refs[g:e] {
			if k := key(r); !seen[k] {
				seen[k] = true
				kept = append(kept, r)
			}
		}
		g = e
	}
	if limit > 0 && len(kept) > limit {
		kept = kept[len(kept)-limit:]
	}
	sel := &selection{times: make([]int64, len(kept))}
	for j, r := range kept {
		sel.times[j] = r.t
		if k := len(sel.runs) - 1; k >= 0 && sel.runs[k].file == int(r.file) && sel.runs[k].hi == int(r.i) {
			sel.runs[k].hi++
			continue
		}
		sel.runs = append(sel.runs, run{int(r.file), int(r.i), int(r.i) + 1})
	}
	return sel
}

// assemble copies the selected rows into a batch typed by schema and
// classes, one column per core at a time.
func assemble(files []*stored, sel *selection, schema frame.Schema, classes []string) *Logged {
	n := len(sel.times)
	out := &Logged{Batch: Batch{Time: sel.times, RequestID: make([]string, n), Row: make([]int32, n)}}
	fields := schema.Fields
	cols := make([]frame.Column, len(fields))
	pred := newPrediction(classes, n)
	classIndex := make(map[string]int, len(classes))
	for k, c := range classes {
		classIndex[c] = k
	}
	parallel(len(fields)+2, func(t int) {
		switch {
		case t < len(fields):
			c := newColumn(fields[t])
			c.reserve(n)
			name := storedName(fields[t].Name)
			for _, r := range sel.runs {
				if src := colOf(files[r.file].f, name); src != nil {
					c.appendRange(src, r.lo, r.hi)
				} else {
					c.appendNulls(r.hi - r.lo)
				}
			}
			cols[t] = c.finish()
		case t == len(fields):
			out.Latency = make([]int64, n)
			j := 0
			for _, r := range sel.runs {
				f := files[r.file]
				for i := r.lo; i < r.hi; i++ {
					out.RequestID[j], out.Row[j] = f.reqID(i), f.row(i)
					out.Latency[j] = -1
					if lc := f.latency; lc != nil && lc.Valid.Valid(i) {
						out.Latency[j] = lc.Values[i]
					}
					j++
				}
			}
		default:
			k := len(classes)
			j := 0
			for _, r := range sel.runs {
				f := files[r.file].f
				pred.Values = predictions(pred.Values, colOf(f, ColPrediction), r.lo, r.hi, classes, classIndex)
				for ci, name := range classes {
					pc, ok := colOf(f, ProbaPrefix+name).(*frame.Float)
					if !ok {
						continue
					}
					for i := r.lo; i < r.hi; i++ {
						if pc.Valid.Valid(i) {
							pred.Proba[(j+i-r.lo)*k+ci] = pc.Values[i]
						}
					}
				}
				j += r.hi - r.lo
			}
		}
	})
	out.Input = frame.MustNew(cols...)
	out.Pred = pred
	return out
}

// parallelRange calls fn on GOMAXPROCS stretches of 0..n-1 at once.
func parallelRange(n int, fn func(lo, hi int)) {
	w := min(runtime.GOMAXPROCS(0), max(1, n/4096))
	parallel(w, func(k int) { fn(k*n/w, (k+1)*n/w) })
}

// parallel calls fn(0..n-1) on all cores.
func parallel(n int, fn func(i int)) {
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	wg.Wait()
}
