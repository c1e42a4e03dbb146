package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rideAPI is a paged JSON API over bike sharing rows (offset/limit
// pagination, records under "data"), requiring an Authorization header;
// its rows can be replaced while it runs.
type rideAPI struct {
	mu       sync.Mutex
	rows     [][]string // header first
	requests atomic.Int64
}

func (a *rideAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.requests.Add(1)
	if r.Header.Get("Authorization") != "Bearer ride-s3cret" {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	lim, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if lim <= 0 {
		lim = 500
	}
	a.mu.Lock()
	header, body := a.rows[0], a.rows[1:]
	a.mu.Unlock()
	page := []map[string]json.Number{}
	for i := off; i < len(body) && i < off+lim; i++ {
		rec := map[string]json.Number{}
		for j, h := range header {
			rec[h] = json.Number(body[i][j])
		}
		page = append(page, rec)
	}
	json.NewEncoder(w).Encode(map[string]any{"data": page, "meta": map[string]int{"total": len(body)}})
}

func (a *rideAPI) set(rows [][]string) {
	a.mu.Lock()
	a.rows = rows
	a.mu.Unlock()
}

const pullProject = `version: 1
name: rides
problem:
  target: cnt
  task: regression
data:
  source: URL
  api:
    paginate: offset
    items: data
    headers: {Authorization: GYRE_TEST_RIDES_AUTH}
    rate_limit: 1000
goals:
  - p99_latency <= 2s
train:
  learner: gbdt
  params: {n_estimators: "30"}
triggers:
  schedule: "@every 1s"
  on_new_data: true
  poll: 1h
`

func TestPulledSourceIsVersionedAndScheduled(t *testing.T) {
	env := testEnv(t)
	ctx := context.Background()
	rows := bikeRows(t)
	api := &rideAPI{rows: rows[:1501]}
	srv := httptest.NewServer(api)
	defer srv.Close()
	t.Setenv("GYRE_TEST_RIDES_AUTH", "Bearer ride-s3cret")
	url := srv.URL + "/v1/rides?limit=400&token=q-s3cret"
	dir := t.TempDir()
	p := project(t, dir, strings.Replace(pullProject, "URL", url, 1))

	// The first run pulls every page, versions the snapshot and trains on it.
	res, err := Run(ctx, env, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "promoted" || res.Steps[0].Status != "done" || !strings.Contains(res.Steps[0].Summary, "new version rides@1 (1500 rows)") {
		t.Fatalf("first run: %s %+v", res.Status, res.Steps[0])
	}
	v, err := env.Datasets.Get(ctx, "rides@1")
	if err != nil {
		t.Fatal(err)
	}
	if v.Format != "parquet" || v.Summary.Rows != 1500 || !strings.Contains(v.Source, "/v1/rides") {
		t.Errorf("version 1: %+v", v)
	}
	for _, s := range append([]string{v.Source, res.Steps[0].Summary}, stepTexts(res)...) {
		if strings.Contains(s, "s3cret") {
			t.Errorf("a secret is recorded: %s", s)
		}
	}
	if n := api.requests.Load(); n != 4 { // 400+400+400+300, the last page short
		t.Errorf("%d requests for 1500 rows in pages of 400", n)
	}

	// The same content pulled again is the same version: nothing to do.
	res, err = Run(ctx, env, p, Options{})
	if err != nil || res.Status != "unchanged" {
		t.Fatalf("unchanged pull: %v %+v", err, res)
	}
	if reason, err := Due(ctx, env, p, nil); err != nil || reason != "" {
		t.Fatalf("due on unchanged data: %q %v", reason, err)
	}

	// New rows: the poll pulls them, versions them and calls for a run,
	// which trains on that version.
	api.set(rows[:2001])
	reason, err := Due(ctx, env, p, nil)
	if err != nil || reason != "new data version" {
		t.Fatalf("due on new data: %q %v", reason, err)
	}
	if v2, err := env.Datasets.Get(ctx, "rides"); err != nil || v2.Version != 2 || v2.Summary.Rows != 2000 {
		t.Fatalf("latest after the poll: %+v %v", v2, err)
	}
	res, err = Run(ctx, env, p, Options{Trigger: reason})
	if err != nil {
		t.Fatal(err)
	}
	trained := false
	for _, s := range res.Steps {
		trained = trained || s.Step == "train" && s.Status == "done"
	}
	if !trained || !strings.Contains(res.Steps[0].Summary, "rides@2 (2000 rows)") {
		t.Fatalf("run on new data: %+v", res.Steps)
	}

	// The schedule pulls at each tick; unchanged content runs nothing.
	before := api.requests.Load()
	// The schedule stops after its first run; the generous timeout only
	// guards against a hang, so a loaded machine cannot cut a run short.
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var runs []string
	var mu sync.Mutex
	err = Schedule(sctx, env, p, ScheduleOptions{OnRun: func(trigger string, r *Result, err error) {
		mu.Lock()
		defer mu.Unlock()
		defer cancel()
		if err != nil {
			if sctx.Err() == nil {
				t.Errorf("scheduled run: %v", err)
			}
			return
		}
		runs = append(runs, trigger+": "+r.Status)
	}})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(runs) == 0 || runs[0] != "schedule @every 1s: unchanged" || api.requests.Load() == before {
		t.Fatalf("scheduled runs %v, %d requests", runs, api.requests.Load()-before)
	}

	// A run continued under its id keeps the version it pulled.
	api.set(rows[:2201])
	res, err = Run(ctx, env, p, Options{ID: "run-cont", Through: "ingest"})
	if err != nil {
		t.Fatal(err)
	}
	api.set(rows[:2401])
	res2, err := Run(ctx, env, p, Options{ID: "run-cont", Through: "validate"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps[0].Key != res2.Steps[0].Key || !strings.Contains(res2.Steps[0].Summary, "pulled earlier in this run: rides@3") {
		t.Errorf("continued run re-pulled: %+v then %+v", res.Steps[0], res2.Steps[0])
	}

	// The API refusing the pull fails the run as an input error naming the
	// source, without the secret.
	t.Setenv("GYRE_TEST_RIDES_AUTH", "Bearer wrong")
	_, err = Run(ctx, env, p, Options{})
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "/v1/rides") || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "401") {
		t.Fatalf("refused pull: %v", err)
	}
}

func stepTexts(r *Result) []string {
	var out []string
	for _, s := range r.Steps {
		out = append(out, s.Summary)
	}
	return out
}

func TestPullConfigErrors(t *testing.T) {
	base := "version: 1\nname: x\nproblem:\n  target: y\ndata:\n  source: SRC\n  api:\n    API\n"
	cases := []struct{ src, api, want string }{
		{"data.csv", "paginate: offset", "data.api: applies to an http(s) source"},
		{"https://h/x", "paginate: sideways", "data.api.paginate"},
		{"https://h/x", "headers: {Authorization: Bearer abc}", "never the value itself"},
	}
	for _, c := range cases {
		y := strings.Replace(strings.Replace(base, "SRC", c.src, 1), "API", c.api, 1)
		_, err := Parse([]byte(y), "gyre.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s / %s: %v, want %q", c.src, c.api, err, c.want)
		}
	}
}
