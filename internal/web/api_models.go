package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/track"
	"github.com/gyre-ml/gyre/internal/validate"
)

// UpdateModelRequest changes a registered model.
type UpdateModelRequest struct {
	Description *string `json:"description"`
}

// SetTagRequest sets one tag.
type SetTagRequest struct {
	Value string `json:"value"`
}

// SetAliasRequest points an alias at a version.
type SetAliasRequest struct {
	Version int64 `json:"version"`
}

// Lineage is a model version traced back to the run that made it and the
// data set versions it was trained on. Missing lists what it names but the
// store no longer holds.
type Lineage struct {
	Model *registry.Version `json:"model_version"`
	// Classification is the registered model's (each data set version
	// carries its own).
	Classification validate.Classification `json:"classification,omitempty"`
	Run            *track.RunInfo          `json:"run,omitempty"`
	Datasets       []*dataset.Version      `json:"datasets,omitempty"`
	Missing        []string                `json:"missing,omitempty"`
}

// TraceLineage resolves a model reference and follows it to its run and
// data set versions (from the version's own record and the run's inputs).
func TraceLineage(ctx context.Context, tr *track.Tracker, reg *registry.Registry, ds *dataset.Catalog, ref string) (*Lineage, error) {
	v, err := reg.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	l := &Lineage{Model: v}
	if m, err := reg.Model(ctx, v.Model); err == nil {
		l.Classification = m.Classification
	}
	seen := map[string]bool{}
	var refs []string
	add := func(name string, version int64) {
		r := fmt.Sprintf("%s@%d", name, version)
		if !seen[r] {
			seen[r] = true
			refs = append(refs, r)
		}
	}
	for _, d := range v.Datasets {
		add(d.Name, d.Version)
	}
	if v.RunID != "" {
		r, err := tr.Get(ctx, v.RunID)
		switch {
		case errors.Is(err, track.ErrNotFound):
			l.Missing = append(l.Missing, "run "+v.RunID+" (deleted)")
		case err != nil:
			return nil, err
		default:
			l.Run = r
			for _, d := range r.Datasets {
				add(d.Name, d.Version)
			}
		}
	}
	sort.Strings(refs)
	for _, r := range refs {
		d, err := ds.Get(ctx, r)
		if errors.Is(err, dataset.ErrNotFound) {
			l.Missing = append(l.Missing, "data set "+r)
			continue
		}
		if err != nil {
			return nil, err
		}
		l.Datasets = append(l.Datasets, d)
	}
	return l, nil
}

func modelRes(name string) access.Resource { return access.Resource{Kind: access.Model, Name: name} }

func (s *Server) modelRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/models", Role: access.Viewer, Summary: "List registered models (those the caller may read).",
			Query: pageQuery, Response: List[registry.Model]{}, Handler: paged(s.listModels)},
		{Method: "GET", Pattern: "/api/v1/models/{name}", Role: access.Viewer, Summary: "Get a registered model.",
			Response: registry.Model{}, Handler: ok(s.getModel)},
		{Method: "PATCH", Pattern: "/api/v1/models/{name}", Role: access.Editor, Summary: "Change a model's description.",
			Body: UpdateModelRequest{}, Response: registry.Model{}, Handler: ok(s.updateModel)},
		{Method: "DELETE", Pattern: "/api/v1/models/{name}", Role: access.Admin, Summary: "Delete a model with all its versions (admin of the model).",
			Handler: done(s.deleteModel)},
		{Method: "PUT", Pattern: "/api/v1/models/{name}/tags/{key}", Role: access.Editor, Summary: "Set a model tag.",
			Body: SetTagRequest{}, Handler: done(s.setModelTag)},
		{Method: "GET", Pattern: "/api/v1/models/{name}/versions", Role: access.Viewer, Summary: "List a model's versions.",
			Query: pageQuery, Response: List[registry.Version]{}, Handler: paged(s.listVersions)},
		{Method: "POST", Pattern: "/api/v1/models/{name}/versions", Role: access.Editor, Summary: "Register a new version: the body is the bundle file.",
			Query: []Param{{"run_id", "the run that produced it"}, {"description", "the version's description"}, {"dataset", "NAME@VERSION it was trained on (repeatable)"},
				{"bundle_digest", "register the run's artifact with this digest instead of a body"}},
			RawBody: "application/octet-stream", Response: registry.Version{}, Handler: handlerFunc(s.registerVersion)},
		{Method: "GET", Pattern: "/api/v1/models/{name}/versions/{version}", Role: access.Viewer, Summary: "Get a model version.",
			Response: registry.Version{}, Handler: ok(s.getVersion)},
		{Method: "DELETE", Pattern: "/api/v1/models/{name}/versions/{version}", Role: access.Editor, Summary: "Delete a model version.",
			Handler: done(s.deleteVersion)},
		{Method: "GET", Pattern: "/api/v1/models/{name}/versions/{version}/bundle", Role: access.Viewer, Summary: "Download a version's bundle.",
			RawResponse: "application/octet-stream", Handler: handlerFunc(s.getBundle)},
		{Method: "GET", Pattern: "/api/v1/models/{name}/versions/{version}/lineage", Role: access.Viewer, Summary: "A version's run and data set versions.",
			Response: Lineage{}, Handler: ok(s.versionLineage)},
		{Method: "GET", Pattern: "/api/v1/models/{name}/aliases/{alias}", Role: access.Viewer, Summary: "The version an alias points at.",
			Response: registry.Version{}, Handler: ok(s.getAlias)},
		{Method: "PUT", Pattern: "/api/v1/models/{name}/aliases/{alias}", Role: access.Editor, Summary: "Point an alias at a version (promote).",
			Body: SetAliasRequest{}, Response: registry.Version{}, Handler: ok(s.setAlias)},
		{Method: "DELETE", Pattern: "/api/v1/models/{name}/aliases/{alias}", Role: access.Editor, Summary: "Remove an alias.",
			Handler: done(s.deleteAlias)},
		{Method: "GET", Pattern: "/api/v1/models/{name}/alias-history", Role: access.Viewer, Summary: "Every move of the model's aliases.",
			Response: List[registry.AliasEvent]{}, Handler: listed(s.aliasHistory)},
		{Method: "GET", Pattern: "/api/v1/resolve", Role: access.Viewer, Summary: "Resolve a model reference (NAME, NAME/VERSION, NAME@ALIAS, models:/...).",
			Query: []Param{{"ref", "the model reference"}}, Response: registry.Version{}, Handler: ok(s.resolve)},
		{Method: "GET", Pattern: "/api/v1/lineage", Role: access.Viewer, Summary: "Trace a model reference to its run and data set versions.",
			Query: []Param{{"ref", "the model reference"}}, Response: Lineage{}, Handler: ok(s.lineage)},
	}
}

// modelName validates the {name} path value and checks the caller's role
// on the model.
func modelName(r *http.Request, need access.Role) (string, error) {
	name := r.PathValue("name")
	if err := checkName("name", name); err != nil {
		return "", err
	}
	return name, access.Require(r.Context(), need, modelRes(name))
}

func versionNumber(r *http.Request) (int64, error) {
	s := r.PathValue("version")
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 1 {
		return 0, errorf(KindInvalid, "version", "version %q: want a positive version number", s)
	}
	return v, nil
}

func (s *Server) listModels(r *http.Request) ([]registry.Model, error) {
	ms, err := s.o.Registry.Models(r.Context())
	if err != nil {
		return nil, err
	}
	return filterVisible(r.Context(), ms, func(m registry.Model) access.Resource { return modelRes(m.Name) }), nil
}

func (s *Server) getModel(r *http.Request) (*registry.Model, error) {
	name, err := modelName(r, access.Viewer)
	if err != nil {
		return nil, err
	}
	return s.o.Registry.Model(r.Context(), name)
}

func (s *Server) updateModel(r *http.Request) (*registry.Model, error) {
	name, err := modelName(r, access.Editor)
	if err != nil {
		return nil, err
	}
	var req UpdateModelRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	if req.Description == nil {
		return nil, errorf(KindInvalid, "description", "nothing to change: give description")
	}
	if len(*req.Description) > maxValueLen {
		return nil, errorf(KindInvalid, "description", "description: at most %d bytes", maxValueLen)
	}
	if err := s.o.Registry.SetDescription(r.Context(), name, *req.Description); err != nil {
		return nil, err
	}
	return s.o.Registry.Model(r.Context(), name)
}

func (s *Server) deleteModel(r *http.Request) error {
	name, err := modelName(r, access.Admin)
	if err != nil {
		return err
	}
	return s.o.Registry.DeleteModel(r.Context(), name)
}

func (s *Server) setModelTag(r *http.Request) error {
	name, err := modelName(r, access.Editor)
	if err != nil {
		return err
	}
	key := r.PathValue("key")
	if err := checkKey("key", key); err != nil {
		return err
	}
	var req SetTagRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if len(req.Value) > maxValueLen {
		return errorf(KindInvalid, "value", "value: at most %d bytes", maxValueLen)
	}
	return s.o.Registry.SetTag(r.Context(), name, key, req.Value)
}

func (s *Server) listVersions(r *http.Request) ([]registry.Version, error) {
	name, err := modelName(r, access.Viewer)
	if err != nil {
		return nil, err
	}
	return s.o.Registry.Versions(r.Context(), name)
}

func (s *Server) registerVersion(w http.ResponseWriter, r *http.Request) error {
	name, err := modelName(r, access.Editor)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	o := registry.RegisterOptions{RunID: q.Get("run_id"), Description: q.Get("description")}
	if len(o.Description) > maxValueLen {
		return errorf(KindInvalid, "description", "description: at most %d bytes", maxValueLen)
	}
	if o.RunID != "" {
		run, err := s.runFor(r.Context(), access.Viewer, o.RunID)
		if err != nil {
			return err
		}
		o.RunID = run.ID
	}
	for _, d := range q["dataset"] {
		dn, dv, err := dataset.ParseRef(d)
		if err != nil || dv < 1 {
			return errorf(KindInvalid, "dataset", "dataset %q: want NAME@VERSION", d)
		}
		o.Datasets = append(o.Datasets, registry.DatasetVersion{Name: dn, Version: dv})
	}
	if d := q.Get("bundle_digest"); d != "" {
		return s.registerArtifact(w, r, name, d, o)
	}
	// Spool and check the bundle before it is stored: a version must be a
	// bundle Gyre can load.
	f, err := os.CreateTemp("", "gyre-upload-*.gyre")
	if err != nil {
		return fmt.Errorf("register %s: %w", name, err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := io.Copy(f, http.MaxBytesReader(w, r.Body, s.o.MaxUpload)); err != nil {
		return classify(fmt.Errorf("register %s: read bundle: %w", name, err))
	}
	if _, err := bundle.Load(f.Name()); err != nil {
		return errorf(KindInvalid, "body", "register %s: the body is not a loadable Gyre bundle: %v", name, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	o.Bundle = f
	v, err := s.o.Registry.Register(r.Context(), name, o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

// registerArtifact registers the run's artifact with the given digest (a
// bundle the client has uploaded to the run already) without its bytes
// being sent again.
func (s *Server) registerArtifact(w http.ResponseWriter, r *http.Request, name, digest string, o registry.RegisterOptions) error {
	if o.RunID == "" {
		return errorf(KindInvalid, "bundle_digest", "bundle_digest: give run_id too: the bundle must be one of the run's artifacts")
	}
	run, err := s.o.Tracker.Get(r.Context(), o.RunID)
	if err != nil {
		return err
	}
	for _, a := range run.Artifacts {
		if a.Digest != digest {
			continue
		}
		rc, err := s.o.Blobs.Get(r.Context(), digest)
		if err != nil {
			return err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("register %s: read artifact %s: %w", name, a.Name, err)
		}
		if _, err := bundle.Decode(data); err != nil {
			return errorf(KindInvalid, "bundle_digest", "register %s: run %s's artifact %s is not a loadable Gyre bundle: %v", name, run.ID, a.Name, err)
		}
		o.BundleRef = a.Ref
		v, err := s.o.Registry.Register(r.Context(), name, o)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, v)
		return nil
	}
	return errorf(KindNotFound, "bundle_digest", "run %s has no artifact with digest %s", run.ID, digest)
}

func (s *Server) version(r *http.Request, need access.Role) (*registry.Version, error) {
	name, err := modelName(r, need)
	if err != nil {
		return nil, err
	}
	v, err := versionNumber(r)
	if err != nil {
		return nil, err
	}
	return s.o.Registry.Version(r.Context(), name, v)
}

func (s *Server) getVersion(r *http.Request) (*registry.Version, error) {
	return s.version(r, access.Viewer)
}

func (s *Server) deleteVersion(r *http.Request) error {
	v, err := s.version(r, access.Editor)
	if err != nil {
		return err
	}
	return s.o.Registry.DeleteVersion(r.Context(), v.Model, v.Version)
}

func (s *Server) getBundle(w http.ResponseWriter, r *http.Request) error {
	v, err := s.version(r, access.Viewer)
	if err != nil {
		return err
	}
	return s.streamBlob(w, r, v.Bundle.Digest, v.Bundle.Size, fmt.Sprintf("%s-%d.gyre", v.Model, v.Version))
}

func (s *Server) versionLineage(r *http.Request) (*Lineage, error) {
	v, err := s.version(r, access.Viewer)
	if err != nil {
		return nil, err
	}
	return TraceLineage(r.Context(), s.o.Tracker, s.o.Registry, s.o.Datasets, v.Ref())
}

func aliasName(r *http.Request) (string, error) {
	a := r.PathValue("alias")
	if err := checkName("alias", a); err != nil {
		return "", err
	}
	if _, err := strconv.ParseInt(a, 10, 64); err == nil {
		return "", errorf(KindInvalid, "alias", "alias %q: a number would read as a version; start it with a letter", a)
	}
	return a, nil
}

// modelAlias validates the {name} and {alias} path values and checks the
// caller's role on the model.
func modelAlias(r *http.Request, need access.Role) (name, alias string, err error) {
	if name, err = modelName(r, need); err != nil {
		return "", "", err
	}
	if alias, err = aliasName(r); err != nil {
		return "", "", err
	}
	return name, alias, nil
}

func (s *Server) getAlias(r *http.Request) (*registry.Version, error) {
	name, alias, err := modelAlias(r, access.Viewer)
	if err != nil {
		return nil, err
	}
	return s.o.Registry.Resolve(r.Context(), name+"@"+alias)
}

func (s *Server) setAlias(r *http.Request) (*registry.Version, error) {
	name, alias, err := modelAlias(r, access.Editor)
	if err != nil {
		return nil, err
	}
	var req SetAliasRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	if req.Version < 1 {
		return nil, errorf(KindInvalid, "version", "version %d: want a positive version number", req.Version)
	}
	if err := s.o.Registry.SetAlias(r.Context(), name, alias, req.Version); err != nil {
		return nil, err
	}
	return s.o.Registry.Version(r.Context(), name, req.Version)
}

func (s *Server) deleteAlias(r *http.Request) error {
	name, alias, err := modelAlias(r, access.Editor)
	if err != nil {
		return err
	}
	return s.o.Registry.DeleteAlias(r.Context(), name, alias)
}

func (s *Server) aliasHistory(r *http.Request) ([]registry.AliasEvent, error) {
	name, err := modelName(r, access.Viewer)
	if err != nil {
		return nil, err
	}
	return s.o.Registry.AliasHistory(r.Context(), name)
}

// refModel resolves the ref query parameter's model name and checks the
// caller may read it.
func refModel(r *http.Request) (string, error) {
	ref := r.URL.Query().Get("ref")
	if ref == "" {
		return "", errorf(KindInvalid, "ref", "ref: want a model reference (NAME, NAME/VERSION, NAME@ALIAS, models:/...)")
	}
	pr, err := registry.ParseRef(ref)
	if err != nil {
		return "", invalid("ref", err)
	}
	if err := access.Require(r.Context(), access.Viewer, modelRes(pr.Name)); err != nil {
		return "", err
	}
	return ref, nil
}

func (s *Server) resolve(r *http.Request) (*registry.Version, error) {
	ref, err := refModel(r)
	if err != nil {
		return nil, err
	}
	return s.o.Registry.Resolve(r.Context(), ref)
}

func (s *Server) lineage(r *http.Request) (*Lineage, error) {
	ref, err := refModel(r)
	if err != nil {
		return nil, err
	}
	return TraceLineage(r.Context(), s.o.Tracker, s.o.Registry, s.o.Datasets, ref)
}
