package mlflowapi_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
)

// TestBadInput: every bad request gets MLflow's error code and a message
// naming the field, never a 500.
func TestBadInput(t *testing.T) {
	e := newEnv(t, sqlstoretest.Backends(t)[0])
	run := e.ok(t, "POST", api+"runs/create", map[string]any{"experiment_id": "0"})
	runID := get(run, "run", "info", "run_id").(string)
	e.ok(t, "POST", api+"runs/log-parameter", map[string]any{"run_id": runID, "key": "lr", "value": "0.1"})
	many := func(n int, f func(i int) map[string]any) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	metric := func(i int) map[string]any {
		return map[string]any{"key": fmt.Sprint("m", i), "value": i, "timestamp": 1}
	}
	kv := func(i int) map[string]any { return map[string]any{"key": fmt.Sprint("k", i), "value": "v"} }
	for _, c := range []struct {
		name, method, path string
		body               any
		status             int
		code, mention      string
	}{
		{"unknown experiment", "GET", api + "experiments/get?experiment_id=12345", nil, 404, "RESOURCE_DOES_NOT_EXIST", "12345"},
		{"unknown run", "GET", api + "runs/get?run_id=deadbeef", nil, 404, "RESOURCE_DOES_NOT_EXIST", "deadbeef"},
		{"run in unknown experiment", "POST", api + "runs/create", map[string]any{"experiment_id": "999"}, 404, "RESOURCE_DOES_NOT_EXIST", "999"},
		{"missing run id", "POST", api + "runs/log-metric", map[string]any{"key": "x", "value": 1, "timestamp": 1}, 400, "INVALID_PARAMETER_VALUE", "run_id"},
		{"malformed filter", "POST", api + "runs/search", map[string]any{"filter": "metrics.auc >> 1"}, 400, "INVALID_PARAMETER_VALUE", "filter"},
		{"filter unknown entity", "POST", api + "runs/search", map[string]any{"filter": "foo.bar = 'x'"}, 400, "INVALID_PARAMETER_VALUE", "foo"},
		{"filter unquoted string", "POST", api + "runs/search", map[string]any{"filter": "params.lr = 0.1"}, 400, "INVALID_PARAMETER_VALUE", "params.lr"},
		{"bad order_by", "POST", api + "runs/search", map[string]any{"order_by": []string{"metrics.auc SIDEWAYS"}}, 400, "INVALID_PARAMETER_VALUE", "SIDEWAYS"},
		{"bad page token", "POST", api + "runs/search", map[string]any{"page_token": "garbage"}, 400, "INVALID_PARAMETER_VALUE", "page token"},
		{"max_results too big", "POST", api + "runs/search", map[string]any{"max_results": 50001}, 400, "INVALID_PARAMETER_VALUE", "max_results"},
		{"too many metrics", "POST", api + "runs/log-batch", map[string]any{"run_id": runID, "metrics": many(1001, metric)}, 400, "INVALID_PARAMETER_VALUE", "1000 metrics"},
		{"too many params", "POST", api + "runs/log-batch", map[string]any{"run_id": runID, "params": many(101, kv)}, 400, "INVALID_PARAMETER_VALUE", "100 params"},
		{"too many tags", "POST", api + "runs/log-batch", map[string]any{"run_id": runID, "tags": many(101, kv)}, 400, "INVALID_PARAMETER_VALUE", "100 tags"},
		{"metric value not a number", "POST", api + "runs/log-metric", map[string]any{"run_id": runID, "key": "x", "value": "high", "timestamp": 1}, 400, "INVALID_PARAMETER_VALUE", "value"},
		{"metric value missing", "POST", api + "runs/log-metric", map[string]any{"run_id": runID, "key": "x", "timestamp": 1}, 400, "INVALID_PARAMETER_VALUE", "value"},
		{"metric value an object", "POST", api + "runs/log-batch", map[string]any{"run_id": runID, "metrics": []any{map[string]any{"key": "x", "value": map[string]int{"a": 1}, "timestamp": 1}}}, 400, "INVALID_PARAMETER_VALUE", "value"},
		{"negative timestamp", "POST", api + "runs/log-metric", map[string]any{"run_id": runID, "key": "x", "value": 1, "timestamp": -5}, 400, "INVALID_PARAMETER_VALUE", "timestamp"},
		{"step not whole", "POST", api + "runs/log-metric", map[string]any{"run_id": runID, "key": "x", "value": 1, "timestamp": 1, "step": 1.5}, 400, "INVALID_PARAMETER_VALUE", "step"},
		{"bad metric name", "POST", api + "runs/log-metric", map[string]any{"run_id": runID, "key": "a*b", "value": 1, "timestamp": 1}, 400, "INVALID_PARAMETER_VALUE", "a*b"},
		{"metric name as path", "POST", api + "runs/log-metric", map[string]any{"run_id": runID, "key": "../x", "value": 1, "timestamp": 1}, 400, "INVALID_PARAMETER_VALUE", "../x"},
		{"param changed", "POST", api + "runs/log-parameter", map[string]any{"run_id": runID, "key": "lr", "value": "0.2"}, 400, "INVALID_PARAMETER_VALUE", "key='lr'"},
		{"param changed in batch", "POST", api + "runs/log-batch", map[string]any{"run_id": runID, "params": []any{map[string]string{"key": "lr", "value": "9"}}}, 400, "INVALID_PARAMETER_VALUE", "lr"},
		{"duplicate param in batch", "POST", api + "runs/log-batch", map[string]any{"run_id": runID, "params": []any{map[string]string{"key": "a", "value": "1"}, map[string]string{"key": "a", "value": "2"}}}, 400, "INVALID_PARAMETER_VALUE", "Duplicate"},
		{"param value too long", "POST", api + "runs/log-parameter", map[string]any{"run_id": runID, "key": "long", "value": strings.Repeat("x", 6001)}, 400, "INVALID_PARAMETER_VALUE", "6000"},
		{"malformed JSON", "POST", api + "runs/log-metric", `{"run_id": `, 400, "INVALID_PARAMETER_VALUE", "JSON"},
		{"JSON array body", "POST", api + "runs/create", `[1,2]`, 400, "INVALID_PARAMETER_VALUE", "object"},
		{"wrong type", "POST", api + "experiments/create", map[string]any{"name": 5}, 400, "INVALID_PARAMETER_VALUE", "name"},
		{"empty experiment name", "POST", api + "experiments/create", map[string]any{"name": ""}, 400, "INVALID_PARAMETER_VALUE", "experiment name"},
		{"bad status", "POST", api + "runs/update", map[string]any{"run_id": runID, "status": "DONE"}, 400, "INVALID_PARAMETER_VALUE", "status"},
		{"bad view type", "POST", api + "runs/search", map[string]any{"run_view_type": "SOME"}, 400, "INVALID_PARAMETER_VALUE", "run_view_type"},
		{"bad query number", "GET", api + "metrics/get-history?run_id=" + runID + "&metric_key=x&max_results=ten", nil, 400, "INVALID_PARAMETER_VALUE", "max_results"},
		{"delete default experiment", "POST", api + "experiments/delete", map[string]any{"experiment_id": "0"}, 400, "INVALID_PARAMETER_VALUE", "Default"},
		{"bad model name", "POST", api + "registered-models/create", map[string]any{"name": "a/b"}, 400, "INVALID_PARAMETER_VALUE", "a/b"},
		{"bad version number", "GET", api + "model-versions/get?name=x&version=one", nil, 404, "RESOURCE_DOES_NOT_EXIST", "x"},
		{"registry filter", "GET", api + "model-versions/search?filter=" + urlq("name = churn"), nil, 400, "INVALID_PARAMETER_VALUE", "quoted"},
		{"unknown endpoint", "GET", api + "runs/nope", nil, 404, "ENDPOINT_NOT_FOUND", "runs/nope"},
		{"wrong method", "GET", api + "runs/create", nil, 405, "BAD_REQUEST", "POST"},
	} {
		st, out := e.do(t, c.method, c.path, c.body)
		msg, _ := out["message"].(string)
		if st != c.status || out["error_code"] != c.code || !strings.Contains(strings.ToLower(msg), strings.ToLower(c.mention)) {
			t.Errorf("%s: got %d %v %q; want %d %s mentioning %q", c.name, st, out["error_code"], msg, c.status, c.code, c.mention)
		}
		if st == http.StatusInternalServerError {
			t.Errorf("%s: 500", c.name)
		}
	}
	// Nothing of the refused batches was logged.
	ri, _ := e.tr.Get(t.Context(), runID)
	if len(ri.Metrics) != 0 || len(ri.Params) != 1 {
		t.Errorf("after refused writes: metrics %v params %v", ri.Metrics, ri.Params)
	}
}

// TestArtifactPathTraversal: paths that climb out of a run are refused on
// upload, download and listing.
func TestArtifactPathTraversal(t *testing.T) {
	e := newEnv(t, sqlstoretest.Backends(t)[0])
	run := e.ok(t, "POST", api+"runs/create", map[string]any{"experiment_id": "0"})
	runID := get(run, "run", "info", "run_id").(string)
	base := "/api/2.0/mlflow-artifacts/artifacts/0/" + runID + "/artifacts/"
	for _, p := range []string{
		base + "../../other/artifacts/x", base + "a/../../x", base + "%2e%2e/x", base + "a%2Fb", base + "a%2f..%2fb",
		base + "a/./b", base + "a//b", base + "%5c..%5cx", base + "a%00b",
		"/api/2.0/mlflow-artifacts/artifacts//etc/passwd", "/api/2.0/mlflow-artifacts/artifacts/0/" + runID + "/other/x",
	} {
		for _, m := range []string{"PUT", "GET"} {
			st, out := e.do(t, m, p, "x")
			if st < 400 || st >= 500 || out["error_code"] == nil {
				t.Errorf("%s %s: %d %v; want a 4xx envelope", m, p, st, out)
			}
		}
	}
	for _, q := range []string{"0/" + runID + "/artifacts/../..", "/0/x", "0/" + runID + "/artifacts/a\\..\\b"} {
		if st, _ := e.do(t, "GET", "/api/2.0/mlflow-artifacts/artifacts?path="+urlq(q), nil); st != 400 && st != 404 {
			t.Errorf("list %q: %d", q, st)
		}
	}
	if st, _ := e.do(t, "GET", api+"artifacts/list?run_id="+runID+"&path="+urlq("../x"), nil); st != 400 {
		t.Errorf("run list ../x: %d", st)
	}
	ri, _ := e.tr.Get(t.Context(), runID)
	if len(ri.Artifacts) != 0 {
		t.Errorf("artifacts stored: %+v", ri.Artifacts)
	}
}

// TestAnswersNotHTMLEscaped: as MLflow's server, answers keep <, > and &
// as written (a refused filter is quoted back readable).
func TestAnswersNotHTMLEscaped(t *testing.T) {
	e := newEnv(t, sqlstoretest.Backends(t)[0])
	resp, err := http.Post(e.srv.URL+"/api/2.0/mlflow/runs/search", "application/json",
		strings.NewReader(`{"experiment_ids": ["0"], "filter": "metrics.x > & <"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), `metrics.x > & <`) || strings.Contains(string(raw), `\u003e`) {
		t.Fatalf("got %d %s, want 400 quoting the filter unescaped", resp.StatusCode, raw)
	}
}
