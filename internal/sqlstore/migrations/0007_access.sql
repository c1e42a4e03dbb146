-- The team server's accounts, API tokens and role grants (internal/access).
-- Every change to these tables is recorded in audit_log by the same
-- transaction.

-- Users (people, who may also have a password) and service accounts.
CREATE TABLE accounts (
    name          TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,             -- 'user' or 'service'
    password_hash TEXT NOT NULL DEFAULT '',  -- argon2id in PHC form, '' for none
    created_ms    BIGINT NOT NULL,
    created_by    TEXT NOT NULL DEFAULT ''
);

-- API tokens. The secret is shown once when the token is made; only its
-- SHA-256 is kept. A token is found by its public id, the part of the token
-- before the secret.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    account      TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,
    description  TEXT NOT NULL DEFAULT '',
    secret_hash  TEXT NOT NULL,              -- hex SHA-256 of the whole token
    created_ms   BIGINT NOT NULL,
    expires_ms   BIGINT,                     -- NULL: never expires
    last_used_ms BIGINT,
    revoked_ms   BIGINT                      -- NULL: not revoked
);
CREATE INDEX api_tokens_account ON api_tokens (account);

-- Roles granted server-wide (resource_kind 'server', resource '') or on one
-- experiment (by id) or registered model (by name).
CREATE TABLE grants (
    account       TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,
    resource_kind TEXT NOT NULL,
    resource      TEXT NOT NULL,
    role          TEXT NOT NULL,             -- 'viewer', 'editor' or 'admin'
    created_ms    BIGINT NOT NULL,
    PRIMARY KEY (account, resource_kind, resource)
);
CREATE INDEX grants_resource ON grants (resource_kind, resource);
