-- metric_history loses its foreign key on PostgreSQL: the per-row check
-- (one trigger and one index probe per point) was most of the cost of a
-- 1,000-point log-batch. The tracker keeps the invariant itself: every
-- transaction that inserts points first takes a shared advisory lock on
-- each of their runs, and a run is purged under the exclusive lock, its
-- row deleted before its points in the same transaction (internal/track:
-- lockRuns, PurgeTx), so no point can outlive its run. SQLite keeps the
-- key: its check is cheap and its writers are serial.
ALTER TABLE metric_history DROP CONSTRAINT IF EXISTS metric_history_run_id_fkey;
