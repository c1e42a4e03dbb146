package pipeline

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/track"
)

// ErrBusy is returned when another run of the same pipeline holds its lock:
// the trigger collapses into the run in progress.
var ErrBusy = errors.New("pipeline busy")

// BusyError says who holds a pipeline's lock.
type BusyError struct {
	Pipeline, Holder, Trigger string
	Until                     time.Time
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("pipeline %s: a run triggered by %q is in progress (holder %s, lease until %s): this trigger collapses into it",
		e.Pipeline, e.Trigger, e.Holder, e.Until.Format(time.RFC3339))
}

// Unwrap makes errors.Is(err, ErrBusy) true.
func (e *BusyError) Unwrap() error { return ErrBusy }

// Lease is how long a pipeline lock is held without a heartbeat: a killed
// run's lock frees itself after it.
var Lease = 2 * time.Minute

type lock struct {
	db     *sqlstore.DB
	name   string
	holder string
	stop   chan struct{}
	wg     sync.WaitGroup
}

// acquire takes the pipeline's lock row, or fails with a *BusyError.
func acquire(ctx context.Context, db *sqlstore.DB, name, trigger string) (*lock, error) {
	l := &lock{db: db, name: name, holder: track.NewID(), stop: make(chan struct{})}
	err := db.Write(ctx, func(tx *sqlstore.Tx) error {
		var holder, by string
		var exp int64
		err := tx.QueryRowContext(ctx, "SELECT holder, trigger_by, expires_ms FROM pipeline_locks WHERE name = ?", name).Scan(&holder, &by, &exp)
		now := time.Now()
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, "INSERT INTO pipeline_locks (name, holder, trigger_by, expires_ms) VALUES (?, ?, ?, ?)",
				name, l.holder, trigger, now.Add(Lease).UnixMilli())
			return err
		case err != nil:
			return err
		case exp > now.UnixMilli():
			return &BusyError{Pipeline: name, Holder: holder, Trigger: by, Until: time.UnixMilli(exp)}
		}
		// the previous holder died: take over
		_, err = tx.ExecContext(ctx, "UPDATE pipeline_locks SET holder = ?, trigger_by = ?, expires_ms = ? WHERE name = ?",
			l.holder, trigger, now.Add(Lease).UnixMilli(), name)
		return err
	})
	if err != nil {
		var be *BusyError
		if errors.As(err, &be) {
			return nil, be
		}
		return nil, fmt.Errorf("pipeline %s: lock: %w", name, err)
	}
	l.wg.Add(1)
	go l.heartbeat()
	return l, nil
}

func (l *lock) heartbeat() {
	defer l.wg.Done()
	t := time.NewTicker(Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), Lease/3)
			_ = l.db.Write(ctx, func(tx *sqlstore.Tx) error {
				_, err := tx.ExecContext(ctx, "UPDATE pipeline_locks SET expires_ms = ? WHERE name = ? AND holder = ?",
					time.Now().Add(Lease).UnixMilli(), l.name, l.holder)
				return err
			})
			cancel()
		}
	}
}

// release frees the lock (only if still ours).
func (l *lock) release() {
	close(l.stop)
	l.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = l.db.Write(ctx, func(tx *sqlstore.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM pipeline_locks WHERE name = ? AND holder = ?", l.name, l.holder)
		return err
	})
}
