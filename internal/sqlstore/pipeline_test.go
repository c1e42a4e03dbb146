package sqlstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
)

// TestPipelined: on PostgreSQL the statements commit together and the last
// one's rows are scanned; a failing statement rolls back the ones before
// it and leaves every pooled connection usable; SQLite refuses.
func TestPipelined(t *testing.T) {
	ctx := context.Background()
	for _, b := range sqlstoretest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db, err := sqlstore.Open(ctx, b.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			insert := sqlstore.Stmt{SQL: "INSERT INTO datasets (name, created_ms) VALUES (?, ?)", Args: []any{"p1", 1}}
			count := sqlstore.Stmt{SQL: "SELECT name FROM datasets WHERE name LIKE ? ORDER BY name", Args: []any{"p%"}}
			var names []string
			scan := func(r sqlstore.Row) error {
				var n string
				err := r.Scan(&n)
				names = append(names, n)
				return err
			}
			reset := func() { names = nil }
			err = db.Pipelined(ctx, []sqlstore.Stmt{insert, count}, scan, reset)
			if db.Dialect() != sqlstore.Postgres {
				if !errors.Is(err, sqlstore.ErrNotPostgres) {
					t.Fatalf("SQLite: %v, want ErrNotPostgres", err)
				}
				return
			}
			if err != nil || len(names) != 1 || names[0] != "p1" {
				t.Fatalf("pipelined: %v, rows %v", err, names)
			}
			// A failing statement (a NULL created_ms) after an insert
			// rolls both back.
			bad := sqlstore.Stmt{SQL: "INSERT INTO datasets (name, created_ms) VALUES (?, ?)", Args: []any{"p3", nil}}
			for range 10 { // more than the pool's connections
				if err := db.Pipelined(ctx, []sqlstore.Stmt{{SQL: insert.SQL, Args: []any{"p2", 2}}, bad}, nil, nil); err == nil {
					t.Fatal("a NULL created_ms was accepted")
				}
			}
			var wg sync.WaitGroup
			errs := make([]error, 16)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var c int
					errs[i] = db.QueryRowContext(ctx, "SELECT COUNT(*) FROM datasets WHERE name IN ('p2', 'p3')").Scan(&c)
					if errs[i] == nil && c != 0 {
						errs[i] = errors.New("a failed pipeline's insert is stored")
					}
				}()
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			if err := db.Write(ctx, func(tx *sqlstore.Tx) error {
				_, err := tx.ExecContext(ctx, "INSERT INTO datasets (name, created_ms) VALUES (?, ?)", "p4", 4)
				return err
			}); err != nil {
				t.Fatalf("a write after failed pipelines: %v", err)
			}
		})
	}
}
