-- The prediction log stores one row per logged batch instead of one row per
-- prediction: reading a day of a busy model is then a few thousand rows,
-- not millions. records holds one line per prediction or label, tab-separated
-- (see internal/monitor/log.go).

DROP TABLE predictions;
DROP TABLE feedback;

CREATE TABLE prediction_batches (
    id          TEXT PRIMARY KEY,
    model       TEXT NOT NULL,
    min_time_ms BIGINT NOT NULL,
    max_time_ms BIGINT NOT NULL,
    n           BIGINT NOT NULL,
    records     TEXT NOT NULL
);
CREATE INDEX prediction_batches_model_time ON prediction_batches (model, max_time_ms);

CREATE TABLE feedback_batches (
    id          TEXT PRIMARY KEY,
    model       TEXT NOT NULL,
    min_time_ms BIGINT NOT NULL,
    max_time_ms BIGINT NOT NULL,
    n           BIGINT NOT NULL,
    records     TEXT NOT NULL
);
CREATE INDEX feedback_batches_model_time ON feedback_batches (model, max_time_ms);
