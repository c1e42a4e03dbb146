-- The audit trail: one row per write, append-only. Rows are written by
-- internal/audit inside the transaction of the write they record, so a
-- write and its audit row commit or roll back together. The per-dialect
-- files beside this one refuse UPDATE and DELETE at the database.
CREATE TABLE audit_log (
    id            TEXT PRIMARY KEY,   -- 13-digit unix ms + random hex: sorts by time
    ts_ms         BIGINT NOT NULL,
    actor         TEXT NOT NULL,      -- user or service account name
    actor_kind    TEXT NOT NULL,      -- "user", "service" or "local"
    remote        TEXT NOT NULL DEFAULT '',  -- client address, '' for local commands
    action        TEXT NOT NULL,      -- e.g. "model.alias.set", "run.create"
    resource_kind TEXT NOT NULL,      -- "experiment", "run", "model", "dataset", "user", "token", "server"
    resource      TEXT NOT NULL,      -- the resource's name or id
    before_json   TEXT NOT NULL DEFAULT '',
    after_json    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_resource ON audit_log (resource_kind, resource, ts_ms);
CREATE INDEX audit_log_actor ON audit_log (actor, ts_ms);
CREATE INDEX audit_log_ts ON audit_log (ts_ms, id);
