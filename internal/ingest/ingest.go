package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest/avro"
	"github.com/gyre-ml/gyre/internal/ingest/httpsource"
)

// FieldOverride fixes the type and/or role of one column, overriding
// inference. The zero Type (frame.KindInvalid) means "infer"; the zero Role is
// frame.RoleFeature, the default of every column.
type FieldOverride struct {
	Type frame.Kind
	Role frame.Role
}

// Options controls how a source is read. The zero value reads with sniffed
// delimiter, default missing tokens and inference over every row.
type Options struct {
	// sheet is the worksheet of an .xlsx source ("book.xlsx?sheet=NAME").
	sheet string
	// Schema maps column names to type and role overrides. A column named
	// here that the source does not have is an error.
	Schema map[string]FieldOverride
	// Columns, when not nil, lists the only columns to return, in that
	// order; a name the source lacks is an error. Stream skips parsing the
	// other CSV columns.
	Columns []string
	// Delimiter is the CSV field separator; 0 sniffs it from the first lines
	// (comma, semicolon, tab or pipe; tab for .tsv files).
	Delimiter rune
	// Missing lists the tokens read as missing values. nil means the
	// defaults: "", NA, N/A, NaN, null and ?. Tokens match case-insensitively.
	// An empty cell is always missing. A quoted, non-empty cell is never
	// missing: "NA" in quotes is the two-letter string.
	Missing []string
	// InferRows bounds how many data rows decide a column's type; 0 means
	// all rows. A later value that does not fit the inferred type is an error
	// naming its line and column.
	InferRows int
	// CategoricalMax is the most distinct values a text column may have to be
	// dictionary-encoded as categorical; 0 means DefaultCategoricalMax.
	CategoricalMax int
	// Workers is the number of parsing goroutines; 0 means GOMAXPROCS.
	Workers int
	// API, for http(s) sources, sends headers from environment variables
	// with the request and, with API.Paginate, pulls every page of a JSON
	// API (package httpsource: link, cursor, offset or page pagination,
	// rate limit, retries with backoff), the records read as JSON Lines.
	API httpsource.Options
	// HTTPTimeout bounds an http(s) download; 0 means 5 minutes.
	HTTPTimeout time.Duration
	// MaxDownload caps the size of an http(s) download in bytes; 0 means
	// 4 GiB.
	MaxDownload int64
	// Stdin is read for the source "-"; nil means os.Stdin.
	Stdin io.Reader
	// Warn, when set, receives notes about the data that are not errors: a
	// renamed duplicate header, a mostly numeric column read as text.
	Warn func(msg string)
	// RenameDuplicates numbers repeated header names ("a", "a.1") instead
	// of refusing the file: which of two same-named columns a schema or a
	// model means is otherwise a guess.
	RenameDuplicates bool
	// Stop, when closed, ends a stream that would otherwise not end (see
	// Follows): the source delivers no more chunks and Stream returns nil.
	// Other sources ignore it.
	Stop <-chan struct{}
}

// DefaultCategoricalMax is the default for Options.CategoricalMax.
const DefaultCategoricalMax = 1000

func (o *Options) warnf(format string, a ...any) {
	if o.Warn != nil {
		o.Warn(fmt.Sprintf(format, a...))
	}
}

// Sentinel errors, wrapped by ParseError.Err and matched with errors.Is.
var (
	// ErrFieldCount: a record has a different number of fields than the header.
	ErrFieldCount = errors.New("wrong number of fields")
	// ErrQuote: a quoted field is not terminated.
	ErrQuote = errors.New("unterminated quoted field")
	// ErrType: a value does not fit its column's (declared or inferred) type.
	ErrType = errors.New("value does not fit column type")
	// ErrHeader: the header is missing or unusable.
	ErrHeader = errors.New("bad header")
	// ErrFormat: the source's format is unknown or unsupported.
	ErrFormat = errors.New("unsupported format")
)

// ParseError reports malformed input: where it is and what was wrong.
type ParseError struct {
	// Source is the file or URL being read.
	Source string
	// Row is the 1-based physical line number in text sources (CSV, JSON
	// Lines); the 1-based record number elsewhere; 0 when unknown.
	Row int
	// Column is the column name, "" when the error is about a whole record.
	Column string
	// Err is the cause; it wraps one of the sentinel errors when one applies.
	Err error
}

// Error renders `source:row: column "x": cause`.
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	if e.Row > 0 {
		fmt.Fprintf(&b, ":%d", e.Row)
	}
	b.WriteString(": ")
	if e.Column != "" {
		fmt.Fprintf(&b, "column %q: ", e.Column)
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *ParseError) Unwrap() error { return e.Err }

// InputError marks the error as the input's fault (exit code 2 in the CLI).
func (e *ParseError) InputError() bool { return true }

// format identifies a reader/writer.
type format int

const (
	fmtUnknown format = iota
	fmtCSV
	fmtJSONL
	fmtParquet
	fmtXLSX
	fmtArrow
	fmtAvro
)

// formatOf picks the format from a path's extension, ignoring a trailing .gz.
// It also reports whether the name says gzip and whether the name says tab.
func formatOf(name string) (f format, gz, tab bool) {
	low := strings.ToLower(name)
	if strings.HasSuffix(low, ".gz") {
		gz = true
		low = strings.TrimSuffix(low, ".gz")
	}
	switch filepath.Ext(low) {
	case ".csv", ".txt":
		return fmtCSV, gz, false
	case ".tsv", ".tab":
		return fmtCSV, gz, true
	case ".jsonl", ".ndjson", ".json":
		return fmtJSONL, gz, false
	case ".parquet", ".pq":
		return fmtParquet, gz, false
	case ".xlsx", ".xlsm":
		return fmtXLSX, gz, false
	case ".arrow", ".arrows", ".feather", ".ftr", ".ipc":
		return fmtArrow, gz, false
	case ".avro":
		return fmtAvro, gz, false
	}
	return fmtUnknown, gz, false
}

// Read reads a source into a frame. The source is a file path (.csv, .tsv,
// .txt, .jsonl, .ndjson, .json (JSON Lines), .parquet, optionally .gz), "-"
// for CSV on standard input, an http(s):// URL of such a file, or a
// sqlite:// or postgres:// URL naming a table or query. Options.Schema is
// applied after reading, whatever the source.
func Read(ctx context.Context, source string, opt Options) (*frame.Frame, error) {
	f, err := read(ctx, source, opt)
	if err != nil {
		return nil, err
	}
	if f, err = applySchema(f, source, opt, nil); err != nil {
		return nil, err
	}
	return selectColumns(f, source, opt)
}

func read(ctx context.Context, source string, opt Options) (*frame.Frame, error) {
	if s, ok := schemeOf(source); ok {
		return s.Read(ctx, source, opt)
	}
	low := strings.ToLower(source)
	switch {
	case source == "-":
		return readStdin(ctx, opt)
	case strings.HasPrefix(low, "http://"), strings.HasPrefix(low, "https://"):
		return readHTTP(ctx, source, opt)
	case strings.HasPrefix(low, "s3://"):
		return readS3(ctx, source, opt)
	case strings.HasPrefix(low, "sqlite://"), strings.HasPrefix(low, "sqlite3://"),
		strings.HasPrefix(low, "postgres://"), strings.HasPrefix(low, "postgresql://"):
		return readSQL(ctx, source)
	case strings.HasPrefix(low, "file://"):
		source = strings.TrimPrefix(source, source[:len("file://")])
	}
	if p, sheet, ok := xlsxSource(source); ok {
		opt.sheet = sheet
		return readFile(ctx, p, source, opt, fmtXLSX)
	}
	return readFile(ctx, source, source, opt, fmtUnknown)
}

// readFile reads a local file. name is what errors call it; forced overrides
// the extension-derived format when not fmtUnknown.
func readFile(ctx context.Context, path, name string, opt Options, forced format) (*frame.Frame, error) {
	plain, cleanup, err := decompressed(path, name)
	if err != nil {
		return nil, err
	}
	if plain != path {
		defer cleanup()
		inner := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(strings.ToLower(path), ".bz2"), ".zst"), ".zstd")
		if f, _, _ := formatOf(inner); f != fmtUnknown && forced == fmtUnknown {
			forced = f
		}
		path = plain
	}
	fmtName, _, tab := formatOf(path)
	if forced != fmtUnknown {
		fmtName = forced
	}
	if fmtName == fmtUnknown {
		sniffed, err := sniffFormat(path)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		fmtName = sniffed
	}
	path, cleanText, err := textInput(path, name, fmtName, opt)
	if err != nil {
		return nil, err
	}
	defer cleanText()
	switch fmtName {
	case fmtParquet:
		return readParquet(path, name)
	case fmtXLSX:
		return readXLSX(path, name, opt.sheet)
	case fmtArrow:
		return readArrow(path, name, opt)
	case fmtAvro:
		return readAvro(path, name, opt)
	case fmtJSONL:
		if isJSONArray(path) {
			return readJSONArray(ctx, path, name, opt)
		}
		return readJSONL(ctx, path, name, opt)
	}
	if tab && opt.Delimiter == 0 {
		opt.Delimiter = '\t'
	}
	return readCSV(ctx, path, name, opt)
}

// textInput checks what a text reader (CSV, JSON) is about to parse: a
// known binary format or NUL bytes are refused, UTF-16 text is transcoded
// to a temporary UTF-8 file (returned with its cleanup). Other formats and
// gzip files (whose readers check what they hold) pass as they are.
func textInput(path, name string, fm format, opt Options) (string, func(), error) {
	none := func() {}
	if fm != fmtCSV && fm != fmtJSONL {
		return path, none, nil
	}
	b, err := head(path)
	if err != nil {
		return "", nil, fmt.Errorf("read %s: %w", name, err)
	}
	if bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		return path, none, nil
	}
	as := map[format]string{fmtCSV: "CSV", fmtJSONL: "JSON"}[fm]
	order, err := checkText(b, name, as)
	if err != nil || order == "" {
		return path, none, err
	}
	utf8Path, cleanup, err := transcodeUTF16(path, name, order)
	if err != nil {
		return "", nil, err
	}
	opt.warnf("%s: read as UTF-16 (%s) text, converted to UTF-8", name, order)
	return utf8Path, cleanup, nil
}

// sniffFormat guesses a file's format from its first bytes: Parquet magic,
// a JSON object, else CSV.
func sniffFormat(path string) (format, error) {
	fh, err := os.Open(path)
	if err != nil {
		return fmtUnknown, err
	}
	defer fh.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(fh, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fmtUnknown, err
	}
	head = head[:n]
	if len(head) >= 4 && string(head[:4]) == "PAR1" {
		return fmtParquet, nil
	}
	if isArrow(head) {
		return fmtArrow, nil
	}
	if bytes.HasPrefix(head, avro.Magic) {
		return fmtAvro, nil
	}
	if len(head) >= 4 && string(head[:4]) == "PK\x03\x04" && isXLSX(path) {
		return fmtXLSX, nil
	}
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		return fmtCSV, nil // gzip: the CSV reader decompresses; JSONL must be named .jsonl.gz
	}
	t := strings.TrimLeft(strings.TrimPrefix(string(head), "\ufeff"), " \t\r\n")
	if strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		return fmtJSONL, nil
	}
	return fmtCSV, nil
}

// readStdin spools standard input to a temporary file (so the CSV reader's
// two passes and bounded memory work unchanged) and reads it as CSV.
func readStdin(ctx context.Context, opt Options) (*frame.Frame, error) {
	tmp, err := os.CreateTemp("", "gyre-stdin-*")
	if err != nil {
		return nil, fmt.Errorf("read stdin: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	in := opt.Stdin
	if in == nil {
		in = os.Stdin
	}
	if _, err := io.Copy(tmp, in); err != nil {
		return nil, fmt.Errorf("read stdin: %w", err)
	}
	return readCSV(ctx, tmp.Name(), "stdin", opt)
}
