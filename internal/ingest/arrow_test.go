package ingest

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// Arrow IPC files, Feather v2 files and Arrow streams written by the
// official JavaScript implementation (testdata/ingest/arrow/make_arrow.js)
// are refused by name, with the formats Gyre reads, never parsed as CSV.
func TestArrowRefused(t *testing.T) {
	for file, want := range map[string]string{
		"penguins.arrow":   "an Arrow IPC file / Feather v2",
		"penguins.feather": "an Arrow IPC file / Feather v2",
		"penguins.arrows":  "an Arrow IPC stream",
	} {
		path := filepath.Join("..", "..", "testdata", "ingest", "arrow", file)
		_, err := Read(context.Background(), path, Options{})
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "Parquet") {
			t.Errorf("%s: %v", file, err)
		}
		err = Stream(context.Background(), path, Options{}, 10, func(*Chunk) error { return nil })
		if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: stream: %v", file, err)
		}
	}
}
