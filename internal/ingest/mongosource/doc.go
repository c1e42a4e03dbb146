// Package mongosource reads MongoDB collections into frames and writes
// frames back as documents, for package ingest's mongodb:// and
// mongodb+srv:// URLs, with the official Go driver.
//
// # URLs
//
//	mongodb://HOST[:PORT]/DB?collection=C[&filter=JSON][&projection=JSON]
//	    [&sample=N][&arrays=json|explode][&batch=N]
//	mongodb://USER@HOST/DB?collection=C&password-env=VAR     (or &password-file=PATH)
//	mongodb://HOST/DB?collection=C&replace=true              (writing: replace C)
//
// filter and projection are MongoDB query documents in (relaxed) extended
// JSON, e.g. filter={"country":"FR"}. Any other parameter (authSource,
// tls, replicaSet, readPreference, ...) goes to the driver unchanged.
// Passwords come from an environment variable or a file, never from the
// URL's text; a URL that holds one anyway is redacted (ingest.Redact)
// wherever Gyre shows or records it.
//
// # Documents to columns
//
// Nested documents are flattened: {"a": {"b": 1}} is the column a.b.
// Arrays are JSON text by default, or with arrays=explode one column per
// position (tags.0, tags.1, ...). Types come from the BSON values of the
// first sample documents (default DefaultSample, or Options.InferRows, or
// &sample=): int32 and int64 are int, double float (int and double mixed
// make float), bool bool, dates time, strings and object ids text
// (categorical when few distinct values); decimal128 becomes float.
// After the sample the columns and their kinds are fixed: a document
// whose field has another type is a *ingest.ParseError naming the
// document's number and _id and the field, and a field first seen after
// the sample is skipped with a warning. Options.Schema declares kinds up
// front (accepting lossless conversions). Missing fields and null are
// missing values.
//
// Documents are decoded straight from the driver's BSON buffers into typed
// columns (package docframe), with no per-document maps; Stream delivers
// chunks of documents in bounded memory.
//
// # Writing
//
// Create (used by ingest.Create and ingest.Write, so `gyre predict ...
// --out mongodb://...`) inserts documents into a temporary collection
// of the same database, in batches, and Close renames it onto the target:
// readers see all the rows or none. Dotted column names nest again
// (a.b becomes {a: {b}}); missing values are left out of the document.
// The target must not exist unless &replace=true.
//
// # Errors
//
// A server that is down, refused credentials or a missing collection is an
// *Error naming the source (credentials removed), an input error (exit code
// 2 in the CLI).
package mongosource
