package mlflowapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/track"
)

func (a *API) registerRuns() {
	a.add(http.MethodPost, "mlflow/runs/create", access.Editor, access.Experiment, decoded(a.createRun))
	a.add(http.MethodGet, "mlflow/runs/get", access.Viewer, access.Experiment, decoded(a.getRun))
	a.add(http.MethodPost, "mlflow/runs/update", access.Editor, access.Experiment, decoded(a.updateRun))
	a.add(http.MethodPost, "mlflow/runs/delete", access.Editor, access.Experiment, decoded(a.runLifecycle(track.LifecycleDeleted)))
	a.add(http.MethodPost, "mlflow/runs/restore", access.Editor, access.Experiment, decoded(a.runLifecycle(track.LifecycleActive)))
	a.add(http.MethodPost, "mlflow/runs/search", access.Viewer, access.Experiment, decoded(a.searchRuns))
	a.add(http.MethodGet, "mlflow/runs/search", access.Viewer, access.Experiment, decoded(a.searchRuns))
	a.add(http.MethodPost, "mlflow/runs/log-metric", access.Editor, access.Experiment, decoded(a.logMetric))
	a.add(http.MethodPost, "mlflow/runs/log-parameter", access.Editor, access.Experiment, decoded(a.logParam))
	a.add(http.MethodPost, "mlflow/runs/log-batch", access.Editor, access.Experiment, decoded(a.logBatch))
	a.add(http.MethodPost, "mlflow/runs/set-tag", access.Editor, access.Experiment, decoded(a.setTag))
	a.add(http.MethodPost, "mlflow/runs/delete-tag", access.Editor, access.Experiment, decoded(a.deleteTag))
	a.add(http.MethodPost, "mlflow/runs/log-inputs", access.Editor, access.Experiment, decoded(a.logInputs))
	a.add(http.MethodPost, "mlflow/runs/log-model", access.Editor, access.Experiment, decoded(a.logModel))
	a.add(http.MethodGet, "mlflow/metrics/get-history", access.Viewer, access.Experiment, decoded(a.getMetricHistory))
}

// run reads the run the request names (run_id, or the older run_uuid) and
// checks the route's role on its experiment.
func (c *call) run(runID, runUUID string) (*track.RunInfo, error) {
	id := runID
	if id == "" {
		id = runUUID
	}
	if err := required("run_id", id); err != nil {
		return nil, err
	}
	ri, err := c.api.runByID(c.ctx, id)
	if err != nil {
		// Only admins learn that a run does not exist.
		if rerr := c.require(access.ServerResource); rerr != nil {
			return nil, rerr
		}
		return nil, notFound("Run with id=%s not found", id)
	}
	return ri, c.requireExperiment(ri.ExperimentID)
}

// runByID reads the run whose id is exactly id (Tracker.Get also takes a
// unique prefix, which an MLflow run id never is).
func (a *API) runByID(ctx context.Context, id string) (*track.RunInfo, error) {
	ri, err := a.o.Tracker.Get(ctx, id)
	if err == nil && ri.ID != id {
		err = fmt.Errorf("run %s: %w", id, track.ErrNotFound)
	}
	return ri, err
}

// activeRun is run for writes: the run must not be deleted.
func (c *call) activeRun(runID, runUUID string) (*track.Run, *track.RunInfo, error) {
	ri, err := c.run(runID, runUUID)
	if err != nil {
		return nil, nil, err
	}
	r, err := c.resume(ri)
	return r, ri, err
}

// loggingRun is the run log-metric and log-batch write to: it must exist
// and be readable by the caller's role on its experiment (the route
// checked the write role), as for writableRun, but its experiment comes
// from the tracker's cache and the write itself refuses a run deleted or
// gone ([logged] words that as writableRun does), so that one point per
// request costs no read of the run.
func (c *call) loggingRun(runID, runUUID string) (*track.Run, error) {
	id := runID
	if id == "" {
		id = runUUID
	}
	if err := required("run_id", id); err != nil {
		return nil, err
	}
	r, exp, err := c.api.o.Tracker.LoggingRun(c.ctx, id)
	if errors.Is(err, track.ErrNotFound) {
		return nil, c.runNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	if err := c.requireExperiment(exp); err != nil {
		return nil, err
	}
	return r, nil
}

// logged words the error of a write through loggingRun's run.
func (c *call) logged(id string, err error) error {
	switch {
	case errors.Is(err, track.ErrNotFound):
		return c.runNotFound(id)
	case errors.Is(err, track.ErrDeleted):
		return invalid("The run %s must be in the 'active' state. Current state is %s.", id, track.LifecycleDeleted)
	}
	return err
}

// runNotFound is the answer for a run id that does not exist: only
// admins learn that it does not.
func (c *call) runNotFound(id string) error {
	if rerr := c.require(access.ServerResource); rerr != nil {
		return rerr
	}
	return notFound("Run with id=%s not found", id)
}

// writableRun is the run a log write (metric, param, tag, batch) goes to:
// it must exist, be readable by the caller's role on its experiment (the
// route checked the write role) and not be deleted. One query, where
// activeRun reads the whole run.
func (c *call) writableRun(runID, runUUID string) (*track.Run, error) {
	id := runID
	if id == "" {
		id = runUUID
	}
	if err := required("run_id", id); err != nil {
		return nil, err
	}
	r, exp, stage, err := c.api.o.Tracker.OpenRun(c.ctx, id)
	if errors.Is(err, track.ErrNotFound) {
		return nil, c.runNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	if err := c.requireExperiment(exp); err != nil {
		return nil, err
	}
	if stage != track.LifecycleActive {
		return nil, invalid("The run %s must be in the 'active' state. Current state is %s.", id, stage)
	}
	return r, nil
}

// resume opens an active run for writing; a deleted run is refused as
// MLflow refuses it.
func (c *call) resume(ri *track.RunInfo) (*track.Run, error) {
	if ri.Lifecycle != track.LifecycleActive {
		return nil, invalid("The run %s must be in the 'active' state. Current state is %s.", ri.ID, ri.Lifecycle)
	}
	return c.api.o.Tracker.Resume(c.ctx, ri.ID)
}

func (a *API) runJSON(c *call, ri *track.RunInfo) runJSON {
	return toRun(ri, func(name string, version int64) string {
		if a.o.Datasets != nil {
			if v, err := a.o.Datasets.Get(c.ctx, name+"@"+strconv.FormatInt(version, 10)); err == nil {
				d := strings.TrimPrefix(v.Blob.Digest, "sha256:")
				return d[:min(len(d), 16)]
			}
		}
		return "v" + strconv.FormatInt(version, 10)
	})
}

type createRunReq struct {
	ExperimentID string     `json:"experiment_id"`
	UserID       string     `json:"user_id"`
	RunName      string     `json:"run_name"`
	StartTime    Int64      `json:"start_time"`
	Tags         []keyValue `json:"tags"`
}

func (a *API) createRun(c *call, req *createRunReq) (any, error) {
	if req.ExperimentID == "" {
		req.ExperimentID = track.DefaultExperimentID
	}
	if _, err := c.experiment(req.ExperimentID); err != nil {
		return nil, err
	}
	tags, err := tagMap(req.Tags)
	if err != nil {
		return nil, err
	}
	if req.StartTime.Set && req.StartTime.V < 0 {
		return nil, invalid("field 'start_time': %d: want a nonnegative time in milliseconds", req.StartTime.V)
	}
	name := req.RunName
	if n := tags[track.RunNameTag]; name == "" && n != "" {
		name = n
	} else if name != "" && n != "" && n != name {
		return nil, invalid("Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='%s', mlflow.runName='%s').", name, n)
	}
	if name == "" {
		name = runName()
	}
	if tags == nil {
		tags = map[string]string{}
	}
	tags[track.RunNameTag] = name
	user := req.UserID
	if user == "" {
		user = tags[tagUser]
	}
	r, err := a.o.Tracker.Start(c.ctx, track.RunOptions{ExperimentID: req.ExperimentID, Name: name, Tags: tags,
		Start: req.StartTime.V, User: user, ParentID: tags[tagParent], Command: tags[tagSource]})
	if err != nil {
		return nil, err
	}
	ri, err := a.o.Tracker.Get(c.ctx, r.ID())
	if err != nil {
		return nil, err
	}
	return map[string]any{"run": a.runJSON(c, ri)}, nil
}

var (
	runAdjectives = []string{"amber", "brisk", "calm", "dapper", "eager", "fleet", "gentle", "hardy", "keen", "lucid", "mellow", "nimble", "quiet", "rapid", "sunny", "vivid"}
	runNouns      = []string{"heron", "otter", "lynx", "finch", "badger", "crane", "gecko", "ibis", "koala", "marten", "newt", "orca", "puffin", "quail", "shrew", "wren"}
)

// runName makes a readable default run name, as MLflow does
// ("brisk-otter-417").
func runName() string {
	id := track.NewID()
	n, _ := strconv.ParseUint(id[:8], 16, 32)
	return runAdjectives[n%16] + "-" + runNouns[(n/16)%16] + "-" + strconv.FormatUint((n/256)%1000, 10)
}

type runIDReq struct {
	RunID   string `json:"run_id"`
	RunUUID string `json:"run_uuid"`
}

func (a *API) getRun(c *call, req *runIDReq) (any, error) {
	ri, err := c.run(req.RunID, req.RunUUID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"run": a.runJSON(c, ri)}, nil
}

type updateRunReq struct {
	RunID   string `json:"run_id"`
	RunUUID string `json:"run_uuid"`
	Status  Enum   `json:"status"`
	EndTime Int64  `json:"end_time"`
	RunName string `json:"run_name"`
}

func (a *API) updateRun(c *call, req *updateRunReq) (any, error) {
	_, ri, err := c.activeRun(req.RunID, req.RunUUID)
	if err != nil {
		return nil, err
	}
	var u track.RunUpdate
	if req.Status != "" {
		st, err := runStatus(string(req.Status))
		if err != nil {
			return nil, err
		}
		u.Status = st
	}
	if req.EndTime.Set {
		u.End = &req.EndTime.V
	} else if u.Status != "" && u.Status != track.StatusRunning && u.Status != track.StatusScheduled && ri.End == nil {
		now := time.Now().UnixMilli()
		u.End = &now
	}
	if req.RunName != "" {
		u.Name = &req.RunName
	}
	if err := a.o.Tracker.Update(c.ctx, ri.ID, u); err != nil {
		return nil, err
	}
	ri, err = a.o.Tracker.Get(c.ctx, ri.ID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"run_info": toRunInfo(ri)}, nil
}

// runStatus parses MLflow's RunStatus by name or number.
func runStatus(s string) (track.Status, error) {
	switch strings.ToUpper(s) {
	case "RUNNING", "1":
		return track.StatusRunning, nil
	case "SCHEDULED", "2":
		return track.StatusScheduled, nil
	case "FINISHED", "3":
		return track.StatusFinished, nil
	case "FAILED", "4":
		return track.StatusFailed, nil
	case "KILLED", "5":
		return track.StatusKilled, nil
	}
	return "", invalid("field 'status': %q: want RUNNING, SCHEDULED, FINISHED, FAILED or KILLED", s)
}

// runLifecycle is the handler that moves the named run to stage (delete,
// restore).
func (a *API) runLifecycle(stage string) func(c *call, req *runIDReq) (any, error) {
	return func(c *call, req *runIDReq) (any, error) {
		ri, err := c.run(req.RunID, req.RunUUID)
		if err != nil {
			return nil, err
		}
		return struct{}{}, a.o.Tracker.SetLifecycle(c.ctx, ri.ID, stage)
	}
}

type searchRunsReq struct {
	ExperimentIDs []string `json:"experiment_ids"`
	Filter        string   `json:"filter"`
	RunViewType   Enum     `json:"run_view_type"`
	MaxResults    Int64    `json:"max_results"`
	OrderBy       []string `json:"order_by"`
	PageToken     string   `json:"page_token"`
}

func (a *API) searchRuns(c *call, req *searchRunsReq) (any, error) {
	c.searched()
	for _, id := range req.ExperimentIDs {
		if err := c.requireExperiment(id); err != nil {
			return nil, err
		}
	}
	view, err := viewType("run_view_type", string(req.RunViewType))
	if err != nil {
		return nil, err
	}
	limit, err := req.MaxResults.limit(1000, track.MaxLimit)
	if err != nil {
		return nil, err
	}
	res, err := a.o.Tracker.Search(c.ctx, track.SearchOptions{ExperimentIDs: req.ExperimentIDs, Filter: req.Filter, OrderBy: req.OrderBy,
		OrderASC: true, View: view, Limit: limit, PageToken: req.PageToken})
	if err != nil {
		return nil, err
	}
	runs := []runJSON{}
	for i := range res.Runs {
		if c.canView(access.Resource{Kind: access.Experiment, Name: res.Runs[i].ExperimentID}) {
			runs = append(runs, a.runJSON(c, &res.Runs[i]))
		}
	}
	return page("runs", runs, res.NextPageToken), nil
}

type metricReq struct {
	Key       string `json:"key"`
	Value     Float  `json:"value"`
	Timestamp Int64  `json:"timestamp"`
	Step      Int64  `json:"step"`
}

// metric validates one metric as MLflow does; field names where it sits.
func (m metricReq) metric(field string) (track.Metric, error) {
	if err := checkKey("metric", m.Key); err != nil {
		return track.Metric{}, err
	}
	if !m.Value.Set {
		return track.Metric{}, invalid("Missing value for required parameter '%s.value' (metric '%s')", field, m.Key)
	}
	if !m.Timestamp.Set {
		return track.Metric{}, invalid("Missing value for required parameter '%s.timestamp' (metric '%s')", field, m.Key)
	}
	if m.Timestamp.V < 0 {
		return track.Metric{}, invalid("Got invalid timestamp %d for metric '%s' (value=%v). Timestamp must be a nonnegative long (64-bit integer)",
			m.Timestamp.V, m.Key, m.Value.V)
	}
	return track.Metric{Key: m.Key, Value: m.Value.V, Step: m.Step.V, Time: time.UnixMilli(m.Timestamp.V)}, nil
}

type logMetricReq struct {
	RunID   string `json:"run_id"`
	RunUUID string `json:"run_uuid"`
	metricReq
}

func (a *API) logMetric(c *call, req *logMetricReq) (any, error) {
	r, err := c.loggingRun(req.RunID, req.RunUUID)
	if err != nil {
		return nil, err
	}
	m, err := req.metric("metric")
	if err != nil {
		return nil, err
	}
	return struct{}{}, c.logged(r.ID(), r.LogMetrics(c.ctx, []track.Metric{m}))
}

type logParamReq struct {
	RunID   string `json:"run_id"`
	RunUUID string `json:"run_uuid"`
	Key     string `json:"key"`
	Value   string `json:"value"`
}

func (a *API) logParam(c *call, req *logParamReq) (any, error) {
	r, err := c.writableRun(req.RunID, req.RunUUID)
	if err != nil {
		return nil, err
	}
	if err := checkParam(req.Key, req.Value); err != nil {
		return nil, err
	}
	return struct{}{}, paramErr(r.LogParams(c.ctx, map[string]string{req.Key: req.Value}))
}

func checkParam(k, v string) error {
	if err := checkKey("parameter", k); err != nil {
		return err
	}
	return checkLength("Param value", v, maxParamValue)
}

// paramErr words a changed parameter as MLflow does, naming the key.
func paramErr(err error) error {
	var pe *track.ParamChangedError
	if errors.As(err, &pe) {
		return invalid("Changing param values is not allowed. Param with key='%s' was already logged with value='%s' for run; attempted logging new value '%s'.",
			pe.Key, pe.Old, pe.New)
	}
	return err
}

type setTagReq struct {
	RunID   string `json:"run_id"`
	RunUUID string `json:"run_uuid"`
	Key     string `json:"key"`
	Value   string `json:"value"`
}

func (a *API) setTag(c *call, req *setTagReq) (any, error) {
	r, err := c.writableRun(req.RunID, req.RunUUID)
	if err != nil {
		return nil, err
	}
	if err := checkTag("Tag value", req.Key, req.Value); err != nil {
		return nil, err
	}
	return struct{}{}, r.SetTags(c.ctx, map[string]string{req.Key: req.Value})
}

type deleteTagReq struct {
	RunID   string `json:"run_id"`
	RunUUID string `json:"run_uuid"`
	Key     string `json:"key"`
}

func (a *API) deleteTag(c *call, req *deleteTagReq) (any, error) {
	r, err := c.writableRun(req.RunID, req.RunUUID)
	if err != nil {
		return nil, err
	}
	if err := required("key", req.Key); err != nil {
		return nil, err
	}
	if err := r.DeleteTag(c.ctx, req.Key); err != nil {
		return nil, notFoundAs(err, "No tag with name: %s in run with id %s", req.Key, r.ID())
	}
	return struct{}{}, nil
}

type logBatchReq struct {
	RunID   string      `json:"run_id"`
	RunUUID string      `json:"run_uuid"`
	Metrics []metricReq `json:"metrics"`
	Params  []keyValue  `json:"params"`
	Tags    []keyValue  `json:"tags"`
}

// batch validates a log-batch request against MLflow's limits and rules.
func (req *logBatchReq) batch() (track.Batch, error) {
	limit := func(what string, n, max int) error {
		if n > max {
			return invalid("A batch logging request can contain at most %d %s. Got %d %s. Please split up %s across multiple requests and try again.",
				max, what, n, what, what)
		}
		return nil
	}
	if err := limit("metrics", len(req.Metrics), maxMetrics); err != nil {
		return track.Batch{}, err
	}
	if err := limit("params", len(req.Params), maxParamsTags); err != nil {
		return track.Batch{}, err
	}
	if err := limit("tags", len(req.Tags), maxParamsTags); err != nil {
		return track.Batch{}, err
	}
	if err := limit("metrics, params, and tags", len(req.Metrics)+len(req.Params)+len(req.Tags), maxEntities); err != nil {
		return track.Batch{}, err
	}
	var b track.Batch
	for i, m := range req.Metrics {
		p, err := m.metric("metrics[" + strconv.Itoa(i) + "]")
		if err != nil {
			return track.Batch{}, err
		}
		b.Metrics = append(b.Metrics, p)
	}
	if len(req.Params) > 0 {
		b.Params = map[string]string{}
		var dupes []string
		for _, p := range req.Params {
			if err := checkParam(p.Key, p.Value); err != nil {
				return track.Batch{}, err
			}
			if _, dup := b.Params[p.Key]; dup {
				dupes = append(dupes, p.Key)
			}
			b.Params[p.Key] = p.Value
		}
		if len(dupes) > 0 {
			return track.Batch{}, invalid("Duplicate parameter keys have been submitted: %q. Please ensure the request contains only one param value per param key.", dupes)
		}
	}
	tags, err := tagMap(req.Tags)
	if err != nil {
		return track.Batch{}, err
	}
	b.Tags = tags
	return b, nil
}

func (a *API) logBatch(c *call, req *logBatchReq) (any, error) {
	r, err := c.loggingRun(req.RunID, req.RunUUID)
	if err != nil {
		return nil, err
	}
	b, err := req.batch()
	if err != nil {
		return nil, err
	}
	return struct{}{}, c.logged(r.ID(), paramErr(r.LogBatch(c.ctx, b)))
}

type datasetInputReq struct {
	Tags    []keyValue  `json:"tags"`
	Dataset datasetJSON `json:"dataset"`
}

type logInputsReq struct {
	RunID    string            `json:"run_id"`
	Datasets []datasetInputReq `json:"datasets"`
}

func (a *API) logInputs(c *call, req *logInputsReq) (any, error) {
	r, err := c.writableRun(req.RunID, "")
	if err != nil {
		return nil, err
	}
	if len(req.Datasets) > 1000 {
		return nil, invalid("A batch logging request can contain at most 1000 datasets. Got %d datasets.", len(req.Datasets))
	}
	var ins []track.Input
	for i, d := range req.Datasets {
		ds := d.Dataset
		field := "datasets[" + strconv.Itoa(i) + "].dataset"
		for _, chk := range []struct {
			name, v string
			max     int
		}{{"name", ds.Name, 500}, {"digest", ds.Digest, 36}, {"source_type", ds.SourceType, 500}, {"source", ds.Source, 65535},
			{"schema", ds.Schema, 1048575}, {"profile", ds.Profile, 16777215}} {
			if (chk.name == "name" || chk.name == "digest") && chk.v == "" {
				return nil, invalid("Missing value for required parameter '%s.%s'", field, chk.name)
			}
			if len(chk.v) > chk.max {
				return nil, invalid("field '%s.%s' had length %d, which exceeded length limit of %d", field, chk.name, len(chk.v), chk.max)
			}
		}
		tags := map[string]string{}
		for _, t := range d.Tags {
			if t.Key == "" || len(t.Key) > 255 || len(t.Value) > 500 {
				return nil, invalid("field 'datasets[%d].tags': key %q: want 1 to 255 characters and a value of at most 500", i, t.Key)
			}
			tags[t.Key] = t.Value
		}
		ins = append(ins, track.Input{Name: ds.Name, Digest: ds.Digest, SourceType: ds.SourceType, Source: ds.Source,
			Schema: ds.Schema, Profile: ds.Profile, Tags: tags})
	}
	return struct{}{}, r.LogInputs(c.ctx, ins)
}

// logModelHistoryTag is where MLflow keeps the models logged by a run.
const logModelHistoryTag = "mlflow.log-model.history"

type logModelReq struct {
	RunID     string `json:"run_id"`
	ModelJSON string `json:"model_json"`
}

func (a *API) logModel(c *call, req *logModelReq) (any, error) {
	r, ri, err := c.activeRun(req.RunID, "")
	if err != nil {
		return nil, err
	}
	var model map[string]any
	if err := json.Unmarshal([]byte(req.ModelJSON), &model); err != nil {
		return nil, invalid("field 'model_json': want a JSON object: %v", err)
	}
	var history []any
	if old := ri.Tags[logModelHistoryTag]; old != "" {
		_ = json.Unmarshal([]byte(old), &history)
	}
	history = append(history, model)
	b, err := json.Marshal(history)
	if err != nil {
		return nil, err
	}
	return struct{}{}, r.SetTags(c.ctx, map[string]string{logModelHistoryTag: string(b)})
}

type getMetricHistoryReq struct {
	RunID      string `json:"run_id"`
	RunUUID    string `json:"run_uuid"`
	MetricKey  string `json:"metric_key"`
	MaxResults Int64  `json:"max_results"`
	PageToken  string `json:"page_token"`
}

func (a *API) getMetricHistory(c *call, req *getMetricHistoryReq) (any, error) {
	ri, err := c.run(req.RunID, req.RunUUID)
	if err != nil {
		return nil, err
	}
	if err := required("metric_key", req.MetricKey); err != nil {
		return nil, err
	}
	pts, err := a.o.Tracker.MetricHistory(c.ctx, ri.ID, req.MetricKey)
	if err != nil {
		return nil, err
	}
	start, limit := 0, len(pts)
	if req.PageToken != "" {
		n, err := track.DecodePageToken(req.PageToken)
		if err != nil || n > len(pts) {
			return nil, invalid("Invalid page token %q: pass the next_page_token of a previous page", req.PageToken)
		}
		start = n
	}
	if req.MaxResults.Set {
		if req.MaxResults.V <= 0 {
			return nil, invalid("Invalid value %d for parameter 'max_results': want a positive number", req.MaxResults.V)
		}
		limit = int(min(req.MaxResults.V, math.MaxInt32))
	}
	end := min(len(pts), start+limit)
	out := make([]metricJSON, 0, end-start)
	for _, p := range pts[start:end] {
		out = append(out, metricJSON{Key: p.Key, Value: Float{V: p.Value, Set: true}, Timestamp: p.Time.UnixMilli(), Step: p.Step})
	}
	next := ""
	if end < len(pts) {
		next = track.EncodePageToken(end)
	}
	return page("metrics", out, next), nil
}
