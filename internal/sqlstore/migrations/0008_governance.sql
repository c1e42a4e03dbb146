-- Governance: registered models and data set versions carry a
-- classification (public, internal or pii; '' is unclassified), and the
-- store keeps settings such as the salt that PII values are hashed with
-- when masked (made at first use, from crypto/rand).
ALTER TABLE registered_models ADD COLUMN classification TEXT NOT NULL DEFAULT '';
ALTER TABLE dataset_versions ADD COLUMN classification TEXT NOT NULL DEFAULT '';

CREATE TABLE store_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
