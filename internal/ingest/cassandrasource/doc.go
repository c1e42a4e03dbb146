// Package cassandrasource reads Cassandra tables into frames, for package
// ingest's cassandra:// URLs, with the gocql driver (protocol v4).
//
// # URLs
//
//	cassandra://HOST[:PORT][,HOST[:PORT]...]/KEYSPACE?table=T
//	    [&where=CQL][&allow-filtering=true][&columns=a,b,c]
//	    [&splits=N][&parallel=N][&page=N][&consistency=LOCAL_ONE][&dc=DC]
//	    [&tls=true][&timeout=30s]
//	cassandra://USER@HOST/KEYSPACE?table=T&password-env=VAR   (or &password-file=PATH)
//
// where= is a CQL condition added to the query as it is (the server
// judges it; a condition on a regular column needs &allow-filtering=true,
// as in CQL). A password written in the URL is refused; a user's password
// comes from an environment variable or a file and never appears in
// messages.
//
// # Reading
//
// The table's columns and primary key come from system_schema.columns.
// The token ring is cut into &splits= contiguous ranges (default
// DefaultSplits; Murmur3Partitioner and RandomPartitioner; other
// partitioners, or a where= that restricts the partition key, make one
// query) and &parallel= of them are read at once, each paged &page= rows
// at a time by the driver. Rows are delivered in token order, so a read
// is the same whatever the parallelism: Read returns one frame, Stream
// chunks of about chunkRows rows with a bounded read-ahead (each range in
// flight holds at most two chunks).
//
// # Types
//
// tinyint, smallint, int, bigint, counter and varint become int columns
// (a varint beyond 64 bits is an error); float, double and decimal float
// (a decimal to the nearest float64); boolean bool; timestamp and date
// time; time an int of nanoseconds since midnight; text, ascii, varchar,
// uuid, timeuuid and inet text (categorical when few distinct values);
// lists, sets, maps and user-defined types JSON text. blob, duration,
// tuple, vector and custom types cannot be held by a frame: reading such a
// column is an error naming the table and column, with the &columns= that
// leaves them out. A value that does not fit is an *ingest.ParseError
// naming the table, the row's primary key and the column. Null is a
// missing value.
//
// # Errors
//
// A cluster that is down, refused credentials, a missing keyspace or
// table (named with what the cluster has) or a query the server refuses
// is an *Error naming the source, credentials removed: an input error
// (exit code 2 in the CLI).
package cassandrasource
