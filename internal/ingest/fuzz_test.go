package ingest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedFiles adds every file under testdata/ingest with one of the suffixes
// as a fuzz seed.
func seedFiles(f *testing.F, suffixes ...string) {
	entries, err := os.ReadDir("../../testdata/ingest")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		for _, s := range suffixes {
			if strings.HasSuffix(e.Name(), s) {
				data, err := os.ReadFile(filepath.Join("../../testdata/ingest", e.Name()))
				if err != nil {
					f.Fatal(err)
				}
				f.Add(data)
			}
		}
	}
}

// FuzzReadCSV reads arbitrary bytes as CSV: it must never panic, and
// whatever it accepts must survive a write and re-read unchanged.
func FuzzReadCSV(f *testing.F) {
	seedFiles(f, ".csv", ".tsv")
	for _, s := range []string{"a,b\n1,\"x\ny\"\n", "a\n\"\"\n1\n", "a;b\r\n1;2\r\n", "\"a\nb\",c\n1,2\n", "a\n0000-01-01T00:00:00+23:59\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { roundTrip(t, data, ".csv", Options{Delimiter: ','}) })
}

// roundTrip reads data from a file with extension ext; whatever it accepts
// must survive a write and a re-read (with reread) unchanged.
func roundTrip(t *testing.T, data []byte, ext string, reread Options) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in"+ext)
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	fr, err := Read(ctx, in, Options{})
	if err != nil {
		return
	}
	out := filepath.Join(dir, "out"+ext)
	if err := Write(ctx, fr, out); err != nil {
		t.Fatalf("write: %v", err)
	}
	back, err := Read(ctx, out, reread)
	if err != nil {
		t.Fatalf("re-read: %v", err)
	}
	if err := equalFrames(fr, back); err != nil {
		t.Fatalf("round trip: %v", err)
	}
}

// FuzzReadJSONL reads arbitrary bytes as JSON Lines: it must never panic,
// and whatever it accepts must survive a write and re-read unchanged.
func FuzzReadJSONL(f *testing.F) {
	seedFiles(f, ".jsonl")
	for _, s := range []string{`{"a":1,"b":[1,{"c":2}]}` + "\n{}\n", `{"t":"2024-01-02"}` + "\n" + `{"t":null}`, `{"x":1e400}`, `{"a":"\u00e9\n"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { roundTrip(t, data, ".jsonl", Options{}) })
}

// FuzzCSVBlocks reads arbitrary bytes as CSV whole (one block) and cut into
// blocks of a few bytes: the record scan that cuts blocks must agree with
// the tokenizer wherever it cuts, so both give the same frame or both fail.
func FuzzCSVBlocks(f *testing.F) {
	for _, s := range []string{"a,b\n1,\"x\ny\"\n2,3\n", "a\n\"\"\n\n1\r\n\r\n2", "a;b\r\n1;\"2\"\"\n\"\r\n", "a\n\"open\n1\n", "a,b\nx\"y,1\n\"q\"z,2\n"} {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, size uint8) {
		in := filepath.Join(t.TempDir(), "in.csv")
		if err := os.WriteFile(in, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		whole, werr := Read(ctx, in, Options{})
		old := blockSize
		blockSize = 1 + int(size%32)
		defer func() { blockSize = old }()
		cut, cerr := Read(ctx, in, Options{})
		if (werr == nil) != (cerr == nil) {
			t.Fatalf("whole: %v; in blocks of %d bytes: %v", werr, blockSize, cerr)
		}
		if werr != nil {
			return
		}
		if err := equalFrames(whole, cut); err != nil {
			t.Fatalf("blocks of %d bytes: %v", blockSize, err)
		}
	})
}
