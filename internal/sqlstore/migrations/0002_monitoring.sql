-- Monitoring and pipelines: logged predictions, feedback labels, pipeline
-- step cache, pipeline runs and the per-model retraining lock.
-- Times in unix milliseconds; JSON documents stored as TEXT.

CREATE TABLE predictions (
    model      TEXT NOT NULL,
    version    TEXT NOT NULL,
    request_id TEXT NOT NULL,
    row_index  BIGINT NOT NULL,
    time_ms    BIGINT NOT NULL,
    input      TEXT NOT NULL,
    output     TEXT NOT NULL,
    PRIMARY KEY (model, request_id, row_index)
);
CREATE INDEX predictions_model_time ON predictions (model, time_ms);

CREATE TABLE feedback (
    model      TEXT NOT NULL,
    request_id TEXT NOT NULL,
    row_index  BIGINT NOT NULL,
    label      TEXT NOT NULL,
    time_ms    BIGINT NOT NULL,
    PRIMARY KEY (model, request_id, row_index)
);

CREATE TABLE pipeline_steps (
    pipeline   TEXT NOT NULL,
    step       TEXT NOT NULL,
    cache_key  TEXT NOT NULL,
    output     TEXT NOT NULL,
    run_id     TEXT NOT NULL DEFAULT '',
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (pipeline, step, cache_key)
);

CREATE TABLE pipeline_runs (
    id         TEXT PRIMARY KEY,
    pipeline   TEXT NOT NULL,
    trigger_by TEXT NOT NULL,
    status     TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '',
    start_ms   BIGINT NOT NULL,
    end_ms     BIGINT
);
CREATE INDEX pipeline_runs_pipeline ON pipeline_runs (pipeline, start_ms);

CREATE TABLE pipeline_locks (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    trigger_by TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);
