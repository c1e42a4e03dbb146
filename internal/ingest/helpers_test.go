package ingest

import (
	"fmt"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/frame/frametest"
)

// countEmptyCells counts empty cells per column with encoding/csv, an
// independent reader.
func countEmptyCells(t testing.TB, path string) map[string]int {
	recs := frametest.Records(t, path)
	out := map[string]int{}
	for _, r := range recs[1:] {
		for j, v := range r {
			if v == "" {
				out[recs[0][j]]++
			}
		}
	}
	return out
}

// equalFrames reports the first difference between two frames: names,
// kinds, missing values or values (compared through their exact text form).
func equalFrames(a, b *frame.Frame) error {
	if a.NumCols() != b.NumCols() || a.NumRows() != b.NumRows() {
		return fmt.Errorf("shape %dx%d vs %dx%d", a.NumRows(), a.NumCols(), b.NumRows(), b.NumCols())
	}
	for j := 0; j < a.NumCols(); j++ {
		ca, cb := a.Col(j), b.Col(j)
		if ca.Name() != cb.Name() || ca.Kind() != cb.Kind() {
			return fmt.Errorf("column %d: %s %s vs %s %s", j, ca.Name(), ca.Kind(), cb.Name(), cb.Kind())
		}
		for i := 0; i < a.NumRows(); i++ {
			if ca.IsNull(i) != cb.IsNull(i) {
				return fmt.Errorf("column %s row %d: missing %v vs %v", ca.Name(), i, ca.IsNull(i), cb.IsNull(i))
			}
			if !ca.IsNull(i) && ca.Format(i) != cb.Format(i) {
				return fmt.Errorf("column %s row %d: %q vs %q", ca.Name(), i, ca.Format(i), cb.Format(i))
			}
		}
	}
	return nil
}
