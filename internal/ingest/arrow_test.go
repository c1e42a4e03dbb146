package ingest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/klauspost/compress/zstd"
)

var arrowDir = filepath.Join("..", "..", "testdata", "ingest", "arrow")

// Arrow IPC files, Feather v2 files and Arrow streams written by the
// official JavaScript implementation (testdata/ingest/arrow/make_arrow.js)
// read as the CSV they were made from: the same rows and values.
func TestReadArrowPenguins(t *testing.T) {
	ctx := context.Background()
	csv, err := Read(ctx, filepath.Join("..", "..", "testdata", "modelimport", "penguins.csv"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"penguins.arrow", "penguins.feather", "penguins.arrows"} {
		f, err := Read(ctx, filepath.Join(arrowDir, file), Options{})
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if f.NumRows() != csv.NumRows() {
			t.Fatalf("%s: %d rows, want %d", file, f.NumRows(), csv.NumRows())
		}
		for _, name := range []string{"species", "bill_length_mm", "body_mass_g"} {
			a, _ := f.Column(name)
			b, _ := csv.Column(name)
			for i := 0; i < f.NumRows(); i++ {
				if a.Format(i) != b.Format(i) {
					t.Fatalf("%s: %s row %d: %q, CSV has %q", file, name, i, a.Format(i), b.Format(i))
				}
			}
		}
		if c, _ := f.Column("species"); c.Kind() != frame.KindCategorical {
			t.Errorf("%s: species is %s", file, c.Kind())
		}
		if c, _ := f.Column("observed"); c.Kind() != frame.KindTime || c.Format(1) != "2007-11-11T00:00:00Z" {
			t.Errorf("%s: observed %s %s", file, c.Kind(), c.Format(1))
		}
		if c, _ := f.Column("note"); c.NullCount() != 14 {
			t.Errorf("%s: note has %d nulls, want 14", file, c.NullCount())
		}
	}
}

// A file whose name says nothing is recognised by its bytes, and a
// zstd-compressed Arrow file by its inner extension.
func TestReadArrowSniffedAndCompressed(t *testing.T) {
	dir := t.TempDir()
	for _, file := range []string{"types.arrow", "types.arrows"} {
		b, err := os.ReadFile(filepath.Join(arrowDir, file))
		if err != nil {
			t.Fatal(err)
		}
		plain := filepath.Join(dir, strings.ReplaceAll(file, ".", "_")+".dat")
		os.WriteFile(plain, b, 0o600)
		enc, _ := zstd.NewWriter(nil)
		zst := filepath.Join(dir, file+".zst")
		os.WriteFile(zst, enc.EncodeAll(b, nil), 0o600)
		for _, p := range []string{plain, zst} {
			f, err := Read(context.Background(), p, Options{})
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			if f.NumRows() != 9 || f.NumCols() != 21 {
				t.Errorf("%s: %d x %d", p, f.NumRows(), f.NumCols())
			}
		}
	}
}

// Stream reads an Arrow source a batch at a time, cuts a large batch into
// chunks, selects columns and applies the schema.
func TestStreamArrow(t *testing.T) {
	ctx := context.Background()
	opt := Options{Columns: []string{"id", "kind", "at_ns"}, Schema: map[string]FieldOverride{"id": {Type: frame.KindFloat}}}
	var rows, chunks int
	var last int64
	err := Stream(ctx, filepath.Join(arrowDir, "zstd.arrows"), opt, 200, func(c *Chunk) error {
		if c.Row != rows {
			t.Fatalf("chunk at row %d, want %d", c.Row, rows)
		}
		if got := strings.Join(c.Frame.Names(), ","); got != "id,kind,at_ns" {
			t.Fatalf("columns %s", got)
		}
		if k := c.Frame.Col(0).Kind(); k != frame.KindFloat {
			t.Fatalf("id is %s, the schema says float", k)
		}
		if c.Frame.Col(1).Kind() != frame.KindCategorical {
			t.Fatalf("kind is %s", c.Frame.Col(1).Kind())
		}
		if c.Done < last || c.Total == 0 {
			t.Fatalf("progress %d/%d", c.Done, c.Total)
		}
		last = c.Done
		rows += c.Frame.NumRows()
		chunks++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows != 900 || chunks < 4 {
		t.Errorf("%d rows in %d chunks", rows, chunks)
	}
	var seen int
	err = Stream(ctx, filepath.Join(arrowDir, "types.arrow"), Options{}, 0, func(c *Chunk) error {
		seen += c.Frame.NumRows()
		return nil
	})
	if err != nil || seen != 9 {
		t.Errorf("types.arrow: %d rows, %v", seen, err)
	}
}

// A column of a type Gyre does not read is an ErrFormat error naming the
// file, the column and its Arrow type, from Read and from Stream; leaving it
// out with Columns reads the rest.
func TestArrowUnsupportedColumn(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(arrowDir, "unsupported.arrow")
	_, err := Read(ctx, path, Options{})
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), `unsupported.arrow: column "tags": Arrow type list<int32>`) {
		t.Errorf("read: %v", err)
	}
	err = Stream(ctx, path, Options{}, 0, func(*Chunk) error { return nil })
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), `column "tags"`) {
		t.Errorf("stream: %v", err)
	}
	f, err := Read(ctx, path, Options{Columns: []string{"id", "after"}})
	if err != nil || f.NumRows() != 3 {
		t.Errorf("selected: %v", err)
	}
	_, err = Read(ctx, path, Options{Columns: []string{"id", "nope"}})
	if err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("missing column: %v", err)
	}
}

// An Arrow file cut short (no footer) is an error, not a partial read.
func TestArrowTruncated(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(arrowDir, "lz4.feather"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "cut.feather")
	os.WriteFile(p, b[:len(b)/2], 0o600)
	_, err = Read(context.Background(), p, Options{})
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "cut.feather") || !strings.Contains(err.Error(), "footer") {
		t.Errorf("got %v", err)
	}
}
