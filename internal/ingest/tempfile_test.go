package ingest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
)

// TestKilledWriteTempRemoved: the temporary file a killed predict left
// beside its output is removed by the next write to that output; a recent
// one (a write in progress) and other files are not.
func TestKilledWriteTempRemoved(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "scores.csv")
	stale := filepath.Join(dir, ".scores.csv.tmp-123")
	fresh := filepath.Join(dir, ".scores.csv.tmp-456")
	other := filepath.Join(dir, ".other.csv.tmp-789")
	for _, p := range []string{stale, fresh, other} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-StaleTemp - time.Hour)
	for _, p := range []string{stale, other} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	f := frame.MustNew(frame.NewFloat("x", []float64{1, 2}))
	for _, write := range []func() error{
		func() error { return Write(context.Background(), f, dest) },
		func() error {
			w, err := Create(dest)
			if err != nil {
				return err
			}
			if err := w.Write(context.Background(), f); err != nil {
				return err
			}
			return w.Close()
		},
	} {
		if err := write(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(stale); !os.IsNotExist(err) {
			t.Errorf("stale temp file still there: %v", err)
		}
		for _, p := range []string{fresh, other, dest} {
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s: %v", p, err)
			}
		}
		if err := os.WriteFile(stale, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(stale, old, old)
	}
}
