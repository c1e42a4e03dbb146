-- The prediction log stores each logged batch in a columnar binary encoding
-- (typed column arrays, dictionaries and presence bitmaps; see
-- internal/monitor/colbatch.go), so that reading a window of a million
-- predictions decodes no JSON. The text batches of migration 0003 stay
-- readable and are read alongside.
-- data is declared BYTEA: PostgreSQL's binary type; SQLite gives the name
-- NUMERIC affinity, which stores blobs unchanged.

CREATE TABLE prediction_chunks (
    id          TEXT PRIMARY KEY,
    model       TEXT NOT NULL,
    min_time_ms BIGINT NOT NULL,
    max_time_ms BIGINT NOT NULL,
    n           BIGINT NOT NULL,
    data        BYTEA NOT NULL
);
CREATE INDEX prediction_chunks_model_time ON prediction_chunks (model, max_time_ms);

CREATE TABLE feedback_chunks (
    id          TEXT PRIMARY KEY,
    model       TEXT NOT NULL,
    min_time_ms BIGINT NOT NULL,
    max_time_ms BIGINT NOT NULL,
    n           BIGINT NOT NULL,
    data        BYTEA NOT NULL
);
CREATE INDEX feedback_chunks_model_time ON feedback_chunks (model, max_time_ms);
