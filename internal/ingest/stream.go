package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest/parquetio"
)

// DefaultChunkRows is the chunk size Stream uses when given 0.
const DefaultChunkRows = 65536

// Chunk is one piece of a streamed source.
type Chunk struct {
	// Frame holds the chunk's rows. Every chunk of a stream has the same
	// columns with the same kinds (categorical levels may differ).
	Frame *frame.Frame
	// Row is the 0-based index of the chunk's first row in the source.
	Row int
	// Done and Total measure how far the stream has got, in bytes of the
	// file for CSV and JSON Lines and in rows for Parquet; Total is 0 when
	// unknown.
	Done, Total int64
	// Commit, when not nil, is to be called once the chunk's output is
	// stored: a source with consumer positions (a Kafka consumer group)
	// records there that the chunk was processed, so a restart resumes
	// after it (at-least-once). Chunks are committed in order.
	Commit func(context.Context) error
	// Skipped counts the source's records left out of this chunk because
	// they could not be read (a poison message skipped or dead-lettered
	// by the source's choice).
	Skipped int
}

// Stream reads a source chunk by chunk in bounded memory, calling fn with
// chunks of about chunkRows rows (0 means DefaultChunkRows) in source order.
// Sources are those of Read. CSV/TSV is cut at record boundaries and parsed
// in parallel within a chunk (chunks hold whole 2 MiB blocks, so their size
// varies around chunkRows); JSON Lines is read chunkRows lines at a time;
// Parquet one row group at a time, a large group cut into pieces of about
// chunkRows rows that share its memory. Gzip files, standard input and downloads
// are first spooled to a temporary file; SQL sources are read whole and then
// cut into chunks.
//
// Column types are fixed for the whole stream: a column declared in
// Options.Schema has its declared type; any other column's type is inferred
// from the first chunk (for CSV, the first block), and a later value that
// does not fit it is a *ParseError naming the line and column. JSON Lines
// columns are the keys of the first chunk; a key first seen later is
// reported through Options.Warn and skipped. Options.Columns restricts the
// chunks to those columns (CSV skips parsing the others). A source without
// rows gives one empty chunk, so fn always sees the columns.
//
// fn's chunk is not reused by Stream: fn may keep it or hand it to another
// goroutine. An error from fn stops the stream and is returned as is.
func Stream(ctx context.Context, source string, opt Options, chunkRows int, fn func(*Chunk) error) error {
	if chunkRows <= 0 {
		chunkRows = DefaultChunkRows
	}
	if s, ok := schemeOf(source); ok {
		return streamScheme(ctx, s, source, opt, chunkRows, fn)
	}
	low := strings.ToLower(source)
	switch {
	case source == "-":
		path, cleanup, err := spoolStdin(opt)
		if err != nil {
			return err
		}
		defer cleanup()
		return streamFile(ctx, path, "stdin", opt, chunkRows, fmtCSV, fn)
	case strings.HasPrefix(low, "http://"), strings.HasPrefix(low, "https://"):
		path, forced, cleanup, err := download(ctx, source, opt)
		if err != nil {
			return err
		}
		defer cleanup()
		return streamFile(ctx, path, Redact(source), opt, chunkRows, forced, fn)
	case strings.HasPrefix(low, "s3://"):
		return streamS3(ctx, source, opt, chunkRows, fn)
	case strings.HasPrefix(low, "sqlite://"), strings.HasPrefix(low, "sqlite3://"),
		strings.HasPrefix(low, "postgres://"), strings.HasPrefix(low, "postgresql://"):
		f, err := Read(ctx, source, opt)
		if err != nil {
			return err
		}
		return streamWhole(ctx, f, chunkRows, fn)
	case strings.HasPrefix(low, "file://"):
		source = source[len("file://"):]
	}
	if p, sheet, ok := xlsxSource(source); ok {
		opt.sheet = sheet
		return streamFile(ctx, p, source, opt, chunkRows, fmtXLSX, fn)
	}
	return streamFile(ctx, source, source, opt, chunkRows, fmtUnknown, fn)
}

// streamWhole cuts an in-memory frame into chunks.
func streamWhole(ctx context.Context, f *frame.Frame, chunkRows int, fn func(*Chunk) error) error {
	n := f.NumRows()
	for lo := 0; lo < n || lo == 0; lo += chunkRows {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(n, lo+chunkRows)
		c := f
		if lo > 0 || hi < n {
			c = f.Slice(lo, hi)
		}
		if err := fn(&Chunk{Frame: c, Row: lo, Done: int64(hi), Total: int64(n)}); err != nil {
			return err
		}
		if hi == n {
			break
		}
	}
	return nil
}

// spoolStdin copies standard input to a temporary file.
func spoolStdin(opt Options) (string, func(), error) {
	tmp, err := os.CreateTemp("", "gyre-stdin-*")
	if err != nil {
		return "", nil, fmt.Errorf("read stdin: %w", err)
	}
	cleanup := func() { os.Remove(tmp.Name()) }
	in := opt.Stdin
	if in == nil {
		in = os.Stdin
	}
	_, err = io.Copy(tmp, in)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("read stdin: %w", err)
	}
	return tmp.Name(), cleanup, nil
}

func streamFile(ctx context.Context, path, name string, opt Options, chunkRows int, forced format, fn func(*Chunk) error) error {
	fm, _, tab := formatOf(path)
	if forced != fmtUnknown {
		fm = forced
	}
	if fm == fmtUnknown {
		sniffed, err := sniffFormat(path)
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		fm = sniffed
	}
	path, cleanup, err := textInput(path, name, fm, opt)
	if err != nil {
		return err
	}
	defer cleanup()
	switch fm {
	case fmtParquet:
		return streamParquet(ctx, path, name, opt, chunkRows, fn)
	case fmtArrow:
		return streamArrow(ctx, path, name, opt, chunkRows, fn)
	case fmtAvro:
		return streamAvro(ctx, path, name, opt, chunkRows, fn)
	case fmtXLSX:
		// Workbooks are read whole (Excel caps a sheet at 1,048,576 rows).
		f, err := Read(ctx, path+sheetQuery(opt.sheet), opt)
		if err != nil {
			return err
		}
		return streamWhole(ctx, f, chunkRows, fn)
	case fmtJSONL:
		return streamJSONL(ctx, path, name, opt, chunkRows, fn)
	}
	if tab && opt.Delimiter == 0 {
		opt.Delimiter = '\t'
	}
	return streamCSV(ctx, path, name, opt, chunkRows, fn)
}

// schemaNames returns the names of Options.Schema, sorted.
func schemaNames(opt Options) []string {
	names := make([]string, 0, len(opt.Schema))
	for n := range opt.Schema {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// wantColumns returns the columns to decode so that both the schema can be
// applied and Options.Columns selected: Columns followed by schema columns
// not among them; nil when Columns is nil (all).
func wantColumns(opt Options) []string {
	if opt.Columns == nil {
		return nil
	}
	out := append([]string{}, opt.Columns...)
	seen := map[string]bool{}
	for _, n := range out {
		seen[n] = true
	}
	for _, n := range schemaNames(opt) {
		if !seen[n] {
			out = append(out, n)
		}
	}
	return out
}

// selectColumns restricts f to Options.Columns (when set).
func selectColumns(f *frame.Frame, source string, opt Options) (*frame.Frame, error) {
	if opt.Columns == nil {
		return f, nil
	}
	for _, n := range opt.Columns {
		if f.Index(n) < 0 {
			return nil, &ParseError{Source: source, Column: n, Err: fmt.Errorf("no such column (have %s)", strings.Join(f.Names(), ", "))}
		}
	}
	out, err := f.Select(opt.Columns...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", source, err)
	}
	return out, nil
}

// conform casts chunk columns whose kind differs from the stream's fixed
// kinds (a JSON Lines column that is all missing or numeric in one chunk and
// text in the first) and sets the schema's roles. first is the chunk's first
// row index; rowLine maps a chunk row to the line reported in errors.
func conform(f *frame.Frame, kinds []frame.Kind, source string, opt Options, inferredRows int, rowLine func(int) int) (*frame.Frame, error) {
	for j, k := range kinds {
		c := f.Col(j)
		if c.Kind() == k {
			continue
		}
		if c.NullCount() == c.Len() {
			c = emptyColumn(c.Name(), k, c.Len())
		} else {
			_, declared := opt.Schema[c.Name()]
			nc, err := castColumn(c, k, opt, func(row int) error {
				why := fmt.Sprintf("the type was inferred from the first %d rows of the stream; declare the column's type with --schema", inferredRows)
				if declared {
					why = "declared in the schema"
				}
				return &ParseError{Source: source, Row: rowLine(row), Column: c.Name(), Err: fmt.Errorf("%w: %q is not %s (%s)", ErrType, c.Format(row), kindPhrase(k), why)}
			})
			if err != nil {
				return nil, err
			}
			c = nc
		}
		var err error
		if f, err = f.With(c); err != nil {
			return nil, fmt.Errorf("read %s: %w", source, err)
		}
	}
	for n, o := range opt.Schema {
		if f.Index(n) >= 0 {
			if err := f.SetRole(n, o.Role); err != nil {
				return nil, fmt.Errorf("read %s: %w", source, err)
			}
		}
	}
	return f, nil
}

// emptyColumn is an all-missing column of kind k.
func emptyColumn(name string, k frame.Kind, n int) frame.Column {
	valid := frame.NewValidity(n)
	for i := 0; i < n; i++ {
		valid.SetNull(i)
	}
	switch k {
	case frame.KindInt:
		return &frame.Int{ColName: name, Values: make([]int64, n), Valid: valid}
	case frame.KindBool:
		return &frame.Bool{ColName: name, Values: make([]bool, n), Valid: valid}
	case frame.KindTime:
		return &frame.Time{ColName: name, Values: make([]int64, n), Valid: valid}
	case frame.KindString:
		return &frame.String{ColName: name, Values: make([]string, n), Valid: valid}
	case frame.KindCategorical:
		codes := make([]int32, n)
		for i := range codes {
			codes[i] = -1
		}
		return &frame.Categorical{ColName: name, Codes: codes}
	}
	return &frame.Float{ColName: name, Values: make([]float64, n), Valid: valid}
}

// chunkShape gives a typed source's chunks one shape: the first chunk's
// column kinds (after the schema in Options) are the stream's, later chunks
// are conformed to them, and the selected columns are kept.
type chunkShape struct {
	source string
	opt    Options
	kinds  []frame.Kind
}

// chunk shapes f, whose first row is row base of the source (0-based).
func (c *chunkShape) chunk(f *frame.Frame, base int) (*frame.Frame, error) {
	rowLine := func(i int) int { return base + i + 1 }
	var err error
	if c.kinds == nil {
		if f, err = applySchema(f, c.source, Options{Schema: c.opt.Schema}, rowLine); err != nil {
			return nil, err
		}
		c.kinds = kindsOf(f)
	} else if f, err = conform(f, c.kinds, c.source, c.opt, 0, rowLine); err != nil {
		return nil, err
	}
	return selectColumns(f, c.source, c.opt)
}

func kindsOf(f *frame.Frame) []frame.Kind {
	out := make([]frame.Kind, f.NumCols())
	for j, c := range f.Columns() {
		out[j] = c.Kind()
	}
	return out
}

// streamParquet streams row groups, applying the schema to each.
func streamParquet(ctx context.Context, path, name string, opt Options, chunkRows int, fn func(*Chunk) error) error {
	fh, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	shape := &chunkShape{source: name, opt: opt}
	row := 0
	err = parquetio.Stream(fh, st.Size(), name, wantColumns(opt), func(f *frame.Frame, total int64) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		base := row
		var err error
		if f, err = shape.chunk(f, base); err != nil {
			return err
		}
		// Cut a large row group into views of about chunkRows rows (a
		// multiple of 64, so validity bitmaps are shared, not copied).
		step := (chunkRows + 63) &^ 63
		n := f.NumRows()
		for lo := 0; lo < n || lo == 0; lo += step {
			hi := min(n, lo+step)
			piece := f
			if lo > 0 || hi < n {
				var err error
				if piece, err = viewRows(f, lo, hi); err != nil {
					return fmt.Errorf("read %s: %w", name, err)
				}
			}
			if err := fn(&Chunk{Frame: piece, Row: base + lo, Done: int64(base + hi), Total: total}); err != nil {
				return err
			}
			if hi == n {
				break
			}
		}
		row += n
		return nil
	})
	if err != nil && name != path && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("read %s: %w", name, err)
	}
	return err
}

// streamCSV streams a CSV file: the header and the first block fix the
// columns and their types, then chunks of whole blocks are parsed in
// parallel, each into its own frame.
func streamCSV(ctx context.Context, path, name string, opt Options, chunkRows int, fn func(*Chunk) error) error {
	fh, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	defer fh.Close()
	var magic [2]byte
	if n, _ := fh.ReadAt(magic[:], 0); n == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		tmp, err := gunzipToTemp(fh, name)
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		fh = tmp
	}
	st, err := fh.Stat()
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	r := newCSVReader(fh, st.Size(), name, opt)
	if err := r.header(); err != nil {
		return err
	}
	index := make(map[string]int, len(r.names))
	for j, n := range r.names {
		index[n] = j
	}
	for _, n := range schemaNames(opt) {
		if _, ok := index[n]; !ok {
			return &ParseError{Source: name, Column: n, Err: fmt.Errorf("the schema names a column the source does not have (have %s)", strings.Join(r.names, ", "))}
		}
	}
	order := make([]int, 0, len(r.names))
	if opt.Columns == nil {
		for j := range r.names {
			order = append(order, j)
		}
	} else {
		for _, n := range opt.Columns {
			j, ok := index[n]
			if !ok {
				return &ParseError{Source: name, Column: n, Err: fmt.Errorf("no such column (have %s)", strings.Join(r.names, ", "))}
			}
			order = append(order, j)
		}
	}
	only := make([]bool, len(r.names))
	for _, j := range order {
		only[j] = true
	}

	ch := &csvChunker{r: r, off: r.start, line: r.line}
	first, buf, err := ch.next(ctx)
	if err != nil {
		return err
	}
	masks := r.initialMasks()
	if first != nil {
		scan := &blockInfo{off: first.off, n: first.n, line: first.line}
		var t tokenizer
		r.scanBlock(&t, scan, buf, 0)
		if scan.err != nil {
			return scan.err
		}
		masks = scan.masks
		r.streamRows = first.rows
	}
	var pending []*blockInfo
	if first != nil {
		pending = append(pending, first)
	}
	row := 0
	for {
		blocks, rows := pending, 0
		for _, b := range blocks {
			rows += b.rows
		}
		pending = nil
		eof := false
		for rows < chunkRows {
			b, _, err := ch.next(ctx)
			if err != nil {
				return err
			}
			if b == nil {
				eof = true
				break
			}
			blocks = append(blocks, b)
			rows += b.rows
		}
		if len(blocks) == 0 && row > 0 {
			return nil
		}
		f, err := r.parseChunk(ctx, blocks, masks, only, order)
		if err != nil {
			return err
		}
		if row == 0 {
			// Text columns keep the kind (categorical or string) the first
			// chunk gave them.
			for k, j := range order {
				if r.forced[j] == frame.KindInvalid {
					if kd := f.Col(k).Kind(); kd == frame.KindCategorical || kd == frame.KindString {
						r.forced[j] = kd
					}
				}
			}
		}
		for n, o := range opt.Schema {
			if f.Index(n) >= 0 {
				if err := f.SetRole(n, o.Role); err != nil {
					return fmt.Errorf("read %s: %w", name, err)
				}
			}
		}
		if err := fn(&Chunk{Frame: f, Row: row, Done: ch.off, Total: r.size}); err != nil {
			return err
		}
		row += rows
		if eof {
			return nil
		}
	}
}

// parseChunk parses the columns in order from a run of consecutive blocks
// into a new frame, with the stream's fixed candidate types.
func (r *csvReader) parseChunk(ctx context.Context, blocks []*blockInfo, masks []uint32, only []bool, order []int) (*frame.Frame, error) {
	rows := 0
	for k, b := range blocks {
		b.idx, b.rowStart = k, rows
		rows += b.rows
	}
	plans := make([]colPlan, len(r.names))
	for _, j := range order {
		r.plan(&plans[j], j, masks[j], rows, false)
	}
	texts, err := r.parseAll(ctx, blocks, plans, only, false)
	if err != nil {
		return nil, err
	}
	cols := make([]frame.Column, len(order))
	for k, j := range order {
		p := &plans[j]
		name := r.names[j]
		p.missing = 0
		for _, b := range blocks {
			p.missing += b.missing[j]
		}
		switch cols[k] = p.column(name); {
		case cols[k] != nil:
		case len(blocks) == 0 && p.forced == frame.KindString:
			cols[k] = emptyColumn(name, frame.KindString, 0)
		case len(blocks) == 0:
			cols[k] = emptyColumn(name, frame.KindCategorical, 0)
		default:
			cols[k] = r.mergeText(name, p, blocks, texts, rows)
		}
	}
	f, err := frame.New(cols...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", r.name, err)
	}
	return f, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// streamJSONL streams JSON Lines chunkRows lines at a time.
func streamJSONL(ctx context.Context, path, name string, opt Options, chunkRows int, fn func(*Chunk) error) error {
	fh, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	defer fh.Close()
	var total int64
	if st, err := fh.Stat(); err == nil {
		total = st.Size()
	}
	cr := &countingReader{r: fh}
	br := bufio.NewReaderSize(cr, 1<<20)
	var in io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("read %s: gzip: %w", name, err)
		}
		in = zr
	}
	catMax := opt.CategoricalMax
	if catMax <= 0 {
		catMax = DefaultCategoricalMax
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 1<<20), maxJSONLine)
	var names []string
	index := map[string]int{}
	var kinds []frame.Kind
	skipped := map[string]bool{}
	line, row, firstRows := 0, 0, 0
	for {
		cols := make([]*jcol, len(names))
		for j, n := range names {
			cols[j] = &jcol{name: n, vals: make([]jval, 0, min(chunkRows, 1<<16))}
		}
		var lines []int
		rows := 0
		perr := func(err error) error { return &ParseError{Source: name, Row: line, Err: err} }
		eof := true
		for sc.Scan() {
			line++
			if line%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			b := bytes.TrimSpace(sc.Bytes())
			if line == 1 {
				b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
			}
			if len(b) == 0 {
				continue
			}
			if b[0] != '{' {
				return perr(errors.New("want one JSON object per line"))
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(b, &obj); err != nil {
				return perr(fmt.Errorf("bad JSON: %w", err))
			}
			newKey := false
			for k := range obj {
				if _, ok := index[k]; !ok {
					newKey = true
					break
				}
			}
			if newKey {
				keys, err := objectKeys(b)
				if err != nil {
					return perr(fmt.Errorf("bad JSON: %w", err))
				}
				for _, k := range keys {
					if _, ok := index[k]; ok {
						continue
					}
					if kinds != nil { // columns are fixed after the first chunk
						if !skipped[k] {
							skipped[k] = true
							opt.warnf("%s:%d: key %q first appears after the first %d rows, which fixed the columns; it is skipped", name, line, k, len(lines)+row)
						}
						continue
					}
					index[k] = len(cols)
					names = append(names, k)
					cols = append(cols, &jcol{name: k, vals: make([]jval, rows, max(rows, 16))})
				}
			}
			for k, raw := range obj {
				j, ok := index[k]
				if !ok {
					continue
				}
				v, err := jsonValue(raw)
				if err != nil {
					return perr(fmt.Errorf("key %q: %w", k, err))
				}
				cols[j].vals = append(cols[j].vals, v)
			}
			rows++
			for _, c := range cols {
				if len(c.vals) < rows {
					c.vals = append(c.vals, jval{})
				}
			}
			lines = append(lines, line)
			if rows == chunkRows {
				eof = false
				break
			}
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				return &ParseError{Source: name, Row: line + 1, Err: fmt.Errorf("line longer than %d MiB", maxJSONLine>>20)}
			}
			return fmt.Errorf("read %s: %w", name, err)
		}
		if rows == 0 && kinds != nil {
			return nil
		}
		out := make([]frame.Column, len(cols))
		for j, c := range cols {
			out[j] = jsonColumn(c, rows, catMax)
		}
		f, err := frame.New(out...)
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		rowLine := func(i int) int { return lines[i] }
		if kinds == nil {
			if f, err = applySchema(f, name, Options{Schema: opt.Schema}, rowLine); err != nil {
				return err
			}
			kinds, firstRows = kindsOf(f), rows
		} else if f, err = conform(f, kinds, name, opt, firstRows, rowLine); err != nil {
			return err
		}
		if f, err = selectColumns(f, name, opt); err != nil {
			return err
		}
		if err := fn(&Chunk{Frame: f, Row: row, Done: cr.n, Total: total}); err != nil {
			return err
		}
		row += rows
		if eof {
			return nil
		}
	}
}

// viewRows returns rows [lo, hi) of f as a frame sharing f's storage; lo
// must be a multiple of 64 so validity bitmaps can be shared.
func viewRows(f *frame.Frame, lo, hi int) (*frame.Frame, error) {
	if lo%64 != 0 {
		return f.Slice(lo, hi), nil
	}
	valid := func(v frame.Validity) frame.Validity {
		if v == nil {
			return nil
		}
		return v[lo/64 : (hi+63)/64]
	}
	cols := make([]frame.Column, f.NumCols())
	for j, c := range f.Columns() {
		switch c := c.(type) {
		case *frame.Float:
			cols[j] = &frame.Float{ColName: c.ColName, Values: c.Values[lo:hi], Valid: valid(c.Valid)}
		case *frame.Int:
			cols[j] = &frame.Int{ColName: c.ColName, Values: c.Values[lo:hi], Valid: valid(c.Valid)}
		case *frame.Bool:
			cols[j] = &frame.Bool{ColName: c.ColName, Values: c.Values[lo:hi], Valid: valid(c.Valid)}
		case *frame.Time:
			cols[j] = &frame.Time{ColName: c.ColName, Values: c.Values[lo:hi], Valid: valid(c.Valid)}
		case *frame.String:
			cols[j] = &frame.String{ColName: c.ColName, Values: c.Values[lo:hi], Valid: valid(c.Valid)}
		case *frame.Categorical:
			cols[j] = &frame.Categorical{ColName: c.ColName, Codes: c.Codes[lo:hi], Levels: c.Levels}
		default:
			return f.Slice(lo, hi), nil
		}
	}
	out, err := frame.New(cols...)
	if err != nil {
		return nil, err
	}
	for j := range cols {
		if r := f.Role(j); r != frame.RoleFeature {
			if err := out.SetRole(cols[j].Name(), r); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
