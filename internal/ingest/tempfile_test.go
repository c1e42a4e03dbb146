package ingest

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
)

// A write into a directory that does not exist names that directory, not
// the temporary file the write would have gone through.
func TestWriteMissingDirNamesIt(t *testing.T) {
	f, err := frame.New(frame.NewFloat("x", []float64{1, 2}))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "missing")
	for _, name := range []string{"out.csv", "out.jsonl", "out.parquet"} {
		dest := filepath.Join(dir, name)
		err = Write(context.Background(), f, dest)
		if err == nil {
			t.Fatalf("%s: written into a missing directory", name)
		}
		msg := err.Error()
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(msg, dest) || !strings.Contains(msg, "create a file in "+dir) || strings.Contains(msg, ".tmp-") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
