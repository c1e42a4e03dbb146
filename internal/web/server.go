package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/predlog"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/track"
)

// Options configure a server. DB, Blobs and Access are required; the
// services over them (Tracker, Registry, Datasets) are built from DB and
// Blobs when nil.
type Options struct {
	DB       *sqlstore.DB
	Blobs    blob.Store
	Access   *access.Store
	Tracker  *track.Tracker
	Registry *registry.Registry
	Datasets *dataset.Catalog
	// AnonymousRead lets callers without credentials use the routes that
	// need only viewer.
	AnonymousRead bool
	// Logger receives one structured line per request; default discards.
	Logger *slog.Logger
	// Version is reported by /healthz and the OpenAPI document.
	Version string
	// Mounts are further route tables served by the same chain (the MLflow
	// API).
	Mounts []Mount
	// ShutdownTimeout bounds how long a graceful shutdown waits for
	// in-flight requests (default 30 s).
	ShutdownTimeout time.Duration
	// TLS, when set, serves HTTPS with it.
	TLS *tls.Config
	// MaxUpload bounds an artifact, bundle or data upload (default 2 GiB).
	MaxUpload int64
}

// Mount is a route table served by another handler: each of its routes is
// registered on the server's router, with the server's middleware and role
// check, and dispatched to Handler.
type Mount struct {
	// Name identifies the mount in logs and the OpenAPI document.
	Name string
	// Routes are the mount's routes; their Handler fields may be nil, in
	// which case Handler serves them.
	Routes []Route
	// Handler serves the routes whose Handler is nil.
	Handler http.Handler
	// WriteError, when set, writes the mount's own error envelope for the
	// refusals the server makes before the handler runs (401, 403). It gets
	// an error wrapping access.ErrUnauthenticated or access.ErrForbidden.
	WriteError func(w http.ResponseWriter, r *http.Request, err error)
}

// Server is the team server. Build it with [New].
type Server struct {
	o        Options
	mux      *http.ServeMux
	routes   []Route
	handler  http.Handler
	draining atomic.Bool
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	inflight prometheus.Gauge
	plog     *predlog.Log
}

// New builds a server and its route table.
func New(o Options) (*Server, error) {
	if o.DB == nil || o.Blobs == nil || o.Access == nil {
		return nil, errors.New("web: new server: DB, Blobs and Access are required")
	}
	if o.Tracker == nil {
		o.Tracker = track.New(o.DB, o.Blobs)
		o.Tracker.Version = o.Version
	}
	if o.Registry == nil {
		o.Registry = registry.New(o.DB, o.Blobs)
	}
	if o.Datasets == nil {
		o.Datasets = dataset.New(o.DB, o.Blobs)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 30 * time.Second
	}
	if o.MaxUpload <= 0 {
		o.MaxUpload = 2 << 30
	}
	s := &Server{o: o, mux: http.NewServeMux(), reg: prometheus.NewRegistry(), plog: predlog.New(o.DB, o.Blobs)}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gyre_server_requests_total", Help: "Requests answered, by route pattern, method and status code.",
	}, []string{"route", "method", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "gyre_server_request_duration_seconds", Help: "Request latency by route pattern and method.",
		Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{"route", "method"})
	s.inflight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "gyre_server_in_flight_requests", Help: "Requests being served."})
	s.reg.MustRegister(s.requests, s.latency, s.inflight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	var table []Route
	table = append(table, s.systemRoutes()...)
	table = append(table, s.apiRoutes()...)
	for _, m := range o.Mounts {
		for _, rt := range m.Routes {
			if rt.Handler == nil {
				rt.Handler = m.Handler
			}
			rt.Mount = m.Name
			rt.writeError = m.WriteError
			table = append(table, rt)
		}
	}
	for _, rt := range table {
		if err := s.Handle(rt); err != nil {
			return nil, err
		}
	}
	// Unmatched API paths get the envelope (404, or 405 naming the
	// methods the path allows); "/" stays free for the UI.
	s.mux.HandleFunc("/api/v1/", s.noRoute)
	s.handler = s.middleware(s.mux)
	return s, nil
}

// Handle adds a route to the server (the embedded UI adds its pages this
// way). Its handler runs behind the same authentication and role check as
// every API route.
func (s *Server) Handle(rt Route) (err error) {
	if rt.Handler == nil || rt.Method == "" || !strings.HasPrefix(rt.Pattern, "/") {
		return fmt.Errorf("web: route %s %s: want a method, a pattern starting with / and a handler", rt.Method, rt.Pattern)
	}
	defer func() {
		if v := recover(); v != nil { // ServeMux panics on conflicting patterns
			err = fmt.Errorf("web: route %s %s: %v", rt.Method, rt.Pattern, v)
		}
	}()
	s.mux.Handle(rt.Method+" "+rt.Pattern, s.guard(rt))
	s.routes = append(s.routes, rt)
	return nil
}

// Routes returns the route table: every endpoint the server answers, in
// registration order.
func (s *Server) Routes() []Route { return slices.Clone(s.routes) }

// Handler returns the server's HTTP handler (middleware and router).
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers requests on ln until ctx ends, then shuts down gracefully:
// /readyz turns 503 at once, new connections are refused, and in-flight
// requests get up to ShutdownTimeout to finish.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.o.Logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if s.o.TLS != nil {
		hs.TLSConfig = s.o.TLS
		ln = tls.NewListener(ln, s.o.TLS)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	s.draining.Store(true)
	s.o.Logger.Info("shutting down", "timeout", s.o.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.o.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
		return fmt.Errorf("server: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}
