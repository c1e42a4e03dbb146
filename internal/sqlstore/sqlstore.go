package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Dialect names the SQL backend behind a DB.
type Dialect string

// The supported backends.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// BusyTimeout is how long a SQLite connection waits for another writer before
// reporting SQLITE_BUSY; [DB.Write] then retries until its context ends or
// MaxRetryWait has passed.
const BusyTimeout = 10 * time.Second

// MaxRetryWait bounds the total time [DB.Write] keeps retrying a busy write
// transaction when its context has no earlier deadline.
const MaxRetryWait = 2 * time.Minute

// DB is an open metadata database with its schema migrated. It is safe for
// concurrent use by many goroutines, and many processes may open the same
// database at once.
type DB struct {
	db      *sql.DB
	dialect Dialect
	where   string // the database's location without credentials, for errors
	// writer admits one write transaction of this process at a time on
	// SQLite, which allows one writer anyway: waiting here is a handoff,
	// where contending in SQLite's busy handler sleeps 1-100 ms a try
	// (8 concurrent loggers went from ~1,300 to several thousand points a
	// second). Other processes still meet the busy timeout.
	writer chan struct{}
}

// Open opens the database at location and applies any missing migrations.
//
// location is a postgres:// or postgresql:// URL (PostgreSQL) or a SQLite
// file path, optionally prefixed with sqlite:// or file:. The directory of a
// SQLite file is created when missing.
func Open(ctx context.Context, location string) (*DB, error) {
	if strings.TrimSpace(location) == "" {
		return nil, errors.New("open store: empty location: give a SQLite path or a postgres:// URL")
	}
	var db *DB
	var err error
	if strings.HasPrefix(location, "postgres://") || strings.HasPrefix(location, "postgresql://") {
		db, err = openPostgres(location)
	} else {
		db, err = openSQLite(location)
	}
	if err != nil {
		return nil, err
	}
	if err := db.ping(ctx); err != nil {
		db.db.Close()
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.db.Close()
		return nil, err
	}
	return db, nil
}

func openPostgres(location string) (*DB, error) {
	where := location
	if u, err := url.Parse(location); err == nil {
		u.User = nil
		u.RawQuery = ""
		where = u.String()
	}
	sdb, err := sql.Open("pgx", customPlans(location))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", where, err)
	}
	// As many idle connections as open ones: with fewer, a burst of
	// concurrent requests closes and reopens connections all the time (a
	// new backend process, and pgx's statement cache prepared again: 8
	// loggers made ~140 sessions for 3,000 requests, most of the server's
	// CPU). Idle ones still close after a minute.
	sdb.SetMaxOpenConns(8)
	sdb.SetMaxIdleConns(8)
	sdb.SetConnMaxIdleTime(time.Minute)
	return &DB{db: sdb, dialect: Postgres, where: where}, nil
}

// customPlans sets plan_cache_mode=force_custom_plan on the connections
// unless the URL sets it. pgx prepares and caches every statement, and
// after five runs PostgreSQL may switch a prepared statement to a generic
// plan that ignores the bound values: for runs/search that plan sorted the
// whole metric (0.5-0.9 s on 100,000 runs instead of 10-30 ms with the
// values planned in). Planning each run costs well under a millisecond.
func customPlans(location string) string {
	u, err := url.Parse(location)
	if err != nil {
		return location
	}
	q := u.Query()
	if q.Has("plan_cache_mode") {
		return location
	}
	q.Set("plan_cache_mode", "force_custom_plan")
	u.RawQuery = q.Encode()
	return u.String()
}

func openSQLite(location string) (*DB, error) {
	path := location
	for _, p := range []string{"sqlite://", "sqlite:", "file://", "file:"} {
		if strings.HasPrefix(path, p) {
			path = strings.TrimPrefix(path, p)
			break
		}
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open store %s: SQLite path must not contain '?' or '#'", location)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
	}
	// A new database file is the owner's only (SQLite gives its -wal and
	// -shm files the database file's mode).
	if fh, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		fh.Close()
	}
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(BusyTimeout.Milliseconds()))
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	q.Set("_foreign_keys", "1")
	q.Set("_txlock", "immediate")
	q.Add("_pragma", "case_sensitive_like(1)")
	sdb, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	sdb.SetMaxOpenConns(4)
	sdb.SetMaxIdleConns(4)
	return &DB{db: sdb, dialect: SQLite, where: path, writer: make(chan struct{}, 1)}, nil
}

// ping connects, retrying while a fresh SQLite file is being converted to WAL
// by another process.
func (db *DB) ping(ctx context.Context) error {
	return retry(ctx, func() error {
		if err := db.db.PingContext(ctx); err != nil {
			return fmt.Errorf("open store %s: %w", db.where, err)
		}
		return nil
	})
}

// Dialect reports the backend.
func (db *DB) Dialect() Dialect { return db.dialect }

// String returns the database's location without credentials.
func (db *DB) String() string { return string(db.dialect) + ":" + db.where }

// SQL returns the underlying database handle. Queries run on it directly must
// use the backend's own placeholders; prefer the DB's methods.
func (db *DB) SQL() *sql.DB { return db.db }

// Close closes the database.
func (db *DB) Close() error { return db.db.Close() }

// Rebind rewrites ? placeholders for the backend: unchanged for SQLite,
// $1, $2, ... for PostgreSQL. Question marks inside quoted literals are kept.
func (db *DB) Rebind(query string) string { return rebind(db.dialect, query) }

func rebind(d Dialect, query string) string {
	if d != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// QueryContext runs a query written with ? placeholders.
func (db *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return db.db.QueryContext(ctx, db.Rebind(query), args...)
}

// QueryRowContext runs a query written with ? placeholders that returns at
// most one row.
func (db *DB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return db.db.QueryRowContext(ctx, db.Rebind(query), args...)
}

// Tx is a write transaction handed to the function given to [DB.Write].
type Tx struct {
	tx *sql.Tx
	db *DB
}

// Dialect reports the backend.
func (tx *Tx) Dialect() Dialect { return tx.db.dialect }

// ExecContext runs a statement written with ? placeholders.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.tx.ExecContext(ctx, tx.db.Rebind(query), args...)
}

// QueryContext runs a query written with ? placeholders.
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.tx.QueryContext(ctx, tx.db.Rebind(query), args...)
}

// QueryRowContext runs a query written with ? placeholders that returns at
// most one row.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(ctx, tx.db.Rebind(query), args...)
}

// PrepareContext prepares a statement written with ? placeholders for
// repeated use in the transaction (batch inserts).
func (tx *Tx) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return tx.tx.PrepareContext(ctx, tx.db.Rebind(query))
}

// Write runs fn in a write transaction and commits it. When the database is
// busy (another writer holds SQLite's lock, or PostgreSQL reports a
// serialization failure or deadlock) the whole transaction is rolled back and
// fn runs again after a short randomised pause, so fn must not have effects
// outside the transaction. An error returned by fn rolls back and is returned
// as is.
func (db *DB) Write(ctx context.Context, fn func(tx *Tx) error) error {
	return retry(ctx, func() error { return db.writeOnce(ctx, fn) })
}

func (db *DB) writeOnce(ctx context.Context, fn func(tx *Tx) error) error {
	if db.writer != nil {
		// Bounded by the busy timeout: a write nested in another's
		// function (which SQLite would refuse as busy) fails as before
		// rather than waiting for ever.
		t := time.NewTimer(BusyTimeout)
		select {
		case db.writer <- struct{}{}:
			defer func() { <-db.writer }()
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		t.Stop()
	}
	stx, err := db.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE on SQLite (_txlock)
	if err != nil {
		return err
	}
	if err := fn(&Tx{tx: stx, db: db}); err != nil {
		_ = stx.Rollback()
		return err
	}
	return stx.Commit()
}

// retry calls f until it succeeds, fails with an error that is not a busy
// error, or the context or MaxRetryWait ends.
func retry(ctx context.Context, f func() error) error {
	deadline := time.Now().Add(MaxRetryWait)
	pause := 2 * time.Millisecond
	for {
		err := f()
		if err == nil || !IsBusy(err) || time.Now().After(deadline) {
			return err
		}
		// Full jitter keeps retrying processes from moving in lock step.
		d := time.Duration(rand.Int64N(int64(pause))) + time.Millisecond
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (gave up waiting: %w)", err, ctx.Err())
		case <-time.After(d):
		}
		if pause < 200*time.Millisecond {
			pause *= 2
		}
	}
}

// IsBusy reports whether err is a transient lock conflict worth retrying:
// SQLITE_BUSY or SQLITE_LOCKED, or a PostgreSQL serialization failure or
// deadlock.
func IsBusy(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case 5, 6: // SQLITE_BUSY, SQLITE_LOCKED
			return true
		}
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}

// IsUniqueViolation reports whether err is a unique or primary key
// constraint violation.
func IsUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == 2067 || se.Code() == 1555 // SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return false
}

// RebindFor rewrites ? placeholders for the given dialect (see [DB.Rebind]).
func RebindFor(d Dialect, query string) string { return rebind(d, query) }
