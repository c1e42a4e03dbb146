package monitor

import (
	"bytes"
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rowRef is one row of one batch.
type rowRef struct{ b, i int32 }

// selection is the rows of a query: the batches read, the selected rows in
// time order (duplicates dropped), and each row's label (b < 0: none).
type selection struct {
	batches  []*colBatch
	refs     []rowRef
	times    []int64
	feedback []*colBatch
	labels   []rowRef
}

// batchTables names the columnar and the older text table of a log.
type batchTables struct{ chunks, text string }

var (
	predictionTables = batchTables{chunks: "prediction_chunks", text: "prediction_batches"}
	feedbackTables   = batchTables{chunks: "feedback_chunks", text: "feedback_batches"}
)

// loadBatches reads the batches of a model that may hold times in [lo, hi),
// ordered by their first time (then id), text batches of migration 0003
// before columnar ones. Decoding runs on all cores while the store is read.
// The store does not sort: ordering rows that carry megabytes of blobs
// makes SQLite spill them to a temporary sorter.
func (l *Log) loadBatches(ctx context.Context, t batchTables, model string, lo, hi int64, parseText func([]byte) *colBatch) ([]*colBatch, error) {
	type job struct {
		seq  int
		data []byte
		text bool
	}
	type keyed struct {
		text  bool
		first int64
		id    string
		b     *colBatch
	}
	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan job, 2*workers)
	var (
		mu       sync.Mutex
		out      []keyed
		firstErr error
		wg       sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				var b *colBatch
				var err error
				if j.text {
					b = parseText(j.data)
				} else {
					b, err = decodeBatch(j.data)
				}
				mu.Lock()
				out[j.seq].b = b
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("batch %s of %s: %w", out[j.seq].id, t.chunks, err)
				}
				mu.Unlock()
			}
		}()
	}
	scan := func(table, col string, text bool) error {
		rows, err := l.db.QueryContext(ctx, "SELECT min_time_ms, id, "+col+" FROM "+table+" WHERE model = ? AND max_time_ms >= ? AND min_time_ms < ?",
			model, lo, hi)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k keyed
			var data []byte
			if err := rows.Scan(&k.first, &k.id, &data); err != nil {
				return err
			}
			k.text = text
			mu.Lock()
			seq := len(out)
			out = append(out, k)
			mu.Unlock()
			jobs <- job{seq: seq, data: data, text: text}
		}
		return rows.Err()
	}
	err := scan(t.text, "records", true)
	if err == nil {
		err = scan(t.chunks, "data", false)
	}
	close(jobs)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if firstErr != nil {
		return nil, firstErr
	}
	slices.SortFunc(out, func(a, b keyed) int {
		switch {
		case a.text != b.text:
			if a.text {
				return -1
			}
			return 1
		case a.first != b.first:
			return cmpInt64(a.first, b.first)
		}
		return strings.Compare(a.id, b.id)
	})
	batches := make([]*colBatch, len(out))
	for i, k := range out {
		batches[i] = k.b
	}
	return batches, nil
}

// parsePredictionText parses a text batch of migration 0003: one line per
// prediction, version, request id, row, time (ms), input and output
// separated by tabs.
func parsePredictionText(data []byte) *colBatch {
	bb := newBatchBuilder(bytes.Count(data, []byte{'\n'}) + 1)
	version, reqID, row := bb.metaCol(colVersion), bb.metaCol(colRequestID), bb.metaCol(colRow)
	eachTextRecord(data, 6, 3, func(f [][]byte, ms int64) {
		r, _ := strconv.Atoi(string(f[2]))
		i := bb.row(ms)
		version.setEntry(i, jsString, f[0])
		reqID.setEntry(i, jsString, f[1])
		row.setNum(i, float64(r))
		_ = bb.addObject(i, inPrefix, f[4]) // a malformed object leaves the row's inputs missing
		_ = bb.addObject(i, outPrefix, f[5])
	})
	return bb.finish()
}

// eachTextRecord calls fn for every line of a text batch that has n
// tab-separated fields and a millisecond time in field timeField; other
// lines are skipped.
func eachTextRecord(data []byte, n, timeField int, fn func(f [][]byte, ms int64)) {
	for len(data) > 0 {
		line, rest, _ := bytes.Cut(data, []byte{'\n'})
		data = rest
		f := bytes.SplitN(line, []byte{'\t'}, n)
		if len(f) < n {
			continue
		}
		ms, err := strconv.ParseInt(string(f[timeField]), 10, 64)
		if err != nil {
			continue
		}
		fn(f, ms)
	}
}

// parseFeedbackText parses a text feedback batch of migration 0003: request
// id, row, time (ms) and label separated by tabs.
func parseFeedbackText(data []byte) *colBatch {
	bb := newBatchBuilder(bytes.Count(data, []byte{'\n'}) + 1)
	reqID, row, label := bb.metaCol(colRequestID), bb.metaCol(colRow), bb.metaCol(colLabel)
	eachTextRecord(data, 4, 2, func(f [][]byte, ms int64) {
		r, _ := strconv.Atoi(string(f[1]))
		i := bb.row(ms)
		reqID.setEntry(i, jsString, f[0])
		row.setNum(i, float64(r))
		if kind, val, esc, ok := scanValue(f[3]); ok {
			label.setJSON(i, kind, val, esc)
		}
	})
	return bb.finish()
}

// rowKeys hashes the (request id, row) key of rows to 128 bits (two
// independently seeded 64-bit hashes): rows with equal hashes are taken to
// be the same row. Comparing hashes instead of request ids keeps the
// million-row joins in sequential memory; two distinct keys among n rows
// collide with probability about n²/2¹²⁹.
type rowKeys struct {
	seed1, seed2 maphash.Seed
}

func newRowKeys() rowKeys { return rowKeys{seed1: maphash.MakeSeed(), seed2: maphash.MakeSeed()} }

// rowHash is a row's 128-bit key hash.
type rowHash struct{ h1, h2 uint64 }

// batchKeys returns the key hash of every row of a batch.
func (k rowKeys) batchKeys(b *colBatch) []rowHash {
	req, row := b.index[colRequestID], b.index[colRow]
	var entryHash []rowHash
	if req != nil && !req.num {
		entryHash = make([]rowHash, len(req.dict)+1)
		for e, d := range req.dict {
			entryHash[e+1] = rowHash{maphash.String(k.seed1, d.text), maphash.String(k.seed2, d.text)}
		}
	}
	out := make([]rowHash, b.n)
	for i := range out {
		var h rowHash
		if entryHash != nil {
			h = entryHash[req.codes[i]]
		} else if req != nil {
			t := textAt(req, i)
			h = rowHash{maphash.String(k.seed1, t), maphash.String(k.seed2, t)}
		}
		var r float64
		if row != nil {
			r, _ = row.number(i)
		}
		x := (math.Float64bits(r) + 1) * 0x9E3779B97F4A7C15
		y := (math.Float64bits(r) + 7) * 0xC2B2AE3D27D4EB4F
		out[i] = rowHash{h.h1 ^ (x ^ x>>29), h.h2 ^ (y ^ y>>31)}
	}
	return out
}

// selectRows reads the predictions of q: rows in the time window (and
// version), in time order, a row logged twice kept once, the newest Limit
// kept, each joined with its latest feedback label.
func (l *Log) selectRows(ctx context.Context, q Query) (*selection, error) {
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
	// labels arrive after their predictions; a day of slack absorbs clock
	// skew between the processes that log them. With a lower time bound,
	// feedback is read while the predictions are.
	const slack = int64(24 * time.Hour / time.Millisecond)
	type fbResult struct {
		fbs []*colBatch
		err error
	}
	var early chan fbResult
	if lo > math.MinInt64+slack {
		early = make(chan fbResult, 1)
		go func() {
			fbs, err := l.loadBatches(ctx, feedbackTables, q.Model, lo-slack, math.MaxInt64, parseFeedbackText)
			early <- fbResult{fbs, err}
		}()
	}
	batches, err := l.loadBatches(ctx, predictionTables, q.Model, lo, hi, parsePredictionText)
	if err != nil {
		if early != nil {
			<-early
		}
		return nil, fmt.Errorf("query prediction log of %s: %w", q.Model, err)
	}
	sel := &selection{batches: batches}
	total := 0
	for _, b := range batches {
		total += b.n
	}
	type timedRef struct {
		t int64
		r rowRef
	}
	rows := make([]timedRef, 0, total)
	for bi, b := range batches {
		var vcol *bcol
		want := uint32(0)
		if q.Version != "" {
			vcol = b.index[colVersion]
			if vcol == nil || vcol.num {
				continue
			}
			for e, d := range vcol.dict {
				if d.text == q.Version {
					want = uint32(e + 1)
				}
			}
			if want == 0 {
				continue
			}
		}
		for i, t := range b.times {
			if t < lo || t >= hi || vcol != nil && vcol.codes[i] != want {
				continue
			}
			rows = append(rows, timedRef{t, rowRef{int32(bi), int32(i)}})
		}
	}
	if !slices.IsSortedFunc(rows, func(a, b timedRef) int { return cmpInt64(a.t, b.t) }) { // concurrent servers interleave batches
		slices.SortStableFunc(rows, func(a, b timedRef) int { return cmpInt64(a.t, b.t) })
	}
	if q.Limit > 0 && len(rows) > q.Limit {
		rows = rows[len(rows)-q.Limit:]
	}
	// a batch logged twice (a retried write) must not count twice: rows
	// sorted by key hash (radix sort, stable, so time order within equal
	// keys), equal keys compared, the first kept
	keys := newRowKeys()
	hashes := make([][]rowHash, len(batches))
	parallel(len(batches), func(bi int) { hashes[bi] = keys.batchKeys(batches[bi]) })
	byKey := make([]keyedRow, len(rows))
	for j, tr := range rows {
		rh := hashes[tr.r.b][tr.r.i]
		byKey[j] = keyedRow{h: rh.h1, h2: rh.h2, j: int32(j)}
	}
	byKey = radixSort(byKey)
	drop := make([]bool, len(rows))
	for g := 0; g < len(byKey); {
		e := g + 1
		for e < len(byKey) && byKey[e].h == byKey[g].h {
			e++
		}
		for x := g + 1; x < e; x++ { // groups are one row unless a key repeats
			for y := g; y < x; y++ {
				if !drop[byKey[y].j] && byKey[y].h2 == byKey[x].h2 {
					drop[byKey[x].j] = true
					break
				}
			}
		}
		g = e
	}
	newIndex := make([]int32, len(rows))
	sel.refs = make([]rowRef, 0, len(rows))
	sel.times = make([]int64, 0, len(rows))
	for j, tr := range rows {
		newIndex[j] = int32(len(sel.refs))
		if !drop[j] {
			sel.refs = append(sel.refs, tr.r)
			sel.times = append(sel.times, tr.t)
		}
	}
	sel.labels = make([]rowRef, len(sel.refs))
	for j := range sel.labels {
		sel.labels[j] = rowRef{-1, -1}
	}
	var fbs []*colBatch
	switch {
	case early != nil:
		r := <-early
		fbs, err = r.fbs, r.err
	case len(sel.refs) > 0:
		fbs, err = l.loadBatches(ctx, feedbackTables, q.Model, sel.times[0]-slack, math.MaxInt64, parseFeedbackText)
	}
	if len(sel.refs) == 0 {
		return sel, nil
	}
	if err != nil {
		return nil, fmt.Errorf("query feedback of %s: %w", q.Model, err)
	}
	sel.feedback = fbs
	fbHashes := make([][]rowHash, len(fbs))
	parallel(len(fbs), func(fi int) { fbHashes[fi] = keys.batchKeys(fbs[fi]) })
	var fbRefs []rowRef
	var fbKey []keyedRow
	for fi, hs := range fbHashes {
		for i, h := range hs {
			fbKey = append(fbKey, keyedRow{h: h.h1, h2: h.h2, j: int32(len(fbRefs))})
			fbRefs = append(fbRefs, rowRef{int32(fi), int32(i)})
		}
	}
	fbKey = radixSort(fbKey)
	// merge join on the hash; within a key, feedback in log order, so the
	// latest label of a row wins
	p := 0
	for f := 0; f < len(fbKey); {
		h := fbKey[f].h
		e := f + 1
		for e < len(fbKey) && fbKey[e].h == h {
			e++
		}
		for p < len(byKey) && byKey[p].h < h {
			p++
		}
		for x := p; x < len(byKey) && byKey[x].h == h; x++ {
			j := byKey[x].j
			if drop[j] {
				continue
			}
			for y := f; y < e; y++ {
				if fbKey[y].h2 == byKey[x].h2 {
					sel.labels[newIndex[j]] = fbRefs[fbKey[y].j]
				}
			}
		}
		f = e
	}
	return sel, nil
}

// keyedRow is a row's key hash (h, h2) and its position.
type keyedRow struct {
	h, h2 uint64
	j     int32
}

// radixSort sorts rows by hash, stably: one counting pass scatters them
// into 2¹⁶ buckets by the hash's top bits, then each (small) bucket is
// sorted by insertion.
func radixSort(a []keyedRow) []keyedRow {
	const bits = 16
	if len(a) < 1<<10 {
		slices.SortStableFunc(a, func(x, y keyedRow) int { return cmpUint64(x.h, y.h) })
		return a
	}
	start := make([]int32, 1<<bits+1)
	for _, r := range a {
		start[r.h>>(64-bits)+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	out := make([]keyedRow, len(a))
	next := slices.Clone(start[:1<<bits])
	for _, r := range a {
		k := r.h >> (64 - bits)
		out[next[k]] = r
		next[k]++
	}
	for k := 0; k < 1<<bits; k++ {
		b := out[start[k]:start[k+1]]
		for i := 1; i < len(b); i++ {
			for j := i; j > 0 && b[j].h < b[j-1].h; j-- {
				b[j], b[j-1] = b[j-1], b[j]
			}
		}
	}
	return out
}

func cmpUint64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// parallel calls fn(0..n-1) on all cores.
func parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var next sync.Mutex
	k := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				i := k
				k++
				next.Unlock()
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}
