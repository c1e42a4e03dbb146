package web

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/metric"
	"github.com/gyre-ml/gyre/internal/monitor"
	"github.com/gyre-ml/gyre/internal/predlog"
)

// Latency is a served model's request latency over a time span, as gyre
// serve logs it with each sampled prediction (the web UI's production
// page charts it).
type Latency struct {
	Model string `json:"model"`
	// Version is the version read (0: all of them).
	Version int64 `json:"version,omitempty"`
	// Since and Until bound the span read from the prediction log.
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Step is the bucket width, as a Go duration ("1h0m0s").
	Step string `json:"step"`
	// StepSeconds is the bucket width in seconds.
	StepSeconds int64 `json:"step_seconds"`
	// Requests counts the logged requests in the span, Timed those that
	// carry a latency (none in logs from before latencies were logged).
	Requests int `json:"requests"`
	Timed    int `json:"timed"`
	// Buckets are the span's stretches of Step from the first logged
	// request's to the last one's, empty ones between included.
	Buckets []monitor.LatencyBucket `json:"buckets"`
	// GoalP99 is the p99_latency goal given, in milliseconds.
	GoalP99 *float64 `json:"goal_p99_ms,omitempty"`
	// Note explains an empty view.
	Note string `json:"note,omitempty"`
}

func (s *Server) latencyRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/models/{name}/latency", Role: access.Viewer,
			Summary: "A served model's request volume and latency percentiles (p50, p95, p99, max) per time bucket, from the prediction log.",
			Query: []Param{{"version", "model version (default: all)"}, {"days", "days back from now (1-90, default 14)"},
				{"step", "bucket width, a Go duration of at least 1m (default: from the span, at most 400 buckets)"},
				{"goal", `a p99_latency goal drawn with the percentiles, e.g. "p99_latency <= 20ms" (other goals are ignored; repeatable)`}},
			Response: Latency{}, Handler: ok(s.servedLatency)},
	}
}

func (s *Server) servedLatency(r *http.Request) (*Latency, error) {
	ctx := r.Context()
	name, err := modelName(r, access.Viewer)
	if err != nil {
		return nil, err
	}
	if _, err := s.o.Registry.Model(ctx, name); err != nil {
		return nil, err
	}
	q := r.URL.Query()
	days := 14
	if d := q.Get("days"); d != "" {
		if days, err = strconv.Atoi(d); err != nil || days < 1 || days > 90 {
			return nil, errorf(KindInvalid, "days", "days %q: want 1 to 90", d)
		}
	}
	now := time.Now().UTC()
	out := &Latency{Model: name, Until: now, Since: now.Add(-time.Duration(days) * 24 * time.Hour), Buckets: []monitor.LatencyBucket{}}
	step := monitor.LatencyStep(out.Until.Sub(out.Since), 400)
	if st := q.Get("step"); st != "" {
		if step, err = time.ParseDuration(st); err != nil || step < time.Minute {
			return nil, errorf(KindInvalid, "step", "step %q: want a duration of at least 1m, e.g. 15m or 1h", st)
		}
	}
	out.Step, out.StepSeconds = step.String(), int64(step/time.Second)
	pq := predlog.Query{Model: name, Since: out.Since}
	if v := q.Get("version"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return nil, errorf(KindInvalid, "version", "version %q: want a positive version number", v)
		}
		out.Version, pq.Version = n, v
	}
	for _, g := range q["goal"] {
		goal, err := metric.ParseGoal(g)
		if err != nil {
			return nil, invalid("goal", err)
		}
		if goal.Metric == metric.GoalLatency {
			v := goal.Value
			out.GoalP99 = &v
		}
	}
	lg, err := predlog.New(s.o.DB, s.o.Blobs).Read(ctx, pq, frame.Schema{}, nil)
	if err != nil {
		return nil, fmt.Errorf("latency of %s: %w", name, err)
	}
	if out.Buckets, err = monitor.LatencyOverTime(&lg.Batch, step); err != nil {
		return nil, invalid("step", err)
	}
	for _, b := range out.Buckets {
		out.Requests += b.Requests
		out.Timed += b.Timed
	}
	switch {
	case out.Requests == 0:
		out.Note = fmt.Sprintf("no predictions of %s were logged in the last %d days (gyre serve logs them with --log-predictions)", name, days)
	case out.Timed == 0:
		out.Note = fmt.Sprintf("the %d logged requests of %s carry no latency: they were logged by a gyre serve from before latencies were logged", out.Requests, name)
	}
	return out, nil
}
