-- Run liveness: a run started by a local process records its host, pid
-- and the process's start time, so that a run whose process died (killed,
-- crashed) is marked FAILED instead of staying RUNNING forever; a
-- heartbeat covers runs whose host cannot be checked from here.
ALTER TABLE runs ADD COLUMN host TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN pid BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN proc_start TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN heartbeat_ms BIGINT;
