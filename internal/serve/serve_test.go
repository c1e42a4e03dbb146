package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gyre-ml/gyre/internal/bundle"
	_ "github.com/gyre-ml/gyre/internal/learn/all"
	"github.com/gyre-ml/gyre/internal/predlog"
	"github.com/gyre-ml/gyre/internal/train"
	"github.com/gyre-ml/gyre/internal/train/traintest"
)

const titanic = "../../examples/data/titanic/titanic"

var (
	fixtureOnce sync.Once
	fixture     [2]*bundle.Bundle
)

// bundles trains two small titanic models (different learners) once.
func bundles(t testing.TB) [2]*bundle.Bundle {
	fixtureOnce.Do(func() {
		for i, l := range []string{"gbdt", "decision_tree"} {
			data, _ := traintest.Fit(t, titanic+".train.csv", "Survived", train.Options{Learner: l}).Encode()
			var err error
			if fixture[i], err = bundle.Decode(data); err != nil {
				t.Fatal(err)
			}
		}
	})
	return fixture
}

// testServer is a Server listening on a loopback port through its real
// transport (Serve), as gyre serve runs it.
type testServer struct{ URL string }

func newTestServer(t *testing.T, opt Options) (*Server, *testServer) {
	t.Helper()
	b := bundles(t)
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s, err := New([]Model{{Name: "titanic", Ref: "titanic@production", Bundle: b[0], Version: "1", Reloadable: true}}, opt)
	if err != nil {
		t.Fatal(err)
	}
	return s, startServer(t, s)
}

// startServer runs s.Serve on a loopback port until the test ends, then
// checks that it shut down cleanly.
func startServer(t *testing.T, s *Server) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, nil) }()
	t.Cleanup(func() {
		// A connection the client dialled but never used counts as
		// in flight for 5 s after it opened (as in net/http): close
		// them so shutdown does not wait for that.
		http.DefaultClient.CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &testServer{URL: "http://" + ln.Addr().String()}
}

const passenger = `{"Pclass": 3, "Name": "Doe, Mr. John", "Sex": "male", "Age": 22, "SibSp": 1, "Parch": 0, "Ticket": "A/5 21171", "Fare": 7.25, "Cabin": null, "Embarked": "S"}`

func post(t *testing.T, url, ct, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, ct, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("response is not JSON: %s", raw)
	}
	return resp.StatusCode, out
}

func TestProtocolsAgree(t *testing.T) {
	_, hs := newTestServer(t, Options{Version: "test"})
	code, gy := post(t, hs.URL+"/v1/models/titanic/predict", "application/json", `{"records": [`+passenger+`]}`)
	if code != 200 {
		t.Fatalf("gyre predict: %d %v", code, gy)
	}
	label := gy["predictions"].([]any)[0]
	if gy["version"] != "1" || gy["request_id"] == "" || gy["probabilities"] == nil {
		t.Errorf("gyre response missing fields: %v", gy)
	}

	var rec map[string]any
	json.Unmarshal([]byte(passenger), &rec)
	cols, vals := []string{}, []any{}
	for k, v := range rec {
		cols = append(cols, k)
		vals = append(vals, v)
	}
	split, _ := json.Marshal(map[string]any{"dataframe_split": map[string]any{"columns": cols, "data": []any{vals}}})
	for name, body := range map[string]string{
		"dataframe_split":   string(split),
		"dataframe_records": `{"dataframe_records": [` + passenger + `]}`,
		"instances":         `{"instances": [` + passenger + `]}`,
		"inputs":            `{"inputs": [` + passenger + `]}`,
	} {
		code, ml := post(t, hs.URL+"/invocations", "application/json", body)
		if code != 200 || ml["predictions"].([]any)[0] != label {
			t.Errorf("mlflow %s: %d %v, want prediction %v", name, code, ml, label)
		}
	}
	csvBody := "Pclass,Name,Sex,Age,SibSp,Parch,Ticket,Fare,Cabin,Embarked\n3,\"Doe, Mr. John\",male,22,1,0,A/5 21171,7.25,,S\n"
	if code, ml := post(t, hs.URL+"/invocations", "text/csv", csvBody); code != 200 || ml["predictions"].([]any)[0] != label {
		t.Errorf("mlflow csv: %d %v", code, ml)
	}

	var inputs []map[string]any
	for k, v := range rec {
		dt := "FP64"
		if _, ok := v.(string); ok || v == nil {
			dt = "BYTES"
		}
		inputs = append(inputs, map[string]any{"name": k, "shape": []int{1}, "datatype": dt, "data": []any{v}})
	}
	v2body, _ := json.Marshal(map[string]any{"parameters": map[string]any{"content_type": "pd"}, "inputs": inputs})
	code, v2 := post(t, hs.URL+"/v2/models/titanic/infer", "application/json", string(v2body))
	if code != 200 {
		t.Fatalf("v2 infer: %d %v", code, v2)
	}
	outs := v2["outputs"].([]any)
	if outs[0].(map[string]any)["data"].([]any)[0] != label || len(outs) != 3 {
		t.Errorf("v2 outputs %v, want prediction %v and two probabilities", outs, label)
	}
	for _, path := range []string{"/ping", "/health", "/v2/health/live", "/v2/health/ready", "/v2/models/titanic", "/v2/models/titanic/ready", "/v2/models/titanic/versions/1", "/openapi.json", "/metrics", "/v2"} {
		resp, err := http.Get(hs.URL + path)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("GET %s: %v %v", path, err, resp.Status)
		}
		resp.Body.Close()
	}
	resp, _ := http.Get(hs.URL + "/metrics")
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(m, []byte(`gyre_requests_total{code="200",endpoint="invocations",model="titanic",version="1"} 5`)) {
		t.Errorf("metrics do not count the 5 invocations:\n%s", m)
	}
}

func TestBadRequestsNameTheField(t *testing.T) {
	_, hs := newTestServer(t, Options{MaxBodyBytes: 4096})
	cases := []struct {
		name, url, body string
		status          int
		want            string
	}{
		{"malformed json", "/v1/models/titanic/predict", `{"records": [`, 400, "malformed JSON"},
		{"missing column", "/v1/models/titanic/predict", `{"records": [{"Pclass": 3}]}`, 400, `"field":"Sex"`},
		{"wrong type", "/v1/models/titanic/predict", `{"records": [` + strings.Replace(passenger, `"Age": 22`, `"Age": "old"`, 1) + `]}`, 400, `"field":"Age","message":"field \"Age\", row 1: want a number, got \"old\""`},
		{"duplicate key", "/v1/models/titanic/predict", `{"records": [` + strings.Replace(passenger, `"Age": 22`, `"Age": 22, "Age": 23`, 1) + `]}`, 400, `"field":"Age"`},
		{"duplicate split column", "/invocations", `{"dataframe_split": {"columns": ["Age", "Age"], "data": [[1, 2]]}}`, 400, `named twice`},
		{"duplicate v2 input", "/v2/models/titanic/infer", `{"inputs": [{"name": "Age", "shape": [1], "datatype": "FP64", "data": [1]}, {"name": "Age", "shape": [1], "datatype": "FP64", "data": [2]}]}`, 400, "twice"},
		{"deep nesting", "/v1/models/titanic/predict", `{"records": [[[[[[[[[[[[1]]]]]]]]]]]]}`, 400, "nested"},
		{"not records", "/v1/models/titanic/predict", `{"rows": []}`, 400, "records"},
		{"unknown model", "/v1/models/nope/predict", `{"records": []}`, 404, "titanic"},
		{"oversized", "/v1/models/titanic/predict", `{"records": [` + strings.Repeat(passenger+",", 40) + passenger + `]}`, 413, "bytes"},
		{"two mlflow keys", "/invocations", `{"instances": [], "inputs": []}`, 400, "exactly one"},
		{"bad v2 shape", "/v2/models/titanic/infer", `{"inputs": [{"name": "Age", "shape": [3], "datatype": "FP64", "data": [1]}]}`, 400, "shape"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := http.Post(hs.URL+c.url, "application/json", strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status || !strings.Contains(string(raw), c.want) {
				t.Errorf("got %d %s, want %d mentioning %q", resp.StatusCode, raw, c.status, c.want)
			}
		})
	}
}

func TestUnseenCategoriesAreServedAndCounted(t *testing.T) {
	_, hs := newTestServer(t, Options{})
	body := `{"records": [` + strings.Replace(passenger, `"Embarked": "S"`, `"Embarked": "Atlantis"`, 1) + `]}`
	code, out := post(t, hs.URL+"/v1/models/titanic/predict", "application/json", body)
	if code != 200 || out["unseen_categories"].(map[string]any)["Embarked"] != float64(1) {
		t.Errorf("unseen category: %d %v", code, out)
	}
}

// flipResolver alternates between two bundles on every resolve.
type flipResolver struct {
	n atomic.Int64
	b [2]*bundle.Bundle
}

func (r *flipResolver) Resolve(_ context.Context, ref string) (*bundle.Bundle, string, error) {
	n := r.n.Add(1)
	return r.b[n%2], fmt.Sprint(n + 1), nil
}

func TestHotReloadUnderLoadFailsNoRequest(t *testing.T) {
	res := &flipResolver{b: bundles(t)}
	s, hs := newTestServer(t, Options{Resolver: res})
	var failures, done atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Post(hs.URL+"/v1/models/titanic/predict", "application/json", strings.NewReader(`{"records": [`+passenger+`]}`))
				if err != nil || resp.StatusCode != 200 {
					failures.Add(1)
				}
				if resp != nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				done.Add(1)
			}
		}()
	}
	versions := map[string]bool{}
	for i := 0; i < 10; i++ {
		time.Sleep(20 * time.Millisecond)
		code, out := post(t, hs.URL+"/v1/models/titanic/reload", "application/json", "")
		if code != 200 || out["changed"] != true {
			t.Errorf("reload %d: %d %v", i, code, out)
		}
		versions[out["version"].(string)] = true
	}
	close(stop)
	wg.Wait()
	if failures.Load() != 0 {
		t.Errorf("%d of %d requests failed across 10 reloads", failures.Load(), done.Load())
	}
	if n := testutil.ToFloat64(s.metrics.reloads); len(versions) != 10 || n != 10 {
		t.Errorf("versions seen %v, reloads %g", versions, n)
	}
}

// memLog collects logged predictions, one memRow per logged row.
type memLog struct {
	mu   sync.Mutex
	recs []memRow
	fbs  []predlog.Feedback
}

// memRow is one logged row, its input and output rendered as text.
type memRow struct {
	Model, Version, RequestID string
	Row                       int32
	Time                      time.Time
	Input, Output             string
}

func (m *memLog) LogPredictions(_ context.Context, b *predlog.Batch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := len(b.Pred.Classes)
	for i := range b.Len() {
		var in, out strings.Builder
		for _, c := range b.Input.Columns() {
			fmt.Fprintf(&in, "%s=%q(%v) ", c.Name(), c.Format(i), c.IsNull(i))
		}
		fmt.Fprintf(&out, "%v", b.Pred.Values[i])
		if k > 0 {
			fmt.Fprintf(&out, " %v", b.Pred.Proba[i*k:(i+1)*k])
		}
		m.recs = append(m.recs, memRow{Model: b.Model, Version: b.Version, RequestID: b.RequestID[i], Row: b.Row[i],
			Time: time.Unix(0, b.Time[i]), Input: in.String(), Output: out.String()})
	}
	return nil
}

func (m *memLog) LogFeedback(_ context.Context, f []predlog.Feedback) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fbs = append(m.fbs, f...)
	return nil
}

func TestPredictionLogAndGracefulShutdown(t *testing.T) {
	log := &memLog{}
	b := bundles(t)
	s, err := New([]Model{{Name: "titanic", Bundle: b[0], Version: "1"}}, Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- s.ListenAndServe(ctx, "127.0.0.1:0", func(a net.Addr) { addr <- a.String() })
	}()
	base := "http://" + <-addr
	code, out := post(t, base+"/v1/models/titanic/predict", "application/json", `{"records": [`+passenger+`,`+passenger+`]}`)
	if code != 200 {
		t.Fatalf("predict: %d %v", code, out)
	}
	if code, _ := post(t, base+"/v1/models/titanic/feedback", "application/json", `{"request_id": "`+out["request_id"].(string)+`", "row": 1, "label": "1"}`); code != 202 {
		t.Errorf("feedback: %d", code)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.recs) != 2 || log.recs[0].RequestID != out["request_id"] || log.recs[1].Row != 1 || len(log.fbs) != 1 || log.fbs[0].Label != "1" {
		t.Errorf("logged %d predictions and %d feedback, want 2 and 1 flushed at shutdown", len(log.recs), len(log.fbs))
	}
}

func FuzzDecoders(f *testing.F) {
	for _, seed := range []string{
		`{"records": [` + passenger + `]}`,
		`{"dataframe_split": {"columns": ["Age"], "data": [[1]]}}`,
		`{"instances": [[1, 2]]}`,
		`{"inputs": {"Age": [1, null]}}`,
		`{"records": [{"Age": "1e999"}]}`,
		`[[[[`,
		`{"inputs": [{"name": "x", "shape": [2, 10], "data": [1]}]}`,
	} {
		f.Add(seed)
	}
	b := bundles(f)
	schema := b[0].Manifest.Input
	f.Fuzz(func(t *testing.T, body string) {
		if fr, _, err := decodeMLflow(schema, []byte(body)); err == nil && fr.NumCols() != len(schema.Fields) {
			t.Fatalf("decoded %d columns, schema has %d", fr.NumCols(), len(schema.Fields))
		}
		var req struct {
			Records []any          `json:"records"`
			Inputs  []v2Tensor     `json:"inputs"`
			Columns map[string]any `json:"columns"`
		}
		if decodeJSON([]byte(body), &req) == nil {
			_, _ = fromRecords(schema, req.Records)
			_, _ = v2Frame(schema, req.Inputs)
			_, _ = fromColumns(schema, req.Columns)
		}
		_, _ = fromCSV(schema, strings.NewReader(body))
	})
}
