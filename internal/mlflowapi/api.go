package mlflowapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/track"
)

// Options configures an [API].
type Options struct {
	// Tracker, Registry and Blobs are required; Datasets is optional
	// (without it, Gyre data set inputs are shown without a digest).
	Tracker  *track.Tracker
	Registry *registry.Registry
	Datasets *dataset.Catalog
	// Blobs holds run artifacts (the tracker's artifact store).
	Blobs blob.Store
	// Logger receives internal errors (default slog.Default()).
	Logger *slog.Logger
	// MaxBodyBytes bounds a JSON request body (default 16 MiB); log-batch
	// is bounded at 1 MB as in MLflow. Artifact uploads are not bounded
	// here.
	MaxBodyBytes int64
}

// Prefixes are the paths the API answers under: MLflow's REST prefix and
// the one its web UI calls.
var Prefixes = []string{"/api/2.0/", "/ajax-api/2.0/"}

// Route is one endpoint of the API.
type Route struct {
	// Method is the HTTP method.
	Method string
	// Path is the full path ("/api/2.0/mlflow/runs/create"); artifact
	// routes end in "/{path...}".
	Path string
	// Need is the role the caller needs on the resource.
	Need access.Role
	// Scope is the kind of resource the role is checked on: the server,
	// the experiment the request names or implies, or the registered
	// model it names. Searches check Viewer anywhere and filter results.
	Scope access.Kind
	// Write is true for routes that change the store.
	Write bool
}

type handlerFunc func(c *call) (any, error)

// decoded is the handler that reads the request into a fresh Req (query
// string or JSON body, see [call.decode]) and passes it to h: the shape of
// every route but the artifact proxy's uploads and downloads.
func decoded[Req any](h func(c *call, req *Req) (any, error)) handlerFunc {
	return func(c *call) (any, error) {
		var req Req
		if err := c.decode(&req); err != nil {
			return nil, err
		}
		return h(c, &req)
	}
}

type route struct {
	Route
	rel string // path after the prefix
	h   handlerFunc
}

// API serves the MLflow REST API. It is safe for concurrent use.
type API struct {
	o      Options
	log    *slog.Logger
	routes map[string]map[string]*route // rel path → method → route
	allow  map[string]string            // rel path → its methods, for 405's Allow
	list   []*route
}

var _ http.Handler = (*API)(nil)

// New returns the API over o's stores.
func New(o Options) *API {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 16 << 20
	}
	a := &API{o: o, log: o.Logger, routes: map[string]map[string]*route{}, allow: map[string]string{}}
	if a.log == nil {
		a.log = slog.Default()
	}
	a.register()
	return a
}

func (a *API) add(method, rel string, need access.Role, scope access.Kind, h handlerFunc) {
	rt := &route{Route: Route{Method: method, Need: need, Scope: scope, Write: method != http.MethodGet && need >= access.Editor}, rel: rel, h: h}
	if a.routes[rel] == nil {
		a.routes[rel] = map[string]*route{}
	}
	a.routes[rel][method] = rt
	a.allow[rel] = strings.Join(slices.Sorted(maps.Keys(a.routes[rel])), ", ")
	a.list = append(a.list, rt)
}

// Routes returns every route under every prefix, sorted by path and
// method: the table a security test walks so that no route escapes
// authentication.
func (a *API) Routes() []Route {
	var out []Route
	for _, p := range Prefixes {
		for _, rt := range a.list {
			r := rt.Route
			r.Path = p + rt.rel
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

const artifactsRel = "mlflow-artifacts/artifacts"

// ServeHTTP answers one request.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rel := ""
	for _, p := range Prefixes {
		if s, ok := strings.CutPrefix(r.URL.Path, p); ok {
			rel = s
			break
		}
	}
	key := rel
	if strings.HasPrefix(rel, artifactsRel+"/") {
		key = artifactsRel + "/{path...}"
	}
	methods := a.routes[key]
	if rel == "" || methods == nil {
		writeError(w, &apiError{code: "ENDPOINT_NOT_FOUND", status: http.StatusNotFound,
			msg: fmt.Sprintf("no MLflow endpoint %s %s", r.Method, r.URL.Path)})
		return
	}
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	rt := methods[method]
	if rt == nil {
		allow := a.allow[key]
		w.Header().Set("Allow", allow)
		writeError(w, &apiError{code: "BAD_REQUEST", status: http.StatusMethodNotAllowed,
			msg: fmt.Sprintf("%s %s: method not allowed (allowed: %s)", r.Method, r.URL.Path, allow)})
		return
	}
	c := &call{api: a, route: rt, r: r, w: w, ctx: r.Context(), rel: rel}
	if err := c.precheck(); err != nil {
		writeError(w, a.toAPIError(r, err))
		return
	}
	resp, err := rt.h(c)
	if err == nil && !c.checked {
		err = fmt.Errorf("%s %s answered without a permission check", rt.Method, rt.rel)
	}
	if err != nil {
		writeError(w, a.toAPIError(r, err))
		return
	}
	if c.wrote {
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// call is one request being answered.
type call struct {
	api     *API
	route   *route
	r       *http.Request
	w       http.ResponseWriter
	ctx     context.Context
	rel     string
	checked bool // Require was called and passed
	wrote   bool // the handler wrote the response itself
}

// precheck refuses a caller whose best role anywhere is below the route's
// need, before the request is read: no credentials → 401, too low → 403.
func (c *call) precheck() error {
	p := access.PrincipalFrom(c.ctx)
	need := c.route.Need
	if p == nil || p.Anonymous && need > access.Viewer {
		return fmt.Errorf("%s %s needs credentials: %w", c.route.Method, c.r.URL.Path, access.ErrUnauthenticated)
	}
	best := p.Role
	if c.route.Scope != access.Server {
		for r, role := range p.Grants {
			if r.Kind == c.route.Scope || c.route.Scope == "" {
				best = max(best, role)
			}
		}
	}
	if best < need {
		return fmt.Errorf("%s is %s, %s %s needs %s: %w", p.Name, best, c.route.Method, c.r.URL.Path, need, access.ErrForbidden)
	}
	return nil
}

// require checks the route's role on r.
func (c *call) require(r access.Resource) error {
	if err := access.Require(c.ctx, c.route.Need, r); err != nil {
		return err
	}
	c.checked = true
	return nil
}

// requireExperiment checks the route's role on an experiment.
func (c *call) requireExperiment(id string) error {
	return c.require(access.Resource{Kind: access.Experiment, Name: id})
}

// requireModel checks the route's role on a registered model.
func (c *call) requireModel(name string) error {
	return c.require(access.Resource{Kind: access.Model, Name: name})
}

// searched marks a search route checked: precheck has verified the caller
// may view something, and results are filtered with canView.
func (c *call) searched() { c.checked = true }

// canView reports whether the caller may view r.
func (c *call) canView(r access.Resource) bool {
	return access.PrincipalFrom(c.ctx).RoleOn(r) >= access.Viewer
}

// page is a search response: the items under key, and next_page_token
// when there is a next page.
func page(key string, items any, next string) map[string]any {
	resp := map[string]any{key: items}
	if next != "" {
		resp["next_page_token"] = next
	}
	return resp
}

// apiError is an error with MLflow's code and HTTP status.
type apiError struct {
	code   string
	status int
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func invalid(format string, args ...any) error {
	return &apiError{code: "INVALID_PARAMETER_VALUE", status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &apiError{code: "RESOURCE_DOES_NOT_EXIST", status: http.StatusNotFound, msg: fmt.Sprintf(format, args...)}
}

// toAPIError maps store errors to MLflow's codes; anything unexpected is
// logged and answered INTERNAL_ERROR.
func (a *API) toAPIError(r *http.Request, err error) *apiError {
	var ae *apiError
	var fe *track.FilterError
	var rfe *registry.FilterError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, access.ErrUnauthenticated):
		return &apiError{code: "UNAUTHENTICATED", status: http.StatusUnauthorized, msg: err.Error()}
	case errors.Is(err, access.ErrForbidden):
		return &apiError{code: "PERMISSION_DENIED", status: http.StatusForbidden, msg: err.Error()}
	case errors.Is(err, track.ErrNotFound), errors.Is(err, registry.ErrNotFound), errors.Is(err, blob.ErrNotFound),
		errors.Is(err, dataset.ErrNotFound):
		return &apiError{code: "RESOURCE_DOES_NOT_EXIST", status: http.StatusNotFound, msg: err.Error()}
	case errors.Is(err, track.ErrExists), errors.Is(err, registry.ErrExists):
		return &apiError{code: "RESOURCE_ALREADY_EXISTS", status: http.StatusBadRequest, msg: err.Error()}
	case errors.As(err, &fe), errors.As(err, &rfe), errors.Is(err, track.ErrInvalid), errors.Is(err, track.ErrParamChanged),
		errors.Is(err, track.ErrDeleted), errors.Is(err, track.ErrAmbiguous), errors.Is(err, registry.ErrInvalid),
		errors.Is(err, registry.ErrInvalidName), errors.Is(err, registry.ErrInvalidRef), errors.Is(err, registry.ErrNoBundle):
		return &apiError{code: "INVALID_PARAMETER_VALUE", status: http.StatusBadRequest, msg: err.Error()}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &apiError{code: "TEMPORARILY_UNAVAILABLE", status: http.StatusServiceUnavailable, msg: err.Error()}
	}
	a.log.Error("mlflow api: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	return &apiError{code: "INTERNAL_ERROR", status: http.StatusInternalServerError, msg: err.Error()}
}

// WriteRefusal writes, in MLflow's error envelope, a refusal the team
// server makes before the API's handler runs: err wraps
// access.ErrUnauthenticated (401 UNAUTHENTICATED, with the server's
// WWW-Authenticate challenge) or is taken as access.ErrForbidden (403
// PERMISSION_DENIED).
func WriteRefusal(w http.ResponseWriter, _ *http.Request, err error) {
	e := &apiError{code: "PERMISSION_DENIED", status: http.StatusForbidden, msg: err.Error()}
	if errors.Is(err, access.ErrUnauthenticated) {
		e.code, e.status = "UNAUTHENTICATED", http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", `Bearer realm="gyre", Basic realm="gyre"`)
	}
	writeError(w, e)
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, map[string]string{"error_code": e.code, "message": e.msg})
}

// writeJSON writes v as JSON with a status. Like MLflow's server, it does
// not escape <, > and & (a filter such as "metrics.x > 1" comes back as
// written, not as \u003e).
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error_code":"INTERNAL_ERROR","message":"encode response"}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// existsAs rewords an already-exists error from the stores as MLflow
// words it.
func existsAs(err error, format string, args ...any) error {
	if errors.Is(err, track.ErrExists) || errors.Is(err, registry.ErrExists) {
		return &apiError{code: "RESOURCE_ALREADY_EXISTS", status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
	}
	return err
}

// notFoundAs rewords a not-found error from the stores as MLflow words it.
func notFoundAs(err error, format string, args ...any) error {
	if errors.Is(err, track.ErrNotFound) || errors.Is(err, registry.ErrNotFound) {
		return notFound(format, args...)
	}
	return err
}

func (a *API) register() {
	a.registerExperiments()
	a.registerRuns()
	a.registerModels()
	a.registerArtifacts()
}
