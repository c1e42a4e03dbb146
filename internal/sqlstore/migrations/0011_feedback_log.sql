-- Feedback labels as Parquet, like the predictions they label (migration
-- 0005): each stored group of labels is one Parquet file in the artifact
-- store (content-addressed, readable by any Parquet tool), indexed here by
-- model, time range, row count and digest. The rows of table feedback
-- (migration 0005) are carried into such files by internal/predlog
-- (feedback.go) the first time a log is opened, then left empty.

CREATE TABLE feedback_log (
    digest      TEXT PRIMARY KEY,
    model       TEXT NOT NULL,
    min_time_ms BIGINT NOT NULL,
    max_time_ms BIGINT NOT NULL,
    n           BIGINT NOT NULL,
    size        BIGINT NOT NULL,
    logged_ms   BIGINT NOT NULL
);
CREATE INDEX feedback_log_model_time ON feedback_log (model, max_time_ms);
