// Package dataset versions data files by content.
//
// [Catalog.Version] snapshots a file into the blob store under its SHA-256
// digest and records a numbered version of a named data set with the file's
// schema, row count and a per-column statistical summary (from
// internal/ingest and internal/profile). Versioning unchanged content again
// returns the existing version. Files are hashed in one streaming pass; the
// digest is cached in the metadata store keyed by host and absolute path and
// trusted while the file's size and modification time are unchanged, so
// re-versioning a large unchanged file costs a stat, not a rehash (DVC's
// known slowness).
//
// [Catalog.Log] lists versions, [Catalog.Diff] compares two (schema changes,
// row counts, per-column statistic changes) and [Catalog.Get] writes a
// version back to a file atomically. References are NAME (latest) or
// NAME@VERSION.
package dataset
