package web

import (
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/track"
)

// CreateRunRequest starts a run.
type CreateRunRequest struct {
	// Experiment names the experiment (created on first use; default
	// "Default").
	Experiment string            `json:"experiment,omitempty"`
	Name       string            `json:"name,omitempty"`
	ParentID   string            `json:"parent_id,omitempty"`
	Command    string            `json:"command,omitempty"`
	Params     map[string]string `json:"params,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
}

// MetricPoint is one logged metric value. Value is null for NaN (JSON has
// no NaN); Timestamp is unix milliseconds, 0 for now.
type MetricPoint struct {
	Key       string   `json:"key"`
	Value     *float64 `json:"value"`
	Step      int64    `json:"step"`
	Timestamp int64    `json:"timestamp,omitempty"`
}

// LogMetricsRequest logs metric points to a run.
type LogMetricsRequest struct {
	Metrics []MetricPoint `json:"metrics"`
}

// LogParamsRequest logs parameters (write-once) to a run.
type LogParamsRequest struct {
	Params map[string]string `json:"params"`
}

// SetTagsRequest sets tags on a run.
type SetTagsRequest struct {
	Tags map[string]string `json:"tags"`
}

// EndRunRequest ends a run.
type EndRunRequest struct {
	// Status is FINISHED, FAILED or KILLED.
	Status string `json:"status"`
}

// LogDatasetRequest records a data set version a run used.
type LogDatasetRequest struct {
	Name    string `json:"name"`
	Version int64  `json:"version"`
	Role    string `json:"role,omitempty"`
}

// Batch limits, MLflow's documented ones.
const (
	MaxMetricsPerBatch = 1000
	MaxParamsPerBatch  = 100
	MaxTagsPerBatch    = 100
	maxValueLen        = 6000
)

func (s *Server) runRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/experiments", Role: access.Viewer, Summary: "List experiments (those the caller may read).",
			Query: pageQuery, Response: List[track.Experiment]{}, Handler: paged(s.listExperiments)},
		{Method: "GET", Pattern: "/api/v1/experiments/{experiment}", Role: access.Viewer, Summary: "Get an experiment by id or name.",
			Response: track.Experiment{}, Handler: ok(s.getExperiment)},
		{Method: "GET", Pattern: "/api/v1/runs", Role: access.Viewer, Summary: "Search runs: filter, order, page.",
			Query: append([]Param{{"experiment", "experiment name (repeatable)"}, {"filter", `filter, e.g. metrics.roc_auc > 0.9 and params.learner = 'gbdt'`},
				{"order_by", "order term, e.g. metrics.roc_auc DESC (repeatable)"}}, pageQuery...),
			Response: track.Page{}, Handler: ok(s.searchRuns)},
		{Method: "POST", Pattern: "/api/v1/runs", Role: access.Editor, Summary: "Start a run.",
			Body: CreateRunRequest{}, Response: track.RunInfo{}, Handler: created(s.createRun)},
		{Method: "GET", Pattern: "/api/v1/runs/{run_id}", Role: access.Viewer, Summary: "Get a run by id or unique id prefix.",
			Response: track.RunInfo{}, Handler: ok(s.getRun)},
		{Method: "DELETE", Pattern: "/api/v1/runs/{run_id}", Role: access.Editor, Summary: "Delete a run.",
			Handler: done(s.deleteRun)},
		{Method: "POST", Pattern: "/api/v1/runs/{run_id}/metrics", Role: access.Editor, Summary: "Log metric points (at most 1,000 a request).",
			Body: LogMetricsRequest{}, Handler: done(s.logMetrics)},
		{Method: "GET", Pattern: "/api/v1/runs/{run_id}/metrics", Role: access.Viewer, Summary: "Every metric's full history, in columns (steps, values, times_ms), keys sorted.",
			Response: List[track.MetricSeries]{}, Handler: listed(s.metricHistories)},
		{Method: "GET", Pattern: "/api/v1/runs/{run_id}/metrics/{key}", Role: access.Viewer, Summary: "A metric's full history.",
			Response: List[track.Metric]{}, Handler: listed(s.metricHistory)},
		{Method: "POST", Pattern: "/api/v1/runs/{run_id}/params", Role: access.Editor, Summary: "Log parameters (write-once; at most 100 a request).",
			Body: LogParamsRequest{}, Handler: done(s.logParams)},
		{Method: "POST", Pattern: "/api/v1/runs/{run_id}/tags", Role: access.Editor, Summary: "Set tags (at most 100 a request).",
			Body: SetTagsRequest{}, Handler: done(s.setTags)},
		{Method: "POST", Pattern: "/api/v1/runs/{run_id}/end", Role: access.Editor, Summary: "End a run: FINISHED, FAILED or KILLED.",
			Body: EndRunRequest{}, Response: track.RunInfo{}, Handler: ok(s.endRun)},
		{Method: "POST", Pattern: "/api/v1/runs/{run_id}/datasets", Role: access.Editor, Summary: "Record a data set version the run used.",
			Body: LogDatasetRequest{}, Handler: done(s.logDataset)},
		{Method: "GET", Pattern: "/api/v1/runs/{run_id}/artifacts", Role: access.Viewer, Summary: "List a run's artifacts.",
			Response: List[track.Artifact]{}, Handler: listed(s.listArtifacts)},
		{Method: "GET", Pattern: "/api/v1/runs/{run_id}/artifacts/{path...}", Role: access.Viewer, Summary: "Download an artifact (inline=1: HTML, text and images for display, sandboxed).",
			Query:       []Param{{"inline", "1 to display HTML, text and images in the browser"}},
			RawResponse: "application/octet-stream", Handler: handlerFunc(s.getArtifact)},
		{Method: "PUT", Pattern: "/api/v1/runs/{run_id}/artifacts/{path...}", Role: access.Editor, Summary: "Upload an artifact (the body is its bytes).",
			RawBody: "application/octet-stream", Response: track.Artifact{}, Handler: handlerFunc(s.putArtifact)},
	}
}

func (s *Server) listExperiments(r *http.Request) ([]track.Experiment, error) {
	exps, err := s.o.Tracker.Experiments(r.Context())
	if err != nil {
		return nil, err
	}
	return filterVisible(r.Context(), exps, func(e track.Experiment) access.Resource {
		return access.Resource{Kind: access.Experiment, Name: e.ID}
	}), nil
}

func (s *Server) getExperiment(r *http.Request) (*track.Experiment, error) {
	key := r.PathValue("experiment")
	exps, err := s.o.Tracker.Experiments(r.Context())
	if err != nil {
		return nil, err
	}
	for _, e := range exps {
		if e.ID == key || e.Name == key {
			if err := access.Require(r.Context(), access.Viewer, access.Resource{Kind: access.Experiment, Name: e.ID}); err != nil {
				return nil, err
			}
			return &e, nil
		}
	}
	return nil, errorf(KindNotFound, "experiment", "experiment %q: %v", key, track.ErrNotFound)
}

func (s *Server) searchRuns(r *http.Request) (*track.Page, error) {
	p, err := pageParams(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	o := track.SearchOptions{Filter: q.Get("filter"), OrderBy: q["order_by"], Limit: p.Limit, PageToken: p.Token}
	for _, e := range q["experiment"] {
		for _, n := range strings.Split(e, ",") {
			if n = strings.TrimSpace(n); n != "" {
				o.Experiments = append(o.Experiments, n)
			}
		}
	}
	if _, err := track.ParseFilter(o.Filter); err != nil {
		return nil, invalid("filter", err)
	}
	for _, ob := range o.OrderBy {
		if _, err := track.ParseOrderBy(ob); err != nil {
			return nil, invalid("order_by", err)
		}
	}
	visible, err := s.visibleExperiments(r.Context())
	if err != nil {
		return nil, err
	}
	if visible != nil {
		if len(o.Experiments) == 0 {
			o.Experiments = visible
		} else {
			o.Experiments = slicesIntersect(o.Experiments, visible)
		}
		if len(o.Experiments) == 0 {
			return &track.Page{Runs: []track.RunInfo{}}, nil
		}
	}
	return s.o.Tracker.Search(r.Context(), o)
}

func slicesIntersect(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if in[x] {
			out = append(out, x)
		}
	}
	return out
}

func checkKV(field string, m map[string]string, limit int) error {
	if len(m) > limit {
		return errorf(KindInvalid, field, "%s: %d entries, at most %d a request", field, len(m), limit)
	}
	for k, v := range m {
		if err := checkKey(field+"."+k, k); err != nil {
			return err
		}
		if len(v) > maxValueLen {
			return errorf(KindInvalid, field+"."+k, "%s %q: value of %d bytes, at most %d", field, k, len(v), maxValueLen)
		}
	}
	return nil
}

func (s *Server) createRun(r *http.Request) (*track.RunInfo, error) {
	var req CreateRunRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	if req.Experiment != "" {
		if err := checkKey("experiment", req.Experiment); err != nil {
			return nil, err
		}
	}
	if err := checkKV("params", req.Params, MaxParamsPerBatch); err != nil {
		return nil, err
	}
	if err := checkKV("tags", req.Tags, MaxTagsPerBatch); err != nil {
		return nil, err
	}
	ctx := r.Context()
	exp := req.Experiment
	if req.ParentID != "" {
		parent, err := s.runFor(ctx, access.Editor, req.ParentID)
		if err != nil {
			return nil, err
		}
		req.ParentID = parent.ID
		if exp == "" {
			exp = parent.Experiment
		}
	}
	if exp == "" {
		exp = track.DefaultExperiment
	}
	if err := s.requireExperiment(ctx, access.Editor, exp); err != nil {
		return nil, err
	}
	if req.Command == "" {
		req.Command = "gyre server API"
	}
	run, err := s.o.Tracker.Start(ctx, track.RunOptions{Experiment: exp, Name: req.Name, ParentID: req.ParentID,
		Command: req.Command, Params: req.Params, Tags: req.Tags})
	if err != nil {
		return nil, err
	}
	return s.o.Tracker.Get(ctx, run.ID())
}

func (s *Server) getRun(r *http.Request) (*track.RunInfo, error) {
	return s.runFor(r.Context(), access.Viewer, r.PathValue("run_id"))
}

func (s *Server) deleteRun(r *http.Request) error {
	run, err := s.runFor(r.Context(), access.Editor, r.PathValue("run_id"))
	if err != nil {
		return err
	}
	return s.o.Tracker.Delete(r.Context(), run.ID)
}

func (s *Server) resume(r *http.Request) (*track.Run, error) {
	info, err := s.runFor(r.Context(), access.Editor, r.PathValue("run_id"))
	if err != nil {
		return nil, err
	}
	return s.o.Tracker.Resume(r.Context(), info.ID)
}

func (s *Server) logMetrics(r *http.Request) error {
	var req LogMetricsRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if len(req.Metrics) == 0 {
		return errorf(KindInvalid, "metrics", "metrics: want at least one point")
	}
	if len(req.Metrics) > MaxMetricsPerBatch {
		return errorf(KindInvalid, "metrics", "metrics: %d points, at most %d a request", len(req.Metrics), MaxMetricsPerBatch)
	}
	pts := make([]track.Metric, len(req.Metrics))
	for i, m := range req.Metrics {
		field := fmt.Sprintf("metrics[%d]", i)
		if err := checkKey(field+".key", m.Key); err != nil {
			return err
		}
		v := math.NaN()
		if m.Value != nil {
			v = *m.Value
		}
		pts[i] = track.Metric{Key: m.Key, Value: v, Step: m.Step}
		if m.Timestamp != 0 {
			if m.Timestamp < 0 {
				return errorf(KindInvalid, field+".timestamp", "%s.timestamp %d: want unix milliseconds", field, m.Timestamp)
			}
			pts[i].Time = time.UnixMilli(m.Timestamp)
		}
	}
	run, err := s.resume(r)
	if err != nil {
		return err
	}
	return run.LogMetrics(r.Context(), pts)
}

func (s *Server) metricHistory(r *http.Request) ([]track.Metric, error) {
	key := r.PathValue("key")
	if err := checkKey("key", key); err != nil {
		return nil, err
	}
	run, err := s.runFor(r.Context(), access.Viewer, r.PathValue("run_id"))
	if err != nil {
		return nil, err
	}
	return s.o.Tracker.MetricHistory(r.Context(), run.ID, key)
}

func (s *Server) metricHistories(r *http.Request) ([]track.MetricSeries, error) {
	run, err := s.runFor(r.Context(), access.Viewer, r.PathValue("run_id"))
	if err != nil {
		return nil, err
	}
	return s.o.Tracker.MetricHistories(r.Context(), run.ID)
}

func (s *Server) logParams(r *http.Request) error {
	var req LogParamsRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := checkKV("params", req.Params, MaxParamsPerBatch); err != nil {
		return err
	}
	run, err := s.resume(r)
	if err != nil {
		return err
	}
	return run.LogParams(r.Context(), req.Params)
}

func (s *Server) setTags(r *http.Request) error {
	var req SetTagsRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := checkKV("tags", req.Tags, MaxTagsPerBatch); err != nil {
		return err
	}
	run, err := s.resume(r)
	if err != nil {
		return err
	}
	return run.SetTags(r.Context(), req.Tags)
}

func (s *Server) endRun(r *http.Request) (*track.RunInfo, error) {
	var req EndRunRequest
	if err := decodeJSON(r, &req); err != nil {
		return nil, err
	}
	st := track.Status(req.Status)
	switch st {
	case track.StatusFinished, track.StatusFailed, track.StatusKilled:
	default:
		return nil, errorf(KindInvalid, "status", "status %q: want FINISHED, FAILED or KILLED", req.Status)
	}
	run, err := s.resume(r)
	if err != nil {
		return nil, err
	}
	if err := run.End(r.Context(), st); err != nil {
		return nil, err
	}
	return s.o.Tracker.Get(r.Context(), run.ID())
}

func (s *Server) logDataset(r *http.Request) error {
	var req LogDatasetRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := checkName("name", req.Name); err != nil {
		return err
	}
	if req.Version < 1 {
		return errorf(KindInvalid, "version", "version %d: want a positive version number", req.Version)
	}
	if len(req.Role) > 64 {
		return errorf(KindInvalid, "role", "role: at most 64 bytes")
	}
	if _, err := s.o.Datasets.Get(r.Context(), fmt.Sprintf("%s@%d", req.Name, req.Version)); err != nil {
		return err
	}
	run, err := s.resume(r)
	if err != nil {
		return err
	}
	return run.LogDataset(r.Context(), req.Name, req.Version, req.Role)
}

func (s *Server) listArtifacts(r *http.Request) ([]track.Artifact, error) {
	run, err := s.runFor(r.Context(), access.Viewer, r.PathValue("run_id"))
	if err != nil {
		return nil, err
	}
	return run.Artifacts, nil
}

func (s *Server) getArtifact(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("path")
	if err := CheckArtifactPath(name); err != nil {
		return err
	}
	run, err := s.runFor(r.Context(), access.Viewer, r.PathValue("run_id"))
	if err != nil {
		return err
	}
	for _, a := range run.Artifacts {
		if a.Name == name {
			if r.URL.Query().Get("inline") != "" {
				return s.streamInline(w, r, a.Digest, a.Size, name)
			}
			return s.streamBlob(w, r, a.Digest, a.Size, path.Base(name))
		}
	}
	return errorf(KindNotFound, "path", "run %s has no artifact %q", run.ID, name)
}

// streamBlob answers with a stored blob's bytes.
func (s *Server) streamBlob(w http.ResponseWriter, r *http.Request, digest string, size int64, filename string) error {
	rc, err := s.o.Blobs.Get(r.Context(), digest)
	if err != nil {
		return err
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", fmt.Sprint(size))
	w.Header().Set("ETag", `"`+digest+`"`)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	if _, err := io.Copy(w, rc); err != nil {
		// Headers are gone; the client sees a short body.
		logFrom(r.Context()).Warn("stream blob", "digest", digest, "err", err.Error())
	}
	return nil
}

// inlineTypes are the artifact types shown in a browser (?inline=1); any
// other is sent as an attachment.
var inlineTypes = map[string]string{
	".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
	".txt": "text/plain; charset=utf-8", ".log": "text/plain; charset=utf-8", ".md": "text/plain; charset=utf-8",
	".json": "text/plain; charset=utf-8", ".csv": "text/plain; charset=utf-8", ".yaml": "text/plain; charset=utf-8",
	".yml": "text/plain; charset=utf-8", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml",
}

// streamInline answers an artifact for display in the browser (the web
// UI's report frame). The page is sandboxed by its Content-Security-Policy:
// it runs in an opaque origin, so an artifact's scripts (an HTML report's
// charts) cannot read the server's cookies or call its API as the viewer,
// and it may load nothing from any host.
func (s *Server) streamInline(w http.ResponseWriter, r *http.Request, digest string, size int64, name string) error {
	ct, ok := inlineTypes[strings.ToLower(path.Ext(name))]
	if !ok {
		return s.streamBlob(w, r, digest, size, path.Base(name))
	}
	rc, err := s.o.Blobs.Get(r.Context(), digest)
	if err != nil {
		return err
	}
	defer rc.Close()
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Length", fmt.Sprint(size))
	h.Set("ETag", `"`+digest+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; font-src data:")
	if _, err := io.Copy(w, rc); err != nil {
		logFrom(r.Context()).Warn("stream blob", "digest", digest, "err", err.Error())
	}
	return nil
}

func (s *Server) putArtifact(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("path")
	if err := CheckArtifactPath(name); err != nil {
		return err
	}
	run, err := s.resume(r)
	if err != nil {
		return err
	}
	body := http.MaxBytesReader(w, r.Body, s.o.MaxUpload)
	ref, err := run.LogArtifact(r.Context(), name, body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, track.Artifact{Name: name, Ref: ref})
	return nil
}
