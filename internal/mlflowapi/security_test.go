package mlflowapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/mlflowapi"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
)

func concretePath(p string) string {
	return strings.Replace(p, "{path...}", "0/abc/artifacts/f.txt", 1)
}

// TestEveryRouteChecksPermissions walks the route table: without
// credentials every route answers 401, and every write route answers 403
// to a viewer and 401 to an anonymous reader, whatever the body.
func TestEveryRouteChecksPermissions(t *testing.T) {
	e := newEnv(t, sqlstoretest.Backends(t)[0])
	routes := e.api.Routes()
	if len(routes) < 2*50 {
		t.Fatalf("only %d routes", len(routes))
	}
	writes := 0
	for _, r := range routes {
		p := concretePath(r.Path)
		for _, body := range []string{"", "{}", `{"experiment_id": "0", "run_id": "x", "name": "m", "version": "1"}`} {
			if st, out := e.do(t, r.Method, p, body, "X-Test-Role", "none"); st != http.StatusUnauthorized || out["error_code"] != "UNAUTHENTICATED" {
				t.Errorf("%s %s without credentials: %d %v", r.Method, p, st, out)
			}
			if !r.Write {
				continue
			}
			if st, out := e.do(t, r.Method, p, body, "X-Test-Role", "viewer"); st != http.StatusForbidden || out["error_code"] != "PERMISSION_DENIED" {
				t.Errorf("%s %s as viewer: %d %v", r.Method, p, st, out)
			}
			if st, _ := e.do(t, r.Method, p, body, "X-Test-Role", "anonymous"); st != http.StatusUnauthorized {
				t.Errorf("%s %s anonymous: %d", r.Method, p, st)
			}
		}
		if r.Write {
			writes++
			if r.Need < access.Editor {
				t.Errorf("%s %s writes with %s", r.Method, r.Path, r.Need)
			}
		}
	}
	if writes < 2*30 {
		t.Errorf("only %d write routes", writes)
	}
}

// TestGrantsScopeResults: an editor of one experiment writes there, not
// elsewhere, and searches show only what the caller may view.
func TestGrantsScopeResults(t *testing.T) {
	e := newEnv(t, sqlstoretest.Backends(t)[0])
	a := e.ok(t, "POST", api+"experiments/create", map[string]any{"name": "team-a"})["experiment_id"].(string)
	b := e.ok(t, "POST", api+"experiments/create", map[string]any{"name": "team-b"})["experiment_id"].(string)
	p := &access.Principal{Name: "ann", Grants: map[access.Resource]access.Role{{Kind: access.Experiment, Name: a}: access.Editor}}
	srv := e.srv
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.api.ServeHTTP(w, r.WithContext(access.WithPrincipal(r.Context(), p)))
	})
	ann := *e
	ann.srv = newServer(t, h)
	if st, out := ann.do(t, "POST", api+"runs/create", map[string]any{"experiment_id": a}); st != 200 {
		t.Errorf("create run in own experiment: %d %v", st, out)
	}
	if st, _ := ann.do(t, "POST", api+"runs/create", map[string]any{"experiment_id": b}); st != 403 {
		t.Errorf("create run in another team's experiment: %d", st)
	}
	if st, _ := ann.do(t, "POST", api+"experiments/create", map[string]any{"name": "mine"}); st != 403 {
		t.Errorf("create experiment without a server role: %d", st)
	}
	out := ann.ok(t, "POST", api+"experiments/search", map[string]any{})
	if xs := out["experiments"].([]any); len(xs) != 1 || get(xs[0], "experiment_id") != a {
		t.Errorf("search shows %v", out)
	}
	_ = srv
}

// TestWriteRefusal: the team server's refusals before the handler runs
// come in MLflow's envelope, 401 with the server's challenge.
func TestWriteRefusal(t *testing.T) {
	for _, c := range []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("GET /x needs credentials: %w", access.ErrUnauthenticated), http.StatusUnauthorized, "UNAUTHENTICATED"},
		{fmt.Errorf("ann is viewer: %w", access.ErrForbidden), http.StatusForbidden, "PERMISSION_DENIED"},
	} {
		w := httptest.NewRecorder()
		mlflowapi.WriteRefusal(w, httptest.NewRequest("GET", "/api/2.0/mlflow/runs/get", nil), c.err)
		var out map[string]string
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || w.Code != c.status || out["error_code"] != c.code || out["message"] != c.err.Error() {
			t.Errorf("%v: %d %q (%v); want %d %s", c.err, w.Code, w.Body.String(), err, c.status, c.code)
		}
		if got := w.Header().Get("WWW-Authenticate"); (c.status == http.StatusUnauthorized) != (got != "") {
			t.Errorf("%v: WWW-Authenticate %q", c.err, got)
		}
	}
}
