// Package sqlsource reads SQL tables and query results into frames and loads
// frames into SQL tables, for SQLite files and PostgreSQL servers.
//
// # URLs
//
//	sqlite://relative/path.db?table=T        a file relative to the working directory
//	sqlite:///abs/path.db?query=SELECT ...   an absolute path (three slashes)
//	postgres://user:pass@host:5432/db?sslmode=disable&table=schema.T
//	postgresql://...&query=SELECT ...
//
// Exactly one of table= and query= must be given to Read. A table name must
// be an identifier (letters, digits and underscores, not starting with a
// digit), optionally qualified by a schema as schema.table; anything else is
// rejected before any SQL is built, so ?table= cannot inject SQL. Queries are
// run as given: they come from the user, who can already run any SQL. Both
// parameters are removed before the URL reaches the database driver, and
// PostgreSQL connections get connect_timeout=10 unless the URL sets one, and
// reads run without parallel or synchronized scans, so a table is returned in
// its stored order (add ORDER BY to a query to be sure of the order).
// SQLite files are opened read-only by Read and must exist.
//
// # Types
//
// A column's kind comes from its declared type, checked against the values
// (SQLite is dynamically typed, so a column declared INTEGER may hold reals or
// text, and expression columns have no declared type at all):
//
//	declared type                      values seen            kind
//	*INT*, SERIAL                      integers               int
//	REAL, FLOAT*, DOUBLE*, NUMERIC     numbers                float
//	  (or integers mixed with reals in any column)
//	BOOL*                              booleans or 0/1        bool
//	TIMESTAMP*, DATETIME, DATE         times or time text     time
//	anything else, or values that do not fit the declared type   text
//
// Text columns become categorical when they have at most MaxLevels distinct
// values and, on average, each distinct value occurs at least twice
// (distinct*2 <= non-missing rows), the same rule the Parquet reader uses for
// foreign files; otherwise they are free-text strings. NULL is a missing
// value in every kind. A column whose values are all NULL takes the kind of
// its declared type (float when it has none).
//
// # Writing
//
// Write creates the table (it must not exist yet) and inserts every row in
// one transaction, in batches of multi-row INSERT statements. Column types:
// float DOUBLE PRECISION (REAL in SQLite), int BIGINT (INTEGER), bool
// BOOLEAN, string and categorical TEXT, time TIMESTAMPTZ (TIMESTAMP in
// SQLite, stored as RFC 3339-like text with nanoseconds in UTC). PostgreSQL
// keeps microseconds, so nanoseconds are rounded; SQLite stores NaN as NULL.
package sqlsource
