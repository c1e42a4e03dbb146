package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Stmt is one statement of a [DB.Pipelined] transaction, written with ?
// placeholders.
type Stmt struct {
	SQL  string
	Args []any
}

// Row is one row of a result, as [DB.Pipelined]'s scan reads it.
type Row interface{ Scan(dest ...any) error }

// ErrNotPostgres is returned by [DB.Pipelined] on SQLite.
var ErrNotPostgres = errors.New("sqlstore: pipelined transactions need PostgreSQL")

// Pipelined runs stmts in one write transaction on PostgreSQL, sent at once
// (BEGIN, the statements, COMMIT in one pipeline: one round trip to the
// server instead of one per statement), and calls scan with each row of the
// last statement's result (nil scan: none is read). Each statement still
// runs after the one before it, with its own snapshot in READ COMMITTED,
// so a lock taken by one holds for the next. The statements run with
// generic plans (plan_cache_mode auto, SET LOCAL): they are the same small
// writes each time, whose planning was their largest cost.
//
// Like [DB.Write], a busy database (a serialization failure or deadlock)
// runs the transaction again: reset, when given, is called before each
// try, so that only the last try's rows count.
func (db *DB) Pipelined(ctx context.Context, stmts []Stmt, scan func(row Row) error, reset func()) error {
	if db.dialect != Postgres {
		return ErrNotPostgres
	}
	return retry(ctx, func() error {
		if reset != nil {
			reset()
		}
		return db.pipelineOnce(ctx, stmts, scan)
	})
}

func (db *DB) pipelineOnce(ctx context.Context, stmts []Stmt, scan func(row Row) error) error {
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("sqlstore: pipelined: driver connection is %T", dc)
		}
		pc := sc.Conn()
		err := runPipeline(ctx, pc, stmts, scan)
		if err != nil && pc.PgConn().TxStatus() != 'I' {
			// A failed statement leaves the transaction open and aborted:
			// end it before the connection goes back to the pool.
			if _, rerr := pc.Exec(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
				return errors.Join(err, driverBad(rerr))
			}
		}
		return err
	})
}

// driverBad marks the connection unusable, so database/sql drops it.
func driverBad(err error) error { return fmt.Errorf("%w: %w", err, driver.ErrBadConn) }

func runPipeline(ctx context.Context, pc *pgx.Conn, stmts []Stmt, scan func(row Row) error) error {
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue("SET LOCAL plan_cache_mode = auto")
	for _, s := range stmts {
		b.Queue(rebind(Postgres, s.SQL), s.Args...)
	}
	b.Queue("COMMIT")
	br := pc.SendBatch(ctx, b)
	defer br.Close()
	for range 2 {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	for i := range stmts {
		if i < len(stmts)-1 || scan == nil {
			if _, err := br.Exec(); err != nil {
				return err
			}
			continue
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	if _, err := br.Exec(); err != nil { // COMMIT
		return err
	}
	return br.Close()
}
