-- Runs across all experiments, newest first (`gyre runs list`, searches
-- without an experiment): the active runs in start order, so a page reads
-- its rows from this index and stops. Without it SQLite scanned the
-- (experiment, stage, start) index whole and sorted 100,000 runs (~90 ms).
CREATE INDEX runs_active_start ON runs (lifecycle_stage, start_ms, id);
