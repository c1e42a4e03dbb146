package ingest

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest/parquetio"
)

// Write writes a frame to dest, choosing the format by extension: .csv,
// .tsv, .txt (CSV), .csv.gz / .tsv.gz (gzip CSV), .parquet, .avro (an Avro
// container file, deflate blocks; out.snappy.avro, out.zstandard.avro or
// out.null.avro for another codec), .jsonl / .ndjson / .json (JSON Lines,
// optionally .gz). The file appears atomically: it is
// written to a temporary file in the same directory and renamed.
//
// A sqlite:// or postgres:// URL with ?table=NAME creates that table and
// inserts every row in one transaction (the table must not exist), through
// package sqlsource. A destination of a registered scheme that can be
// written to (mongodb://) is written through its Sink: see Create.
func Write(ctx context.Context, f *frame.Frame, dest string) error {
	if _, ok := schemeOf(dest); ok {
		return writeThroughSink(ctx, f, dest)
	}
	if isSQLURL(dest) {
		return writeSQL(ctx, f, dest)
	}
	fm, gz, tab := formatOf(dest)
	switch fm {
	case fmtParquet:
		if gz {
			return fmt.Errorf("write %s: %w: Parquet compresses internally; drop the .gz", dest, ErrFormat)
		}
		return parquetio.WriteFile(dest, f)
	case fmtAvro:
		return writeThroughSink(ctx, f, dest)
	case fmtUnknown, fmtXLSX, fmtArrow:
		return fmt.Errorf("write %s: %w: want a .csv, .tsv, .csv.gz, .parquet, .avro or .jsonl file name", dest, ErrFormat)
	}
	dir, base := filepath.Split(dest)
	if dir == "" {
		dir = "."
	}
	tmp, err := createOutputTemp(dir, base)
	if err != nil {
		return fmt.Errorf("write %s: %w", dest, err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	var w io.Writer = bw
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(bw)
		w = zw
	}
	delim := ','
	if tab {
		delim = '\t'
	}
	if fm == fmtJSONL {
		err = WriteJSONL(ctx, w, f)
	} else {
		err = WriteCSV(ctx, w, f, delim)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", dest, err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return fmt.Errorf("write %s: %w", dest, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", dest, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", dest, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", dest, err)
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return fmt.Errorf("write %s: %w", dest, err)
	}
	ok = true
	return nil
}

// WriteCSV writes f as RFC 4180 CSV with a header. Missing values are empty
// cells; floats use the shortest text that parses back to the same float64
// and always carry a '.' or exponent so they read back as floats; times are
// RFC 3339 with nanoseconds; text that would read back as missing (NA, ?,
// ...) or needs it is quoted. Float NaN values are written as NaN, which
// reads back as missing.
func WriteCSV(ctx context.Context, w io.Writer, f *frame.Frame, delim rune) error {
	if delim <= 0 || delim >= utf8.RuneSelf || delim == '"' {
		return fmt.Errorf("write csv: delimiter %q is not supported", delim)
	}
	d := byte(delim)
	if _, err := w.Write(appendCSVHeader(nil, f, d)); err != nil {
		return err
	}
	var line []byte
	for lo := 0; lo < f.NumRows(); lo += 65536 {
		if err := ctx.Err(); err != nil {
			return err
		}
		line = appendCSVRows(line[:0], f, d, lo, min(lo+65536, f.NumRows()))
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	return nil
}

// appendCSVHeader appends f's header line.
func appendCSVHeader(line []byte, f *frame.Frame, d byte) []byte {
	miss := newMissingSet(nil)
	for j, c := range f.Columns() {
		if j > 0 {
			line = append(line, d)
		}
		line = appendCSVText(line, c.Name(), d, &miss)
	}
	return append(line, '\n')
}

// appendCSVRows appends rows [lo, hi) of f as CSV lines.
func appendCSVRows(line []byte, f *frame.Frame, d byte, lo, hi int) []byte {
	miss := newMissingSet(nil)
	cols := f.Columns()
	// A one-column row with a missing value would be a blank line, which
	// readers skip: write it as "" instead.
	single := len(cols) == 1
	for i := lo; i < hi; i++ {
		for j, c := range cols {
			if j > 0 {
				line = append(line, d)
			}
			if c.IsNull(i) {
				if single {
					line = append(line, '"', '"')
				}
				continue
			}
			switch c := c.(type) {
			case *frame.Float:
				line = appendFloat(line, c.Values[i])
			case *frame.Int:
				line = strconv.AppendInt(line, c.Values[i], 10)
			case *frame.Bool:
				line = strconv.AppendBool(line, c.Values[i])
			case *frame.Time:
				line = time.Unix(0, c.Values[i]).UTC().AppendFormat(line, time.RFC3339Nano)
			case *frame.Categorical:
				line = appendCSVText(line, c.Levels[c.Codes[i]], d, &miss)
			case *frame.String:
				line = appendCSVText(line, c.Values[i], d, &miss)
			default:
				line = appendCSVText(line, c.Format(i), d, &miss)
			}
		}
		line = append(line, '\n')
	}
	return line
}

// appendFloat appends the shortest exact form of v, with ".0" added to
// integral values so the text reads back as a float.
func appendFloat(dst []byte, v float64) []byte {
	start := len(dst)
	dst = strconv.AppendFloat(dst, v, 'g', -1, 64)
	for _, c := range dst[start:] {
		if c == '.' || c == 'e' || c == 'N' || c == 'I' {
			return dst
		}
	}
	return append(dst, '.', '0')
}

func appendCSVText(dst []byte, s string, d byte, miss *missingSet) []byte {
	need := s != "" && (miss.isString(s) || strings.HasPrefix(s, "\ufeff"))
	if !need {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c == d || c == '"' || c == '\n' || c == '\r' {
				need = true
				break
			}
		}
	}
	if !need {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}

// WriteJSONL writes f as JSON Lines, one object per row with keys in column
// order. Missing values and NaN (which JSON cannot hold) are null; infinities
// are written as ±1e999; integral floats carry ".0"; times are RFC 3339 strings.
func WriteJSONL(ctx context.Context, w io.Writer, f *frame.Frame) error {
	var line []byte
	for lo := 0; lo < f.NumRows(); lo += 65536 {
		if err := ctx.Err(); err != nil {
			return err
		}
		line = appendJSONLRows(line[:0], f, lo, min(lo+65536, f.NumRows()))
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	return nil
}

// appendJSONLRows appends rows [lo, hi) of f as JSON Lines.
func appendJSONLRows(line []byte, f *frame.Frame, lo, hi int) []byte {
	cols := f.Columns()
	keys := make([][]byte, len(cols))
	for j, c := range cols {
		keys[j] = append(appendJSONString(nil, c.Name()), ':')
	}
	for i := lo; i < hi; i++ {
		line = append(line, '{')
		for j, c := range cols {
			if j > 0 {
				line = append(line, ',')
			}
			line = append(line, keys[j]...)
			if c.IsNull(i) {
				line = append(line, "null"...)
				continue
			}
			switch c := c.(type) {
			case *frame.Float:
				switch v := c.Values[i]; {
				case math.IsNaN(v):
					line = append(line, "null"...)
				case math.IsInf(v, 1):
					line = append(line, "1e999"...) // valid JSON; parsers read it as +Inf
				case math.IsInf(v, -1):
					line = append(line, "-1e999"...)
				default:
					line = appendFloat(line, v)
				}
			case *frame.Int:
				line = strconv.AppendInt(line, c.Values[i], 10)
			case *frame.Bool:
				line = strconv.AppendBool(line, c.Values[i])
			default:
				line = appendJSONString(line, c.Format(i))
			}
		}
		line = append(line, '}', '\n')
	}
	return line
}

// AppendJSONString appends s as a JSON string (invalid UTF-8 as U+FFFD),
// for sources that render nested values as JSON text (mongosource's
// arrays).
func AppendJSONString(dst []byte, s string) []byte { return appendJSONString(dst, s) }

func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// writeThroughSink writes f whole through the Sink Create opens for dest.
func writeThroughSink(ctx context.Context, f *frame.Frame, dest string) error {
	w, err := Create(dest)
	if err != nil {
		return err
	}
	defer w.Abort()
	if err := w.Write(ctx, f); err != nil {
		return err
	}
	return w.Close()
}
