package ingest

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteSQLTables: Write (gyre data convert) and a ChunkWriter (gyre
// predict --out) create SQLite tables holding what was written.
func TestWriteSQLTables(t *testing.T) {
	want, err := Read(t.Context(), "../../examples/data/titanic/titanic.train.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	db := "sqlite://" + filepath.Join(t.TempDir(), "out.db")
	if err := Write(t.Context(), want, db+"?table=whole"); err != nil {
		t.Fatal(err)
	}
	w, err := Create(db + "?table=chunks")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	half := want.NumRows() / 2
	idx := func(a, b int) []int {
		var out []int
		for i := a; i < b; i++ {
			out = append(out, i)
		}
		return out
	}
	for _, part := range [][]int{idx(0, half), idx(half, want.NumRows())} {
		if err := w.Write(t.Context(), want.Take(part)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"whole", "chunks"} {
		got, err := Read(t.Context(), db+"?table="+table, Options{})
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if got.NumRows() != want.NumRows() || strings.Join(got.Names(), ",") != strings.Join(want.Names(), ",") {
			t.Fatalf("%s: %d rows %v", table, got.NumRows(), got.Names())
		}
		for _, c := range want.Columns() {
			g, _ := got.Column(c.Name())
			for _, i := range []int{0, half, want.NumRows() - 1} {
				if g.Format(i) != c.Format(i) {
					t.Errorf("%s.%s row %d: %q, want %q", table, c.Name(), i, g.Format(i), c.Format(i))
				}
			}
		}
	}
	if err := Write(t.Context(), want, db); err == nil || !strings.Contains(err.Error(), "?table=") {
		t.Errorf("no table named: %v", err)
	}
	if err := Write(t.Context(), want, db+"?table=whole"); err == nil {
		t.Errorf("writing over an existing table succeeded")
	}
}
