package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest/avro"
	"github.com/gyre-ml/gyre/internal/ingest/docframe"
)

// This file reads Avro object container files (.avro) through ingest/avro:
// records become rows (nested records flattened to "a.b"), whole (Read) or
// a number of records at a time (Stream).

// avroErr turns an error of the Avro reader into a ParseError naming the
// source and the record.
func avroErr(err error, name string, record int64) error {
	if errors.Is(err, avro.ErrData) || errors.Is(err, avro.ErrSchema) {
		err = fmt.Errorf("%w: %w", ErrFormat, err)
	}
	var te *docframe.TypeError
	if errors.As(err, &te) {
		return &ParseError{Source: name, Row: int(record), Column: te.Column, Err: fmt.Errorf("%w: %v", ErrType, err)}
	}
	return &ParseError{Source: name, Row: int(record), Err: err}
}

func openAvro(path, name string, opt Options) (*avro.FileReader, *os.File, *docframe.Builder, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read %s: %w", name, err)
	}
	fr, err := avro.NewFileReader(fh)
	if err != nil {
		fh.Close()
		return nil, nil, nil, avroErr(err, name, 0)
	}
	b := docframe.New(opt.CategoricalMax)
	b.Skipped = func(field string) {
		opt.warnf("%s: field %q first seen after the columns were fixed: skipped", name, field)
	}
	return fr, fh, b, nil
}

// readAvro reads a whole Avro container file.
func readAvro(path, name string, opt Options) (*frame.Frame, error) {
	fr, fh, b, err := openAvro(path, name, opt)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	defer fr.Close()
	for {
		if err := fr.Next(b); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, avroErr(err, name, fr.Records()+1)
		}
	}
	f, err := b.Frame()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return f, nil
}

// streamAvro streams an Avro container file chunkRows records at a time;
// column kinds are those of the first chunk.
func streamAvro(ctx context.Context, path, name string, opt Options, chunkRows int, fn func(*Chunk) error) error {
	fr, fh, b, err := openAvro(path, name, opt)
	if err != nil {
		return err
	}
	defer fh.Close()
	defer fr.Close()
	st, err := fh.Stat()
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	shape := &chunkShape{source: name, opt: opt}
	row := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var end bool
		for b.Rows() < chunkRows {
			if err := fr.Next(b); err != nil {
				if errors.Is(err, io.EOF) {
					end = true
					break
				}
				return avroErr(err, name, fr.Records()+1)
			}
		}
		if end && b.Rows() == 0 && shape.kinds != nil {
			return nil
		}
		f, err := b.Frame()
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		base := row
		if f, err = shape.chunk(f, base); err != nil {
			return err
		}
		if err := fn(&Chunk{Frame: f, Row: base, Done: fr.Offset(), Total: st.Size()}); err != nil {
			return err
		}
		row += f.NumRows()
		if end {
			return nil
		}
		b = b.Like()
	}
}
