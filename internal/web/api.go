package web

import (
	"context"
	"net/http"
	"slices"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/track"
)

// handlerFunc is an API handler that returns its error for the envelope.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (f handlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := f(w, r); err != nil {
		writeError(w, r, err)
	}
}

// The adapters below give the API handlers one shape: a function of the
// request that returns what to answer, or an error for the envelope. Only
// the handlers that stream or set headers take the ResponseWriter.

// ok answers f's value as JSON with 200.
func ok[T any](f func(*http.Request) (T, error)) handlerFunc { return answer(http.StatusOK, f) }

// created answers f's value as JSON with 201.
func created[T any](f func(*http.Request) (T, error)) handlerFunc {
	return answer(http.StatusCreated, f)
}

func answer[T any](status int, f func(*http.Request) (T, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := f(r)
		if err != nil {
			return err
		}
		writeJSON(w, status, v)
		return nil
	}
}

// done answers 204 No Content when f succeeds.
func done(f func(*http.Request) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := f(r); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// listed answers f's items as one List, unpaged.
func listed[T any](f func(*http.Request) ([]T, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		items, err := f(r)
		if err != nil {
			return err
		}
		writeList(w, items, "")
		return nil
	}
}

// paged answers one page of f's items (max_results, page_token); the
// paging parameters are checked before f runs.
func paged[T any](f func(*http.Request) ([]T, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := pageParams(r)
		if err != nil {
			return err
		}
		all, err := f(r)
		if err != nil {
			return err
		}
		items, next, err := paginate(all, p)
		if err != nil {
			return err
		}
		writeList(w, items, next)
		return nil
	}
}

// pageQuery documents the paging parameters of the paged lists.
var pageQuery = []Param{{"max_results", "page size (1-1000, default 100)"}, {"page_token", "next_page_token of the previous page"}}

// apiRoutes is Gyre's own API: one list per area.
func (s *Server) apiRoutes() []Route {
	var rs []Route
	rs = append(rs, Route{Method: "GET", Pattern: "/api/v1/whoami", Role: access.Viewer, Self: true,
		Summary: "The caller's name and roles.", Response: Whoami{}, Handler: ok(s.whoami)})
	rs = append(rs, s.runRoutes()...)
	rs = append(rs, s.modelRoutes()...)
	rs = append(rs, s.cardRoutes()...)
	rs = append(rs, s.monitorRoutes()...)
	rs = append(rs, s.latencyRoutes()...)
	rs = append(rs, s.predlogRoutes()...)
	rs = append(rs, s.datasetRoutes()...)
	rs = append(rs, s.accessRoutes()...)
	rs = append(rs, s.auditRoutes()...)
	rs = append(rs, s.gcRoutes()...)
	rs = append(rs, s.governanceRoutes()...)
	return rs
}

// List is the body of every list response.
type List[T any] struct {
	Items         []T    `json:"items"`
	NextPageToken string `json:"next_page_token,omitempty"`
}

func writeList[T any](w http.ResponseWriter, items []T, next string) {
	if items == nil {
		items = []T{}
	}
	writeJSON(w, http.StatusOK, List[T]{Items: items, NextPageToken: next})
}

// experimentResource returns the grant resource of an experiment by name
// (grants name experiments by id, which does not change on a rename); the
// server for one that does not exist.
func (s *Server) experimentResource(ctx context.Context, name string) (access.Resource, error) {
	exps, err := s.o.Tracker.Experiments(ctx)
	if err != nil {
		return access.Resource{}, err
	}
	for _, e := range exps {
		if e.Name == name {
			return access.Resource{Kind: access.Experiment, Name: e.ID}, nil
		}
	}
	return access.ServerResource, nil
}

// requireExperiment checks the caller's role on an experiment by name; an
// experiment that does not exist yet needs the role server-wide (creating
// it is a server-wide act). A server-wide role covers every experiment, so
// the experiments are looked up only for callers whose role comes from
// grants: not on every request of a server-wide editor.
func (s *Server) requireExperiment(ctx context.Context, need access.Role, name string) error {
	if access.PrincipalFrom(ctx).RoleOn(access.ServerResource) >= need {
		return nil
	}
	res, err := s.experimentResource(ctx, name)
	if err != nil {
		return err
	}
	return access.Require(ctx, need, res)
}

// visibleExperiments returns the names of the experiments the caller may
// read, or nil when it may read all (a server-wide viewer).
func (s *Server) visibleExperiments(ctx context.Context) ([]string, error) {
	p := access.PrincipalFrom(ctx)
	if p.RoleOn(access.ServerResource) >= access.Viewer {
		return nil, nil
	}
	exps, err := s.o.Tracker.Experiments(ctx)
	if err != nil {
		return nil, err
	}
	names := []string{}
	for _, e := range exps {
		if p.RoleOn(access.Resource{Kind: access.Experiment, Name: e.ID}) >= access.Viewer {
			names = append(names, e.Name)
		}
	}
	return names, nil
}

// runFor loads a run and checks the caller's role on its experiment.
func (s *Server) runFor(ctx context.Context, need access.Role, id string) (*track.RunInfo, error) {
	if err := checkRunID(id); err != nil {
		return nil, err
	}
	run, err := s.o.Tracker.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.requireExperiment(ctx, need, run.Experiment); err != nil {
		return nil, err
	}
	return run, nil
}

// filterVisible keeps the items the caller may read.
func filterVisible[T any](ctx context.Context, items []T, res func(T) access.Resource) []T {
	p := access.PrincipalFrom(ctx)
	if p.RoleOn(access.ServerResource) >= access.Viewer {
		return items
	}
	return slices.DeleteFunc(items, func(it T) bool { return p.RoleOn(res(it)) < access.Viewer })
}
