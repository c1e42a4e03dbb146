package track

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/sqlstore"
)

// HeartbeatTimeout is how long a RUNNING run with a heartbeat may go
// without one before it is marked FAILED, when its process cannot be
// checked directly (from another host, or where there is no process
// table to read).
const HeartbeatTimeout = 10 * time.Minute

// HeartbeatInterval is how often a run started by this process stamps its
// heartbeat while it runs.
const HeartbeatInterval = time.Minute

// FailureTag holds why Gyre marked a run FAILED.
const FailureTag = "gyre.failure"

// reapInterval bounds how often reads look for dead runs.
const reapInterval = 5 * time.Second

var thisProcess = sync.OnceValues(func() (string, string) {
	h, err := os.Hostname()
	if err != nil {
		h = "localhost"
	}
	return h, processStart(os.Getpid())
})

// owner returns the host, pid and process start time a local run records.
func owner() (string, int, string) {
	h, st := thisProcess()
	return h, os.Getpid(), st
}

// heartbeat stamps the run's heartbeat every interval, in a goroutine,
// until the returned stop is called (by [Run.End]), so that readers on a
// host that cannot check this process see the run alive. A failed stamp is
// left for the next tick: a run is only marked FAILED after
// HeartbeatTimeout without one.
func (r *Run) heartbeat(interval time.Duration) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), interval)
			_ = r.t.db.Write(ctx, func(tx *sqlstore.Tx) error {
				_, err := tx.ExecContext(ctx, "UPDATE runs SET heartbeat_ms = ? WHERE id = ? AND status = 'RUNNING'", r.t.nowMS(), r.id)
				return err
			})
			cancel()
		}
	}()
	return sync.OnceFunc(func() { close(done) })
}

// maybeReap runs ReapDead at most once per reapInterval per tracker;
// reads call it so that a dead run shows FAILED at the next look.
func (t *Tracker) maybeReap(ctx context.Context) {
	t.reapMu.Lock()
	due := time.Since(t.lastReap) >= reapInterval
	if due {
		t.lastReap = time.Now()
	}
	t.reapMu.Unlock()
	if due {
		if _, err := t.ReapDead(ctx); err != nil && ctx.Err() == nil {
			t.reapMu.Lock()
			t.lastReap = time.Time{} // try again at the next read
			t.reapMu.Unlock()
		}
	}
}

// ReapDead marks FAILED the RUNNING runs whose process is gone: a run
// started on this host whose process no longer exists (or whose pid now
// belongs to a later process), or, when the process cannot be checked from
// here, a run whose heartbeat is older than HeartbeatTimeout. A run whose
// process is seen alive is never marked, whatever its heartbeat. It returns
// the ids it marked, each with a FailureTag and an audit record. Runs
// created through the team server (by MLflow clients) record no process
// and are left alone, as MLflow leaves them.
func (t *Tracker) ReapDead(ctx context.Context) ([]string, error) {
	host, _, _ := owner()
	now := t.nowMS()
	rows, err := t.db.QueryContext(ctx, `SELECT id, host, pid, proc_start, heartbeat_ms FROM runs
		WHERE status = 'RUNNING' AND (pid > 0 OR heartbeat_ms IS NOT NULL)`)
	if err != nil {
		return nil, fmt.Errorf("check running runs: %w", err)
	}
	type dead struct{ id, why string }
	var found []dead
	for rows.Next() {
		var id, h, start string
		var pid int
		var hb sql.NullInt64
		if err := rows.Scan(&id, &h, &pid, &start, &hb); err != nil {
			rows.Close()
			return nil, fmt.Errorf("check running runs: %w", err)
		}
		if h == host && pid > 0 {
			alive, known := processAlive(pid, start)
			if known && alive {
				continue
			}
			if known {
				found = append(found, dead{id, fmt.Sprintf("process %d on %s exited without ending the run", pid, h)})
				continue
			}
		}
		if hb.Valid && now-hb.Int64 > HeartbeatTimeout.Milliseconds() {
			found = append(found, dead{id, fmt.Sprintf("no heartbeat from process %d on %s since %s", pid, h,
				time.UnixMilli(hb.Int64).UTC().Format(time.RFC3339))})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("check running runs: %w", err)
	}
	var ids []string
	for _, d := range found {
		err := t.db.Write(ctx, func(tx *sqlstore.Tx) error {
			res, err := tx.ExecContext(ctx, "UPDATE runs SET status = 'FAILED', end_ms = COALESCE(heartbeat_ms, ?) WHERE id = ? AND status = 'RUNNING'", now, d.id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil // ended meanwhile
			}
			if _, err := upsertTags(ctx, tx, d.id, map[string]string{FailureTag: d.why}); err != nil {
				return err
			}
			return audit.Record(ctx, tx, "run.update", "run", d.id, runState{Status: StatusRunning},
				map[string]string{"status": string(StatusFailed), "reason": d.why})
		})
		if err != nil {
			return ids, fmt.Errorf("mark run %s failed: %w", d.id, err)
		}
		ids = append(ids, d.id)
	}
	return ids, nil
}
