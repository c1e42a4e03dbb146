-- What the MLflow REST API needs beyond Gyre's own model (internal/mlflowapi):
-- lifecycle stages (MLflow deletes experiments and runs softly and can
-- restore them), experiment tags, run inputs logged by MLflow clients,
-- model version sources, stages and tags. Experiment "0" is the Default
-- experiment, as MLflow clients expect.

ALTER TABLE experiments ADD COLUMN lifecycle_stage TEXT NOT NULL DEFAULT 'active';
ALTER TABLE experiments ADD COLUMN last_update_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE experiments ADD COLUMN artifact_location TEXT NOT NULL DEFAULT '';
UPDATE experiments SET last_update_ms = created_ms;

CREATE TABLE experiment_tags (
    experiment_id TEXT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    value         TEXT NOT NULL,
    PRIMARY KEY (experiment_id, key)
);

-- The Default experiment gets the id "0" (new stores create it so; an
-- existing one is renumbered, its runs moved with it).
UPDATE experiments SET name = 'Default (renumbering to 0)' WHERE name = 'Default' AND id <> '0';
INSERT INTO experiments (id, name, created_ms, last_update_ms)
    SELECT '0', 'Default', created_ms, created_ms FROM experiments WHERE name = 'Default (renumbering to 0)';
UPDATE runs SET experiment_id = '0'
    WHERE experiment_id IN (SELECT id FROM experiments WHERE name = 'Default (renumbering to 0)');
DELETE FROM experiments WHERE name = 'Default (renumbering to 0)';

ALTER TABLE runs ADD COLUMN lifecycle_stage TEXT NOT NULL DEFAULT 'active';
ALTER TABLE runs ADD COLUMN deleted_ms BIGINT;
CREATE INDEX runs_lifecycle ON runs (lifecycle_stage, experiment_id);

-- Data set inputs as MLflow clients log them (name, digest, source), with
-- their input tags (mlflow.data.context) as a JSON object. Gyre's own data
-- set versions stay in run_datasets.
CREATE TABLE run_inputs (
    run_id      TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    digest      TEXT NOT NULL,
    source_type TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL DEFAULT '',
    schema_json TEXT NOT NULL DEFAULT '',
    profile     TEXT NOT NULL DEFAULT '',
    tags_json   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, name, digest)
);

ALTER TABLE model_versions ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE model_versions ADD COLUMN stage TEXT NOT NULL DEFAULT 'None';
ALTER TABLE model_versions ADD COLUMN updated_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE model_versions ADD COLUMN run_link TEXT NOT NULL DEFAULT '';
UPDATE model_versions SET updated_ms = created_ms;

CREATE TABLE model_version_tags (
    model   TEXT NOT NULL,
    version BIGINT NOT NULL,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (model, version, key),
    FOREIGN KEY (model, version) REFERENCES model_versions (model, version) ON DELETE CASCADE
);
