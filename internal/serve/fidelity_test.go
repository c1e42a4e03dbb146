package serve

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestOpenAPIListsEveryRoute walks the route table the router is built
// from: every route is served by the router (not the catch-all) and
// listed in /openapi.json with its method.
func TestOpenAPIListsEveryRoute(t *testing.T) {
	s, _ := newTestServer(t, Options{Version: "test"})
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/openapi.json", nil))
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, rt := range s.routeTable() {
		n++
		path := strings.NewReplacer("{name}", "titanic", "{version}", "1").Replace(rt.path)
		if _, pattern := s.mux.Handler(httptest.NewRequest(rt.method, path, nil)); pattern == "/" || pattern == "" {
			t.Errorf("%s %s: not routed (pattern %q)", rt.method, rt.path, pattern)
		}
		if _, ok := doc.Paths[rt.path][strings.ToLower(rt.method)]; !ok {
			t.Errorf("%s %s: missing from /openapi.json", rt.method, rt.path)
		}
	}
	listed := 0
	for _, item := range doc.Paths {
		listed += len(item)
	}
	if listed != n {
		t.Errorf("/openapi.json lists %d operations, the router %d", listed, n)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	_, hs := newTestServer(t, Options{})
	for _, c := range []struct{ method, path, allow, key string }{
		{"GET", "/invocations", "POST", "error_code"},
		{"GET", "/v1/models/titanic/predict", "POST", "error"},
		{"POST", "/ping", "GET, HEAD", "error"},
		{"PUT", "/v2/models/titanic/infer", "POST", "error"},
		{"DELETE", "/v2/health/live", "GET, HEAD", "error"},
	} {
		req, _ := http.NewRequest(c.method, hs.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != c.allow || out[c.key] == nil {
			t.Errorf("%s %s: %d Allow %q %v", c.method, c.path, resp.StatusCode, resp.Header.Get("Allow"), out)
		}
	}
	if code, _ := post(t, hs.URL+"/nowhere", "application/json", "{}"); code != 404 {
		t.Errorf("unknown path: %d, want 404", code)
	}
}

// TestNonFiniteJSON: Python's json.dumps writes NaN, Infinity and
// -Infinity bare; NaN is a missing value (pandas'), infinities are values.
func TestNonFiniteJSON(t *testing.T) {
	_, hs := newTestServer(t, Options{})
	missing := strings.Replace(passenger, `"Age": 22`, `"Age": null`, 1)
	_, want := post(t, hs.URL+"/invocations", "application/json", `{"dataframe_records": [`+missing+`]}`)
	for _, body := range []string{
		`{"dataframe_records": [` + strings.Replace(passenger, `"Age": 22`, `"Age": NaN`, 1) + `]}`,
		`{"dataframe_records": [` + strings.Replace(passenger, `"Age": 22`, `"Age": "NaN"`, 1) + `]}`,
		`{"dataframe_split": {"columns": ["Pclass","Sex","Age","SibSp","Parch","Fare","Cabin","Embarked"], "data": [[3, "male", NaN, 1, 0, 7.25, NaN, "S"]]}}`,
		`{"dataframe_split": {"columns": ["Pclass","Sex","Age","SibSp","Parch","Fare","Cabin","Embarked"], "data": [[3, "male", NaN, 1, 0, 7.25, NaN, "S"], [3, "male", NaN, 1, 0, 7.25, null, "S"]]}}`,
	} {
		code, out := post(t, hs.URL+"/invocations", "application/json", body)
		if code != 200 || fmt.Sprint(out["predictions"].([]any)[0]) != fmt.Sprint(want["predictions"].([]any)[0]) {
			t.Errorf("%s: %d %v, want the answer for a missing age %v", body, code, out, want)
		}
	}
	for _, v := range []string{"Infinity", "-Infinity", `"Infinity"`, "1e999"} {
		body := `{"dataframe_records": [` + strings.Replace(passenger, `"Fare": 7.25`, `"Fare": `+v, 1) + `]}`
		if code, out := post(t, hs.URL+"/invocations", "application/json", body); code != 200 {
			t.Errorf("Fare %s: %d %v", v, code, out)
		}
	}
	// Inside strings the words are text.
	if got := rewriteNonFinite([]byte(`{"a": "NaN Infinity", "b": [NaN, -Infinity]}`)); string(got) != `{"a": "NaN Infinity", "b": [null, -1e999]}` {
		t.Errorf("rewrite: %s", got)
	}
}

// TestMLflowParamsProba: params {"predict_method": "predict_proba"} gives
// the class probabilities Gyre's own endpoint gives.
func TestMLflowParamsProba(t *testing.T) {
	_, hs := newTestServer(t, Options{})
	_, gy := post(t, hs.URL+"/v1/models/titanic/predict", "application/json", `{"records": [`+passenger+`]}`)
	probs := gy["probabilities"].([]any)[0].(map[string]any)
	code, out := post(t, hs.URL+"/invocations", "application/json", `{"dataframe_records": [`+passenger+`], "params": {"predict_method": "predict_proba"}}`)
	if code != 200 {
		t.Fatalf("%d %v", code, out)
	}
	row := out["predictions"].([]any)[0].([]any)
	if len(row) != 2 || row[0] != probs["0"] || row[1] != probs["1"] {
		t.Errorf("predict_proba %v, want %v", row, probs)
	}
	for _, bad := range []string{`"params": []`, `"params": {"predict_method": 1}`, `"params": {"predict_method": "predict_log_proba"}`} {
		code, out := post(t, hs.URL+"/invocations", "application/json", `{"dataframe_records": [`+passenger+`], `+bad+`}`)
		if code != 400 || out["error_code"] != "INVALID_PARAMETER_VALUE" {
			t.Errorf("%s: %d %v", bad, code, out)
		}
	}
}

// TestErrorsSayNoGoTypes: encoding/json's messages name Go types; the
// answers must not.
func TestErrorsSayNoGoTypes(t *testing.T) {
	_, hs := newTestServer(t, Options{})
	for _, c := range []struct{ url, body string }{
		{"/invocations", `{"dataframe_split": {"columns": "Age", "data": [[1]]}}`},
		{"/invocations", `{"dataframe_split": {"columns": ["Age"], "data": [[1]]}, "x": \u0041}`},
		{"/v1/models/titanic/predict", `{"records": {"a": 1}}`},
		{"/v1/models/titanic/predict", `{"records": "x", "z": "\u00e9"}`},
		{"/v2/models/titanic/infer", `{"inputs": {"name": "x"}}`},
		{"/v2/models/titanic/infer", `{"id": 5, "inputs": []}`},
		{"/v1/models/titanic/feedback", `{"row": "one"}`},
	} {
		resp, err := http.Post(hs.URL+c.url, "application/json", strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 || strings.Contains(string(raw), "Go ") || strings.Contains(string(raw), "interface") ||
			strings.Contains(string(raw), "map[") || strings.Contains(string(raw), "serve.") {
			t.Errorf("%s %s: %d %s", c.url, c.body, resp.StatusCode, raw)
		}
	}
}

// TestMetricsBoundedAndStandard: runtime and process metrics are served,
// a request for an unknown model creates no series of its own, and every
// request series carries the same labels.
func TestMetricsBoundedAndStandard(t *testing.T) {
	_, hs := newTestServer(t, Options{})
	post(t, hs.URL+"/v1/models/titanic/predict", "application/json", `{"records": [`+passenger+`]}`)
	for i := range 50 {
		post(t, fmt.Sprintf("%s/v1/models/ghost%d/predict", hs.URL, i), "application/json", `{"records": []}`)
		post(t, fmt.Sprintf("%s/v2/models/ghost%d/infer", hs.URL, i), "application/json", `{"inputs": []}`)
	}
	resp, err := http.Get(hs.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := string(raw)
	for _, want := range []string{"go_goroutines ", "go_memstats_heap_alloc_bytes ", "process_resident_memory_bytes ", "process_cpu_seconds_total ",
		`gyre_unknown_model_requests_total{endpoint="predict"} 50`, `gyre_unknown_model_requests_total{endpoint="v2_infer"} 50`,
		`gyre_requests_total{code="200",endpoint="predict",model="titanic",version="1"} 1`,
		`gyre_model_info{model="titanic",version="1"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(m, "ghost") {
		t.Errorf("a series names an unknown model")
	}
	for _, line := range strings.Split(m, "\n") {
		if strings.HasPrefix(line, "gyre_request") || strings.HasPrefix(line, "gyre_predicted_rows") {
			if !strings.Contains(line, `endpoint="`) || !strings.Contains(line, `model="`) || !strings.Contains(line, `version="`) {
				t.Errorf("inconsistent labels: %s", line)
			}
		}
	}
}

func TestServerLimits(t *testing.T) {
	if _, err := New([]Model{{Name: "titanic", Bundle: bundles(t)[0]}}, Options{MaxBodyBytes: -1}); err == nil || !strings.Contains(err.Error(), "positive") {
		t.Errorf("negative body limit: %v", err)
	}
	_, hs := newTestServer(t, Options{MaxBodyBytes: 4096})
	addr := strings.TrimPrefix(hs.URL, "http://")
	// A body declared over the limit with Expect: 100-continue gets 413
	// and the JSON reason before sending it.
	status, body := rawExchange(t, addr, "POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n")
	if status != "413 Request Entity Too Large" || !strings.Contains(errMessage(body), "4096 bytes") {
		t.Errorf("100-continue over the limit: %s %v", status, body)
	}
	// One client holds at most 3 connections (a server of its own, so no
	// connection of the exchange above still counts).
	_, hs = newTestServer(t, Options{MaxConnsPerClient: 3})
	addr = strings.TrimPrefix(hs.URL, "http://")
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("connection %d: %v", len(conns), err)
		}
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil && resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a fourth connection from one client: %s, want 429 or a refusal", resp.Status)
	}
}

// TestShutdownKeepAliveRace sends a request on idle keep-alive connections
// just as shutdown starts, many times: each is either answered in full or
// its connection is closed before anything is read, and the prediction log
// holds exactly the answered predictions (none lost, none taken without
// an answer).
func TestShutdownKeepAliveRace(t *testing.T) {
	b := bundles(t)
	const clients = 16
	for round := range 8 {
		log := &memLog{}
		s, err := New([]Model{{Name: "titanic", Bundle: b[0], Version: "1"}}, Options{Log: log, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Serve(ctx, ln, nil) }()
		body := `{"records": [` + passenger + `]}`
		req := fmt.Sprintf("POST /v1/models/titanic/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		conns := make([]net.Conn, clients)
		readers := make([]*bufio.Reader, clients)
		for i := range conns {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			conns[i], readers[i] = c, bufio.NewReader(c)
			io.WriteString(c, req)
			resp, err := http.ReadResponse(readers[i], nil)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("first request: %v", err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		var answered sync.WaitGroup
		var mu sync.Mutex
		ok := clients
		start := make(chan struct{})
		for i := range conns {
			answered.Add(1)
			go func() {
				defer answered.Done()
				<-start
				time.Sleep(time.Duration(i%8) * 50 * time.Microsecond)
				if _, err := io.WriteString(conns[i], req); err != nil {
					return
				}
				resp, err := http.ReadResponse(readers[i], nil)
				if err != nil {
					if readers[i].Buffered() > 0 || !(errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "reset")) {
						t.Errorf("round %d: a broken answer: %v", round, err)
					}
					return
				}
				raw, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || !strings.Contains(string(raw), `"predictions"`) {
					t.Errorf("round %d: answer %d %s (%v)", round, resp.StatusCode, raw, err)
					return
				}
				mu.Lock()
				ok++
				mu.Unlock()
			}()
		}
		close(start)
		time.Sleep(time.Duration(round) * 150 * time.Microsecond) // shutdown at a different point each round
		cancel()
		answered.Wait()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		log.mu.Lock()
		t.Logf("round %d: %d of %d answered", round, ok-clients, clients)
		if len(log.recs) != ok {
			t.Errorf("round %d: %d predictions answered, %d logged", round, ok, len(log.recs))
		}
		log.mu.Unlock()
	}
}

func TestV2DatatypesAndOutputs(t *testing.T) {
	_, hs := newTestServer(t, Options{})
	ok := v2Passenger(`"id": "x", `, `"shape": [1], "datatype": "$DT", `, ``)
	code, out := post(t, hs.URL+"/v2/models/titanic/infer", "application/json", strings.Replace(ok, `"inputs"`, `"outputs": [{"name": "proba_1"}, {"name": "predict"}], "inputs"`, 1))
	if code != 200 || len(out["outputs"].([]any)) != 2 || out["outputs"].([]any)[0].(map[string]any)["name"] != "proba_1" {
		t.Errorf("outputs selection: %d %v", code, out)
	}
	code, out = post(t, hs.URL+"/v2/models/titanic/infer", "application/json", strings.Replace(ok, `"datatype": "FP64", "data": [22]`, `"datatype": "BOOL", "data": [22]`, 1))
	if code != 400 || !strings.Contains(out["error"].(string), "Age") {
		t.Errorf("BOOL for a numeric column: %d %v", code, out)
	}
	// The single-row path takes a well-typed body; a mismatch goes to the
	// general path, which refuses it.
	fast, _ := rowServers(t, Options{})
	cur := fast.models["titanic"].cur.Load()
	row := cur.row.rp.Get()
	defer cur.row.rp.Put(row)
	if _, took := cur.row.decodeV2Row([]byte(ok), row); !took {
		t.Errorf("the row path refused a well-typed body")
	}
	if _, took := cur.row.decodeV2Row([]byte(strings.Replace(ok, `"datatype": "BYTES", "data": ["male"]`, `"datatype": "FP64", "data": ["male"]`, 1)), row); took {
		t.Errorf("the row path took FP64 for a text column")
	}
}
