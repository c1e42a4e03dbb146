package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
)

func TestOpenMigratesOnce(t *testing.T) {
	ctx := context.Background()
	ms, err := sqlstore.Migrations()
	if err != nil || len(ms) == 0 {
		t.Fatalf("Migrations() = %d, %v; want at least one", len(ms), err)
	}
	for _, b := range sqlstoretest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			// Several openers race on a fresh database.
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					db, err := sqlstore.Open(ctx, b.URL)
					if err == nil {
						db.Close()
					}
					errs[i] = err
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("opener %d: %v", i, err)
				}
			}
			db := sqlstoretest.Open(t, b)
			v, err := db.SchemaVersion(ctx)
			if err != nil || v != ms[len(ms)-1].Version {
				t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, ms[len(ms)-1].Version)
			}
			var n int
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil || n != len(ms) {
				t.Fatalf("schema_migrations rows = %d, %v; want %d", n, err, len(ms))
			}
		})
	}
}

func TestWriteConcurrent(t *testing.T) {
	ctx := context.Background()
	sqlstoretest.Run(t, func(t *testing.T, db *sqlstore.DB) {
		if err := db.Write(ctx, func(tx *sqlstore.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO datasets (name, latest_version, created_ms) VALUES (?, 0, 0)", "d")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		// Read-modify-write increments from many goroutines: none may be lost.
		var wg sync.WaitGroup
		const workers, each = 8, 20
		errs := make(chan error, workers)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					err := db.Write(ctx, func(tx *sqlstore.Tx) error {
						var v int64
						if err := tx.QueryRowContext(ctx, "UPDATE datasets SET latest_version = latest_version + 1 WHERE name = ? RETURNING latest_version", "d").Scan(&v); err != nil {
							return err
						}
						_, err := tx.ExecContext(ctx, "INSERT INTO file_digests (host, path, size, mtime_ns, digest) VALUES (?, ?, 0, 0, '')", "h", fmt.Sprint(v))
						return err
					})
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM file_digests").Scan(&n); err != nil || n != workers*each {
			t.Fatalf("rows = %d, %v; want %d", n, err, workers*each)
		}
	})
}

func TestWriteRollsBack(t *testing.T) {
	ctx := context.Background()
	sqlstoretest.Run(t, func(t *testing.T, db *sqlstore.DB) {
		boom := errors.New("boom")
		err := db.Write(ctx, func(tx *sqlstore.Tx) error {
			if _, err := tx.ExecContext(ctx, "INSERT INTO datasets (name, created_ms) VALUES (?, 0)", "x"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Write error = %v; want boom", err)
		}
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM datasets").Scan(&n); err != nil || n != 0 {
			t.Fatalf("rows after rollback = %d, %v; want 0", n, err)
		}
		err = db.Write(ctx, func(tx *sqlstore.Tx) error {
			for i := 0; i < 2; i++ {
				if _, err := tx.ExecContext(ctx, "INSERT INTO datasets (name, created_ms) VALUES (?, 0)", "y"); err != nil {
					return err
				}
			}
			return nil
		})
		if !sqlstore.IsUniqueViolation(err) {
			t.Fatalf("duplicate insert error = %v; want a unique violation", err)
		}
	})
}

func TestRebind(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"a = ? AND b = ?", "a = $1 AND b = $2"},
		{"a = '?' AND b = ?", "a = '?' AND b = $1"},
	}
	for _, tt := range tests {
		if got := sqlstore.RebindFor(sqlstore.Postgres, tt.in); got != tt.want {
			t.Errorf("rebind(%q) = %q; want %q", tt.in, got, tt.want)
		}
		if got := sqlstore.RebindFor(sqlstore.SQLite, tt.in); got != tt.in {
			t.Errorf("sqlite rebind(%q) = %q; want unchanged", tt.in, got)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	for _, loc := range []string{"", "a?b.db"} {
		if _, err := sqlstore.Open(context.Background(), loc); err == nil {
			t.Errorf("Open(%q) succeeded; want an error", loc)
		}
	}
}
