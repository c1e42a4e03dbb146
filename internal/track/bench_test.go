package track_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
	"github.com/gyre-ml/gyre/internal/track"
)

// BenchmarkLogMetrics10k logs 10,000 metric points in one run with one
// LogMetrics call (the target: under 1 s on SQLite).
func BenchmarkLogMetrics10k(b *testing.B) {
	ctx := context.Background()
	for _, be := range sqlstoretest.Backends(b) {
		b.Run(be.Name, func(b *testing.B) {
			tr := track.New(sqlstoretest.Open(b, be), nil)
			pts := make([]track.Metric, 10000)
			for i := range pts {
				pts[i] = track.Metric{Key: fmt.Sprintf("m%d", i%5), Value: float64(i), Step: int64(i / 5)}
			}
			for b.Loop() {
				r, err := tr.StartRun(ctx, "bench", "", nil)
				if err != nil {
					b.Fatal(err)
				}
				if err := r.LogMetrics(ctx, pts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// seedRuns inserts n runs with a learner param and a roc_auc metric directly
// in bulk (the public API would take minutes for 100,000 runs).
func seedRuns(b *testing.B, db *sqlstore.DB, n int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 1))
	learners := []string{"gbdt", "linear", "forest", "knn", "nb"}
	err := db.Write(ctx, func(tx *sqlstore.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO experiments (id, name, created_ms) VALUES ('e', 'bench', 0)"); err != nil {
			return err
		}
		const chunk = 500
		for start := 0; start < n; start += chunk {
			var rs, ps, ms strings.Builder
			var ra, pa, ma []any
			for i := start; i < min(start+chunk, n); i++ {
				sep := ", "
				if i == start {
					sep = ""
				}
				id := fmt.Sprintf("%032x", i)
				rs.WriteString(sep + "(?, 'e', 'FINISHED', ?)")
				ra = append(ra, id, int64(i))
				ps.WriteString(sep + "(?, 'learner', ?)")
				pa = append(pa, id, learners[rng.IntN(len(learners))])
				ms.WriteString(sep + "(?, 'roc_auc', 0, 0, ?)")
				ma = append(ma, id, rng.Float64())
			}
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{"INSERT INTO runs (id, experiment_id, status, start_ms) VALUES " + rs.String(), ra},
				{"INSERT INTO params (run_id, key, value) VALUES " + ps.String(), pa},
				{"INSERT INTO latest_metrics (run_id, key, step, ts_ms, value) VALUES " + ms.String(), ma},
			} {
				if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if db.Dialect() == sqlstore.SQLite {
		_, err = db.SQL().ExecContext(ctx, "ANALYZE")
	} else {
		_, err = db.SQL().ExecContext(ctx, "ANALYZE")
	}
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSearch100k lists the first page (100 runs) of 100,000 runs with
// a metric and param filter ordered by the metric (target: under 200 ms).
func BenchmarkSearch100k(b *testing.B) {
	ctx := context.Background()
	for _, be := range sqlstoretest.Backends(b) {
		b.Run(be.Name, func(b *testing.B) {
			db := sqlstoretest.Open(b, be)
			seedRuns(b, db, 100000)
			tr := track.New(db, nil)
			for _, q := range []struct{ name, filter, order string }{
				{"metric+param", "metrics.roc_auc > 0.9 and params.learner = 'gbdt'", "metrics.roc_auc"},
				{"param-only-newest", "params.learner = 'knn'", "start_time"},
				{"no-filter", "", "start_time"},
				{"metric+param-newest", "metrics.roc_auc > 0.9 and params.learner = 'gbdt'", "start_time"},
				{"sort-metric-asc", "", "metrics.roc_auc ASC"},
				{"rare-metric-newest", "metrics.roc_auc > 0.9995", "start_time"},
			} {
				b.Run(q.name, func(b *testing.B) {
					for b.Loop() {
						p, err := tr.Search(ctx, track.SearchOptions{Filter: q.filter, OrderBy: []string{q.order}, Limit: 100})
						if err != nil {
							b.Fatal(err)
						}
						if len(p.Runs) != 100 && q.name != "rare-metric-newest" {
							b.Fatalf("%d runs on the first page", len(p.Runs))
						}
					}
				})
			}
		})
	}
}
