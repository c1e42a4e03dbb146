// Package sqlstore opens Gyre's metadata database by URL and keeps its schema
// current.
//
// Two backends share one schema: SQLite (pure Go, modernc.org/sqlite), the
// embedded default, and PostgreSQL (github.com/jackc/pgx/v5 through
// database/sql) for teams. [Open] picks the backend from the URL: a
// postgres:// or postgresql:// URL selects PostgreSQL, anything else is a
// SQLite file path (optionally written sqlite:// or file:).
//
// The schema lives in versioned SQL files embedded in the binary
// (migrations/NNNN_name.sql). [Open] applies the missing ones, each in its own
// transaction, and records them in the schema_migrations table; concurrent
// processes opening the same fresh database apply each migration once.
//
// Queries are written once, with ? placeholders and standard SQL that both
// backends accept (ON CONFLICT ... DO UPDATE, RETURNING, NULLS LAST). [DB.Rebind]
// turns the placeholders into PostgreSQL's $1, $2, ... form; the DB's query
// methods do that for you.
//
// Writes go through [DB.Write], which runs a function in a transaction and
// retries it when the database is busy. On SQLite every write transaction
// starts with BEGIN IMMEDIATE, so there is one writer at a time and a
// transaction never fails half way on a lock upgrade; the busy timeout makes
// waiting writers queue instead of failing, and the retry loop covers the
// cases where SQLite reports SQLITE_BUSY without waiting. The database runs in
// WAL mode so readers never block the writer. On PostgreSQL, serialization
// failures and deadlocks are retried the same way. Many processes can
// therefore log into one store at once without a "database is locked" error.
package sqlstore
