// Package sqlstoretest gives tests a fresh, empty metadata database on every
// backend available: always a SQLite file in a temporary directory, and a
// PostgreSQL schema of its own when GYRE_TEST_POSTGRES holds a PostgreSQL URL
// (CI sets it). Each test gets its own database, so tests run in parallel
// and leave nothing behind.
package sqlstoretest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/gyre-ml/gyre/internal/sqlstore"
)

// EnvPostgres names the environment variable holding the PostgreSQL URL.
const EnvPostgres = "GYRE_TEST_POSTGRES"

// Backend is a fresh database location for one test.
type Backend struct {
	// Name is "sqlite" or "postgres": use it as a subtest name.
	Name string
	// URL opens the database with [sqlstore.Open], also from a subprocess.
	URL string
}

// Backends returns a fresh database location per available backend. The
// PostgreSQL schema is dropped when the test ends.
func Backends(t testing.TB) []Backend {
	t.Helper()
	bs := []Backend{{Name: "sqlite", URL: filepath.Join(t.TempDir(), "gyre.db")}}
	if pg := os.Getenv(EnvPostgres); pg != "" {
		bs = append(bs, Backend{Name: "postgres", URL: postgresSchema(t, pg)})
	}
	return bs
}

// postgresSchema creates a schema with a random name and returns a URL whose
// search_path selects it.
func postgresSchema(t testing.TB, base string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "gyre_test_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", EnvPostgres, err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create test schema on %s: %v", EnvPostgres, err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvPostgres, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open opens b's database and closes it when the test ends.
func Open(t testing.TB, b Backend) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), b.URL)
	if err != nil {
		t.Fatalf("open %s store: %v", b.Name, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Run runs fn as a subtest per backend, each with a fresh database.
func Run(t *testing.T, fn func(t *testing.T, db *sqlstore.DB)) {
	t.Helper()
	for _, b := range Backends(t) {
		t.Run(b.Name, func(t *testing.T) { fn(t, Open(t, b)) })
	}
}
