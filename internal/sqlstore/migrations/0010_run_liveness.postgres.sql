-- (Same version as the liveness columns: search speed on PostgreSQL.)
-- runs/search orders by a metric DESC NULLS LAST; a backward scan of the
-- (key, value, run_id) index gives DESC NULLS FIRST, which PostgreSQL cannot
-- use for that order, so it sorted every value of the key (130 ms of 100,000
-- runs, 500 ms under load). This index serves DESC NULLS LAST (and, read
-- backward, ASC NULLS FIRST); the first serves ASC NULLS LAST. SQLite
-- indexes take no NULLS clause and its planner needs none here.
CREATE INDEX latest_metrics_key_value_desc ON latest_metrics (key, value DESC NULLS LAST, run_id);
