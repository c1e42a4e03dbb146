package serve

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
)

// protocolCase is one request/response fixture of testdata/protocols
// (made by make_fixtures.py from MLflow's scoring-server tests and the
// Open Inference Protocol's REST specification; each case names its
// source).
type protocolCase struct {
	Source      string         `json:"source"`
	Method      string         `json:"method"`
	Path        string         `json:"path"`
	ContentType string         `json:"content_type"`
	Body        string         `json:"body"`
	Status      int            `json:"status"`
	ErrorCode   string         `json:"error_code"`
	Message     string         `json:"message"`
	Predictions int            `json:"predictions"`
	ProbaWidth  int            `json:"proba_width"`
	Keys        []string       `json:"keys"`
	Equals      map[string]any `json:"equals"`
	Outputs     []string       `json:"outputs"`
}

// TestProtocolFixtures serves the titanic model through the real transport
// and checks every MLflow and Open Inference Protocol fixture side by side
// with what the source says the answer is.
func TestProtocolFixtures(t *testing.T) {
	_, hs := newTestServer(t, Options{Version: "test"})
	for _, file := range []string{"mlflow.json", "oip.json"} {
		raw, err := os.ReadFile("testdata/protocols/" + file)
		if err != nil {
			t.Fatal(err)
		}
		var cases []protocolCase
		if err := json.Unmarshal(raw, &cases); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, c := range cases {
			req, err := http.NewRequest(c.Method, hs.URL+c.Path, strings.NewReader(c.Body))
			if err != nil {
				t.Fatal(err)
			}
			if c.ContentType != "" {
				req.Header.Set("Content-Type", c.ContentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			fail := func(format string, a ...any) {
				t.Helper()
				t.Errorf("%s: %s %s: "+format+"\nanswer %d: %s", append([]any{c.Source, c.Method, c.Path}, append(a, resp.StatusCode, body)...)...)
			}
			if resp.StatusCode != c.Status {
				fail("status %d, want %d", resp.StatusCode, c.Status)
				continue
			}
			var out map[string]any
			if err := json.Unmarshal(body, &out); err != nil {
				if c.Path == "/ping" {
					continue
				}
				fail("not a JSON object: %v", err)
				continue
			}
			if c.ErrorCode != "" && out["error_code"] != c.ErrorCode {
				fail("error_code %v, want %s", out["error_code"], c.ErrorCode)
			}
			msg, _ := out["message"].(string)
			if m, ok := out["error"].(string); ok {
				msg = m
			}
			if c.Message != "" && !strings.Contains(msg, c.Message) {
				fail("message %q lacks %q", msg, c.Message)
			}
			if c.Status >= 400 && msg == "" {
				fail("an error without a message")
			}
			for _, bad := range []string{"Go value", "map[string]", "[]interface", "json.RawMessage", "\\u003c"} {
				if strings.Contains(string(body), bad) {
					fail("the answer holds %q", bad)
				}
			}
			if c.Predictions > 0 {
				preds, _ := out["predictions"].([]any)
				if len(preds) != c.Predictions {
					fail("%d predictions, want %d", len(preds), c.Predictions)
				}
				if c.ProbaWidth > 0 {
					for _, p := range preds {
						if row, ok := p.([]any); !ok || len(row) != c.ProbaWidth {
							fail("prediction %v: want %d class probabilities", p, c.ProbaWidth)
						}
					}
				}
			}
			for _, k := range c.Keys {
				if _, ok := out[k]; !ok {
					fail("no key %q", k)
				}
			}
			for k, v := range c.Equals {
				if !reflect.DeepEqual(out[k], v) {
					fail("%s = %v, want %v", k, out[k], v)
				}
			}
			if c.Outputs != nil {
				var names []string
				outs, _ := out["outputs"].([]any)
				for _, o := range outs {
					names = append(names, o.(map[string]any)["name"].(string))
				}
				if !reflect.DeepEqual(names, c.Outputs) {
					fail("outputs %v, want %v", names, c.Outputs)
				}
			}
		}
	}
}
