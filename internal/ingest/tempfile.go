package ingest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// StaleTemp is how old a temporary output file left beside its
// destination must be before the next write to that destination removes
// it: a write in progress keeps its file's time fresh, so an older one was
// left by a killed process (predict or data convert stopped mid-write).
const StaleTemp = 24 * time.Hour

// createOutputTemp creates the temporary file a write to dir/base goes
// through (renamed into place when complete), first removing the stale
// ones that killed writes to the same destination left.
func createOutputTemp(dir, base string) (*os.File, error) {
	prefix := "." + base + ".tmp-"
	if ents, err := os.ReadDir(dir); err == nil {
		cut := time.Now().Add(-StaleTemp)
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), prefix) || !e.Type().IsRegular() {
				continue
			}
			if fi, err := e.Info(); err == nil && fi.ModTime().Before(cut) {
				_ = os.Remove(filepath.Join(dir, e.Name())) // best effort: another writer may race us to it
			}
		}
	}
	f, err := os.CreateTemp(dir, prefix+"*")
	var pe *fs.PathError
	if errors.As(err, &pe) {
		// Name the directory the user gave, not the temporary file's
		// invented name.
		return nil, &fs.PathError{Op: "create a file in", Path: dir, Err: pe.Err}
	}
	return f, err
}
