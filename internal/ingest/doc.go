// Package ingest turns a data source into a *frame.Frame and writes frames
// out. Read is the one entry point: it picks the reader from the source's
// scheme and extension (CSV/TSV, optionally gzip; JSON Lines; Parquet via
// ingest/parquetio; Arrow IPC files, Feather v2 and IPC streams via
// ingest/arrowipc; Avro container files via ingest/avro; SQLite and
// PostgreSQL via ingest/sqlsource; http(s) URLs of any of the file formats; "-" for CSV on standard input) and then applies
// Options.Schema overrides (types and roles) whatever the source.
//
// # CSV
//
// The CSV reader follows RFC 4180 (quoted fields with embedded delimiters,
// newlines and doubled quotes), accepts a UTF-8 byte-order mark and CRLF line
// ends, decompresses gzip (by magic bytes), sniffs the delimiter among comma,
// semicolon, tab and pipe, and requires a header row. An empty header name
// becomes column_N and a repeated one gets a .1, .2 ... suffix (like pandas);
// both are reported through Options.Warn rather than failing the read.
//
// Missing values are empty cells and the tokens of Options.Missing (by
// default NA, N/A, NaN, null and ?, any case). A quoted non-empty cell is
// never missing: "NA" in quotes is text, as in R.
//
// Types are inferred from every row (Options.InferRows may bound it): a
// column is int when every present value is a 64-bit integer, float when every
// one is a decimal number, bool for true/false, time when every value parses
// with one of the timestamp layouts (RFC 3339, 2006-01-02, 2006-01-02
// 15:04:05, 01/02/2006, ...), and text otherwise; a single stray word makes a
// numeric column text, never a garbage number, and the reader reports the
// column, the share of numeric values and the first offending line through
// Options.Warn. Declaring the column's type in the schema turns that into an
// error naming the line and column. Text columns are dictionary-encoded as
// categorical when they have at most Options.CategoricalMax (default 1000)
// distinct values and, beyond 32 distinct values, no more than half as many
// distinct values as present values; otherwise they are free text (string).
// A column with no values at all is float (all missing).
//
// The reader cuts the file into blocks at record boundaries with a
// quote-aware chunker that also counts each block's records, speculates
// column types from the first block, allocates the final columns once and
// parses all blocks in parallel straight into them. A column where a later
// value breaks the speculation is typed from every row and parsed again on
// its own, so the result never depends on the speculation. Peak memory is the
// frame plus a 2 MiB block buffer per worker; standard input, gzip and
// downloads are first spooled to a temporary file.
//
// Malformed input returns a *ParseError naming the source, the 1-based
// physical line and the column, wrapping ErrQuote, ErrFieldCount or ErrType.
//
// # Streaming
//
// Stream reads any source in bounded memory, calling a function with chunks
// of about a given number of rows (DefaultChunkRows) in source order: CSV
// in runs of whole 2 MiB blocks cut by the same chunker and parsed in
// parallel within a chunk, JSON Lines a number of lines at a time, Parquet a
// row group at a time (a large group cut into views sharing its memory).
// Column types are fixed for the whole stream: declared ones from
// Options.Schema, the others inferred from the first block (CSV) or chunk;
// a later value that does not fit is a *ParseError naming its line and
// column, never a silently different column. Options.Columns limits the
// columns read (CSV does not parse the others). Chunk.Done and Chunk.Total
// report progress.
//
// ChunkWriter is the matching writer: Create(dest) writes CSV, TSV, JSON
// Lines or Parquet chunk by chunk into a temporary file that Close renames
// into place (Abort, or any failed write, removes it); NewChunkWriter writes
// to any io.Writer. Encode formats a chunk without touching the output, so
// callers can format chunks in parallel and write them in order.
//
// # Writing
//
// Write picks the format by extension and replaces the destination
// atomically. The CSV writer is designed so that reading its output infers the
// same kinds and missing values: floats always carry a decimal point or
// exponent and round-trip exactly, text that looks like a missing token is
// quoted. Two things CSV cannot carry are documented losses: an empty string
// reads back as missing, and text that looks numeric (a categorical with
// levels "1", "2") reads back as numbers unless the schema says otherwise.
package ingest
