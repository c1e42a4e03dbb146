package mlflowapi_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
)

// BenchmarkServer measures the MLflow API over HTTP (loopback) on each
// backend, against the bars of issue 17: runs/search over 100,000 runs with
// a metric filter and order (p50), log-batch of 1,000 metrics (p50), and
// the metric points per second 8 concurrent clients log (one point per
// log-metric call, and log-batch of 100). GYRE_BENCH_RUNS changes the run
// count (default 100000); the store is filled once per backend by bulk SQL.
//
//	go test ./internal/mlflowapi -run '^$' -bench Server -benchtime 200x
func BenchmarkServer(b *testing.B) {
	n := 100000
	if s := os.Getenv("GYRE_BENCH_RUNS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	for _, be := range sqlstoretest.Backends(b) {
		b.Run(be.Name, func(b *testing.B) {
			e := newEnv(b, be)
			t0 := time.Now()
			expID := populate(b, e, n)
			b.Logf("%s: %d runs stored in %.1f s", be.Name, n, time.Since(t0).Seconds())
			b.Run("search", func(b *testing.B) { benchSearch(b, e, expID) })
			b.Run("log-batch-1000", func(b *testing.B) { benchLogBatch(b, e, expID) })
			b.Run("8-clients-log-metric", func(b *testing.B) { benchClients(b, e, expID, 1) })
			b.Run("8-clients-log-batch-100", func(b *testing.B) { benchClients(b, e, expID, 100) })
		})
	}
}

// populate stores n finished runs in a new experiment, each with 5 params,
// 3 latest metrics (and their history point) and 2 tags, and returns the
// experiment id.
func populate(b *testing.B, e *env, n int) string {
	ctx := context.Background()
	expID, err := e.tr.CreateExperiment(ctx, "bench", "", nil)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now().Add(-30 * 24 * time.Hour).UnixMilli()
	const chunk = 500
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		var runs, params, metrics, hist, tags [][]any
		for i := lo; i < hi; i++ {
			id := fmt.Sprintf("%032x", i+1)
			st := start + int64(i)*1000
			runs = append(runs, []any{id, expID, "run " + strconv.Itoa(i), "FINISHED", st, st + 60000})
			for k, v := range map[string]string{"lr": strconv.FormatFloat(float64(rng.IntN(10)+1)/100, 'g', -1, 64),
				"depth": strconv.Itoa(rng.IntN(8) + 2), "learner": []string{"gbdt", "forest", "linear"}[rng.IntN(3)],
				"seed": strconv.Itoa(i), "rows": "32561"} {
				params = append(params, []any{id, k, v})
			}
			for _, k := range []string{"auc", "loss", "fit_seconds"} {
				v := rng.Float64()
				metrics = append(metrics, []any{id, k, 0, st, v})
				hist = append(hist, []any{id, k, 0, st, v})
			}
			tags = append(tags, []any{id, "mlflow.runName", "run " + strconv.Itoa(i)}, []any{id, "team", []string{"risk", "growth"}[i%2]})
		}
		err := e.db.Write(ctx, func(tx *sqlstore.Tx) error {
			for _, ins := range []struct {
				head string
				rows [][]any
			}{
				{"INSERT INTO runs (id, experiment_id, name, status, start_ms, end_ms) VALUES ", runs},
				{"INSERT INTO params (run_id, key, value) VALUES ", params},
				{"INSERT INTO latest_metrics (run_id, key, step, ts_ms, value) VALUES ", metrics},
				{"INSERT INTO metric_history (run_id, key, step, ts_ms, value) VALUES ", hist},
				{"INSERT INTO tags (run_id, key, value) VALUES ", tags},
			} {
				if err := insertRows(ctx, tx, ins.head, ins.rows); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if e.db.Dialect() == sqlstore.Postgres {
		if _, err := e.db.SQL().ExecContext(ctx, "ANALYZE"); err != nil {
			b.Fatal(err)
		}
	}
	return expID
}

// insertRows inserts rows in multi-row statements of at most 1,000
// parameters.
func insertRows(ctx context.Context, tx *sqlstore.Tx, head string, rows [][]any) error {
	per := max(1, 1000/len(rows[0]))
	for lo := 0; lo < len(rows); lo += per {
		hi := min(lo+per, len(rows))
		var sb strings.Builder
		sb.WriteString(head)
		var args []any
		ph := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(rows[0])), ", ") + ")"
		for i, r := range rows[lo:hi] {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(ph)
			args = append(args, r...)
		}
		if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// report records p50 and p90 of per-operation latencies.
func report(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.9), "p90-ms")
	b.ReportMetric(0, "ns/op")
}

func benchSearch(b *testing.B, e *env, expID string) {
	body := map[string]any{"experiment_ids": []string{expID}, "filter": "metrics.auc > 0.5 and params.learner = 'gbdt'",
		"order_by": []string{"metrics.auc DESC"}, "max_results": 100}
	out := e.ok(b, "POST", "/api/2.0/mlflow/runs/search", body)
	if runs, _ := out["runs"].([]any); len(runs) != 100 {
		b.Fatalf("search gave %d runs, want a page of 100", len(runs))
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t := time.Now()
		e.ok(b, "POST", "/api/2.0/mlflow/runs/search", body)
		lat = append(lat, time.Since(t))
	}
	b.StopTimer()
	report(b, lat)
}

func metricsBody(runID string, n, step int) map[string]any {
	ms := make([]map[string]any, n)
	ts := time.Now().UnixMilli()
	for i := range ms {
		ms[i] = map[string]any{"key": "m" + strconv.Itoa(i%10), "value": float64(i) / 7, "timestamp": ts, "step": step*100 + i/10}
	}
	return map[string]any{"run_id": runID, "metrics": ms}
}

func newRun(b *testing.B, e *env, expID string) string {
	out := e.ok(b, "POST", "/api/2.0/mlflow/runs/create", map[string]any{"experiment_id": expID, "start_time": time.Now().UnixMilli()})
	return get(out, "run", "info", "run_id").(string)
}

func benchLogBatch(b *testing.B, e *env, expID string) {
	id := newRun(b, e, expID)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		body := metricsBody(id, 1000, i)
		t := time.Now()
		e.ok(b, "POST", "/api/2.0/mlflow/runs/log-batch", body)
		lat = append(lat, time.Since(t))
	}
	b.StopTimer()
	report(b, lat)
}

// benchClients runs 8 clients, each logging into its own run, per point
// (per=1, log-metric) or in batches of per points (log-batch), for b.N
// requests in all, and reports the points per second they sustain.
func benchClients(b *testing.B, e *env, expID string, per int) {
	const clients = 8
	ids := make([]string, clients)
	for i := range ids {
		ids[i] = newRun(b, e, expID)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	t0 := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				var st int
				if per == 1 {
					st, _ = e.do(b, "POST", "/api/2.0/mlflow/runs/log-metric", map[string]any{"run_id": ids[c], "key": "loss",
						"value": 1 / float64(i), "timestamp": time.Now().UnixMilli(), "step": i})
				} else {
					st, _ = e.do(b, "POST", "/api/2.0/mlflow/runs/log-batch", metricsBody(ids[c], per, int(i)))
				}
				if st != http.StatusOK {
					b.Errorf("client %d: status %d", c, st)
					return
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	b.StopTimer()
	b.ReportMetric(float64(b.N*per)/el.Seconds(), "points/s")
	// Nothing lost: every point is in the history.
	total := 0
	for _, id := range ids {
		var n int
		if err := e.db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM metric_history WHERE run_id = ?", id).Scan(&n); err != nil {
			b.Fatal(err)
		}
		total += n
	}
	if total != b.N*per {
		b.Fatalf("%d points stored, %d logged", total, b.N*per)
	}
}
