package ingest

import (
	"encoding/csv"
	"os"
	"testing"
)

// countEmptyCells counts empty cells per column with encoding/csv, an
// independent reader.
func countEmptyCells(t testing.TB, path string) map[string]int {
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	recs, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
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
