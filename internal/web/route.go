package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/audit"
)

// Route is one endpoint of the server.
type Route struct {
	// Method is the HTTP method ("GET", "POST", ...).
	Method string `json:"method"`
	// Pattern is the path in net/http ServeMux syntax: "{name}" matches
	// one segment, "{path...}" the rest of the path.
	Pattern string `json:"pattern"`
	// Role is what the caller needs: None for public routes (probes,
	// metrics, the OpenAPI document), Viewer for reads, Editor for writes
	// to experiments, runs, models and data, Admin for accounts and the
	// audit trail. It is checked against the caller's highest role before
	// the handler runs; the handler checks the role on its resource.
	Role access.Role `json:"role"`
	// Self marks the routes that act on the caller's own account (its
	// tokens and password): any authenticated caller may use them, whatever
	// Role says of other accounts' routes.
	Self bool `json:"self,omitempty"`
	// Summary says what the route does (the OpenAPI summary).
	Summary string `json:"summary"`
	// Query documents the query parameters.
	Query []Param `json:"query,omitempty"`
	// Body is a value of the request body's type, for the OpenAPI schema;
	// nil for none. RawBody names a non-JSON body's media type.
	Body    any    `json:"-"`
	RawBody string `json:"-"`
	// Response is a value of the response body's type; RawResponse names a
	// non-JSON response's media type.
	Response    any    `json:"-"`
	RawResponse string `json:"-"`
	// Mount names the route table the route came from ("" for the
	// server's own).
	Mount string `json:"mount,omitempty"`
	// Handler serves the route.
	Handler http.Handler `json:"-"`
	// Page marks a route that is not part of the API (the web UI's pages
	// and assets): it is guarded like every route but left out of the
	// OpenAPI document.
	Page bool `json:"page,omitempty"`

	writeError func(http.ResponseWriter, *http.Request, error)
}

// Param is a documented query parameter.
type Param struct {
	Name string `json:"name"`
	Doc  string `json:"doc"`
}

// Write reports whether the route changes state: it needs more than viewer,
// or acts on the caller's own account.
func (rt Route) Write() bool {
	return rt.Role > access.Viewer || (rt.Self && rt.Method != http.MethodGet)
}

// guard wraps a route's handler with authentication and the role check.
func (s *Server) guard(rt Route) http.Handler {
	refuse := rt.writeError
	if refuse == nil {
		refuse = writeError
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := infoFrom(r.Context())
		if info != nil {
			info.route = rt.Pattern
		}
		if rt.Role == access.None && !rt.Self {
			rt.Handler.ServeHTTP(w, r)
			return
		}
		p, err := s.authenticate(r)
		if err != nil {
			// Wrong credentials are refused even where anonymous
			// callers may read: a client with a revoked token must learn
			// it.
			refuse(w, r, err)
			return
		}
		if p == nil {
			if rt.Role == access.Viewer && !rt.Self && s.o.AnonymousRead {
				p = &access.Principal{Name: access.AnonymousName, Anonymous: true, Role: access.Viewer}
			} else {
				refuse(w, r, fmt.Errorf("%s %s needs credentials: send Authorization: Bearer TOKEN (or Basic): %w", rt.Method, rt.Pattern, access.ErrUnauthenticated))
				return
			}
		}
		if !rt.Self && p.MaxRole() < rt.Role {
			refuse(w, r, fmt.Errorf("%s %s needs %s; %s is %s: %w", rt.Method, rt.Pattern, rt.Role, p.Name, p.MaxRole(), access.ErrForbidden))
			return
		}
		if info != nil {
			info.user = p.Name
		}
		ctx := access.WithPrincipal(r.Context(), p)
		kind := audit.KindUser
		if p.Service {
			kind = audit.KindService
		}
		ctx = audit.WithActor(ctx, audit.Actor{Name: p.Name, Kind: kind, Remote: r.RemoteAddr})
		rt.Handler.ServeHTTP(w, r.WithContext(ctx))
	})
}

// noRoute answers API paths no route matches: 405 with Allow when the path
// exists under other methods, else 404.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pat := s.mux.Handler(probe); pat != "" && pat != "/api/v1/" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, r, errorf(KindMethodNotAllowed, "", "%s %s: method not allowed; allowed: %s", r.Method, r.URL.Path, strings.Join(allowed, ", ")))
		return
	}
	writeError(w, r, errorf(KindNotFound, "", "no API route %s %s (the route list is at /api/v1/openapi.json)", r.Method, r.URL.Path))
}
