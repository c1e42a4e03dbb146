-- The prediction log as Parquet: each logged batch is one Parquet file in the
-- artifact store (content-addressed, readable by any Parquet tool), indexed
-- here by model, version, time range, row count and digest. Feedback labels
-- are plain rows, one per logged prediction (the latest label wins).
-- The tables of migrations 0003 and 0004 are converted into these by
-- internal/predlog (legacy.go) the first time a log is opened, then left
-- empty.

CREATE TABLE prediction_log (
    digest      TEXT PRIMARY KEY,
    model       TEXT NOT NULL,
    version     TEXT NOT NULL,
    min_time_ms BIGINT NOT NULL,
    max_time_ms BIGINT NOT NULL,
    n           BIGINT NOT NULL,
    size        BIGINT NOT NULL,
    logged_ms   BIGINT NOT NULL
);
CREATE INDEX prediction_log_model_time ON prediction_log (model, max_time_ms);

CREATE TABLE feedback (
    model      TEXT NOT NULL,
    request_id TEXT NOT NULL,
    row_index  BIGINT NOT NULL,
    label      TEXT NOT NULL,
    time_ms    BIGINT NOT NULL,
    PRIMARY KEY (model, request_id, row_index)
);
CREATE INDEX feedback_model_time ON feedback (model, time_ms);
