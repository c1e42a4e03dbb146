package web

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/blob"
)

// Health is the body of /healthz and /readyz.
type Health struct {
	Status  string            `json:"status"`
	Version string            `json:"version,omitempty"`
	Checks  map[string]string `json:"checks,omitempty"`
}

func (s *Server) systemRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/healthz", Summary: "Liveness: the process answers.", Response: Health{},
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusOK, Health{Status: "ok", Version: s.o.Version})
			})},
		{Method: "GET", Pattern: "/readyz", Summary: "Readiness: the metadata and artifact stores are reachable and the server is not shutting down.", Response: Health{},
			Handler: http.HandlerFunc(s.readyz)},
		{Method: "GET", Pattern: "/metrics", Summary: "Prometheus metrics.", RawResponse: "text/plain",
			Handler: promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{})},
		{Method: "GET", Pattern: "/api/v1/openapi.json", Summary: "This API's OpenAPI 3.1 document, listing every route.", RawResponse: "application/json",
			Handler: http.HandlerFunc(s.openapi)},
	}
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	h := Health{Status: "ok", Version: s.o.Version, Checks: map[string]string{"metadata": "ok", "artifacts": "ok"}}
	if s.draining.Load() {
		h.Status, h.Checks["server"] = "unavailable", "shutting down"
	}
	if err := s.o.DB.SQL().PingContext(ctx); err != nil {
		h.Status, h.Checks["metadata"] = "unavailable", err.Error()
	}
	// A digest no one stores: reachable stores answer "not found".
	const probe = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	if _, err := s.o.Blobs.Stat(ctx, probe); err != nil && !errors.Is(err, blob.ErrNotFound) {
		h.Status, h.Checks["artifacts"] = "unavailable", err.Error()
	}
	code := http.StatusOK
	if h.Status != "ok" {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, h)
}

// Whoami is the body of /api/v1/whoami.
type Whoami struct {
	Name      string                          `json:"name"`
	Service   bool                            `json:"service,omitempty"`
	Anonymous bool                            `json:"anonymous,omitempty"`
	Role      access.Role                     `json:"role"`
	Grants    map[access.Resource]access.Role `json:"grants,omitempty"`
}

func (s *Server) whoami(r *http.Request) (Whoami, error) {
	p := access.PrincipalFrom(r.Context())
	return Whoami{Name: p.Name, Service: p.Service, Anonymous: p.Anonymous, Role: p.Role, Grants: p.Grants}, nil
}
