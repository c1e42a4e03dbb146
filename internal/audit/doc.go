// Package audit keeps Gyre's audit trail: one append-only row per write to
// the metadata store, saying who made it, when, from where, what it was,
// and the value before and after.
//
// Writers (track, registry, dataset, access) call [Record] inside the
// transaction of the write they record, so a write and its audit row
// commit or roll back together. Who made a write travels in the context:
// the team server puts the authenticated [Actor] there with [WithActor];
// a local command has none, and [ActorFrom] falls back to [LocalUser].
//
// The table refuses UPDATE and DELETE at the database (a trigger on both
// SQLite and PostgreSQL), and this package has no call that changes a row:
// retention policies record their deletions here and never delete from it.
//
// Layer 2: it imports only sqlstore, so every store-writing package above it
// can record into it.
package audit
