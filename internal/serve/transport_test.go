package serve

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHotRoute(t *testing.T) {
	cases := []struct {
		path          string
		ok            bool
		ep            endpoint
		name, version string
	}{
		{"/invocations", true, epInvocations, "", ""},
		{"/v1/models/titanic/predict", true, epPredict, "titanic", ""},
		{"/v2/models/titanic/infer", true, epInfer, "titanic", ""},
		{"/v2/models/titanic/versions/3/infer", true, epInfer, "titanic", "3"},
		{"/v1/models//predict", false, 0, "", ""},
		{"/v1/models/a/b/predict", false, 0, "", ""},
		{"/v1/models/t%41/predict", false, 0, "", ""},
		{"/v2/models/titanic/versions//infer", false, 0, "", ""},
		{"/v2/models/titanic/ready", false, 0, "", ""},
		{"/invocations/", false, 0, "", ""},
		{"/ping", false, 0, "", ""},
	}
	for _, c := range cases {
		ep, name, version, ok := hotRoute([]byte(c.path))
		if ok != c.ok || (ok && (ep != c.ep || string(name) != c.name || string(version) != c.version)) {
			t.Errorf("%s: got %v %q %q %v, want %v %q %q %v", c.path, ep, name, version, ok, c.ep, c.name, c.version, c.ok)
		}
	}
}

// TestTransportMatchesHandler checks that the transport's own single-row
// answers (and the requests it hands to the net/http handler) are the
// responses the net/http handler gives: status, content type, request id
// header and body, byte for byte.
func TestTransportMatchesHandler(t *testing.T) {
	s, hs := newTestServer(t, Options{})
	split := `{"dataframe_split": {"columns": ["Pclass", "Name", "Sex", "Age", "SibSp", "Parch", "Ticket", "Fare", "Cabin", "Embarked"], "data": [[3, "Doe, Mr. John", "male", 22, 1, 0, "A/5 21171", 7.25, null, "S"]]}}`
	v2 := `{"id": "req-7", "parameters": {"content_type": "pd"}, "inputs": [` +
		`{"name": "Pclass", "shape": [1], "datatype": "INT64", "data": [3]},` +
		`{"name": "Name", "shape": [1], "datatype": "BYTES", "data": ["Doe, Mr. John"]},` +
		`{"name": "Sex", "shape": [1], "datatype": "BYTES", "data": ["female"]},` +
		`{"name": "Age", "shape": [1], "datatype": "FP64", "data": [30]},` +
		`{"name": "SibSp", "shape": [1], "datatype": "INT64", "data": [0]},` +
		`{"name": "Parch", "shape": [1], "datatype": "INT64", "data": [0]},` +
		`{"name": "Ticket", "shape": [1], "datatype": "BYTES", "data": ["X"]},` +
		`{"name": "Fare", "shape": [1], "datatype": "FP64", "data": [80]},` +
		`{"name": "Cabin", "shape": [1], "datatype": "BYTES", "data": ["C85"]},` +
		`{"name": "Embarked", "shape": [1], "datatype": "BYTES", "data": ["C"]}]}`
	cases := []struct {
		name, path, ct, body string
		mlflowID             bool // the response carries a fresh request id header
	}{
		{"mlflow split", "/invocations", "application/json", split, true},
		{"mlflow records", "/invocations", "application/json", `{"dataframe_records": [` + passenger + `]}`, true},
		{"mlflow two rows (general path)", "/invocations", "application/json", `{"dataframe_records": [` + passenger + `,` + passenger + `]}`, true},
		{"mlflow csv (general path)", "/invocations", "text/csv", "Pclass,Name,Sex,Age,SibSp,Parch,Ticket,Fare,Cabin,Embarked\n3,\"Doe, Mr. John\",male,22,1,0,A/5 21171,7.25,,S\n", true},
		{"gyre one row", "/v1/models/titanic/predict", "application/json", `{"records": [` + passenger + `]}`, false},
		{"gyre columns (general path)", "/v1/models/titanic/predict", "application/json", `{"columns": {"Pclass": [3], "Sex": ["male"], "Age": [22], "SibSp": [1], "Parch": [0], "Fare": [7.25], "Embarked": ["S"], "Name": ["x"], "Ticket": ["y"], "Cabin": [null]}}`, false},
		{"gyre bad value (general path)", "/v1/models/titanic/predict", "application/json", `{"records": [` + strings.Replace(passenger, `"Age": 22`, `"Age": "old"`, 1) + `]}`, false},
		{"gyre unknown model", "/v1/models/nope/predict", "application/json", `{"records": [` + passenger + `]}`, false},
		{"v2 pd", "/v2/models/titanic/infer", "application/json", v2, false},
		{"v2 pinned version", "/v2/models/titanic/versions/1/infer", "application/json", v2, false},
		{"v2 wrong version", "/v2/models/titanic/versions/2/infer", "application/json", v2, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", hs.URL+c.path, strings.NewReader(c.body))
			req.Header.Set("Content-Type", c.ct)
			req.Header.Set("X-Request-Id", "client-id-1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()

			r := httptest.NewRequest("POST", c.path, strings.NewReader(c.body))
			r.Header.Set("Content-Type", c.ct)
			r.Header.Set("X-Request-Id", "client-id-1")
			w := httptest.NewRecorder()
			s.Handler().ServeHTTP(w, r)

			if resp.StatusCode != w.Code || string(got) != w.Body.String() {
				t.Fatalf("transport %d %s\nhandler   %d %s", resp.StatusCode, got, w.Code, w.Body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != w.Header().Get("Content-Type") {
				t.Errorf("content type %q, handler's %q", ct, w.Header().Get("Content-Type"))
			}
			id, want := resp.Header.Get("X-Request-Id"), w.Header().Get("X-Request-Id")
			if c.mlflowID && resp.StatusCode == 200 {
				if len(id) != 24 || len(want) != 24 {
					t.Errorf("request ids %q and %q, want fresh 24-digit ones", id, want)
				}
			} else if id != want {
				t.Errorf("request id %q, handler's %q", id, want)
			}
		})
	}
	// Both paths count in /metrics (each request above ran twice: through
	// the transport and through the handler).
	resp, err := http.Get(hs.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`gyre_requests_total{code="200",endpoint="invocations",model="titanic",version="1"} 8`,
		`gyre_requests_total{code="200",endpoint="v2_infer",model="titanic",version="1"} 4`,
		`gyre_requests_total{code="404",endpoint="v2_infer",model="titanic",version=""} 2`,
	} {
		if !strings.Contains(string(m), want) {
			t.Errorf("metrics lack %s:\n%s", want, m)
		}
	}
}

// rawExchange sends raw bytes on a new connection and returns the status
// line and the body of the response.
func rawExchange(t *testing.T, addr, req string) (status string, body map[string]any) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Errorf("%s: body %q is not JSON", resp.Status, raw)
		}
	}
	return resp.Status, body
}

// errMessage is the message of an error body in any of the three
// envelopes ("" when there is none).
func errMessage(body map[string]any) string {
	switch e := body["error"].(type) {
	case string: // V2
		return e
	case map[string]any: // Gyre
		m, _ := e["message"].(string)
		return m
	}
	m, _ := body["message"].(string) // MLflow
	return m
}

// TestTransportErrors checks the requests the transport refuses before any
// handler sees them: each gets a status and a JSON reason in the
// endpoint's envelope, without echoing the request.
func TestTransportErrors(t *testing.T) {
	_, hs := newTestServer(t, Options{MaxBodyBytes: 4096, ReadTimeout: 300 * time.Millisecond})
	addr := strings.TrimPrefix(hs.URL, "http://")

	status, body := rawExchange(t, addr, "POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n"+strings.Repeat(" ", 5000))
	if status != "413 Request Entity Too Large" || !strings.Contains(errMessage(body), "4096 bytes") || body["error_code"] != "BAD_REQUEST" {
		t.Errorf("oversized MLflow body: %s %v", status, body)
	}
	status, body = rawExchange(t, addr, "POST /v2/models/titanic/infer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1388\r\n"+strings.Repeat(" ", 5000)+"\r\n0\r\n\r\n")
	if status != "413 Request Entity Too Large" || !strings.Contains(errMessage(body), "4096 bytes") {
		t.Errorf("oversized chunked body: %s %v", status, body)
	}
	// Declared too large with Expect: 100-continue: refused before the
	// body is sent.
	status, _ = rawExchange(t, addr, "POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n")
	if status != "413 Request Entity Too Large" {
		t.Errorf("100-continue over the limit: %s", status)
	}
	status, body = rawExchange(t, addr, "GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", readBufferSize)+"\r\n\r\n")
	if status != "431 Request Header Fields Too Large" || !strings.Contains(errMessage(body), "headers over") {
		t.Errorf("oversized headers: %s %v", status, body)
	}
	status, body = rawExchange(t, addr, "POST /v1/models/titanic/predict HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")
	if msg := errMessage(body); status != "400 Bad Request" || !strings.Contains(msg, "content-length") {
		t.Errorf("malformed Content-Length: %s %v", status, body)
	} else if strings.Contains(msg, "Host: x") {
		t.Errorf("the error echoes the request: %s", msg)
	}
	// A client that stops half-way through its request times out.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{\"da")
	c.SetDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Errorf("slow client: got %s, want 408 or a closed connection", resp.Status)
		}
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("slow client held the connection for %v with a 300ms read timeout", d)
	}
}

// TestShutdownDrainsInFlight checks graceful shutdown through the real
// transport: a request whose body is still arriving when shutdown begins
// is answered in full, and Serve returns only after that.
func TestShutdownDrainsInFlight(t *testing.T) {
	b := bundles(t)
	s, err := New([]Model{{Name: "titanic", Bundle: b[0], Version: "1"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, nil) }()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	body := `{"dataframe_records": [` + passenger + `]}`
	half := len(body) / 2
	if _, err := fmt.Fprintf(c, "POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:half]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the server is reading the body
	cancel()
	time.Sleep(300 * time.Millisecond) // shutdown has begun and is waiting
	select {
	case err := <-done:
		t.Fatalf("Serve returned (%v) with a request in flight", err)
	default:
	}
	if _, err := io.WriteString(c, body[half:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("in-flight request: %v", err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(raw), `"predictions"`) {
		t.Errorf("in-flight request: %d %s", resp.StatusCode, raw)
	}
	if !resp.Close {
		t.Errorf("a response during shutdown should close the connection")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the last request")
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Errorf("the listener still accepts after shutdown")
	}
}

// FuzzHotRoute checks the hot-path router on arbitrary paths: it never
// panics, and a match names one plain path segment (no '/', no escape).
func FuzzHotRoute(f *testing.F) {
	for _, seed := range []string{"/invocations", "/v1/models/a/predict", "/v2/models/a/versions/1/infer", "/v2/models//versions/infer", "/v1/models/predict", "/v2/models/a/versions/infer"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, path string) {
		ep, name, version, ok := hotRoute([]byte(path))
		if !ok {
			return
		}
		if ep == epInvocations {
			if path != "/invocations" {
				t.Fatalf("%q routed to /invocations", path)
			}
			return
		}
		if !segment(name) || (version != nil && !segment(version)) {
			t.Fatalf("%q: name %q version %q", path, name, version)
		}
	})
}
