package track_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
	"github.com/gyre-ml/gyre/internal/track"
)

// TestConcurrentLogMetric: many goroutines logging one point per call into
// several runs (their writes grouped) lose no point, keep the highest step
// as the latest value, record one audit entry per call under its caller's
// name, and a deleted run fails its own callers only.
func TestConcurrentLogMetric(t *testing.T) {
	ctx := context.Background()
	sqlstoretest.Run(t, func(t *testing.T, db *sqlstore.DB) {
		tr := newTracker(t, db)
		var runs []*track.Run
		for i := range 4 {
			r, err := tr.Start(ctx, track.RunOptions{Experiment: "group", Name: fmt.Sprint("r", i)})
			if err != nil {
				t.Fatal(err)
			}
			runs = append(runs, r)
		}
		if err := tr.SetLifecycle(ctx, runs[3].ID(), track.LifecycleDeleted); err != nil {
			t.Fatal(err)
		}
		const workers, each = 12, 30
		var wg sync.WaitGroup
		errs := make([][]error, workers)
		for w := range workers {
			errs[w] = make([]error, each)
			wg.Add(1)
			go func() {
				defer wg.Done()
				wctx := audit.WithActor(ctx, audit.Actor{Name: fmt.Sprint("client", w), Kind: audit.KindUser})
				for i := range each {
					errs[w][i] = runs[w%4].LogMetric(wctx, "loss", float64(w*each+i), int64(w*each+i))
				}
			}()
		}
		wg.Wait()
		for w := range workers {
			for i, err := range errs[w] {
				if w%4 == 3 {
					if !errors.Is(err, track.ErrDeleted) {
						t.Fatalf("client %d call %d into the deleted run: %v; want ErrDeleted", w, i, err)
					}
				} else if err != nil {
					t.Fatalf("client %d call %d: %v", w, i, err)
				}
			}
		}
		for k, r := range runs[:3] {
			h, err := tr.MetricHistory(ctx, r.ID(), "loss")
			if err != nil {
				t.Fatal(err)
			}
			if want := workers / 4 * each; len(h) != want {
				t.Errorf("run %d: %d points in the history; want %d", k, len(h), want)
			}
			ri, err := tr.Get(ctx, r.ID())
			if err != nil {
				t.Fatal(err)
			}
			if want := float64((workers-4+k)*each + each - 1); ri.Metrics["loss"] != want {
				t.Errorf("run %d: latest loss %v; want the highest step's %v", k, ri.Metrics["loss"], want)
			}
		}
		for w := range workers {
			var n int
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM audit_log WHERE action = 'run.log' AND actor = ?", fmt.Sprint("client", w)).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if want := each; w%4 == 3 {
				want = 0
				if n != want {
					t.Errorf("client %d: %d audit entries; want none for a refused write", w, n)
				}
			} else if n != want {
				t.Errorf("client %d: %d audit entries; want %d", w, n, want)
			}
		}
	})
}

// TestPurgeWhileLogging: a run purged while clients log into it (grouped
// single points, and batches with a tag, which take the other path)
// leaves no point behind, on SQLite by its foreign key and on PostgreSQL,
// which has none on metric_history, by the run lock the writers take; and
// every write after the purge is refused as not found.
func TestPurgeWhileLogging(t *testing.T) {
	ctx := context.Background()
	sqlstoretest.Run(t, func(t *testing.T, db *sqlstore.DB) {
		tr := newTracker(t, db)
		for round := range 3 {
			r, err := tr.Start(ctx, track.RunOptions{Experiment: "purge", Name: fmt.Sprint("r", round)})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			logged := make(chan struct{}, 8)
			for w := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						var err error
						if w%2 == 0 {
							err = r.LogMetric(ctx, "loss", float64(i), int64(i))
						} else {
							err = r.LogBatch(ctx, track.Batch{Metrics: []track.Metric{{Key: "acc", Value: 1, Step: int64(i)}},
								Tags: map[string]string{"i": fmt.Sprint(i)}})
						}
						if err != nil {
							if !errors.Is(err, track.ErrNotFound) {
								t.Errorf("worker %d: %v; want ErrNotFound once the run is purged", w, err)
							}
							return
						}
						select {
						case logged <- struct{}{}:
						default:
						}
					}
				}()
			}
			for range 8 {
				<-logged
			}
			if err := tr.Delete(ctx, r.ID()); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			var n int
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM metric_history WHERE run_id NOT IN (SELECT id FROM runs)").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("round %d: %d points outlived their purged run", round, n)
			}
		}
	})
}
