package ingest

import (
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestWriteSQLTables: Write (gyre data convert) and a ChunkWriter (gyre
// predict --out) create SQLite tables holding what was written.
func TestWriteSQLTables(t *testing.T) {
	checkSQLTables(t, "sqlite://"+filepath.Join(t.TempDir(), "out.db"), "whole", "chunks")
}

// TestWriteSQLTablesPostgres is TestWriteSQLTables against the PostgreSQL
// server of GYRE_TEST_POSTGRES (.ci/run starts one), in tables named for
// this run and dropped after it.
func TestWriteSQLTablesPostgres(t *testing.T) {
	url := os.Getenv("GYRE_TEST_POSTGRES")
	if url == "" {
		t.Skip("GYRE_TEST_POSTGRES not set")
	}
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	whole, chunks := "gyre_write_whole_"+suffix, "gyre_write_chunks_"+suffix
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t.Cleanup(func() {
		db.Exec("DROP TABLE IF EXISTS " + whole)
		db.Exec("DROP TABLE IF EXISTS " + chunks)
	})
	checkSQLTables(t, url, whole, chunks)
	// The columns have PostgreSQL types, not text everywhere.
	var typ string
	if err := db.QueryRow(`SELECT data_type FROM information_schema.columns WHERE table_name = $1 AND column_name = 'Age'`, whole).Scan(&typ); err != nil {
		t.Fatal(err)
	}
	if typ != "double precision" {
		t.Errorf("Age is %s in PostgreSQL, want double precision", typ)
	}
}

// checkSQLTables writes the titanic rows whole and in two chunks to tables
// of db, reads them back and compares, and checks the refusals.
func checkSQLTables(t *testing.T, db, wholeTable, chunkTable string) {
	t.Helper()
	want, err := Read(t.Context(), "../../examples/data/titanic/titanic.train.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	sep := "?"
	if strings.Contains(db, "?") {
		sep = "&"
	}
	if err := Write(t.Context(), want, db+sep+"table="+wholeTable); err != nil {
		t.Fatal(err)
	}
	w, err := Create(db + sep + "table=" + chunkTable)
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
	for _, table := range []string{wholeTable, chunkTable} {
		got, err := Read(t.Context(), db+sep+"table="+table, Options{})
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
	if err := Write(t.Context(), want, db+sep+"table="+wholeTable); err == nil {
		t.Errorf("writing over an existing table succeeded")
	}
}
