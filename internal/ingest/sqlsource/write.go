package sqlsource

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gyre-ml/gyre/internal/frame"
)

// maxParams bounds the placeholders of one INSERT statement (SQLite allows
// 32766, PostgreSQL 65535).
const maxParams = 30000

// sqliteTime is how Write stores timestamps in SQLite: text that SQLite's
// date functions and the driver both understand, with nanoseconds, in UTC.
const sqliteTime = "2006-01-02 15:04:05.999999999-07:00"

// Write creates table in the database at url and inserts every row of f in
// one transaction. The table must not exist. Any ?table= or ?query= in url
// is ignored. See the package comment for the column types used.
func Write(ctx context.Context, url string, table string, f *frame.Frame) error {
	src, err := parseURL(url, true)
	if err != nil {
		return fmt.Errorf("sql write: %w", err)
	}
	quoted, err := quoteTable(table)
	if err != nil {
		return fmt.Errorf("sql write %s: %w", src.display, err)
	}
	if f.NumCols() == 0 {
		return fmt.Errorf("sql write %s (table %s): frame has no columns", src.display, quoted)
	}
	if src.dialect == postgres {
		err = src.copyPostgres(ctx, table, quoted, f)
	} else {
		err = src.write(ctx, quoted, f)
	}
	if err != nil {
		return fmt.Errorf("sql write %s (table %s): %w", src.display, quoted, err)
	}
	return nil
}

// createSQL is the CREATE TABLE statement for f.
func (s *source) createSQL(table string, f *frame.Frame) string {
	defs := make([]string, f.NumCols())
	for j, c := range f.Columns() {
		defs[j] = quoteIdent(c.Name()) + " " + s.sqlType(c.Kind())
	}
	return "CREATE TABLE " + table + " (" + strings.Join(defs, ", ") + ")"
}

// copyPostgres loads f with COPY in one transaction: much faster than
// INSERT, and a fresh table's rows land in the frame's order.
func (s *source) copyPostgres(ctx context.Context, table, quoted string, f *frame.Frame) (err error) {
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if _, err := tx.Exec(ctx, s.createSQL(quoted, f)); err != nil {
		return fmt.Errorf("create table: %w", err)
	}
	cols := f.Columns()
	row := make([]any, len(cols))
	src := pgx.CopyFromSlice(f.NumRows(), func(i int) ([]any, error) {
		for j, c := range cols {
			row[j] = s.arg(c, i)
		}
		return row, nil
	})
	if _, err := tx.CopyFrom(ctx, pgx.Identifier(strings.Split(table, ".")), f.Names(), src); err != nil {
		return fmt.Errorf("copy rows: %w", err)
	}
	return tx.Commit(ctx)
}

// write loads f into SQLite with batched multi-row INSERTs.
func (s *source) write(ctx context.Context, table string, f *frame.Frame) (err error) {
	db, err := sql.Open(s.driver, s.dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	names := make([]string, f.NumCols())
	for j, c := range f.Columns() {
		names[j] = quoteIdent(c.Name())
	}
	if _, err := tx.ExecContext(ctx, s.createSQL(table, f)); err != nil {
		return fmt.Errorf("create table: %w", err)
	}
	ncol, n := f.NumCols(), f.NumRows()
	batch := max(1, min(1000, maxParams/ncol))
	var stmt *sql.Stmt
	stmtRows := 0
	args := make([]any, 0, batch*ncol)
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		if hi-lo != stmtRows {
			if stmt != nil {
				stmt.Close()
			}
			stmt, err = tx.PrepareContext(ctx, s.insertSQL(table, names, hi-lo))
			if err != nil {
				return fmt.Errorf("prepare insert: %w", err)
			}
			stmtRows = hi - lo
			defer stmt.Close()
		}
		args = args[:0]
		for i := lo; i < hi; i++ {
			for _, c := range f.Columns() {
				args = append(args, s.arg(c, i))
			}
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("insert rows %d-%d: %w", lo+1, hi, err)
		}
	}
	return tx.Commit()
}

// insertSQL builds a multi-row INSERT with the dialect's placeholders.
func (s *source) insertSQL(table string, names []string, rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(names, ", ") + ") VALUES ")
	p := 0
	for r := range rows {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for j := range names {
			if j > 0 {
				b.WriteByte(',')
			}
			p++
			if s.dialect == postgres {
				b.WriteString("$" + strconv.Itoa(p))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

func (s *source) sqlType(k frame.Kind) string {
	pg := s.dialect == postgres
	switch k {
	case frame.KindFloat:
		if pg {
			return "DOUBLE PRECISION"
		}
		return "REAL"
	case frame.KindInt:
		if pg {
			return "BIGINT"
		}
		return "INTEGER"
	case frame.KindBool:
		return "BOOLEAN"
	case frame.KindTime:
		if pg {
			return "TIMESTAMPTZ"
		}
		return "TIMESTAMP"
	}
	return "TEXT"
}

// arg returns row i of c as a driver argument (nil for missing).
func (s *source) arg(c frame.Column, i int) any {
	if c.IsNull(i) {
		return nil
	}
	switch c := c.(type) {
	case *frame.Float:
		if math.IsNaN(c.Values[i]) && s.dialect == sqlite {
			return nil
		}
		return c.Values[i]
	case *frame.Int:
		return c.Values[i]
	case *frame.Bool:
		if s.dialect == sqlite {
			if c.Values[i] {
				return int64(1)
			}
			return int64(0)
		}
		return c.Values[i]
	case *frame.String:
		return c.Values[i]
	case *frame.Categorical:
		return c.Value(i)
	case *frame.Time:
		t := time.Unix(0, c.Values[i]).UTC()
		if s.dialect == sqlite {
			return t.Format(sqliteTime)
		}
		return t
	}
	return c.Format(i)
}
