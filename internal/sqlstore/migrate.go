package sqlstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one embedded schema change.
type Migration struct {
	// Version orders migrations; it is the file name's numeric prefix.
	Version int
	// Name is the file name without the version prefix and extension.
	Name string
	// SQL is the file's content.
	SQL string
	// Dialects holds statements for one backend only, from files named
	// NNNN_name.sqlite.sql or NNNN_name.postgres.sql, applied after SQL in
	// the same transaction (triggers and rules, whose syntax differs).
	Dialects map[Dialect]string
}

// Migrations returns the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	return loadMigrations(migrationFiles, "migrations")
}

func loadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	byVersion := map[int]*Migration{}
	seen := map[string]string{} // version + dialect → file
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		base := strings.TrimSuffix(name, ".sql")
		var dialect Dialect
		for _, d := range []Dialect{SQLite, Postgres} {
			if strings.HasSuffix(base, "."+string(d)) {
				dialect, base = d, strings.TrimSuffix(base, "."+string(d))
			}
		}
		num, rest, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("read migrations: file %s: want NNNN_name.sql (or NNNN_name.sqlite.sql, NNNN_name.postgres.sql) with a positive number", name)
		}
		key := num + "/" + string(dialect)
		if prev, dup := seen[key]; dup {
			return nil, fmt.Errorf("read migrations: files %s and %s share version %d", prev, name, v)
		}
		seen[key] = name
		b, err := fs.ReadFile(fsys, dir+"/"+name)
		if err != nil {
			return nil, fmt.Errorf("read migrations: %w", err)
		}
		m := byVersion[v]
		if m == nil {
			m = &Migration{Version: v, Name: rest}
			byVersion[v] = m
		} else if m.Name != rest {
			return nil, fmt.Errorf("read migrations: files of version %d disagree on the name (%s, %s)", v, m.Name, rest)
		}
		if dialect == "" {
			m.SQL = string(b)
			continue
		}
		if m.Dialects == nil {
			m.Dialects = map[Dialect]string{}
		}
		m.Dialects[dialect] = string(b)
	}
	ms := make([]Migration, 0, len(byVersion))
	for _, m := range byVersion {
		ms = append(ms, *m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// migrationLock is the PostgreSQL advisory lock key that serialises
// migrations across processes ("gyre" in ASCII).
const migrationLock = 0x67797265

// migrate applies the embedded migrations that the database lacks, each in
// its own write transaction together with its schema_migrations row.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := Migrations()
	if err != nil {
		return err
	}
	return db.applyMigrations(ctx, ms)
}

func (db *DB) applyMigrations(ctx context.Context, ms []Migration) error {
	for _, m := range ms {
		err := db.Write(ctx, func(tx *Tx) error {
			if db.dialect == Postgres {
				if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", migrationLock); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				version    BIGINT PRIMARY KEY,
				name       TEXT NOT NULL,
				applied_ms BIGINT NOT NULL)`); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = ?", m.Version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if strings.TrimSpace(m.SQL) != "" {
				if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
					return err
				}
			}
			if extra := m.Dialects[db.dialect]; strings.TrimSpace(extra) != "" {
				if _, err := tx.ExecContext(ctx, extra); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)",
				m.Version, m.Name, time.Now().UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate store %s: migration %04d_%s: %w", db.where, m.Version, m.Name, err)
		}
	}
	return nil
}

// SchemaVersion returns the highest applied migration version.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := db.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}
