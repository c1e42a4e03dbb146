package ingest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
)

var avroDir = filepath.Join("..", "..", "testdata", "ingest", "avro")

// Avro container files written by avsc (testdata/ingest/avro/make_avro.js)
// read whole and streamed, by extension or by their magic bytes; a file
// cut inside a block is an error naming the file and the record.
func TestReadAvroFile(t *testing.T) {
	ctx := context.Background()
	f, err := Read(ctx, filepath.Join(avroDir, "readings.avro"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.NumRows() != 200 {
		t.Fatalf("%d rows", f.NumRows())
	}
	for name, k := range map[string]frame.Kind{"device": frame.KindCategorical, "seq": frame.KindInt, "temp": frame.KindFloat,
		"ok": frame.KindBool, "at": frame.KindTime, "loc.lat": frame.KindFloat, "extra.note": frame.KindCategorical} {
		if c, err := f.Column(name); err != nil || c.Kind() != k {
			t.Errorf("%s: %v %v, want %s", name, c, err, k)
		}
	}
	if c, _ := f.Column("at"); c.Format(1) != "2026-12-07T09:00:01.5Z" {
		t.Errorf("at row 1: %s", c.Format(1))
	}
	b, _ := os.ReadFile(filepath.Join(avroDir, "readings_null.avro"))
	dir := t.TempDir()
	plain := filepath.Join(dir, "readings.bin")
	os.WriteFile(plain, b, 0o600)
	g, err := Read(ctx, plain, Options{Columns: []string{"device", "price"}})
	if err != nil || g.NumRows() != 200 || g.NumCols() != 2 {
		t.Fatalf("sniffed: %v", err)
	}
	var rows, chunks int
	err = Stream(ctx, filepath.Join(avroDir, "readings.avro"), Options{Columns: []string{"seq", "status"}}, 64, func(c *Chunk) error {
		if c.Row != rows || c.Frame.NumCols() != 2 || c.Total == 0 {
			t.Fatalf("chunk at %d: %v", c.Row, c.Frame.Names())
		}
		rows += c.Frame.NumRows()
		chunks++
		return nil
	})
	if err != nil || rows != 200 || chunks != 4 {
		t.Fatalf("stream: %d rows in %d chunks, %v", rows, chunks, err)
	}
	cut := filepath.Join(dir, "cut.avro")
	os.WriteFile(cut, b[:len(b)-300], 0o600)
	_, err = Read(ctx, cut, Options{})
	var pe *ParseError
	if !errors.Is(err, ErrFormat) || !errors.As(err, &pe) || pe.Row == 0 || !strings.Contains(err.Error(), "cut.avro") {
		t.Errorf("cut: %v", err)
	}
}
