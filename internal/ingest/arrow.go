package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest/arrowipc"
)

// This file reads Arrow IPC files, Feather v2 files and Arrow IPC streams
// through ingest/arrowipc, whole (Read) or a record batch at a time
// (Stream).

// arrowErr marks arrowipc's errors about the data as ErrFormat, so callers
// (and the exit code) treat them as the input's fault, and names the
// source when the reader was given a temporary path.
func arrowErr(err error, path, name string) error {
	if errors.Is(err, arrowipc.ErrUnsupported) || errors.Is(err, arrowipc.ErrFormat) {
		err = fmt.Errorf("%w (%w)", err, ErrFormat)
	}
	if path != name {
		return fmt.Errorf("read %s: %w", name, err)
	}
	return fmt.Errorf("read: %w", err)
}

// readArrow reads a whole Arrow IPC file or stream.
func readArrow(path, name string, opt Options) (*frame.Frame, error) {
	f, err := arrowipc.ReadFile(path, name, wantColumns(opt))
	if err != nil {
		return nil, arrowErr(err, path, path)
	}
	return f, nil
}

// streamArrow streams an Arrow IPC file or stream a record batch at a
// time, a large batch cut into views of about chunkRows rows; column kinds
// are those of the first batch (a text column categorical in one batch and
// free text in another is cast to the first's kind).
func streamArrow(ctx context.Context, path, name string, opt Options, chunkRows int, fn func(*Chunk) error) error {
	r, fh, err := arrowipc.Open(path, name, wantColumns(opt))
	if err != nil {
		return arrowErr(err, path, path)
	}
	defer fh.Close()
	shape := &chunkShape{source: name, opt: opt}
	row := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			if shape.kinds == nil { // no batches: one empty chunk with the columns
				return streamArrowEmpty(ctx, path, name, opt, chunkRows, fn)
			}
			return nil
		}
		if err != nil {
			return arrowErr(err, path, path)
		}
		base := row
		if f, err = shape.chunk(f, base); err != nil {
			return err
		}
		done, total := r.Progress()
		step := (chunkRows + 63) &^ 63
		n := f.NumRows()
		for lo := 0; lo < n || lo == 0; lo += step {
			hi := min(n, lo+step)
			piece := f
			if lo > 0 || hi < n {
				if piece, err = viewRows(f, lo, hi); err != nil {
					return fmt.Errorf("read %s: %w", name, err)
				}
			}
			if err := fn(&Chunk{Frame: piece, Row: base + lo, Done: done, Total: total}); err != nil {
				return err
			}
			if hi == n {
				break
			}
		}
		row += n
	}
}

// streamArrowEmpty delivers the one empty chunk of a source without rows.
func streamArrowEmpty(ctx context.Context, path, name string, opt Options, chunkRows int, fn func(*Chunk) error) error {
	f, err := readArrow(path, name, opt)
	if err != nil {
		return err
	}
	if f, err = applySchema(f, name, opt, nil); err != nil {
		return err
	}
	if f, err = selectColumns(f, name, opt); err != nil {
		return err
	}
	return streamWhole(ctx, f, chunkRows, fn)
}
