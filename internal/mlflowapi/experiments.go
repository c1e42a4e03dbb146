package mlflowapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/track"
)

// Enum is a proto enum in JSON: its name as a string, or its number.
type Enum string

// UnmarshalJSON accepts "ACTIVE_ONLY" and 1 alike.
func (e *Enum) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*e = Enum(s)
		return nil
	}
	if string(b) == "null" {
		*e = ""
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*e = Enum(n.String())
	return nil
}

// MLflow's limits on names and values (mlflow/utils/validation.py).
const (
	maxExperimentName = 500
	maxKey            = 250
	maxParamValue     = 6000
	maxTagValue       = 5000
	maxMetrics        = 1000
	maxParamsTags     = 100
	maxEntities       = 1000
)

func checkExperimentName(name string) error {
	if name == "" {
		return invalid("Invalid experiment name: ''")
	}
	if utf8.RuneCountInString(name) > maxExperimentName {
		return invalid("Experiment name exceeds the maximum length of %d characters", maxExperimentName)
	}
	return nil
}

func (a *API) registerExperiments() {
	a.add(http.MethodPost, "mlflow/experiments/create", access.Editor, access.Server, decoded(a.createExperiment))
	a.add(http.MethodGet, "mlflow/experiments/get", access.Viewer, access.Experiment, decoded(a.getExperiment))
	a.add(http.MethodGet, "mlflow/experiments/get-by-name", access.Viewer, access.Experiment, decoded(a.getExperimentByName))
	a.add(http.MethodPost, "mlflow/experiments/search", access.Viewer, access.Experiment, decoded(a.searchExperiments))
	a.add(http.MethodGet, "mlflow/experiments/search", access.Viewer, access.Experiment, decoded(a.searchExperiments))
	a.add(http.MethodGet, "mlflow/experiments/list", access.Viewer, access.Experiment, decoded(a.searchExperiments))
	a.add(http.MethodPost, "mlflow/experiments/update", access.Editor, access.Experiment, decoded(a.updateExperiment))
	a.add(http.MethodPost, "mlflow/experiments/delete", access.Editor, access.Experiment, decoded(a.experimentLifecycle(track.LifecycleDeleted)))
	a.add(http.MethodPost, "mlflow/experiments/restore", access.Editor, access.Experiment, decoded(a.experimentLifecycle(track.LifecycleActive)))
	a.add(http.MethodPost, "mlflow/experiments/set-experiment-tag", access.Editor, access.Experiment, decoded(a.setExperimentTag))
	a.add(http.MethodPost, "mlflow/experiments/delete-experiment-tag", access.Editor, access.Experiment, decoded(a.deleteExperimentTag))
}

type createExperimentReq struct {
	Name             string     `json:"name"`
	ArtifactLocation string     `json:"artifact_location"`
	Tags             []keyValue `json:"tags"`
}

func (a *API) createExperiment(c *call, req *createExperimentReq) (any, error) {
	if err := c.require(access.ServerResource); err != nil {
		return nil, err
	}
	if err := checkExperimentName(req.Name); err != nil {
		return nil, err
	}
	if strings.HasPrefix(req.ArtifactLocation, "runs:") {
		return nil, invalid("Artifact location cannot be a runs:/ URI. Given: '%s'", req.ArtifactLocation)
	}
	tags, err := tagMap(req.Tags)
	if err != nil {
		return nil, err
	}
	id, err := a.o.Tracker.CreateExperiment(c.ctx, req.Name, req.ArtifactLocation, tags)
	if err != nil {
		return nil, err
	}
	return map[string]string{"experiment_id": id}, nil
}

type experimentIDReq struct {
	ExperimentID string `json:"experiment_id"`
}

// experiment reads the experiment the request names and checks the
// route's role on it.
func (c *call) experiment(id string) (*track.ExperimentInfo, error) {
	if err := required("experiment_id", id); err != nil {
		return nil, err
	}
	e, err := c.api.o.Tracker.Experiment(c.ctx, id)
	if err != nil {
		// Check on the id anyway: a caller who may not see the experiment
		// learns nothing from 404 against 403.
		if rerr := c.requireExperiment(id); rerr != nil {
			return nil, rerr
		}
		return nil, notFound("No Experiment with id=%s exists", id)
	}
	return e, c.requireExperiment(e.ID)
}

func (a *API) getExperiment(c *call, req *experimentIDReq) (any, error) {
	e, err := c.experiment(req.ExperimentID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"experiment": toExperiment(e)}, nil
}

type getExperimentByNameReq struct {
	ExperimentName string `json:"experiment_name"`
}

func (a *API) getExperimentByName(c *call, req *getExperimentByNameReq) (any, error) {
	if err := required("experiment_name", req.ExperimentName); err != nil {
		return nil, err
	}
	e, err := a.o.Tracker.ExperimentByName(c.ctx, req.ExperimentName)
	if err != nil {
		c.searched()
		return nil, notFound("Could not find experiment with name '%s'", req.ExperimentName)
	}
	if err := c.requireExperiment(e.ID); err != nil {
		return nil, err
	}
	return map[string]any{"experiment": toExperiment(e)}, nil
}

type searchExperimentsReq struct {
	MaxResults Int64    `json:"max_results"`
	PageToken  string   `json:"page_token"`
	Filter     string   `json:"filter"`
	OrderBy    []string `json:"order_by"`
	ViewType   Enum     `json:"view_type"`
}

func (a *API) searchExperiments(c *call, req *searchExperimentsReq) (any, error) {
	c.searched()
	view, err := viewType("view_type", string(req.ViewType))
	if err != nil {
		return nil, err
	}
	limit, err := req.MaxResults.limit(0, 50000)
	if err != nil {
		return nil, err
	}
	if req.PageToken == "" {
		// MLflow's stores always hold the Default experiment (id 0); Gyre's
		// makes it on first use, so a fresh server lists it too.
		if _, err := a.o.Tracker.Experiment(c.ctx, track.DefaultExperimentID); err != nil {
			return nil, err
		}
	}
	exps, next, err := a.o.Tracker.SearchExperiments(c.ctx, track.ExperimentSearch{Filter: req.Filter, OrderBy: req.OrderBy,
		View: view, Limit: limit, PageToken: req.PageToken})
	if err != nil {
		return nil, err
	}
	out := []experimentJSON{}
	for i := range exps {
		if c.canView(access.Resource{Kind: access.Experiment, Name: exps[i].ID}) {
			out = append(out, toExperiment(&exps[i]))
		}
	}
	return page("experiments", out, next), nil
}

type updateExperimentReq struct {
	ExperimentID string `json:"experiment_id"`
	NewName      string `json:"new_name"`
}

func (a *API) updateExperiment(c *call, req *updateExperimentReq) (any, error) {
	if _, err := c.experiment(req.ExperimentID); err != nil {
		return nil, err
	}
	if err := checkExperimentName(req.NewName); err != nil {
		return nil, err
	}
	return struct{}{}, a.o.Tracker.RenameExperiment(c.ctx, req.ExperimentID, req.NewName)
}

// experimentLifecycle is the handler that moves the named experiment to
// stage (delete, restore).
func (a *API) experimentLifecycle(stage string) func(c *call, req *experimentIDReq) (any, error) {
	return func(c *call, req *experimentIDReq) (any, error) {
		if _, err := c.experiment(req.ExperimentID); err != nil {
			return nil, err
		}
		return struct{}{}, a.o.Tracker.SetExperimentLifecycle(c.ctx, req.ExperimentID, stage)
	}
}

type setExperimentTagReq struct {
	ExperimentID string `json:"experiment_id"`
	Key          string `json:"key"`
	Value        string `json:"value"`
}

func (a *API) setExperimentTag(c *call, req *setExperimentTagReq) (any, error) {
	if _, err := c.experiment(req.ExperimentID); err != nil {
		return nil, err
	}
	if err := checkTag("Tag value", req.Key, req.Value); err != nil {
		return nil, err
	}
	return struct{}{}, a.o.Tracker.SetExperimentTag(c.ctx, req.ExperimentID, req.Key, req.Value)
}

type deleteExperimentTagReq struct {
	ExperimentID string `json:"experiment_id"`
	Key          string `json:"key"`
}

func (a *API) deleteExperimentTag(c *call, req *deleteExperimentTagReq) (any, error) {
	if _, err := c.experiment(req.ExperimentID); err != nil {
		return nil, err
	}
	if err := required("key", req.Key); err != nil {
		return nil, err
	}
	return struct{}{}, a.o.Tracker.DeleteExperimentTag(c.ctx, req.ExperimentID, req.Key)
}

// checkKey validates a metric, parameter or tag name as MLflow does:
// alphanumerics, underscores, dashes, periods, spaces and slashes, at most
// 250 characters, and not a path that would resolve to another name.
func checkKey(kind, key string) error {
	if key == "" {
		return invalid("Invalid %s name: ''. A key name must be provided.", kind)
	}
	for _, r := range key {
		ok := r == '_' || r == '-' || r == '.' || r == ' ' || r == '/' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' ||
			r > 127 && (unicode.IsLetter(r) || unicode.IsDigit(r))
		if !ok {
			return invalid("Invalid %s name: '%s'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/).", kind, key)
		}
	}
	if utf8.RuneCountInString(key) > maxKey {
		return invalid("%s name '%.250s' had length %d, which exceeded length limit of %d", kind, key, utf8.RuneCountInString(key), maxKey)
	}
	if key == "." || strings.HasPrefix(key, "/") || strings.Contains(key, "//") || strings.HasSuffix(key, "/") ||
		key == ".." || strings.HasPrefix(key, "../") || strings.Contains(key, "/../") || strings.HasSuffix(key, "/..") ||
		strings.HasPrefix(key, "./") || strings.Contains(key, "/./") || strings.HasSuffix(key, "/.") {
		return invalid("Invalid %s name: '%s'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such.", kind, key)
	}
	return nil
}

func checkLength(what, v string, limit int) error {
	if n := utf8.RuneCountInString(v); n > limit {
		return invalid("%s '%.250s' had length %d, which exceeded length limit of %d", what, v, n, limit)
	}
	return nil
}

// checkTag validates a tag's key and value as MLflow does; what names the
// value in the message ("Tag value", "Model version value").
func checkTag(what, key, value string) error {
	if err := checkKey("tag", key); err != nil {
		return err
	}
	return checkLength(what, value, maxTagValue)
}

// tagMap validates a request's tags and returns them as a map.
func tagMap(tags []keyValue) (map[string]string, error) {
	if len(tags) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		if err := checkTag("Tag value", t.Key, t.Value); err != nil {
			return nil, err
		}
		m[t.Key] = t.Value
	}
	return m, nil
}
