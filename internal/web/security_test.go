package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
	"github.com/gyre-ml/gyre/internal/web"
)

var param = regexp.MustCompile(`\{([A-Za-z_]+)(\.\.\.)?\}`)

// fill puts the harness's fixtures into a route pattern's parameters.
func fill(h *harness, pattern string) string {
	return param.ReplaceAllStringFunc(pattern, func(m string) string {
		switch name := param.FindStringSubmatch(m)[1]; name {
		case "run_id":
			return h.ids["run"]
		case "experiment", "experiment_id":
			return h.ids["experiment"]
		case "name":
			if strings.Contains(pattern, "/accounts/") {
				return "viewer"
			}
			return "adult"
		case "version":
			return "1"
		case "alias":
			return "prod"
		case "key":
			return "auc"
		case "path":
			return "a.txt"
		case "resource":
			return "model:adult"
		case "id":
			return h.ids["token"]
		default:
			return "x"
		}
	})
}

// bodyFor is a well-formed body for a route, so that refusals are about
// credentials, not input.
func bodyFor(rt web.Route) any {
	switch {
	case rt.RawBody != "":
		return []byte("data")
	case rt.Method == "GET" || rt.Method == "DELETE":
		return nil
	}
	return "{}"
}

// TestEveryRouteIsGuarded enumerates the server's route table, so an
// endpoint added later cannot skip it: without credentials, every route
// but the public probes is 401; with an expired or revoked token, 401;
// with a viewer's token, every write is 403 and every read is allowed.
// Writes on the caller's own account (Route.Self) are the one documented
// exception: any authenticated caller may make them.
func TestEveryRouteIsGuarded(t *testing.T) {
	for _, b := range sqlstoretest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			h := newHarness(t, b, web.Options{})
			h.seed()
			routes := h.srv.Routes()
			if len(routes) < 40 {
				t.Fatalf("route table has %d routes: want the whole API", len(routes))
			}
			public := 0
			for _, rt := range routes {
				path := fill(h, rt.Pattern)
				name := rt.Method + " " + rt.Pattern
				if rt.Role == access.None && !rt.Self {
					public++
					if code, body := h.do(rt.Method, path, "", bodyFor(rt)); code == 401 || code == 403 {
						t.Errorf("%s is public but answered %d without credentials: %s", name, code, body)
					}
					continue
				}
				for _, who := range []string{"", "expired", "revoked"} {
					code, body := h.do(rt.Method, path, h.tokens[who], bodyFor(rt))
					if code != http.StatusUnauthorized {
						t.Errorf("%s with token %q: got %d, want 401: %s", name, who, code, body)
						continue
					}
					checkEnvelope(t, rt, body, "unauthenticated")
				}
				code, body := h.do(rt.Method, path, h.tokens["viewer"], bodyFor(rt))
				switch {
				case rt.Self:
					if code == 401 || code == 403 {
						t.Errorf("%s acts on the caller's own account: viewer got %d: %s", name, code, body)
					}
				case rt.Role > access.Viewer:
					if code != http.StatusForbidden {
						t.Errorf("%s needs %s: viewer got %d, want 403: %s", name, rt.Role, code, body)
					} else {
						checkEnvelope(t, rt, body, "permission_denied")
					}
				default:
					if code == 401 || code == 403 {
						t.Errorf("%s is a read: viewer got %d: %s", name, code, body)
					}
				}
			}
			if public != 4 {
				t.Errorf("%d public routes, want 4 (healthz, readyz, metrics, openapi.json)", public)
			}
			// Every route is in the OpenAPI document.
			var doc struct {
				Paths map[string]map[string]json.RawMessage `json:"paths"`
			}
			h.must(200, "GET", "/api/v1/openapi.json", "", nil, &doc)
			for _, rt := range routes {
				p := strings.ReplaceAll(rt.Pattern, "...}", "}")
				if _, ok := doc.Paths[p][strings.ToLower(rt.Method)]; !ok {
					t.Errorf("OpenAPI document lacks %s %s", rt.Method, p)
				}
			}
		})
	}
}

func checkEnvelope(t *testing.T, rt web.Route, body []byte, kind string) {
	t.Helper()
	if rt.Mount != "" {
		return // the mount writes its own envelope
	}
	var env web.Envelope
	if err := json.Unmarshal(body, &env); err != nil || env.Error == nil || string(env.Error.Kind) != kind || env.Error.Message == "" {
		t.Errorf("%s %s: body %s: want the error envelope with kind %s", rt.Method, rt.Pattern, body, kind)
	}
}

// TestAnonymousRead: with anonymous read on, reads need no token, writes
// still do, and a bad token is still refused.
func TestAnonymousRead(t *testing.T) {
	b := sqlstoretest.Backends(t)[0]
	h := newHarness(t, b, web.Options{AnonymousRead: true})
	h.seed()
	for _, rt := range h.srv.Routes() {
		if rt.Role == access.None && !rt.Self {
			continue
		}
		path := fill(h, rt.Pattern)
		code, body := h.do(rt.Method, path, "", bodyFor(rt))
		read := rt.Role == access.Viewer && !rt.Self
		if read && (code == 401 || code == 403) {
			t.Errorf("%s %s anonymously: got %d, want a read: %s", rt.Method, rt.Pattern, code, body)
		}
		if !read && code != 401 {
			t.Errorf("%s %s anonymously: got %d, want 401: %s", rt.Method, rt.Pattern, code, body)
		}
	}
	if code, _ := h.do("GET", "/api/v1/models", h.tokens["revoked"], nil); code != 401 {
		t.Errorf("revoked token with anonymous read: got %d, want 401", code)
	}
}

// TestGrantsScopeWrites: an editor of one model writes to it and to no
// other; a server editor cannot manage accounts.
func TestGrantsScopeWrites(t *testing.T) {
	b := sqlstoretest.Backends(t)[0]
	h := newHarness(t, b, web.Options{})
	h.seed()
	bundle := testBundle(t)
	h.must(201, "POST", "/api/v1/models/adult/versions", "modeleditor", bundle, nil)
	h.must(403, "POST", "/api/v1/models/churn/versions", "modeleditor", bundle, nil)
	h.must(200, "PUT", "/api/v1/models/adult/aliases/staging", "modeleditor", map[string]any{"version": 2}, nil)
	h.must(403, "DELETE", "/api/v1/models/adult", "modeleditor", nil, nil) // deleting a model needs admin on it
	h.must(403, "POST", "/api/v1/runs", "modeleditor", map[string]any{"experiment": "exp1"}, nil)
	h.must(403, "POST", "/api/v1/accounts", "editor", map[string]any{"name": "mallory", "role": "admin"}, nil)
	h.must(403, "PUT", "/api/v1/accounts/editor/grants/server", "editor", map[string]any{"role": "admin"}, nil)
	// A model's admin manages its team, and nothing beyond it.
	h.must(204, "PUT", "/api/v1/accounts/modeleditor/grants/model:adult", "admin", map[string]any{"role": "admin"}, nil)
	h.must(204, "PUT", "/api/v1/accounts/viewer/grants/model:adult", "modeleditor", map[string]any{"role": "editor"}, nil)
	h.must(403, "PUT", "/api/v1/accounts/viewer/grants/model:churn", "modeleditor", map[string]any{"role": "editor"}, nil)
	h.must(403, "PUT", "/api/v1/accounts/modeleditor/grants/server", "modeleditor", map[string]any{"role": "admin"}, nil)
	// The last admin cannot be removed.
	h.must(204, "DELETE", "/api/v1/accounts/late", "admin", nil, nil)
	h.must(204, "DELETE", "/api/v1/accounts/gone", "admin", nil, nil)
	h.must(409, "DELETE", "/api/v1/accounts/admin", "admin", nil, nil)
	h.must(409, "PUT", "/api/v1/accounts/admin/grants/server", "admin", map[string]any{"role": "editor"}, nil)
	// Self-service tokens carry the caller's own roles only.
	var tok web.CreatedToken
	h.must(201, "POST", "/api/v1/me/tokens", "viewer", map[string]any{"description": "laptop", "expires_in": "30d"}, &tok)
	if code, _ := h.do("POST", "/api/v1/runs", tok.Token, map[string]any{"experiment": "exp1"}); code != 403 {
		t.Errorf("viewer's own token wrote a run: %d", code)
	}
	h.must(404, "DELETE", "/api/v1/me/tokens/"+h.ids["token"], "editor", nil, nil) // another account's token
	h.must(204, "DELETE", "/api/v1/me/tokens/"+tok.Info.ID, "viewer", nil, nil)
	if code, _ := h.do("GET", "/api/v1/whoami", tok.Token, nil); code != 401 {
		t.Errorf("revoked self-service token: got %d", code)
	}
}

var evil = []string{"..", "../etc", "..%2Fetc%2Fpasswd", "%2e%2e", "%2e%2e%2f%2e%2e%2fetc", "%2Fetc%2Fpasswd", "..%5C..%5Cwindows", "a%00b", "/etc/passwd"}

// TestPathTraversalRefused puts "..", absolute and encoded paths into every
// path parameter of every route: none is answered 2xx or 5xx, and nothing
// outside the stores is read.
func TestPathTraversalRefused(t *testing.T) {
	for _, b := range sqlstoretest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			h := newHarness(t, b, web.Options{})
			h.seed()
			for _, rt := range h.srv.Routes() {
				params := param.FindAllStringSubmatchIndex(rt.Pattern, -1)
				for _, loc := range params {
					for _, e := range evil {
						pattern := rt.Pattern[:loc[0]] + "\x00EVIL\x00" + rt.Pattern[loc[1]:]
						path := strings.Replace(fill(h, pattern), "\x00EVIL\x00", e, 1)
						code, body := h.do(rt.Method, path, h.tokens["admin"], bodyFor(rt))
						if code < 300 || code >= 500 {
							t.Errorf("%s %s: got %d, want a refusal: %.200s", rt.Method, path, code, body)
						}
					}
				}
			}
			// Artifact paths also refuse traversal where they are not in the
			// URL (the check every upload and download passes).
			for _, p := range []string{"../x", "/abs", "a/../../b", "a//b", `a\b`, "./a", ""} {
				if err := web.CheckArtifactPath(p); err == nil {
					t.Errorf("CheckArtifactPath(%q) = nil, want a refusal", p)
				}
			}
			for _, p := range []string{"model.gyre", "plots/roc.png", "a b/ü.txt"} {
				if err := web.CheckArtifactPath(p); err != nil {
					t.Errorf("CheckArtifactPath(%q) = %v", p, err)
				}
			}
		})
	}
}

// TestConcurrentWriters: 8 clients × 100 writes each through the API lose
// nothing, and versions registered concurrently are numbered 1..n without
// gaps.
func TestConcurrentWriters(t *testing.T) {
	for _, b := range sqlstoretest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			h := newHarness(t, b, web.Options{})
			h.seed()
			bundle := testBundle(t)
			const clients, writes = 8, 100
			var wg sync.WaitGroup
			errs := make(chan error, clients*writes)
			for c := 0; c < clients; c++ {
				wg.Add(1)
				go func(c int) {
					defer wg.Done()
					for i := 0; i < writes; i++ {
						var code int
						var body []byte
						switch {
						case i%20 == 0:
							code, body = h.do("POST", "/api/v1/models/shared/versions", h.tokens["editor"], bundle)
						case i%2 == 0:
							code, body = h.do("POST", "/api/v1/runs/"+h.ids["run"]+"/metrics", h.tokens["editor"],
								map[string]any{"metrics": []map[string]any{{"key": "loss", "value": float64(c*writes + i), "step": c*writes + i}}})
						default:
							code, body = h.do("POST", "/api/v1/runs/"+h.ids["run"]+"/tags", h.tokens["editor"],
								map[string]any{"tags": map[string]string{fmt.Sprintf("c%d_%d", c, i): "x"}})
						}
						if code >= 300 {
							errs <- fmt.Errorf("client %d write %d: %d %s", c, i, code, body)
						}
					}
				}(c)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			var hist web.List[struct {
				Step int64 `json:"step"`
			}]
			h.must(200, "GET", "/api/v1/runs/"+h.ids["run"]+"/metrics/loss", "viewer", nil, &hist)
			if want := clients * (writes/2 - writes/20); len(hist.Items) != want {
				t.Errorf("metric points: got %d, want %d", len(hist.Items), want)
			}
			var run struct {
				Tags map[string]string `json:"tags"`
			}
			h.must(200, "GET", "/api/v1/runs/"+h.ids["run"], "viewer", nil, &run)
			if n := len(run.Tags); n < clients*writes/2 {
				t.Errorf("tags: got %d, want at least %d", n, clients*writes/2)
			}
			var vs web.List[struct {
				Version int64 `json:"version"`
			}]
			h.must(200, "GET", "/api/v1/models/shared/versions?max_results=1000", "viewer", nil, &vs)
			seen := map[int64]bool{}
			for _, v := range vs.Items {
				seen[v.Version] = true
			}
			n := int64(clients * writes / 20)
			for v := int64(1); v <= n; v++ {
				if !seen[v] {
					t.Errorf("version %d missing (got %d versions)", v, len(vs.Items))
				}
			}
			if int64(len(vs.Items)) != n {
				t.Errorf("versions: got %d, want %d", len(vs.Items), n)
			}
		})
	}
}
