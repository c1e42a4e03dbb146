package ingest

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest/avro"
	"github.com/gyre-ml/gyre/internal/ingest/parquetio"
	"github.com/gyre-ml/gyre/internal/ingest/sqlsource"
)

// ChunkWriter writes a table chunk by chunk, in the formats of Write: CSV
// and TSV (optionally gzip), JSON Lines (optionally gzip), Parquet (rows
// gathered into row groups of about 64 MiB) and Avro container files
// (blocks of about 1 MiB). Every chunk must have the
// columns (names and kinds) of the first; categorical levels may differ.
//
// A ChunkWriter made by Create writes to a temporary file next to the
// destination that Close syncs and renames into place: a failed or
// abandoned write never leaves a partial file under the final name. Abort
// removes the temporary file; it does nothing after Close, so
//
//	w, err := ingest.Create(dest)
//	...
//	defer w.Abort()
//	for each chunk { w.Write(ctx, chunk) }
//	return w.Close()
//
// is the pattern. Encode may be called from several goroutines at once (to
// format CSV and JSON Lines in parallel); Write, WriteEncoded, Close and
// Abort must be called from one goroutine at a time.
type ChunkWriter struct {
	dest  string // "" for a caller's io.Writer
	tmp   *os.File
	bw    *bufio.Writer
	zw    *gzip.Writer
	out   io.Writer
	fm    format
	delim byte

	sink     Sink   // a registered destination (mongodb://, kafka://)
	sinkName string // dest with credentials removed

	pq *parquetio.Writer
	av *avro.FileWriter
	// avroCodec is the block codec of an Avro file: from the name
	// (out.snappy.avro), deflate by default.
	avroCodec string
	// sql, when set, is the database URL the rows go to at Close: chunks
	// are spooled to a temporary Parquet file, then inserted as one new
	// table in one transaction (nothing is visible before that commits).
	sql    string
	names  []string
	kinds  []frame.Kind
	rows   int
	closed bool
	err    error
	// rowBytes is the text per row of the last chunk Encode formatted.
	rowBytes atomic.Int64
}

// Create starts writing a file whose extension picks the format (see Write),
// or a destination of a registered scheme (mongodb://, kafka://) that
// can be written to.
func Create(dest string) (*ChunkWriter, error) {
	if s, ok := schemeOf(dest); ok {
		return createSink(context.Background(), s, dest)
	}
	if isSQLURL(dest) {
		u, err := url.Parse(dest)
		if err != nil || u.Query().Get("table") == "" {
			return nil, fmt.Errorf("write %s: %w: name the table to create with ?table=NAME", redactURL(dest), ErrFormat)
		}
		tmp, err := os.CreateTemp("", "gyre-sql-*.parquet")
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", redactURL(dest), err)
		}
		w := &ChunkWriter{dest: tmp.Name(), tmp: tmp, fm: fmtParquet, delim: ',', sql: dest}
		w.bw = bufio.NewWriterSize(tmp, 1<<20)
		w.out = w.bw
		return w, nil
	}
	fm, gz, tab := formatOf(dest)
	switch fm {
	case fmtParquet:
		if gz {
			return nil, fmt.Errorf("write %s: %w: Parquet compresses internally; drop the .gz", dest, ErrFormat)
		}
	case fmtAvro:
		if gz {
			return nil, fmt.Errorf("write %s: %w: Avro compresses its blocks (out.snappy.avro, out.deflate.avro); drop the .gz", dest, ErrFormat)
		}
	case fmtUnknown, fmtXLSX, fmtArrow:
		return nil, fmt.Errorf("write %s: %w: want a .csv, .tsv, .csv.gz, .parquet, .avro or .jsonl file name", dest, ErrFormat)
	}
	dir, base := filepath.Split(dest)
	if dir == "" {
		dir = "."
	}
	tmp, err := createOutputTemp(dir, base)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", dest, err)
	}
	w := &ChunkWriter{dest: dest, tmp: tmp, fm: fm, delim: ',', avroCodec: avroCodecOf(dest)}
	if tab {
		w.delim = '\t'
	}
	w.bw = bufio.NewWriterSize(tmp, 1<<20)
	w.out = w.bw
	if gz {
		w.zw = gzip.NewWriter(w.bw)
		w.out = w.zw
	}
	return w, nil
}

// avroCodecOf reads an Avro file's block codec from its name, as Spark
// names them: out.snappy.avro, out.deflate.avro, out.zstandard.avro (or
// .zstd.avro), out.null.avro (uncompressed); plain .avro is deflate.
func avroCodecOf(name string) string {
	low := strings.TrimSuffix(strings.ToLower(filepath.Base(name)), ".avro")
	switch filepath.Ext(low) {
	case ".snappy":
		return "snappy"
	case ".zstandard", ".zstd":
		return "zstandard"
	case ".null", ".uncompressed":
		return "null"
	}
	return "deflate"
}

// NewChunkWriter writes to w in the named format: "csv", "tsv", "jsonl",
// "parquet" or "avro" (deflate blocks; "avro+snappy", "avro+zstandard" or
// "avro+null" for another codec). Close finishes the table (Parquet's
// footer, Avro's last block) but does not close w.
func NewChunkWriter(w io.Writer, format string) (*ChunkWriter, error) {
	cw := &ChunkWriter{out: w, delim: ','}
	if c, ok := strings.CutPrefix(strings.ToLower(format), "avro"); ok && (c == "" || strings.HasPrefix(c, "+")) {
		cw.fm, cw.avroCodec = fmtAvro, "deflate"
		if c != "" {
			cw.avroCodec = c[1:]
		}
		return cw, nil
	}
	switch strings.ToLower(format) {
	case "csv":
		cw.fm = fmtCSV
	case "tsv":
		cw.fm, cw.delim = fmtCSV, '\t'
	case "jsonl", "ndjson":
		cw.fm = fmtJSONL
	case "parquet":
		cw.fm = fmtParquet
	default:
		return nil, fmt.Errorf("write: %w: format %q (want csv, tsv, jsonl, parquet or avro)", ErrFormat, format)
	}
	return cw, nil
}

// Rows returns the number of rows written so far.
func (w *ChunkWriter) Rows() int { return w.rows }

// Stored reports whether each chunk is stored when Write returns (a
// registered destination such as a Kafka topic), rather than only when
// Close renames or commits the whole output (files, SQL tables): a stream
// that commits its input positions does so per chunk in the first case
// and after Close in the second.
func (w *ChunkWriter) Stored() bool { return w.sink != nil }

func (w *ChunkWriter) name() string {
	if w.sink != nil {
		return w.sinkName
	}
	if w.sql != "" {
		return redactURL(w.sql)
	}
	if w.dest == "" {
		return "output"
	}
	return w.dest
}

// Encoded is a chunk made ready to write by Encode.
type Encoded struct {
	f    *frame.Frame
	text []byte // CSV or JSON Lines rows; nil for Parquet
}

// Encode formats a chunk for WriteEncoded. It does not touch the output,
// so several goroutines may encode chunks at once; the text formats do all
// their formatting here.
func (w *ChunkWriter) Encode(ctx context.Context, f *frame.Frame) (*Encoded, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e := &Encoded{f: f}
	n := f.NumRows()
	// Room for the rows at the size per row of the chunks before (so a
	// stream's text is written without growing it), 64 KiB at first.
	size := 1 << 16
	if per := w.rowBytes.Load(); per > 0 {
		size = int(per)*n + n/8*int(per) + 1024
	}
	switch w.fm {
	case fmtCSV:
		e.text = appendCSVRows(make([]byte, 0, size), f, w.delim, 0, n)
	case fmtJSONL:
		e.text = appendJSONLRows(make([]byte, 0, size), f, 0, n)
	}
	if n > 0 && len(e.text) > 0 {
		w.rowBytes.Store(int64(len(e.text)/n + 1))
	}
	return e, nil
}

// Write appends a chunk.
func (w *ChunkWriter) Write(ctx context.Context, f *frame.Frame) error {
	e, err := w.Encode(ctx, f)
	if err != nil {
		return err
	}
	return w.WriteEncoded(e)
}

// WriteEncoded appends a chunk prepared by Encode.
func (w *ChunkWriter) WriteEncoded(e *Encoded) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return fmt.Errorf("write %s: write after close", w.name())
	}
	if err := w.write(e); err != nil {
		w.err = fmt.Errorf("write %s: %w", w.name(), err)
		return w.err
	}
	return nil
}

// WriteEncodedAsync is WriteEncoded for a stream that commits its input
// after each chunk is stored: stored is called exactly once, with nil when
// the chunk is stored or with the error that kept it from it, and for a
// destination that can have several chunks in flight (AsyncSink: Kafka) it
// is called after WriteEncodedAsync returns, once the chunk is
// acknowledged. Other destinations write the chunk before returning and
// call stored first. Calls to stored for different chunks may come in any
// order.
func (w *ChunkWriter) WriteEncodedAsync(e *Encoded, stored func(error)) error {
	as, ok := w.sink.(AsyncSink)
	if !ok {
		err := w.WriteEncoded(e)
		stored(err)
		return err
	}
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return fmt.Errorf("write %s: write after close", w.name())
	}
	if err := w.check(e.f); err != nil {
		w.err = fmt.Errorf("write %s: %w", w.name(), err)
		return w.err
	}
	name := w.name()
	if err := as.StartChunk(context.Background(), e.f, e.text, func(err error) {
		if err != nil {
			err = fmt.Errorf("write %s: %w", name, err)
		}
		stored(err)
	}); err != nil {
		w.err = fmt.Errorf("write %s: %w", w.name(), err)
		return w.err
	}
	w.rows += e.f.NumRows()
	return nil
}

// check records the columns of the first chunk (and, for files, writes
// the header or starts the file) or checks a later chunk has them.
func (w *ChunkWriter) check(f *frame.Frame) error {
	if w.names == nil {
		if f.NumCols() == 0 {
			return errors.New("the table has no columns")
		}
		w.names, w.kinds = f.Names(), kindsOf(f)
		switch {
		case w.sink != nil:
		case w.fm == fmtCSV:
			if _, err := w.out.Write(appendCSVHeader(nil, f, w.delim)); err != nil {
				return err
			}
		case w.fm == fmtParquet:
			pq, err := parquetio.NewWriter(w.out, f)
			if err != nil {
				return err
			}
			w.pq = pq
		case w.fm == fmtAvro:
			av, err := avro.NewFileWriter(w.out, f, w.avroCodec)
			if err != nil {
				return err
			}
			w.av = av
		}
	} else {
		if f.NumCols() != len(w.names) {
			return fmt.Errorf("chunk has %d columns, the first had %d", f.NumCols(), len(w.names))
		}
		for j, c := range f.Columns() {
			if c.Name() != w.names[j] || c.Kind() != w.kinds[j] {
				return fmt.Errorf("chunk column %d is %q (%s), the first chunk's is %q (%s)", j+1, c.Name(), c.Kind(), w.names[j], w.kinds[j])
			}
		}
	}
	return nil
}

func (w *ChunkWriter) write(e *Encoded) error {
	f := e.f
	if err := w.check(f); err != nil {
		return err
	}
	if w.sink != nil {
		if err := w.sink.WriteChunk(context.Background(), f, e.text); err != nil {
			return err
		}
	} else if w.pq != nil {
		if err := w.pq.Write(f); err != nil {
			return err
		}
	} else if w.av != nil {
		if err := w.av.Write(f); err != nil {
			return err
		}
	} else if len(e.text) > 0 {
		if _, err := w.out.Write(e.text); err != nil {
			return err
		}
	}
	w.rows += f.NumRows()
	return nil
}

// Close finishes the table and, for a file, syncs it and renames it into
// place. After a failed Write, Close removes the temporary file and returns
// the write's error.
func (w *ChunkWriter) Close() error {
	if w.closed {
		return w.err
	}
	if w.err != nil {
		w.Abort()
		return w.err
	}
	w.closed = true
	if err := w.finish(); err != nil {
		w.err = fmt.Errorf("write %s: %w", w.name(), err)
		if w.sink != nil {
			w.sink.Abort()
		}
		if w.tmp != nil {
			w.tmp.Close()
			os.Remove(w.tmp.Name())
		}
		return w.err
	}
	return nil
}

func (w *ChunkWriter) finish() error {
	if w.sink != nil {
		return w.sink.Close()
	}
	if w.names == nil && (w.fm == fmtParquet || w.fm == fmtAvro) {
		return errors.New("no chunk was written (the file's schema needs the columns)")
	}
	if w.pq != nil {
		if err := w.pq.Close(); err != nil {
			return err
		}
	}
	if w.av != nil {
		if err := w.av.Close(); err != nil {
			return err
		}
	}
	if w.zw != nil {
		if err := w.zw.Close(); err != nil {
			return err
		}
	}
	if w.tmp == nil {
		return nil
	}
	if err := w.bw.Flush(); err != nil {
		return err
	}
	if err := w.tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := w.tmp.Sync(); err != nil {
		return err
	}
	if err := w.tmp.Close(); err != nil {
		return err
	}
	if w.sql != "" {
		defer os.Remove(w.tmp.Name())
		f, err := parquetio.ReadFile(w.tmp.Name())
		if err != nil {
			return err
		}
		u, _ := url.Parse(w.sql)
		return sqlsource.Write(context.Background(), w.sql, u.Query().Get("table"), f)
	}
	return os.Rename(w.tmp.Name(), w.dest)
}

// Abort discards the output: the temporary file is removed and the
// destination left as it was. It does nothing after a successful Close.
func (w *ChunkWriter) Abort() {
	if w.closed {
		return
	}
	w.closed = true
	if w.err == nil {
		w.err = fmt.Errorf("write %s: aborted", w.name())
	}
	if w.sink != nil {
		w.sink.Abort()
	}
	if w.tmp != nil {
		w.tmp.Close()
		os.Remove(w.tmp.Name())
	}
}
