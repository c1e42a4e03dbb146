// Package workspace opens what a command works against: the local
// metadata and artifact stores (SQLite or PostgreSQL, a directory or an
// S3 bucket) with the services built on them, or a team server through
// its API, behind the same interfaces (Runs, Models, Data, AuditTrail,
// Accounts), so a command reads and writes the same way either way.
//
// Locations resolve flags, then the environment (GYRE_STORE,
// GYRE_ARTIFACTS, GYRE_HOME, GYRE_SERVER, GYRE_TOKEN), then defaults
// under ./.gyre.
package workspace
