package mlflowapi

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/track"
)

func (a *API) registerModels() {
	const rm, mv = "mlflow/registered-models/", "mlflow/model-versions/"
	a.add(http.MethodPost, rm+"create", access.Editor, access.Server, decoded(a.createModel))
	a.add(http.MethodGet, rm+"get", access.Viewer, access.Model, decoded(a.getModel))
	a.add(http.MethodPost, rm+"rename", access.Editor, access.Model, decoded(a.renameModel))
	a.add(http.MethodPatch, rm+"update", access.Editor, access.Model, decoded(a.updateModel))
	a.add(http.MethodDelete, rm+"delete", access.Editor, access.Model, decoded(a.deleteModel))
	a.add(http.MethodGet, rm+"search", access.Viewer, access.Model, decoded(a.searchModels))
	a.add(http.MethodPost, rm+"get-latest-versions", access.Viewer, access.Model, decoded(a.latestVersions))
	a.add(http.MethodGet, rm+"get-latest-versions", access.Viewer, access.Model, decoded(a.latestVersions))
	a.add(http.MethodPost, rm+"set-tag", access.Editor, access.Model, decoded(a.setModelTag))
	a.add(http.MethodDelete, rm+"delete-tag", access.Editor, access.Model, decoded(a.deleteModelTag))
	a.add(http.MethodPost, rm+"alias", access.Editor, access.Model, decoded(a.setAlias))
	a.add(http.MethodDelete, rm+"alias", access.Editor, access.Model, decoded(a.deleteAlias))
	a.add(http.MethodGet, rm+"alias", access.Viewer, access.Model, decoded(a.getByAlias))
	a.add(http.MethodPost, mv+"create", access.Editor, access.Model, decoded(a.createVersion))
	a.add(http.MethodGet, mv+"get", access.Viewer, access.Model, decoded(a.getVersion))
	a.add(http.MethodPatch, mv+"update", access.Editor, access.Model, decoded(a.updateVersion))
	a.add(http.MethodDelete, mv+"delete", access.Editor, access.Model, decoded(a.deleteVersion))
	a.add(http.MethodGet, mv+"search", access.Viewer, access.Model, decoded(a.searchVersions))
	a.add(http.MethodGet, mv+"get-download-uri", access.Viewer, access.Model, decoded(a.downloadURI))
	a.add(http.MethodPost, mv+"transition-stage", access.Editor, access.Model, decoded(a.transitionStage))
	a.add(http.MethodPost, mv+"set-tag", access.Editor, access.Model, decoded(a.setVersionTag))
	a.add(http.MethodDelete, mv+"delete-tag", access.Editor, access.Model, decoded(a.deleteVersionTag))
}

// model checks the route's role on the named model and reads it.
func (c *call) model(name string) (*registry.Model, error) {
	if name == "" {
		return nil, invalid("Registered model name cannot be empty.")
	}
	if err := c.requireModel(name); err != nil {
		return nil, err
	}
	m, err := c.api.o.Registry.Model(c.ctx, name)
	if err != nil {
		return nil, notFoundAs(err, "Registered Model with name=%s not found", name)
	}
	return m, nil
}

// version checks the route's role on the model and reads the version.
func (c *call) version(name string, ve Enum) (*registry.Version, error) {
	version := string(ve)
	if _, err := c.model(name); err != nil {
		return nil, err
	}
	n, err := strconv.ParseInt(version, 10, 64)
	if err != nil || n <= 0 {
		return nil, invalid("Model version must be an integer, got '%s'", version)
	}
	v, err := c.api.o.Registry.Version(c.ctx, name, n)
	if err != nil {
		return nil, notFoundAs(err, "Model Version (name=%s, version=%d) not found", name, n)
	}
	return v, nil
}

func (a *API) modelJSON(c *call, m *registry.Model) (registeredModelJSON, error) {
	latest, err := a.o.Registry.LatestVersions(c.ctx, m.Name, nil)
	if err != nil {
		return registeredModelJSON{}, err
	}
	var lv []modelVersionJSON
	for i := range latest {
		lv = append(lv, a.versionJSON(c, &latest[i]))
	}
	return toRegisteredModel(m, lv), nil
}

// versionJSON converts a version; a version registered by Gyre gets the
// artifact URI of the run artifact holding its bundle as its source.
func (a *API) versionJSON(c *call, v *registry.Version) modelVersionJSON {
	src := v.Source
	if src == "" {
		src = a.bundleSource(c, v)
	}
	return toModelVersion(v, src)
}

// bundleSource is the source of a version Gyre registered: the artifact
// URI of its run's artifact holding the bundle, else its models:/ URI.
func (a *API) bundleSource(c *call, v *registry.Version) string {
	if v.RunID != "" {
		if ri, err := a.runByID(c.ctx, v.RunID); err == nil {
			if i := slices.IndexFunc(ri.Artifacts, func(art track.Artifact) bool { return art.Digest == v.Bundle.Digest }); i >= 0 {
				return runArtifactURI(ri.ExperimentID, ri.ID) + "/" + ri.Artifacts[i].Name
			}
		}
	}
	return "models:/" + v.Model + "/" + strconv.FormatInt(v.Version, 10)
}

type modelReq struct {
	Name        string     `json:"name"`
	Tags        []keyValue `json:"tags"`
	Description string     `json:"description"`
}

func (a *API) createModel(c *call, req *modelReq) (any, error) {
	if err := c.require(access.ServerResource); err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, invalid("Registered model name cannot be empty.")
	}
	tags, err := tagMap(req.Tags)
	if err != nil {
		return nil, err
	}
	m, err := a.o.Registry.CreateModel(c.ctx, req.Name, req.Description, tags)
	if err != nil {
		return nil, existsAs(err, "Registered Model (name=%s) already exists.", req.Name)
	}
	rm, err := a.modelJSON(c, m)
	return map[string]any{"registered_model": rm}, err
}

func (a *API) getModel(c *call, req *modelReq) (any, error) {
	m, err := c.model(req.Name)
	if err != nil {
		return nil, err
	}
	rm, err := a.modelJSON(c, m)
	return map[string]any{"registered_model": rm}, err
}

type renameModelReq struct {
	Name    string `json:"name"`
	NewName string `json:"new_name"`
}

func (a *API) renameModel(c *call, req *renameModelReq) (any, error) {
	if _, err := c.model(req.Name); err != nil {
		return nil, err
	}
	if req.NewName == "" {
		return nil, invalid("Registered model name cannot be empty.")
	}
	if err := a.o.Registry.RenameModel(c.ctx, req.Name, req.NewName); err != nil {
		return nil, existsAs(err, "Registered Model (name=%s) already exists.", req.NewName)
	}
	m, err := a.o.Registry.Model(c.ctx, req.NewName)
	if err != nil {
		return nil, err
	}
	rm, err := a.modelJSON(c, m)
	return map[string]any{"registered_model": rm}, err
}

func (a *API) updateModel(c *call, req *modelReq) (any, error) {
	if _, err := c.model(req.Name); err != nil {
		return nil, err
	}
	if err := a.o.Registry.SetDescription(c.ctx, req.Name, req.Description); err != nil {
		return nil, err
	}
	m, err := a.o.Registry.Model(c.ctx, req.Name)
	if err != nil {
		return nil, err
	}
	rm, err := a.modelJSON(c, m)
	return map[string]any{"registered_model": rm}, err
}

func (a *API) deleteModel(c *call, req *modelReq) (any, error) {
	if _, err := c.model(req.Name); err != nil {
		return nil, err
	}
	return struct{}{}, a.o.Registry.DeleteModel(c.ctx, req.Name)
}

type searchReq struct {
	Filter     string   `json:"filter"`
	MaxResults Int64    `json:"max_results"`
	OrderBy    []string `json:"order_by"`
	PageToken  string   `json:"page_token"`
}

func (req searchReq) search(max int64) (registry.Search, error) {
	limit, err := req.MaxResults.limit(0, max)
	return registry.Search{Filter: req.Filter, OrderBy: req.OrderBy, PageToken: req.PageToken, Limit: limit}, err
}

func (a *API) searchModels(c *call, req *searchReq) (any, error) {
	c.searched()
	s, err := req.search(1000)
	if err != nil {
		return nil, err
	}
	ms, next, err := a.o.Registry.SearchModels(c.ctx, s)
	if err != nil {
		return nil, err
	}
	out := []registeredModelJSON{}
	for i := range ms {
		if !c.canView(access.Resource{Kind: access.Model, Name: ms[i].Name}) {
			continue
		}
		rm, err := a.modelJSON(c, &ms[i])
		if err != nil {
			return nil, err
		}
		out = append(out, rm)
	}
	return page("registered_models", out, next), nil
}

type latestVersionsReq struct {
	Name   string   `json:"name"`
	Stages []string `json:"stages"`
}

func (a *API) latestVersions(c *call, req *latestVersionsReq) (any, error) {
	if _, err := c.model(req.Name); err != nil {
		return nil, err
	}
	vs, err := a.o.Registry.LatestVersions(c.ctx, req.Name, req.Stages)
	if err != nil {
		return nil, err
	}
	out := []modelVersionJSON{}
	for i := range vs {
		out = append(out, a.versionJSON(c, &vs[i]))
	}
	return map[string]any{"model_versions": out}, nil
}

type setModelTagReq struct {
	Name  string `json:"name"`
	Key   string `json:"key"`
	Value string `json:"value"`
}

func (a *API) setModelTag(c *call, req *setModelTagReq) (any, error) {
	if _, err := c.model(req.Name); err != nil {
		return nil, err
	}
	if err := checkTag("Registered model value", req.Key, req.Value); err != nil {
		return nil, err
	}
	return struct{}{}, a.o.Registry.SetTag(c.ctx, req.Name, req.Key, req.Value)
}

type deleteModelTagReq struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

func (a *API) deleteModelTag(c *call, req *deleteModelTagReq) (any, error) {
	if _, err := c.model(req.Name); err != nil {
		return nil, err
	}
	if err := a.o.Registry.DeleteTag(c.ctx, req.Name, req.Key); err != nil {
		return nil, notFoundAs(err, "No tag with key=%s on registered model %s", req.Key, req.Name)
	}
	return struct{}{}, nil
}

var (
	aliasChars   = regexp.MustCompile(`^[\w\-]*$`)
	aliasVersion = regexp.MustCompile(`^[vV]\d+$`)
)

// checkAlias applies MLflow's alias rules (and Gyre's: no bare numbers).
func checkAlias(alias string) error {
	switch {
	case alias == "":
		return invalid("Registered model alias name cannot be empty.")
	case !aliasChars.MatchString(alias):
		return invalid("Invalid alias name: '%s'. Names may only contain alphanumerics, underscores (_), and dashes (-).", alias)
	case len(alias) > 255:
		return invalid("Registered model alias name '%.250s' had length %d, which exceeded length limit of 255", alias, len(alias))
	case strings.EqualFold(alias, "latest"):
		return invalid("'latest' alias name (case insensitive) is reserved.")
	case aliasVersion.MatchString(alias):
		return invalid("Version alias name '%s' is reserved.", alias)
	}
	return nil
}

type setAliasReq struct {
	Name    string `json:"name"`
	Alias   string `json:"alias"`
	Version Enum   `json:"version"`
}

func (a *API) setAlias(c *call, req *setAliasReq) (any, error) {
	v, err := c.version(req.Name, req.Version)
	if err != nil {
		return nil, err
	}
	if err := checkAlias(req.Alias); err != nil {
		return nil, err
	}
	return struct{}{}, a.o.Registry.SetAlias(c.ctx, req.Name, req.Alias, v.Version)
}

// aliasReq names an alias of a registered model (delete-alias, get-by-alias).
type aliasReq struct {
	Name  string `json:"name"`
	Alias string `json:"alias"`
}

func (a *API) deleteAlias(c *call, req *aliasReq) (any, error) {
	if _, err := c.model(req.Name); err != nil {
		return nil, err
	}
	if err := a.o.Registry.DeleteAlias(c.ctx, req.Name, req.Alias); err != nil {
		return nil, notFoundAs(err, "Registered model alias %s not found.", req.Alias)
	}
	return struct{}{}, nil
}

func (a *API) getByAlias(c *call, req *aliasReq) (any, error) {
	if _, err := c.model(req.Name); err != nil {
		return nil, err
	}
	if err := checkAlias(req.Alias); err != nil {
		return nil, err
	}
	v, err := a.o.Registry.Resolve(c.ctx, req.Name+"@"+req.Alias)
	if err != nil {
		return nil, notFoundAs(err, "Registered model alias %s not found.", req.Alias)
	}
	return map[string]any{"model_version": a.versionJSON(c, v)}, nil
}

type createVersionReq struct {
	Name        string     `json:"name"`
	Source      string     `json:"source"`
	RunID       string     `json:"run_id"`
	Tags        []keyValue `json:"tags"`
	RunLink     string     `json:"run_link"`
	Description string     `json:"description"`
}

func (a *API) createVersion(c *call, req *createVersionReq) (any, error) {
	if _, err := c.model(req.Name); err != nil {
		return nil, err
	}
	if err := required("source", req.Source); err != nil {
		return nil, err
	}
	tags, err := tagMap(req.Tags)
	if err != nil {
		return nil, err
	}
	o := registry.RegisterOptions{Source: req.Source, RunID: req.RunID, RunLink: req.RunLink, Tags: tags, Description: req.Description}
	if ref, ok := a.sourceBundle(c, req.Source, req.RunID); ok {
		o.BundleRef = ref
	}
	v, err := a.o.Registry.Register(c.ctx, req.Name, o)
	if err != nil {
		return nil, err
	}
	return map[string]any{"model_version": a.versionJSON(c, v)}, nil
}

// sourceBundle finds the Gyre bundle a version's source names: a run
// artifact (runs:/RUN/PATH or mlflow-artifacts:/EXP/RUN/artifacts/PATH)
// whose name ends in .gyre. Other sources are recorded as given.
func (a *API) sourceBundle(c *call, source, runID string) (blob.Ref, bool) {
	var run, path string
	switch {
	case strings.HasPrefix(source, "runs:/"):
		run, path, _ = strings.Cut(strings.TrimPrefix(source, "runs:/"), "/")
	case strings.HasPrefix(source, "mlflow-artifacts:/"):
		p, err := parseArtifactPath(strings.TrimPrefix(source, "mlflow-artifacts:/"))
		if err != nil {
			return blob.Ref{}, false
		}
		run, path = p.run, p.rel
	default:
		return blob.Ref{}, false
	}
	if run == "" {
		run = runID
	}
	if !strings.HasSuffix(path, ".gyre") {
		return blob.Ref{}, false
	}
	ri, err := a.runByID(c.ctx, run)
	if err != nil {
		return blob.Ref{}, false
	}
	art, ok := artifactNamed(ri, path)
	return art.Ref, ok
}

type versionReq struct {
	Name    string `json:"name"`
	Version Enum   `json:"version"`
}

func (a *API) getVersion(c *call, req *versionReq) (any, error) {
	v, err := c.version(req.Name, req.Version)
	if err != nil {
		return nil, err
	}
	return map[string]any{"model_version": a.versionJSON(c, v)}, nil
}

type updateVersionReq struct {
	Name        string `json:"name"`
	Version     Enum   `json:"version"`
	Description string `json:"description"`
}

func (a *API) updateVersion(c *call, req *updateVersionReq) (any, error) {
	v, err := c.version(req.Name, req.Version)
	if err != nil {
		return nil, err
	}
	if err := a.o.Registry.SetVersionDescription(c.ctx, v.Model, v.Version, req.Description); err != nil {
		return nil, err
	}
	if v, err = a.o.Registry.Version(c.ctx, v.Model, v.Version); err != nil {
		return nil, err
	}
	return map[string]any{"model_version": a.versionJSON(c, v)}, nil
}

func (a *API) deleteVersion(c *call, req *versionReq) (any, error) {
	v, err := c.version(req.Name, req.Version)
	if err != nil {
		return nil, err
	}
	return struct{}{}, a.o.Registry.DeleteVersion(c.ctx, v.Model, v.Version)
}

func (a *API) searchVersions(c *call, req *searchReq) (any, error) {
	c.searched()
	s, err := req.search(10000)
	if err != nil {
		return nil, err
	}
	vs, next, err := a.o.Registry.SearchVersions(c.ctx, s)
	if err != nil {
		return nil, err
	}
	out := []modelVersionJSON{}
	for i := range vs {
		if c.canView(access.Resource{Kind: access.Model, Name: vs[i].Model}) {
			out = append(out, a.versionJSON(c, &vs[i]))
		}
	}
	return page("model_versions", out, next), nil
}

func (a *API) downloadURI(c *call, req *versionReq) (any, error) {
	v, err := c.version(req.Name, req.Version)
	if err != nil {
		return nil, err
	}
	return map[string]string{"artifact_uri": a.versionJSON(c, v).Source}, nil
}

type transitionStageReq struct {
	Name                    string `json:"name"`
	Version                 Enum   `json:"version"`
	Stage                   string `json:"stage"`
	ArchiveExistingVersions Bool   `json:"archive_existing_versions"`
}

func (a *API) transitionStage(c *call, req *transitionStageReq) (any, error) {
	v, err := c.version(req.Name, req.Version)
	if err != nil {
		return nil, err
	}
	if _, err := registry.ParseStage(req.Stage); err != nil {
		return nil, invalid("Invalid Model Version stage: %s. Value must be one of None, Staging, Production, Archived.", req.Stage)
	}
	if err := a.o.Registry.TransitionStage(c.ctx, v.Model, v.Version, req.Stage, req.ArchiveExistingVersions.V); err != nil {
		return nil, err
	}
	if v, err = a.o.Registry.Version(c.ctx, v.Model, v.Version); err != nil {
		return nil, err
	}
	return map[string]any{"model_version": a.versionJSON(c, v)}, nil
}

type setVersionTagReq struct {
	Name    string `json:"name"`
	Version Enum   `json:"version"`
	Key     string `json:"key"`
	Value   string `json:"value"`
}

func (a *API) setVersionTag(c *call, req *setVersionTagReq) (any, error) {
	v, err := c.version(req.Name, req.Version)
	if err != nil {
		return nil, err
	}
	if err := checkTag("Model version value", req.Key, req.Value); err != nil {
		return nil, err
	}
	return struct{}{}, a.o.Registry.SetVersionTag(c.ctx, v.Model, v.Version, req.Key, req.Value)
}

type deleteVersionTagReq struct {
	Name    string `json:"name"`
	Version Enum   `json:"version"`
	Key     string `json:"key"`
}

func (a *API) deleteVersionTag(c *call, req *deleteVersionTagReq) (any, error) {
	v, err := c.version(req.Name, req.Version)
	if err != nil {
		return nil, err
	}
	if err := a.o.Registry.DeleteVersionTag(c.ctx, v.Model, v.Version, req.Key); err != nil {
		return nil, notFoundAs(err, "No tag with key=%s on model version %s/%d", req.Key, v.Model, v.Version)
	}
	return struct{}{}, nil
}
