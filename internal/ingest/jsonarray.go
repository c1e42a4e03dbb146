package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gyre-ml/gyre/internal/frame"
)

// isJSONArray reports whether a JSON file holds one array (of objects,
// as pandas' DataFrame.to_json(orient="records") writes) rather than JSON
// Lines.
func isJSONArray(path string) bool {
	b, err := head(path)
	if err != nil {
		return false
	}
	b = bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), " \t\r\n")
	return len(b) > 0 && b[0] == '['
}

// readJSONArray reads [{...}, {...}, ...]: each object becomes one line of
// JSON Lines for the JSON Lines decoder (streamed through a pipe), so both
// forms type columns the same way. An element that is not an object is an
// error naming its position.
func readJSONArray(ctx context.Context, path, name string, opt Options) (*frame.Frame, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	defer fh.Close()
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(arrayToLines(bufio.NewReaderSize(fh, 1<<20), pw, name))
	}()
	f, err := decodeJSONL(ctx, pr, name, opt)
	pr.CloseWithError(errors.New("reader done"))
	return f, err
}

// arrayToLines writes each element of the JSON array read from r as one
// compact line to w.
func arrayToLines(r io.Reader, w io.Writer, name string) error {
	d := json.NewDecoder(r)
	tok, err := d.Token()
	if err != nil || tok != json.Delim('[') {
		return &ParseError{Source: name, Err: fmt.Errorf("%w: want a JSON array of objects", ErrFormat)}
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	var line bytes.Buffer
	for i := 1; d.More(); i++ {
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			return &ParseError{Source: name, Row: i, Err: fmt.Errorf("%w: element %d: %v", ErrFormat, i, err)}
		}
		if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) == 0 || t[0] != '{' {
			return &ParseError{Source: name, Row: i, Err: fmt.Errorf("%w: element %d is not an object: want [{\"column\": value, ...}, ...]", ErrFormat, i)}
		}
		line.Reset()
		if err := json.Compact(&line, raw); err != nil {
			return &ParseError{Source: name, Row: i, Err: err}
		}
		line.WriteByte('\n')
		if _, err := bw.Write(line.Bytes()); err != nil {
			return err
		}
	}
	if _, err := d.Token(); err != nil {
		return &ParseError{Source: name, Err: fmt.Errorf("%w: the array is not closed: %v", ErrFormat, err)}
	}
	if _, err := d.Token(); err != io.EOF {
		return &ParseError{Source: name, Err: fmt.Errorf("%w: data after the array", ErrFormat)}
	}
	return bw.Flush()
}
