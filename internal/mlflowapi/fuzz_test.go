package mlflowapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
)

// FuzzRequestDecoders sends arbitrary bodies and query strings to every
// route as an admin: each answer is 200 or a 4xx MLflow error envelope,
// never a 500 or a panic.
func FuzzRequestDecoders(f *testing.F) {
	seeds := []string{
		`{}`, `{"name": "x"}`, `{"experiment_id": "0"}`, `{"run_id": "r", "metrics": [{"key": "a", "value": "NaN", "timestamp": "1"}]}`,
		`{"run_id": 5}`, `{"filter": "metrics.a > 1 and params.b = 'x'", "order_by": ["metrics.a DESC"], "max_results": "10"}`,
		`{"name": "m", "version": 1, "stage": "Production", "archive_existing_versions": "true"}`, `[]`, `null`, `{"tags": [{"key": 1}]}`,
		`{"datasets": [{"dataset": {"name": "d", "digest": "x"}}]}`, `{"value": 1e400}`, `{"step": "9223372036854775808"}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i*7), s, "max_results=5&run_id=x")
	}
	e := newEnv(f, sqlstoretest.Backends(f)[0])
	routes := e.api.Routes()
	f.Fuzz(func(t *testing.T, pick uint8, body, query string) {
		r := routes[int(pick)%len(routes)]
		path := concretePath(r.Path)
		if strings.ContainsAny(query, "#\x00") {
			query = ""
		}
		req := httptest.NewRequest(r.Method, path, strings.NewReader(body))
		req.URL.RawQuery = query
		w := httptest.NewRecorder()
		withTestPrincipal(e.api).ServeHTTP(w, req)
		if w.Code == http.StatusInternalServerError {
			t.Fatalf("%s %s?%s body %q: 500 %s", r.Method, path, query, body, w.Body)
		}
		if w.Code != http.StatusOK {
			var env struct {
				Code string `json:"error_code"`
				Msg  string `json:"message"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || env.Code == "" || env.Msg == "" {
				t.Fatalf("%s %s body %q: %d without an error envelope: %s", r.Method, path, body, w.Code, w.Body)
			}
		}
	})
}
