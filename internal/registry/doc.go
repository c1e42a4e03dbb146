// Package registry keeps registered models, their numbered versions and the
// aliases (staging, production, any name) that point at them, with an audit
// trail of every alias move.
//
// A version points at a bundle stored as a blob (by digest), at the run that
// produced it and at the data set versions it was trained on. Versions are
// numbered 1, 2, ... per model inside a write transaction, so concurrent
// registrations get distinct numbers, and numbers are never reused after a
// version is deleted.
//
// Registering is crash-safe: the bundle is written to the blob store first
// (atomically: it is either absent or complete), then the version row is
// inserted in one transaction. A process killed at any point leaves either
// no version or a version whose bundle is readable; at worst an unreferenced
// blob remains.
//
// [Registry.Resolve] turns the references users write into a version:
// NAME (latest), NAME/VERSION, NAME@ALIAS, models:/NAME/VERSION and
// models:/NAME@ALIAS. A bundle path is the caller's to recognise first.
//
// Model and alias names are validated ([CheckName]): letters, digits, '-',
// '_' and '.', not starting with '.', so a name can never reach outside a
// directory when used in a path.
package registry
