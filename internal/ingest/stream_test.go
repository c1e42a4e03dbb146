package ingest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/frame/frametest"
)

// streamAll streams a source and checks that every chunk equals the same
// rows of want, that chunks are contiguous and cover every row, and that
// all chunks share kinds. It returns the number of chunks.
func streamAll(t *testing.T, source string, opt Options, chunkRows int, want *frame.Frame) int {
	t.Helper()
	chunks, next := 0, 0
	var kinds []frame.Kind
	err := Stream(context.Background(), source, opt, chunkRows, func(c *Chunk) error {
		if c.Row != next {
			return fmt.Errorf("chunk %d starts at row %d, want %d", chunks, c.Row, next)
		}
		n := c.Frame.NumRows()
		if next+n > want.NumRows() {
			return fmt.Errorf("chunk %d ends at row %d, past the %d rows", chunks, next+n, want.NumRows())
		}
		if err := equalFrames(want.Slice(next, next+n), c.Frame); err != nil {
			return fmt.Errorf("chunk %d (rows %d-%d): %w", chunks, next, next+n, err)
		}
		k := kindsOf(c.Frame)
		if kinds == nil {
			kinds = k
		} else if fmt.Sprint(k) != fmt.Sprint(kinds) {
			return fmt.Errorf("chunk %d kinds %v, first chunk %v", chunks, k, kinds)
		}
		if c.Done <= 0 || (c.Total > 0 && c.Done > c.Total) {
			return fmt.Errorf("chunk %d progress %d of %d", chunks, c.Done, c.Total)
		}
		next += n
		chunks++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if next != want.NumRows() {
		t.Fatalf("streamed %d rows, want %d", next, want.NumRows())
	}
	return chunks
}

// smallBlocks makes the CSV reader cut blocks of size bytes for the test.
func smallBlocks(t *testing.T, size int) {
	old := blockSize
	blockSize = size
	t.Cleanup(func() { blockSize = old })
}

func TestStreamMatchesRead(t *testing.T) {
	smallBlocks(t, 32<<10)
	ctx := context.Background()
	dir := t.TempDir()
	adult := frametest.Example(t, "adult", "adult.train.csv")
	whole, err := Read(ctx, adult, Options{})
	if err != nil {
		t.Fatal(err)
	}
	all := allKinds()
	sources := map[string]*frame.Frame{"adult.csv": whole, "all.csv": all}
	for _, ext := range []string{".csv.gz", ".tsv", ".jsonl", ".parquet"} {
		p := filepath.Join(dir, "all"+ext)
		if err := Write(ctx, all, p); err != nil {
			t.Fatal(err)
		}
		sources["all"+ext] = all
	}
	for _, ext := range []string{".jsonl", ".parquet"} {
		p := filepath.Join(dir, "adult"+ext)
		if err := Write(ctx, whole, p); err != nil {
			t.Fatal(err)
		}
		sources["adult"+ext] = whole
	}
	if err := Write(ctx, all, filepath.Join(dir, "all.csv")); err != nil {
		t.Fatal(err)
	}
	for name, want := range sources {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			if name == "adult.csv" {
				p = adult
			}
			// Read and stream agree on the file (Read of the file is the
			// reference: Write is tested elsewhere).
			ref, err := Read(ctx, p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := equalFrames(want, ref); err != nil {
				t.Fatalf("read: %v", err)
			}
			for _, rows := range []int{1, 50, 3000, 0} {
				if rows == 1 && (strings.HasSuffix(name, ".jsonl") || strings.HasPrefix(name, "adult")) {
					// JSON Lines types come from the first chunk: one row
					// says too little; adult in one-row chunks is slow.
					continue
				}
				n := streamAll(t, p, Options{}, rows, ref)
				if rows == 50 && strings.HasPrefix(name, "adult") && n < 2 {
					t.Errorf("chunk size %d gave %d chunk(s)", rows, n)
				}
			}
		})
	}
}

func TestStreamSchemaAndColumns(t *testing.T) {
	smallBlocks(t, 16<<10)
	ctx := context.Background()
	adult := frametest.Example(t, "adult", "adult.train.csv")
	opt := Options{
		Schema:  map[string]FieldOverride{"age": {Type: frame.KindFloat}, "education": {Type: frame.KindString}, "class": {Role: frame.RoleTarget}},
		Columns: []string{"education", "age", "class"},
	}
	want, err := Read(ctx, adult, opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(want.Names(), ","); got != "education,age,class" {
		t.Fatalf("Read with Columns: %s", got)
	}
	if want.Col(1).Kind() != frame.KindFloat || want.Col(0).Kind() != frame.KindString {
		t.Fatalf("Read kinds %v", kindsOf(want))
	}
	dir := t.TempDir()
	pq := filepath.Join(dir, "adult.parquet")
	full, _ := Read(ctx, adult, Options{})
	if err := Write(ctx, full, pq); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{adult, pq} {
		streamAll(t, src, opt, 1000, want)
		err := Stream(ctx, src, opt, 1000, func(c *Chunk) error {
			if i := c.Frame.Index("class"); c.Frame.Role(i) != frame.RoleTarget {
				return errors.New("schema role not applied")
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	}
	bad := Options{Columns: []string{"age", "nope"}}
	for _, src := range []string{adult, pq} {
		err := Stream(ctx, src, bad, 0, func(*Chunk) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "nope") {
			t.Errorf("%s: missing column: %v", src, err)
		}
	}
}

// writeNumericCSV writes n rows of three numeric columns, with line bad (a
// 1-based data row) replaced by text when bad > 0.
func writeNumericCSV(t *testing.T, path string, n, bad int, badRow string) {
	var b strings.Builder
	b.WriteString("a,b,c\n")
	for i := 1; i <= n; i++ {
		if i == bad {
			b.WriteString(badRow + "\n")
			continue
		}
		fmt.Fprintf(&b, "%d,%d.5,%d\n", i, i%97, i%3)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestStreamBadRowMidFile(t *testing.T) {
	smallBlocks(t, 8<<10)
	dir := t.TempDir()
	cases := []struct {
		name, row string
		opt       Options
		col       string
		wantErr   error
	}{
		{"inferred", "7,oops,1", Options{}, "b", ErrType},
		{"declared", "7,1.5,x", Options{Schema: map[string]FieldOverride{"c": {Type: frame.KindFloat}}}, "c", ErrType},
		{"field count", "7,1.5", Options{}, "", ErrFieldCount},
		{"quote", "7,\"1.5,3", Options{}, "", ErrQuote},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".csv")
			writeNumericCSV(t, p, 20000, 15000, tc.row)
			rows := 0
			err := Stream(context.Background(), p, tc.opt, 1000, func(c *Chunk) error {
				rows += c.Frame.NumRows()
				return nil
			})
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %v, want a ParseError wrapping %v", err, tc.wantErr)
			}
			if pe.Row != 15001 || pe.Column != tc.col {
				t.Errorf("error at line %d column %q, want line 15001 column %q: %v", pe.Row, pe.Column, tc.col, err)
			}
			if rows == 0 || rows >= 15000 {
				t.Errorf("streamed %d rows before the error", rows)
			}
		})
	}
}

func TestStreamEmpty(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "empty.csv")
	os.WriteFile(p, []byte("x,y\n"), 0o644)
	var got []*Chunk
	err := Stream(context.Background(), p, Options{Schema: map[string]FieldOverride{"y": {Type: frame.KindInt}}}, 0, func(c *Chunk) error {
		got = append(got, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Frame.NumRows() != 0 || strings.Join(got[0].Frame.Names(), ",") != "x,y" || got[0].Frame.Col(1).Kind() != frame.KindInt {
		t.Fatalf("empty source: %d chunks", len(got))
	}
}

func TestChunkWriter(t *testing.T) {
	ctx := context.Background()
	all := allKinds()
	dir := t.TempDir()
	for _, ext := range []string{".csv", ".tsv", ".csv.gz", ".jsonl", ".parquet"} {
		t.Run(ext, func(t *testing.T) {
			ref := filepath.Join(dir, "ref"+ext)
			if err := Write(ctx, all, ref); err != nil {
				t.Fatal(err)
			}
			want, err := Read(ctx, ref, Options{})
			if err != nil {
				t.Fatal(err)
			}
			dest := filepath.Join(dir, "chunked"+ext)
			w, err := Create(dest)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Abort()
			for lo := 0; lo < all.NumRows(); lo += 17 {
				// Categorical levels differ between chunks.
				if err := w.Write(ctx, all.Slice(lo, min(lo+17, all.NumRows()))); err != nil {
					t.Fatal(err)
				}
				if _, err := os.Stat(dest); err == nil {
					t.Fatal("the destination exists before Close")
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if w.Rows() != all.NumRows() {
				t.Errorf("Rows() = %d", w.Rows())
			}
			got, err := Read(ctx, dest, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := equalFrames(want, got); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestChunkWriterAbort(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	all := allKinds()
	for _, ext := range []string{".csv", ".parquet"} {
		dest := filepath.Join(dir, "x"+ext)
		w, err := Create(dest)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(ctx, all); err != nil {
			t.Fatal(err)
		}
		// A chunk with other columns is refused and poisons the writer.
		other, _ := all.Drop("f")
		if err := w.Write(ctx, other); err == nil {
			t.Errorf("%s: chunk with other columns accepted", ext)
		}
		if err := w.Close(); err == nil {
			t.Errorf("%s: Close after a failed Write succeeded", ext)
		}
		w.Abort()
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("left files behind: %v", entries)
	}
}
