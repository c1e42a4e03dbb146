package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/track"
)

// bulkRuns inserts n finished runs into one experiment straight into the
// store's tables (the tracker's one-write-per-run path would take minutes
// at 100,000): each with params learner, learning_rate and num_leaves and
// latest metrics valid_roc_auc and train_logloss.
func bulkRuns(tb testing.TB, e *env, experiment string, n int) string {
	tb.Helper()
	ctx := context.Background()
	expID, err := e.tr.EnsureExperiment(ctx, experiment)
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	t0 := time.Now().Add(-time.Duration(n) * time.Second).UnixMilli()
	const chunk = 400
	err = e.db.Write(ctx, func(tx *sqlstore.Tx) error {
		for lo := 0; lo < n; lo += chunk {
			hi := min(lo+chunk, n)
			var runs, params, metrics []string
			var ra, pa, ma []any
			for i := lo; i < hi; i++ {
				id := track.NewID()
				start := t0 + int64(i)*1000
				runs = append(runs, "(?, ?, ?, 'FINISHED', ?, ?)")
				ra = append(ra, id, expID, fmt.Sprintf("run-%d", i), start, start+900)
				learner := []string{"gbdt", "random_forest", "extra_trees", "logistic_regression"}[i%4]
				params = append(params, "(?, 'learner', ?)", "(?, 'learning_rate', ?)", "(?, 'num_leaves', ?)")
				pa = append(pa, id, learner, id, fmt.Sprint([]float64{0.03, 0.1, 0.3}[i%3]), id, fmt.Sprint(8<<(i%6)))
				auc := 0.7 + 0.25*rng.Float64()
				metrics = append(metrics, "(?, 'valid_roc_auc', 0, ?, ?)", "(?, 'train_logloss', 0, ?, ?)")
				ma = append(ma, id, start, auc, id, start, math.Max(0.05, 1-auc))
			}
			for _, q := range []struct {
				sql  string
				rows []string
				args []any
			}{
				{"INSERT INTO runs (id, experiment_id, name, status, start_ms, end_ms) VALUES ", runs, ra},
				{"INSERT INTO params (run_id, key, value) VALUES ", params, pa},
				{"INSERT INTO latest_metrics (run_id, key, step, ts_ms, value) VALUES ", metrics, ma},
			} {
				if _, err := tx.ExecContext(ctx, q.sql+strings.Join(q.rows, ", "), q.args...); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return expID
}

// BenchmarkRunsPage100k loads the runs page of an experiment of 100,000
// runs in headless Chromium (logged in) and applies a filter, reporting
// first contentful paint, the time until the table shows, the filter's
// response (submit to the new table drawn) and the first load's page
// weight as transferred (gzip).
//
//	go test ./internal/web/ui -run '^$' -bench RunsPage100k -benchtime 5x
func BenchmarkRunsPage100k(b *testing.B) {
	e := newEnv(b)
	expID := bulkRuns(b, e, "big", 100_000)
	br := newBenchBrowser(b, e.URL)
	br.login("alice", "password-of-alice")
	var fcp, table, filter, weight float64
	b.ResetTimer()
	for range b.N {
		br.do("clear cache", clearCache())
		br.open("runs", "/experiments/"+expID, `document.querySelectorAll('#runs tbody tr').length === 100`)
		v := eval[[]float64](br, "timings", `(() => { const p = performance.getEntriesByName('first-contentful-paint')[0];
		  const nav = performance.getEntriesByType('navigation')[0];
		  const bytes = [nav, ...performance.getEntriesByType('resource')].reduce((s, r) => s + (r.transferSize || 0), 0);
		  return [p ? p.startTime : -1, performance.now(), bytes]; })()`)
		fcp += v[0]
		table += v[1]
		weight += v[2]
		ms := eval[float64](br, "filter", `new Promise((resolve) => {
		  const t0 = performance.now();
		  const obs = new MutationObserver(() => { if (document.querySelector('#runs tbody tr') && location.search.includes('filter')) { obs.disconnect(); resolve(performance.now() - t0); } });
		  obs.observe(document.getElementById('runs'), { childList: true, subtree: true });
		  document.getElementById('filter').value = "params.learner = 'gbdt' and metrics.valid_roc_auc > 0.9";
		  document.getElementById('run-filter').requestSubmit(); })`)
		filter += ms
	}
	n := float64(b.N)
	b.ReportMetric(fcp/n, "fcp_ms")
	b.ReportMetric(table/n, "table_ms")
	b.ReportMetric(filter/n, "filter_ms")
	b.ReportMetric(weight/n/1024, "page_kB")
}

// walkTo follows a listing's next_page_token from its first page, 1,000
// runs at a time, and returns the token of the page that starts at offset.
func walkTo(b *testing.B, e *env, c *http.Client, query string, offset int) string {
	b.Helper()
	tok := ""
	for at := 0; at < offset; at += 1000 {
		q := strings.Replace(query, "max_results=100", "max_results=1000", 1)
		if tok != "" {
			q += "&page_token=" + tok
		}
		code, body := e.get(c, q)
		if code != 200 {
			b.Fatalf("%s: %d %s", q, code, body)
		}
		var page struct {
			Next string `json:"next_page_token"`
		}
		if err := json.Unmarshal([]byte(body), &page); err != nil || page.Next == "" {
			b.Fatalf("%s: no next page at %d: %v", q, at, err)
		}
		tok = page.Next
	}
	return tok
}

// BenchmarkCompare10Runs draws the compare view of 10 runs with 5 metrics
// of 1,000 steps each, from navigation to every curve drawn (the page's
// gyre:drawn mark, after the frame is painted), and reports when the last
// API response arrived.
func BenchmarkCompare10Runs(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	var ids []string
	for i := range 10 {
		run, err := e.tr.Start(ctx, track.RunOptions{Experiment: "curves", Name: fmt.Sprintf("run-%d", i), Params: map[string]string{"lr": fmt.Sprint(0.01 * float64(i+1))}})
		if err != nil {
			b.Fatal(err)
		}
		for k := range 5 {
			pts := make([]track.Metric, 0, 1000)
			for s := range 1000 {
				pts = append(pts, track.Metric{Key: fmt.Sprintf("m%d", k), Value: math.Exp(-float64(s)/(200+20*float64(i))) + 0.01*float64(k), Step: int64(s)})
			}
			if err := run.LogMetrics(ctx, pts); err != nil {
				b.Fatal(err)
			}
		}
		ids = append(ids, run.ID())
	}
	br := newBenchBrowser(b, e.URL)
	br.login("alice", "password-of-alice")
	var total, fetched float64
	b.ResetTimer()
	for range b.N {
		br.open("compare", "/compare?runs="+strings.Join(ids, ","), `document.querySelectorAll('#curves .chart canvas').length === 5 && performance.getEntriesByName('gyre:drawn').length === 1`)
		v := eval[[]float64](br, "drawn", `[performance.getEntriesByName('gyre:drawn')[0].startTime, Math.max(...performance.getEntriesByType('resource').filter((r) => r.name.includes('/api/')).map((r) => r.responseEnd))]`)
		total += v[0]
		fetched += v[1]
	}
	b.ReportMetric(total/float64(b.N), "draw_ms")
	b.ReportMetric(fetched/float64(b.N), "fetched_ms")
}

// BenchmarkRunsAPI100k times the runs table's API calls on 100,000 runs
// (and a second experiment of 10,000): the first page, the first page of
// a filter and of two sorts (by a metric; by a parameter of 4 values,
// ties of 25,000 runs), page 201 of a filter matching a quarter of the
// runs by its offset token (page=201 in the page's URL) and by the keyset
// token the pages before it handed on (the page's Older button), and a
// filter over both experiments.
//
//	go test ./internal/web/ui -run '^$' -bench RunsAPI100k -benchtime 20x
func BenchmarkRunsAPI100k(b *testing.B) {
	e := newEnv(b)
	bulkRuns(b, e, "big", 100_000)
	bulkRuns(b, e, "small", 10_000)
	c := e.client()
	if r := e.login(c, "alice", "password-of-alice"); r.StatusCode != 303 {
		b.Fatalf("login: %d", r.StatusCode)
	}
	const quarter = "/api/v1/runs?experiment=big&max_results=100&filter=params.learner+%3D+%27gbdt%27"
	keyset := walkTo(b, e, c, quarter, 20_000)
	const ties = "/api/v1/runs?experiment=big&max_results=100&order_by=params.learner+ASC"
	tiesKeyset := walkTo(b, e, c, ties, 20_000)
	for _, q := range []struct{ name, query string }{
		{"first-page", "/api/v1/runs?experiment=big&max_results=100"},
		{"filter", "/api/v1/runs?experiment=big&max_results=100&filter=params.learner+%3D+%27gbdt%27+and+metrics.valid_roc_auc+%3E+0.9"},
		{"sort-metric", "/api/v1/runs?experiment=big&max_results=100&order_by=metrics.%60valid_roc_auc%60+DESC"},
		{"sort-ties", ties},
		{"sort-ties-deep-keyset", ties + "&page_token=" + tiesKeyset},
		{"deep-offset", quarter + "&page_token=" + track.EncodePageToken(20_000)},
		{"deep-keyset", quarter + "&page_token=" + keyset},
		{"two-experiments", "/api/v1/runs?experiment=big&experiment=small&max_results=100&filter=params.learner+%3D+%27gbdt%27+and+metrics.valid_roc_auc+%3E+0.9"},
	} {
		b.Run(q.name, func(b *testing.B) {
			for range b.N {
				if code, body := e.get(c, q.query); code != 200 {
					b.Fatalf("%s: %d %s", q.query, code, body)
				}
			}
		})
	}
}
