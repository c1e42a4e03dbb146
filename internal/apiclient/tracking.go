package apiclient

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/track"
	"github.com/gyre-ml/gyre/internal/web"
)

// Tracker is the server's runs, with track.Tracker's methods.
type Tracker struct{ c *Client }

// Tracker returns the server's runs.
func (c *Client) Tracker() *Tracker { return &Tracker{c} }

func runPath(id string) string { return "/api/v1/runs/" + url.PathEscape(id) }

// Search searches runs (GET /api/v1/runs).
func (t *Tracker) Search(ctx context.Context, o track.SearchOptions) (*track.Page, error) {
	q := url.Values{}
	for _, e := range o.Experiments {
		q.Add("experiment", e)
	}
	if o.Filter != "" {
		q.Set("filter", o.Filter)
	}
	for _, ob := range o.OrderBy {
		q.Add("order_by", ob)
	}
	if o.Limit > 0 {
		q.Set("max_results", strconv.Itoa(min(o.Limit, web.MaxPageSize)))
	}
	if o.PageToken != "" {
		q.Set("page_token", o.PageToken)
	}
	return Call[track.Page](ctx, t.c, http.MethodGet, "/api/v1/runs", q, nil)
}

// Get returns a run by id or unique id prefix.
func (t *Tracker) Get(ctx context.Context, id string) (*track.RunInfo, error) {
	return Call[track.RunInfo](ctx, t.c, http.MethodGet, runPath(id), nil, nil)
}

// Delete deletes a run with its child runs.
func (t *Tracker) Delete(ctx context.Context, id string) error {
	return t.c.Do(ctx, http.MethodDelete, runPath(id), nil, nil, nil)
}

// Start starts a RUNNING run on the server. The command defaults to this
// process's command line, as track's does.
func (t *Tracker) Start(ctx context.Context, o track.RunOptions) (*Run, error) {
	if o.Command == "" {
		o.Command = track.QuoteArgs(os.Args)
	}
	req := web.CreateRunRequest{Experiment: o.Experiment, Name: o.Name, ParentID: o.ParentID, Command: o.Command, Tags: o.Tags}
	if len(o.Params) <= web.MaxParamsPerBatch {
		req.Params = o.Params
	}
	info, err := Call[track.RunInfo](ctx, t.c, http.MethodPost, "/api/v1/runs", nil, req)
	if err != nil {
		return nil, fmt.Errorf("start run: %w", err)
	}
	r := &Run{c: t.c, id: info.ID}
	if req.Params == nil && len(o.Params) > 0 {
		if err := r.LogParams(ctx, o.Params); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Run is a run on the server, with track.Run's logging methods.
type Run struct {
	c  *Client
	id string
}

// ID is the run's id.
func (r *Run) ID() string { return r.id }

// LogParams logs write-once parameters, at most 100 a request.
func (r *Run) LogParams(ctx context.Context, params map[string]string) error {
	for _, part := range chunks(params, web.MaxParamsPerBatch) {
		if err := r.c.Do(ctx, http.MethodPost, runPath(r.id)+"/params", nil, web.LogParamsRequest{Params: part}, nil); err != nil {
			return fmt.Errorf("run %s: log params: %w", r.id, err)
		}
	}
	return nil
}

// SetTag sets one tag.
func (r *Run) SetTag(ctx context.Context, key, value string) error {
	return r.SetTags(ctx, map[string]string{key: value})
}

// SetTags sets tags, at most 100 a request.
func (r *Run) SetTags(ctx context.Context, tags map[string]string) error {
	for _, part := range chunks(tags, web.MaxTagsPerBatch) {
		if err := r.c.Do(ctx, http.MethodPost, runPath(r.id)+"/tags", nil, web.SetTagsRequest{Tags: part}, nil); err != nil {
			return fmt.Errorf("run %s: set tags: %w", r.id, err)
		}
	}
	return nil
}

// LogMetrics logs metric points, 1,000 a request. NaN is sent as null;
// an infinite value is refused (JSON has no infinity).
func (r *Run) LogMetrics(ctx context.Context, points []track.Metric) error {
	for len(points) > 0 {
		n := min(len(points), web.MaxMetricsPerBatch)
		req := web.LogMetricsRequest{Metrics: make([]web.MetricPoint, n)}
		for i, p := range points[:n] {
			if math.IsInf(p.Value, 0) {
				return fmt.Errorf("run %s: metric %q: an infinite value cannot be sent to the server", r.id, p.Key)
			}
			mp := web.MetricPoint{Key: p.Key, Step: p.Step}
			if !math.IsNaN(p.Value) {
				v := p.Value
				mp.Value = &v
			}
			if !p.Time.IsZero() {
				mp.Timestamp = p.Time.UnixMilli()
			}
			req.Metrics[i] = mp
		}
		if err := r.c.Do(ctx, http.MethodPost, runPath(r.id)+"/metrics", nil, req, nil); err != nil {
			return fmt.Errorf("run %s: log metrics: %w", r.id, err)
		}
		points = points[n:]
	}
	return nil
}

// LogDataset records a data set version the run used.
func (r *Run) LogDataset(ctx context.Context, name string, version int64, role string) error {
	err := r.c.Do(ctx, http.MethodPost, runPath(r.id)+"/datasets", nil, web.LogDatasetRequest{Name: name, Version: version, Role: role}, nil)
	if err != nil {
		return fmt.Errorf("run %s: log data set %s@%d: %w", r.id, name, version, err)
	}
	return nil
}

// LogArtifact uploads rd as the run's artifact name.
func (r *Run) LogArtifact(ctx context.Context, name string, rd io.Reader) (blob.Ref, error) {
	if err := track.CheckRelPath(name); err != nil {
		return blob.Ref{}, err
	}
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	a, err := Call[track.Artifact](ctx, r.c, http.MethodPut, runPath(r.id)+"/artifacts/"+strings.Join(parts, "/"), nil, rd)
	if err != nil {
		return blob.Ref{}, fmt.Errorf("run %s: log artifact %s: %w", r.id, name, err)
	}
	return a.Ref, nil
}

// End ends the run: FINISHED, FAILED or KILLED.
func (r *Run) End(ctx context.Context, status track.Status) error {
	if err := r.c.Do(ctx, http.MethodPost, runPath(r.id)+"/end", nil, web.EndRunRequest{Status: string(status)}, nil); err != nil {
		return fmt.Errorf("end run %s: %w", r.id, err)
	}
	return nil
}

// chunks splits m into maps of at most n entries (none for an empty m).
func chunks(m map[string]string, n int) []map[string]string {
	var out []map[string]string
	cur := map[string]string{}
	for k, v := range m {
		if len(cur) == n {
			out = append(out, cur)
			cur = map[string]string{}
		}
		cur[k] = v
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
