package mlflowapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/mlflowapi"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
	"github.com/gyre-ml/gyre/internal/track"
)

// env is an API over fresh stores, behind a stand-in for the team
// server's authentication: the X-Test-Role header picks the caller's role
// (admin by default, "none" for no principal).
type env struct {
	db  *sqlstore.DB
	tr  *track.Tracker
	reg *registry.Registry
	bs  blob.Store
	api *mlflowapi.API
	srv *httptest.Server
}

// testBlobs returns the blob store of a test: MinIO when GYRE_TEST_S3 is
// set for the PostgreSQL backend, else a temporary directory.
func testBlobs(t testing.TB, backend string) blob.Store {
	t.Helper()
	if u := os.Getenv("GYRE_TEST_S3"); u != "" && backend == "postgres" {
		// Each test its own key space: the prefix is the URL's path (a
		// prefix= query parameter would be ignored).
		base, q, _ := strings.Cut(u, "?")
		bs, err := blob.Open(context.Background(), strings.TrimRight(base, "/")+"/mlflowapi-"+track.NewID()[:12]+"?"+q)
		if err != nil {
			t.Fatalf("open %s: %v", u, err)
		}
		return bs
	}
	bs, err := blob.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

func newEnv(t testing.TB, b sqlstoretest.Backend) *env {
	t.Helper()
	db := sqlstoretest.Open(t, b)
	bs := testBlobs(t, b.Name)
	e := &env{db: db, tr: track.New(db, bs), reg: registry.New(db, bs), bs: bs}
	e.api = mlflowapi.New(mlflowapi.Options{Tracker: e.tr, Registry: e.reg, Datasets: dataset.New(db, bs), Blobs: bs})
	e.srv = httptest.NewServer(withTestPrincipal(e.api))
	t.Cleanup(e.srv.Close)
	return e
}

func withTestPrincipal(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		switch role := r.Header.Get("X-Test-Role"); role {
		case "none":
		case "anonymous":
			ctx = access.WithPrincipal(ctx, &access.Principal{Name: "anonymous", Anonymous: true, Role: access.Viewer})
		default:
			rl := access.Admin
			if role != "" {
				rl, _ = access.ParseRole(role)
			}
			ctx = access.WithPrincipal(ctx, &access.Principal{Name: "tester-" + rl.String(), Role: rl})
			ctx = audit.WithActor(ctx, audit.Actor{Name: "tester-" + rl.String(), Kind: audit.KindUser, Remote: r.RemoteAddr})
		}
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// do sends a request and decodes the JSON answer.
func (e *env) do(t testing.TB, method, path string, body any, hdr ...string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %q", method, path, raw)
		}
	} else {
		out = map[string]any{"_raw": string(raw)}
	}
	return resp.StatusCode, out
}

// ok sends a request that must succeed.
func (e *env) ok(t testing.TB, method, path string, body any) map[string]any {
	t.Helper()
	st, out := e.do(t, method, path, body)
	if st != http.StatusOK {
		t.Fatalf("%s %s: status %d: %v", method, path, st, out)
	}
	return out
}

func get(m any, path ...string) any {
	for _, p := range path {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[p]
	}
	return m
}

const api = "/api/2.0/mlflow/"

func TestTrackingRoundTrip(t *testing.T) {
	for _, b := range sqlstoretest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()
			// A fresh store lists the Default experiment, as MLflow's does.
			if se := e.ok(t, "POST", api+"experiments/search", map[string]any{}); len(se["experiments"].([]any)) != 1 ||
				get(se["experiments"].([]any)[0], "experiment_id") != "0" || get(se["experiments"].([]any)[0], "name") != "Default" {
				t.Errorf("experiments/search on a fresh store: %v", se)
			}
			exp := e.ok(t, "POST", api+"experiments/create", map[string]any{"name": "churn", "tags": []map[string]string{{"key": "team", "value": "risk"}}})
			expID := exp["experiment_id"].(string)
			if st, out := e.do(t, "POST", api+"experiments/create", map[string]any{"name": "churn"}); st != 400 || out["error_code"] != "RESOURCE_ALREADY_EXISTS" {
				t.Errorf("duplicate experiment: %d %v", st, out)
			}
			got := e.ok(t, "GET", api+"experiments/get-by-name?experiment_name=churn", nil)
			if get(got, "experiment", "experiment_id") != expID || get(got, "experiment", "artifact_location") != "mlflow-artifacts:/"+expID {
				t.Errorf("get-by-name: %v", got)
			}
			if d := e.ok(t, "GET", api+"experiments/get?experiment_id=0", nil); get(d, "experiment", "name") != "Default" {
				t.Errorf("experiment 0: %v", d)
			}

			run := e.ok(t, "POST", "/ajax-api/2.0/mlflow/runs/create", map[string]any{"experiment_id": expID, "start_time": 1700000000000,
				"run_name": "first", "tags": []map[string]string{{"key": "mlflow.user", "value": "alice"}}})
			runID := get(run, "run", "info", "run_id").(string)
			if get(run, "run", "info", "artifact_uri") != "mlflow-artifacts:/"+expID+"/"+runID+"/artifacts" ||
				get(run, "run", "info", "status") != "RUNNING" || get(run, "run", "info", "user_id") != "tester-admin" {
				t.Errorf("created run: %v", run)
			}
			e.ok(t, "POST", api+"runs/log-parameter", map[string]any{"run_id": runID, "key": "lr", "value": "0.1"})
			for step := 0; step < 5; step++ {
				e.ok(t, "POST", api+"runs/log-metric", map[string]any{"run_id": runID, "key": "loss", "value": 1.0 / float64(step+1),
					"timestamp": 1700000000000 + step, "step": step})
			}
			e.ok(t, "POST", api+"runs/log-metric", map[string]any{"run_id": runID, "key": "weird", "value": "NaN", "timestamp": "1700000000000"})
			e.ok(t, "POST", api+"runs/log-batch", map[string]any{"run_id": runID,
				"metrics": []map[string]any{{"key": "auc", "value": 0.91, "timestamp": 1700000000100, "step": 0}},
				"params":  []map[string]any{{"key": "depth", "value": "6"}},
				"tags":    []map[string]any{{"key": "stage", "value": "dev"}}})
			e.ok(t, "POST", api+"runs/set-tag", map[string]any{"run_id": runID, "key": "note", "value": "hello"})
			e.ok(t, "POST", api+"runs/delete-tag", map[string]any{"run_id": runID, "key": "note"})
			e.ok(t, "POST", api+"runs/log-inputs", map[string]any{"run_id": runID, "datasets": []map[string]any{{
				"tags":    []map[string]string{{"key": "mlflow.data.context", "value": "training"}},
				"dataset": map[string]string{"name": "churn-train", "digest": "abc123", "source_type": "local", "source": `{"uri":"/data/churn.csv"}`}}}})

			// An artifact through the proxy, at the run's artifact_uri.
			art := "/api/2.0/mlflow-artifacts/artifacts/" + expID + "/" + runID + "/artifacts/plots/roc.txt"
			if st, out := e.do(t, "PUT", art, "roc bytes"); st != 200 {
				t.Fatalf("upload: %d %v", st, out)
			}
			if st, out := e.do(t, "GET", art, nil); st != 200 || out["_raw"] != "roc bytes" {
				t.Errorf("download: %d %v", st, out)
			}
			ls := e.ok(t, "GET", "/api/2.0/mlflow-artifacts/artifacts?path="+expID+"/"+runID+"/artifacts", nil)
			if files := ls["files"].([]any); len(files) != 1 || get(files[0], "path") != "plots" || get(files[0], "is_dir") != true {
				t.Errorf("proxy list: %v", ls)
			}
			ls = e.ok(t, "GET", api+"artifacts/list?run_id="+runID+"&path=plots", nil)
			if files := ls["files"].([]any); len(files) != 1 || get(files[0], "path") != "plots/roc.txt" || get(files[0], "file_size") != 9.0 {
				t.Errorf("run list: %v", ls)
			}

			upd := e.ok(t, "POST", api+"runs/update", map[string]any{"run_id": runID, "status": "FINISHED", "end_time": 1700000009000})
			if get(upd, "run_info", "status") != "FINISHED" || get(upd, "run_info", "end_time") != 1700000009000.0 {
				t.Errorf("update: %v", upd)
			}
			hist := e.ok(t, "GET", api+"metrics/get-history?run_id="+runID+"&metric_key=loss", nil)
			if ms := hist["metrics"].([]any); len(ms) != 5 || get(ms[4], "step") != 4.0 || get(ms[4], "value") != 0.2 {
				t.Errorf("history: %v", hist)
			}
			// The history in pages of 3: steps 0-2, then 3-4 and no further token.
			p1 := e.ok(t, "GET", api+"metrics/get-history?run_id="+runID+"&metric_key=loss&max_results=3", nil)
			tok, _ := p1["next_page_token"].(string)
			if ms := p1["metrics"].([]any); len(ms) != 3 || get(ms[2], "step") != 2.0 || tok == "" {
				t.Fatalf("history page 1: %v", p1)
			}
			p2 := e.ok(t, "GET", api+"metrics/get-history?run_id="+runID+"&metric_key=loss&max_results=3&page_token="+urlq(tok), nil)
			if ms := p2["metrics"].([]any); len(ms) != 2 || get(ms[0], "step") != 3.0 || p2["next_page_token"] != nil {
				t.Errorf("history page 2: %v", p2)
			}
			if st, out := e.do(t, "GET", api+"metrics/get-history?run_id="+runID+"&metric_key=loss&page_token=3", nil); st != 400 || out["error_code"] != "INVALID_PARAMETER_VALUE" {
				t.Errorf("history with a forged page token: %d %v", st, out)
			}

			// A second run to search over.
			run2 := e.ok(t, "POST", api+"runs/create", map[string]any{"experiment_id": expID})
			run2ID := get(run2, "run", "info", "run_id").(string)
			if name, _ := get(run2, "run", "info", "run_name").(string); name == "" {
				t.Errorf("run without a name got none: %v", run2)
			}
			e.ok(t, "POST", api+"runs/log-metric", map[string]any{"run_id": run2ID, "key": "auc", "value": 0.80, "timestamp": 1, "step": 0})
			// Without a body the query string is read, the metric's own
			// fields (an embedded struct) included.
			e.ok(t, "POST", api+"runs/log-metric?run_id="+run2ID+"&key=qs&value=0.5&timestamp=7&step=2", nil)
			if h := e.ok(t, "GET", api+"metrics/get-history?run_id="+run2ID+"&metric_key=qs", nil); len(h["metrics"].([]any)) != 1 ||
				get(h["metrics"].([]any)[0], "value") != 0.5 || get(h["metrics"].([]any)[0], "step") != 2.0 {
				t.Errorf("metric logged from the query string: %v", h)
			}
			sr := e.ok(t, "POST", api+"runs/search", map[string]any{"experiment_ids": []string{expID}, "filter": "metrics.auc > 0.85 and params.lr = '0.1'"})
			if rs := sr["runs"].([]any); len(rs) != 1 || get(rs[0], "info", "run_id") != runID {
				t.Errorf("filtered search: %v", sr)
			}
			sr = e.ok(t, "POST", api+"runs/search", map[string]any{"experiment_ids": []string{expID}, "order_by": []string{"metrics.auc"}, "max_results": 1})
			if rs := sr["runs"].([]any); len(rs) != 1 || get(rs[0], "info", "run_id") != run2ID || sr["next_page_token"] == nil {
				t.Fatalf("ordered page 1: %v", sr)
			}
			sr = e.ok(t, "POST", api+"runs/search", map[string]any{"experiment_ids": []string{expID}, "order_by": []string{"metrics.auc"},
				"max_results": 1, "page_token": sr["next_page_token"]})
			if rs := sr["runs"].([]any); len(rs) != 1 || get(rs[0], "info", "run_id") != runID || sr["next_page_token"] != nil {
				t.Errorf("ordered page 2: %v", sr)
			}

			// The same rows through Gyre's packages.
			ri, err := e.tr.Get(ctx, runID)
			if err != nil {
				t.Fatal(err)
			}
			if ri.Experiment != "churn" || ri.Name != "first" || ri.Status != track.StatusFinished || ri.Params["lr"] != "0.1" ||
				ri.Params["depth"] != "6" || ri.Metrics["loss"] != 0.2 || ri.Metrics["auc"] != 0.91 || ri.Tags["stage"] != "dev" ||
				len(ri.Artifacts) != 1 || ri.Artifacts[0].Name != "plots/roc.txt" || len(ri.Inputs) != 1 || ri.Inputs[0].Tags["mlflow.data.context"] != "training" {
				t.Errorf("run through track: %+v", ri)
			}
			if ri.Command != "" {
				t.Errorf("a run an MLflow client made without mlflow.source.name has command %q (the server's?)", ri.Command)
			}
			if _, ok := ri.Tags["note"]; ok {
				t.Errorf("deleted tag still there")
			}
			page, err := e.tr.Search(ctx, track.SearchOptions{Experiments: []string{"churn"}})
			if err != nil || len(page.Runs) != 2 {
				t.Errorf("gyre runs list: %d runs, %v", len(page.Runs), err)
			}
			// Every write is in the audit trail, by the server's actor.
			es, _, err := audit.List(ctx, e.db, audit.Query{ResourceKind: "run", Resource: runID, Limit: 1000})
			if err != nil || len(es) < 10 || es[0].Actor.Name != "tester-admin" {
				t.Errorf("audit of the run: %d entries, %v", len(es), err)
			}

			checkLifecycle(t, e, expID, run2ID)
		})
	}
}

// checkLifecycle: soft delete and restore of a run and of its experiment,
// with MLflow's view types and the write refused on a deleted run.
func checkLifecycle(t *testing.T, e *env, expID, run2ID string) {
	t.Helper()
	// Soft delete hides the run from searches; restore brings it back.
	e.ok(t, "POST", api+"runs/delete", map[string]any{"run_id": run2ID})
	sr := e.ok(t, "POST", api+"runs/search", map[string]any{"experiment_ids": []string{expID}})
	if rs := sr["runs"].([]any); len(rs) != 1 {
		t.Errorf("after delete: %d runs", len(rs))
	}
	sr = e.ok(t, "POST", api+"runs/search", map[string]any{"experiment_ids": []string{expID}, "run_view_type": "DELETED_ONLY"})
	if rs := sr["runs"].([]any); len(rs) != 1 || get(rs[0], "info", "lifecycle_stage") != "deleted" {
		t.Errorf("deleted only: %v", sr)
	}
	// The run is known to the server's cache of runs' experiments: the
	// write itself must refuse it, with MLflow's words.
	for _, path := range []string{"runs/log-metric", "runs/log-batch"} {
		body := map[string]any{"run_id": run2ID, "key": "x", "value": 1, "timestamp": 1}
		if path == "runs/log-batch" {
			body = map[string]any{"run_id": run2ID, "metrics": []map[string]any{{"key": "x", "value": 1, "timestamp": 1}}}
		}
		st, out := e.do(t, "POST", api+path, body)
		if msg, _ := out["message"].(string); st != 400 || out["error_code"] != "INVALID_PARAMETER_VALUE" || !strings.Contains(msg, "must be in the 'active' state") {
			t.Errorf("%s into a deleted run: %d %v", path, st, out)
		}
	}
	e.ok(t, "POST", api+"runs/restore", map[string]any{"run_id": run2ID})

	// A run purged by another process (gyre runs delete, gc) after
	// logging is not found.
	gone := e.ok(t, "POST", api+"runs/create", map[string]any{"experiment_id": expID})
	goneID := get(gone, "run", "info", "run_id").(string)
	e.ok(t, "POST", api+"runs/log-metric", map[string]any{"run_id": goneID, "key": "x", "value": 1, "timestamp": 1})
	if err := track.New(e.db, e.bs).Delete(context.Background(), goneID); err != nil {
		t.Fatal(err)
	}
	if st, out := e.do(t, "POST", api+"runs/log-metric", map[string]any{"run_id": goneID, "key": "x", "value": 2, "timestamp": 1}); st != 404 || out["error_code"] != "RESOURCE_DOES_NOT_EXIST" {
		t.Errorf("log into a purged run: %d %v", st, out)
	}

	// Experiments: rename, tag, search, delete, restore.
	e.ok(t, "POST", api+"experiments/update", map[string]any{"experiment_id": expID, "new_name": "churn-2"})
	e.ok(t, "POST", api+"experiments/set-experiment-tag", map[string]any{"experiment_id": expID, "key": "owner", "value": "ops"})
	se := e.ok(t, "POST", api+"experiments/search", map[string]any{"filter": "name LIKE 'churn%' AND tags.owner = 'ops'"})
	if xs := se["experiments"].([]any); len(xs) != 1 || get(xs[0], "name") != "churn-2" {
		t.Errorf("experiment search: %v", se)
	}
	e.ok(t, "POST", api+"experiments/delete", map[string]any{"experiment_id": expID})
	if l := e.ok(t, "GET", api+"experiments/list", nil); len(l["experiments"].([]any)) != 1 { // Default only
		t.Errorf("list after delete: %v", l)
	}
	e.ok(t, "POST", api+"experiments/restore", map[string]any{"experiment_id": expID})
	sr = e.ok(t, "POST", api+"runs/search", map[string]any{"experiment_ids": []string{expID}})
	if rs := sr["runs"].([]any); len(rs) != 2 {
		t.Errorf("runs after restoring the experiment: %d", len(rs))
	}
}

func urlq(s string) string { return url.QueryEscape(s) }

func newServer(t testing.TB, h http.Handler) *httptest.Server {
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}
