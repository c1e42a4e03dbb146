// Package parquetio reads and writes Gyre frames as Apache Parquet files.
//
// # Writing
//
// WriteFile stores every column as an OPTIONAL top-level leaf so missing
// values travel as definition levels:
//
//	frame kind    Parquet column
//	float         DOUBLE
//	int           INT64
//	bool          BOOLEAN
//	string        BYTE_ARRAY (STRING)
//	categorical   BYTE_ARRAY (STRING), dictionary encoded (RLE_DICTIONARY)
//	time          INT64 TIMESTAMP(NANOS, isAdjustedToUTC=true)
//
// Columns keep the frame's order. Data pages are zstd-compressed and row
// groups hold a bounded number of bytes (about 64 MiB before compression), so
// readers never need the whole file in memory at once. The file is written to
// a temporary file in the destination directory and renamed into place when
// complete: a crash never leaves a half-written file under the final name.
//
// The footer carries one key-value metadata entry, "gyre.schema" (MetadataKey),
// a JSON document listing every column's kind and role and, for categorical
// columns, the ordered levels. Reading a file written by Gyre uses it to
// restore categorical columns with the same levels and codes (including levels
// no row uses), string columns that happen to have few distinct values, and
// column roles. Other tools ignore the entry and see plain UTF-8 strings.
//
// # Reading
//
// ReadFile and Read accept files written by other tools (pandas/pyarrow,
// Spark, DuckDB, parquet-go) with any mix of required and optional top-level
// columns and any number of row groups. Physical and logical types map as:
//
//	BOOLEAN                          bool
//	INT32, INT64 (signed/unsigned)   int
//	FLOAT, DOUBLE, FLOAT16           float
//	DECIMAL (any physical type)      float (value / 10^scale)
//	DATE                             time (midnight UTC)
//	TIMESTAMP (MILLIS/MICROS/NANOS)  time (local-time timestamps are read as UTC)
//	INT96 (legacy Impala/Spark)      time
//	TIME (of day)                    int (in the file's unit)
//	BYTE_ARRAY (STRING/ENUM/JSON/-)  categorical or string (see below)
//	FIXED_LEN_BYTE_ARRAY (UUID)      string
//
// Without Gyre metadata, a text column becomes categorical when it has at most
// MaxLevels distinct values and, on average, every distinct value occurs at
// least twice (distinct*2 <= non-missing rows); otherwise it stays free text.
//
// Nested or repeated columns (LIST, MAP, structs) are rejected with an error
// that names the file and the column. A malformed file (bad footer, truncated
// data, corrupt pages) gives an error naming the file, never a panic. Columns
// are decoded in parallel, one goroutine per column up to GOMAXPROCS.
package parquetio
