package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest/docframe"
	"github.com/gyre-ml/gyre/internal/parallel"
)

// CSV reading never holds more than a few blocks of the file in memory:
//
//  1. A serial chunker (csvChunker, which Stream uses too) cuts the file
//     into blocks of about blockSize bytes that end on record boundaries and
//     counts each block's records in the same quote-aware pass (scanRecords;
//     memchr-speed for blocks without quotes), so every block knows its
//     first row and the row count is known before any value is parsed.
//  2. Column types are speculated from the first block (every candidate type
//     each value fits: int, float, bool, time layouts), the final columns are
//     allocated once, and workers parse all blocks in parallel straight into
//     them, each at its own row offset. Text columns are dictionary-encoded
//     per block and merged in block order, so level order is first
//     appearance, whatever the scheduling.
//  3. A column where a later value does not fit the speculated type (rare:
//     a float after 10,000 integers, a stray word in a numeric column) is
//     typed from all rows by a full classification pass and parsed again on
//     its own. The result never depends on the speculation.
//
// With Options.InferRows set, types come from that many rows instead.
var (
	blockSize    = 2 << 20 // a variable so tests can force many blocks
	maxBlockSize = 64 << 20
)

const headSize = 1 << 20

type csvReader struct {
	src     io.ReaderAt
	size    int64
	name    string
	opt     Options
	delim   byte
	miss    missingSet
	workers int
	catMax  int

	names  []string
	forced []frame.Kind // per column; KindInvalid = infer
	start  int64        // offset of the first data record
	line   int          // line number of the first data record

	streamRows int // streaming: the rows the column types were inferred from
}

// blockInfo is one block's place in the file and what the passes found.
type blockInfo struct {
	idx      int
	off      int64
	n        int
	line     int
	rows     int // counted by the chunker
	rowStart int
	masks    []uint32   // classification pass: candidate types
	missing  []int      // parse pass: missing values per column
	numOK    []int      // parse pass: numeric-looking values per text column
	bad      []badValue // parse pass: first non-numeric value per text column
	conflict []bool     // parse pass: a value did not fit the speculated type
	err      error
}

// badValue is the first non-numeric value of a column in a block.
type badValue struct {
	line  int
	value string
}

func readCSV(ctx context.Context, path, name string, opt Options) (*frame.Frame, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	defer fh.Close()
	var magic [2]byte
	if n, _ := fh.ReadAt(magic[:], 0); n == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		tmp, err := gunzipToTemp(fh, name)
		if err != nil {
			return nil, err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		fh = tmp
	}
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return readCSVFrom(ctx, fh, st.Size(), name, opt)
}

// gunzipToTemp decompresses a gzip file into an unlinked-on-close temp file.
func gunzipToTemp(fh *os.File, name string) (*os.File, error) {
	zr, err := gzip.NewReader(io.NewSectionReader(fh, 0, 1<<62))
	if err != nil {
		return nil, fmt.Errorf("read %s: gzip: %w", name, err)
	}
	tmp, err := os.CreateTemp("", "gyre-gunzip-*")
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if _, err := io.Copy(tmp, zr); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("read %s: gzip: %w", name, err)
	}
	return tmp, nil
}

// readCSVFrom reads CSV from a random-access source of the given size.
func readCSVFrom(ctx context.Context, src io.ReaderAt, size int64, name string, opt Options) (*frame.Frame, error) {
	r := newCSVReader(src, size, name, opt)
	if err := r.header(); err != nil {
		return nil, err
	}
	blocks, err := r.chunk(ctx)
	if err != nil {
		return nil, err
	}
	return r.read(ctx, blocks)
}

func newCSVReader(src io.ReaderAt, size int64, name string, opt Options) *csvReader {
	r := &csvReader{src: src, size: size, name: name, opt: opt, miss: newMissingSet(opt.Missing), workers: opt.Workers, catMax: opt.CategoricalMax}
	if r.workers <= 0 {
		r.workers = runtime.GOMAXPROCS(0)
	}
	if r.catMax <= 0 {
		r.catMax = DefaultCategoricalMax
	}
	return r
}

func (r *csvReader) perr(line int, col string, err error) *ParseError {
	return &ParseError{Source: r.name, Row: line, Column: col, Err: err}
}

// header reads the BOM, sniffs the delimiter and parses the header record.
func (r *csvReader) header() error {
	head := make([]byte, min(int64(headSize), r.size))
	if _, err := r.src.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read %s: %w", r.name, err)
	}
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		head = head[3:]
		r.start = 3
	}
	switch {
	case r.opt.Delimiter == 0:
		r.delim = sniffDelimiter(head)
	case r.opt.Delimiter > 0 && r.opt.Delimiter < 128 && r.opt.Delimiter != '"' && r.opt.Delimiter != '\n' && r.opt.Delimiter != '\r':
		r.delim = byte(r.opt.Delimiter)
	default:
		return fmt.Errorf("read %s: delimiter %q is not supported (want one ASCII character other than quote and newline)", r.name, r.opt.Delimiter)
	}
	var t tokenizer
	t.reset(head, r.delim, 1)
	ok, err := t.next()
	if err != nil {
		var qe *quoteError
		if errors.As(err, &qe) {
			return r.perr(qe.line, "", fmt.Errorf("header: %w", ErrQuote))
		}
		return err
	}
	if !ok {
		return r.perr(0, "", fmt.Errorf("%w: the file is empty; a header row naming the columns is required", ErrHeader))
	}
	if t.pos == len(head) && r.start+int64(len(head)) < r.size && head[len(head)-1] != '\n' {
		return r.perr(1, "", fmt.Errorf("%w: header record is longer than %d bytes", ErrHeader, headSize))
	}
	seen := map[string]bool{}
	for j, f := range t.fields {
		n := strings.TrimSpace(string(f))
		if n == "" {
			n = fmt.Sprintf("column_%d", j+1)
			r.opt.warnf("%s: header field %d is empty; named it %q", r.name, j+1, n)
		}
		if seen[n] && !r.opt.RenameDuplicates {
			return r.perr(1, n, fmt.Errorf("%w: the header names this column more than once (again as column %d): rename one, or pass --rename-duplicates to number the repeats", ErrHeader, j+1))
		}
		if seen[n] {
			base := n
			for k := 1; seen[n]; k++ {
				n = fmt.Sprintf("%s.%d", base, k)
			}
			r.opt.warnf("%s: header names %q more than once; renamed column %d to %q", r.name, base, j+1, n)
		}
		seen[n] = true
		r.names = append(r.names, n)
	}
	r.forced = make([]frame.Kind, len(r.names))
	for j, n := range r.names {
		if o, ok := r.opt.Schema[n]; ok {
			r.forced[j] = o.Type
		}
	}
	r.start += int64(t.pos)
	r.line = t.line
	return nil
}

// sniffDelimiter tokenizes the first records (quote-aware) with each
// candidate delimiter and picks the one that splits every record into the
// same number of fields, preferring more fields; comma when none does.
func sniffDelimiter(head []byte) byte {
	best, bestFields := byte(','), 1
	for _, d := range []byte{',', ';', '\t', '|'} {
		var t tokenizer
		t.reset(head, d, 1)
		fields, consistent := -1, true
		for rec := 0; rec < 20; rec++ {
			ok, err := t.next()
			if err != nil || !ok {
				break
			}
			if t.pos == len(head) && rec > 0 && len(head) >= headSize-3 {
				break // possibly truncated last record
			}
			if fields < 0 {
				fields = len(t.fields)
			} else if len(t.fields) != fields {
				consistent = false
				break
			}
		}
		if consistent && fields > bestFields {
			best, bestFields = d, fields
		}
	}
	return best
}

// chunk cuts the data records into blocks ending on record boundaries and
// counts each block's lines and records.
func (r *csvReader) chunk(ctx context.Context) ([]*blockInfo, error) {
	var blocks []*blockInfo
	c := &csvChunker{r: r, off: r.start, line: r.line}
	rows := 0
	for {
		b, _, err := c.next(ctx)
		if err != nil || b == nil {
			return blocks, err
		}
		b.idx, b.rowStart = len(blocks), rows
		rows += b.rows
		blocks = append(blocks, b)
	}
}

// csvChunker cuts a CSV file's data records into blocks one at a time: the
// whole-file reader takes them all, the streaming reader a chunk's worth.
type csvChunker struct {
	r    *csvReader
	off  int64
	line int
	buf  []byte
}

// next returns the next block and its bytes (valid until the next call), or
// nil at the end of the file. A block is blockSize bytes cut back to the
// last record boundary, doubled up to maxBlockSize while it holds none.
func (c *csvChunker) next(ctx context.Context) (*blockInfo, []byte, error) {
	r := c.r
	if c.off >= r.size {
		return nil, nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	for size := blockSize; ; size *= 2 {
		want := int(min(int64(size), r.size-c.off))
		if cap(c.buf) < want {
			c.buf = make([]byte, want)
		}
		c.buf = c.buf[:want]
		if _, err := r.src.ReadAt(c.buf, c.off); err != nil && !errors.Is(err, io.EOF) {
			return nil, nil, fmt.Errorf("read %s: %w", r.name, err)
		}
		n, rows, tail := scanRecords(c.buf, r.delim)
		if c.off+int64(want) == r.size {
			// The end of the file ends the last record.
			if n = want; tail {
				rows++
			}
		} else if n == 0 {
			if size >= maxBlockSize {
				return nil, nil, r.longRecord(c.buf, c.line)
			}
			continue
		}
		b := &blockInfo{off: c.off, n: n, line: c.line, rows: rows}
		c.line += bytes.Count(c.buf[:n], nl)
		c.off += int64(n)
		return b, c.buf[:n], nil
	}
}

// longRecord explains a block with no record boundary in maxBlockSize bytes.
func (r *csvReader) longRecord(buf []byte, line int) error {
	var t tokenizer
	t.reset(buf, r.delim, line)
	for {
		ok, err := t.next()
		var qe *quoteError
		if errors.As(err, &qe) {
			return r.perr(qe.line, "", fmt.Errorf("%w (no closing quote within %d MiB)", ErrQuote, maxBlockSize>>20))
		}
		if !ok {
			return r.perr(line, "", fmt.Errorf("a record is longer than %d MiB", maxBlockSize>>20))
		}
	}
}

// read types and parses the blocks (see the comment at the top of the file).
func (r *csvReader) read(ctx context.Context, blocks []*blockInfo) (*frame.Frame, error) {
	nc := len(r.names)
	rows := 0
	if len(blocks) > 0 {
		last := blocks[len(blocks)-1]
		rows = last.rowStart + last.rows
	}
	var masks []uint32
	speculative := r.opt.InferRows <= 0 && len(blocks) > 1
	if speculative {
		masks = r.initialMasks()
		first := &blockInfo{off: blocks[0].off, n: blocks[0].n, line: blocks[0].line}
		buf := make([]byte, first.n)
		if _, err := r.src.ReadAt(buf, first.off); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read %s: %w", r.name, err)
		}
		var t tokenizer
		r.scanBlock(&t, first, buf, 0)
		if first.err != nil {
			return nil, first.err
		}
		for j := range masks {
			masks[j] &= first.masks[j]
		}
	} else {
		if err := r.scanAll(ctx, blocks); err != nil {
			return nil, err
		}
		var err error
		if masks, err = r.inferMasks(blocks); err != nil {
			return nil, err
		}
	}
	plans := make([]colPlan, nc)
	only := make([]bool, nc)
	for j := range plans {
		r.plan(&plans[j], j, masks[j], rows, speculative && masks[j] == cAll)
		only[j] = true
	}
	texts, err := r.parseAll(ctx, blocks, plans, only, speculative)
	if err != nil {
		return nil, err
	}
	// Columns whose speculated type a later value broke: type them from every
	// row and parse them again on their own.
	redo := make([]bool, nc)
	any := false
	for j := range plans {
		if plans[j].unknown {
			redo[j], any = true, true
		}
		for _, b := range blocks {
			if b.conflict[j] {
				redo[j], any = true, true
			}
		}
	}
	if any {
		if err := r.scanAll(ctx, blocks); err != nil {
			return nil, err
		}
		all, err := r.inferMasks(blocks)
		if err != nil {
			return nil, err
		}
		for j := range plans {
			if redo[j] {
				plans[j] = colPlan{}
				r.plan(&plans[j], j, all[j], rows, false)
			}
		}
		redoTexts, err := r.parseAll(ctx, blocks, plans, redo, false)
		if err != nil {
			return nil, err
		}
		for k := range texts {
			for j := range plans {
				if redo[j] && plans[j].kind == frame.KindInvalid {
					texts[k][plans[j].textIdx] = redoTexts[k][plans[j].textIdx]
				}
			}
		}
	}
	cols := make([]frame.Column, nc)
	for j := range plans {
		p := &plans[j]
		name := r.names[j]
		numOK := 0
		var bad badValue
		p.missing = 0
		for _, b := range blocks {
			p.missing += b.missing[j]
			numOK += b.numOK[j]
			if bad.line == 0 && b.bad[j].line != 0 {
				bad = b.bad[j]
			}
		}
		nonMissing := rows - p.missing
		if p.kind == frame.KindInvalid && p.forced == frame.KindInvalid && numOK > 0 && numOK*10 >= nonMissing*9 {
			r.opt.warnf("%s: column %q is mostly numeric (%d of %d values) but line %d has %q; reading it as text (add the token to --missing, or declare the column's type with --schema to list every bad value)",
				r.name, name, numOK, nonMissing, bad.line, bad.value)
		}
		if cols[j] = p.column(name); cols[j] == nil {
			cols[j] = r.mergeText(name, p, blocks, texts, rows)
		}
	}
	f, err := frame.New(cols...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", r.name, err)
	}
	return f, nil
}

// initialMasks are the candidate types before any value is seen: all, or
// the declared type's.
func (r *csvReader) initialMasks() []uint32 {
	masks := make([]uint32, len(r.names))
	for j := range masks {
		masks[j] = cAll
		if r.forced[j] != frame.KindInvalid {
			masks[j] = maskOfKind(r.forced[j])
		}
	}
	return masks
}

// plan decides column j's kind from its candidate mask and allocates its
// storage. unknown marks a column the speculation saw no value of.
func (r *csvReader) plan(p *colPlan, j int, mask uint32, rows int, unknown bool) {
	p.forced = r.forced[j]
	layout := 0
	switch {
	case p.forced == frame.KindString || p.forced == frame.KindCategorical:
		p.kind = frame.KindInvalid
	case p.forced != frame.KindInvalid:
		p.kind = p.forced
		_, layout = kindOfMask(mask)
	case mask == cAll: // no values seen: all missing
		p.kind = frame.KindFloat
		p.unknown = unknown
	default:
		p.kind, layout = kindOfMask(mask)
	}
	if p.kind != frame.KindInvalid {
		p.valid = frame.NewValidity(rows)
	}
	switch p.kind {
	case frame.KindInt:
		p.ints = make([]int64, rows)
	case frame.KindFloat:
		p.floats = make([]float64, rows)
	case frame.KindBool:
		p.bools = make([]bool, rows)
	case frame.KindTime:
		p.ints = make([]int64, rows)
		p.layout = timeLayouts[layout]
	default:
		p.codes = make([]int32, rows)
		p.textIdx = j
	}
}

// scanAll runs the classification pass over every block in parallel.
func (r *csvReader) scanAll(ctx context.Context, blocks []*blockInfo) error {
	err := r.eachBlock(ctx, blocks, func(t *tokenizer, b *blockInfo, buf []byte) error {
		r.scanBlock(t, b, buf, 0)
		return b.err
	})
	return err
}

// eachBlock runs fn over every block on r.workers goroutines, each block read
// into the worker's own buffer. The error of the earliest failing block wins.
func (r *csvReader) eachBlock(ctx context.Context, blocks []*blockInfo, fn func(t *tokenizer, b *blockInfo, buf []byte) error) error {
	// Blocks are claimed in order, so when one fails every block before it
	// has been claimed and finishes: stopping the rest keeps the earliest
	// error.
	errs := make([]error, len(blocks))
	var failed atomic.Bool
	parallel.ForWorker(len(blocks), r.workers, func() func(int) {
		var t tokenizer
		var buf []byte
		return func(k int) {
			if failed.Load() {
				return
			}
			b := blocks[k]
			if cap(buf) < b.n {
				buf = make([]byte, b.n)
			}
			buf = buf[:b.n]
			if err := ctx.Err(); err != nil {
				errs[k] = err
			} else if _, err := r.src.ReadAt(buf, b.off); err != nil && !errors.Is(err, io.EOF) {
				errs[k] = fmt.Errorf("read %s: %w", r.name, err)
			} else {
				errs[k] = fn(&t, b, buf)
			}
			if errs[k] != nil {
				failed.Store(true)
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// scanBlock is the classification pass over one block: it checks quotes and
// field counts and narrows each column's candidate types. limit > 0 stops
// after that many records.
func (r *csvReader) scanBlock(t *tokenizer, b *blockInfo, buf []byte, limit int) {
	nc := len(r.names)
	b.masks = r.initialMasks()
	t.reset(buf, r.delim, b.line)
	rows := 0
	for {
		ok, err := t.next()
		if err != nil {
			b.err = r.tokenError(err)
			return
		}
		if !ok || (limit > 0 && rows == limit) {
			return
		}
		if len(t.fields) != nc {
			b.err = r.fieldCountError(t)
			return
		}
		rows++
		for j, f := range t.fields {
			m := b.masks[j]
			if m == 0 || r.isMissing(f, t.quoted[j]) {
				continue
			}
			nm := classify(f, m)
			if nm == 0 && r.forced[j] != frame.KindInvalid {
				b.err = r.perr(t.recLine, r.names[j], fmt.Errorf("%w: %q is not %s (declared in the schema)", ErrType, f, kindPhrase(r.forced[j])))
				return
			}
			b.masks[j] = nm
		}
	}
}

func (r *csvReader) tokenError(err error) error {
	var qe *quoteError
	if errors.As(err, &qe) {
		return r.perr(qe.line, "", ErrQuote)
	}
	return err
}

func (r *csvReader) fieldCountError(t *tokenizer) error {
	return r.perr(t.recLine, "", fmt.Errorf("%w: the record has %d fields, the header has %d", ErrFieldCount, len(t.fields), len(r.names)))
}

// isMissing applies the missing-token rule: an unquoted token from the set,
// or an empty cell (quoted or not).
func (r *csvReader) isMissing(f []byte, quoted bool) bool {
	if quoted {
		return len(f) == 0
	}
	return r.miss.is(f)
}

// kindPhrase names a kind in a message about a text cell: docframe's
// phrase, with the forms a boolean and a timestamp take in text.
func kindPhrase(k frame.Kind) string {
	switch k {
	case frame.KindBool:
		return "a boolean (true/false)"
	case frame.KindTime:
		return "a timestamp (e.g. 2006-01-02 or RFC 3339)"
	}
	return docframe.KindPhrase(k)
}

// colPlan is what the parse pass does with one column.
type colPlan struct {
	kind    frame.Kind // KindInvalid: text (categorical or string)
	layout  string
	missing int
	ints    []int64
	floats  []float64
	bools   []bool
	codes   []int32
	valid   frame.Validity
	textIdx int
	forced  frame.Kind
	unknown bool // speculation saw no value: decide from all rows
}

// column returns the parsed numeric, bool or time column (nil for text,
// which mergeText builds), without a validity bitmap when nothing is
// missing.
func (p *colPlan) column(name string) frame.Column {
	if p.missing == 0 {
		p.valid = nil
	}
	switch p.kind {
	case frame.KindInt:
		return &frame.Int{ColName: name, Values: p.ints, Valid: p.valid}
	case frame.KindFloat:
		return &frame.Float{ColName: name, Values: p.floats, Valid: p.valid}
	case frame.KindBool:
		return &frame.Bool{ColName: name, Values: p.bools, Valid: p.valid}
	case frame.KindTime:
		return &frame.Time{ColName: name, Values: p.ints, Valid: p.valid}
	}
	return nil
}

// textBlock is one block's local dictionary of a text column, or its raw
// strings once the dictionary outgrew the categorical limit.
type textBlock struct {
	levels []string
	strs   []string
}

// parseAll parses the columns marked in only, over every block in parallel,
// into the plans' storage. It returns each block's text dictionaries (indexed
// by column). In speculative mode a value that does not fit an undeclared
// column's type marks a conflict instead of failing.
func (r *csvReader) parseAll(ctx context.Context, blocks []*blockInfo, plans []colPlan, only []bool, speculative bool) ([][]textBlock, error) {
	nc := len(plans)
	texts := make([][]textBlock, len(blocks))
	var pool sync.Pool
	err := r.eachBlock(ctx, blocks, func(t *tokenizer, b *blockInfo, buf []byte) error {
		dicts, _ := pool.Get().([]map[string]int32)
		if dicts == nil {
			dicts = make([]map[string]int32, nc)
		}
		defer pool.Put(dicts)
		texts[b.idx] = make([]textBlock, nc)
		return r.parseBlock(t, b, buf, plans, only, texts[b.idx], dicts, speculative)
	})
	return texts, err
}

func setNull(v frame.Validity, i int) {
	atomic.AndUint64(&v[i>>6], ^(uint64(1) << uint(i&63)))
}

// parseBlock parses one block's values of the columns marked in only.
func (r *csvReader) parseBlock(t *tokenizer, b *blockInfo, buf []byte, plans []colPlan, only []bool, texts []textBlock, dicts []map[string]int32, speculative bool) error {
	nc := len(plans)
	if b.missing == nil {
		b.missing, b.numOK, b.bad, b.conflict = make([]int, nc), make([]int, nc), make([]badValue, nc), make([]bool, nc)
	}
	for j := range plans {
		if only[j] {
			b.missing[j], b.numOK[j], b.bad[j], b.conflict[j] = 0, 0, badValue{}, false
			if plans[j].kind == frame.KindInvalid {
				if dicts[j] == nil {
					dicts[j] = map[string]int32{}
				}
				clear(dicts[j])
			}
		}
	}
	t.reset(buf, r.delim, b.line)
	row := b.rowStart
	local := 0
	for {
		ok, err := t.next()
		if err != nil {
			return r.tokenError(err)
		}
		if !ok {
			break
		}
		if len(t.fields) != nc {
			return r.fieldCountError(t)
		}
		if local >= b.rows {
			return r.perr(t.recLine, "", fmt.Errorf("internal error: block has more records than counted (%d)", b.rows))
		}
		for j, f := range t.fields {
			if !only[j] {
				continue
			}
			p := &plans[j]
			miss := r.isMissing(f, t.quoted[j])
			if miss {
				b.missing[j]++
			}
			if p.kind == frame.KindInvalid {
				r.parseText(p, &texts[j], dicts[j], b, j, row, local, t.recLine, f, miss)
				continue
			}
			if miss {
				setNull(p.valid, row)
				continue
			}
			if b.conflict[j] {
				continue
			}
			v := trimSpace(f)
			ok := true
			switch p.kind {
			case frame.KindInt:
				p.ints[row], ok = parseInt(v)
			case frame.KindFloat:
				p.floats[row], ok = parseFloat(v)
			case frame.KindBool:
				p.bools[row], ok = parseBool(v)
			case frame.KindTime:
				tm, err := time.Parse(p.layout, bstr(v))
				ok = err == nil && inNanoRange(tm)
				p.ints[row] = tm.UnixNano()
			}
			if !ok {
				if speculative && p.forced == frame.KindInvalid {
					b.conflict[j] = true
					continue
				}
				if p.forced != frame.KindInvalid {
					return r.perr(t.recLine, r.names[j], fmt.Errorf("%w: %q is not %s (declared in the schema)", ErrType, f, kindPhrase(p.kind)))
				}
				if r.streamRows > 0 {
					return r.perr(t.recLine, r.names[j], fmt.Errorf("%w: %q is not %s (the type was inferred from the first %d rows of the stream; declare the column's type with --schema)",
						ErrType, f, kindPhrase(p.kind), r.streamRows))
				}
				return r.perr(t.recLine, r.names[j], fmt.Errorf("%w: %q is not %s (the type was inferred from the first %d rows; raise the inference limit or declare the type with --schema)",
					ErrType, f, kindPhrase(p.kind), r.opt.InferRows))
			}
		}
		row++
		local++
	}
	if local != b.rows {
		return r.perr(b.line, "", fmt.Errorf("internal error: block has %d records, counted %d", local, b.rows))
	}
	return nil
}

// parseText stores one text value: a code into the block's dictionary, or
// the string itself once the dictionary has outgrown the categorical limit.
func (r *csvReader) parseText(p *colPlan, tb *textBlock, d map[string]int32, b *blockInfo, j, row, local, line int, f []byte, miss bool) {
	if miss {
		p.codes[row] = -1
		return
	}
	if p.forced == frame.KindInvalid {
		if _, ok := parseFloat(trimSpace(f)); ok {
			b.numOK[j]++
		} else if b.bad[j].line == 0 {
			b.bad[j] = badValue{line: line, value: string(f)}
		}
	}
	if tb.strs != nil {
		tb.strs[local] = string(f)
		p.codes[row] = 0
		return
	}
	code, seen := d[bstr(f)]
	if !seen {
		if len(tb.levels) >= r.catMax && p.forced != frame.KindCategorical || p.forced == frame.KindString {
			tb.strs = make([]string, b.rows)
			for k := 0; k < local; k++ {
				if c := p.codes[b.rowStart+k]; c >= 0 {
					tb.strs[k] = tb.levels[c]
				}
			}
			tb.strs[local] = string(f)
			p.codes[row] = 0
			return
		}
		code = int32(len(tb.levels))
		s := string(f)
		tb.levels = append(tb.levels, s)
		d[s] = code
	}
	p.codes[row] = code
}

// inferMasks combines the blocks' candidate types over the rows that decide
// types: all rows, or the first Options.InferRows (rescanning the block that
// straddles the limit).
func (r *csvReader) inferMasks(blocks []*blockInfo) ([]uint32, error) {
	masks := make([]uint32, len(r.names))
	for j := range masks {
		masks[j] = cAll
		if r.forced[j] != frame.KindInvalid {
			masks[j] = maskOfKind(r.forced[j])
		}
	}
	limit := r.opt.InferRows
	for _, b := range blocks {
		use := b
		switch {
		case limit > 0 && b.rowStart >= limit:
			continue
		case limit > 0 && b.rowStart+b.rows > limit:
			buf := make([]byte, b.n)
			if _, err := r.src.ReadAt(buf, b.off); err != nil && !errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("read %s: %w", r.name, err)
			}
			use = &blockInfo{off: b.off, n: b.n, line: b.line}
			var t tokenizer
			r.scanBlock(&t, use, buf, limit-b.rowStart)
		}
		for j := range masks {
			masks[j] &= use.masks[j]
		}
	}
	return masks, nil
}

// mergeText builds a categorical column from the blocks' dictionaries, or a
// string column when there are too many distinct values to call it
// categorical: more than CategoricalMax, or (above 32) more than half the
// present values.
func (r *csvReader) mergeText(name string, p *colPlan, blocks []*blockInfo, texts [][]textBlock, rows int) frame.Column {
	nonMissing := rows - p.missing
	asString := p.forced == frame.KindString
	var levels []string
	var remaps [][]int32
	if !asString {
		index := map[string]int32{}
		remaps = make([][]int32, len(blocks))
		for k := range blocks {
			tb := texts[k][p.textIdx]
			if tb.strs != nil {
				asString = true
				break
			}
			remap := make([]int32, len(tb.levels))
			for i, l := range tb.levels {
				c, ok := index[l]
				if !ok {
					c = int32(len(levels))
					index[l] = c
					levels = append(levels, l)
				}
				remap[i] = c
			}
			remaps[k] = remap
		}
		if p.forced != frame.KindCategorical && !asString {
			d := len(levels)
			asString = d > r.catMax || (d > 32 && 2*d > nonMissing)
		}
	}
	if !asString {
		for k, b := range blocks {
			remap := remaps[k]
			codes := p.codes[b.rowStart : b.rowStart+b.rows]
			for i, c := range codes {
				if c >= 0 {
					codes[i] = remap[c]
				}
			}
		}
		return &frame.Categorical{ColName: name, Codes: p.codes, Levels: levels}
	}
	vals := make([]string, rows)
	var valid frame.Validity
	if p.missing > 0 {
		valid = frame.NewValidity(rows)
	}
	for k, b := range blocks {
		tb := texts[k][p.textIdx]
		for i := 0; i < b.rows; i++ {
			row := b.rowStart + i
			c := p.codes[row]
			switch {
			case c < 0:
				valid.SetNull(row)
			case tb.strs != nil:
				vals[row] = tb.strs[i]
			default:
				vals[row] = tb.levels[c]
			}
		}
	}
	p.codes = nil
	return &frame.String{ColName: name, Values: vals, Valid: valid}
}
