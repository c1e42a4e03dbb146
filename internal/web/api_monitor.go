package web

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/metric"
	"github.com/gyre-ml/gyre/internal/monitor"
	"github.com/gyre-ml/gyre/internal/predlog"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/validate"
)

// Monitoring is a served model's production view over a time span: the
// monitor's report on the whole span, and per day the prediction volume
// and each feature's drift against the training reference (the web UI's
// production page).
type Monitoring struct {
	Model   string `json:"model"`
	Version int64  `json:"version"`
	// Since and Until bound the span read from the prediction log.
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Rows is the number of logged predictions in the span.
	Rows int `json:"rows"`
	// Report is monitor's analysis of the whole span (drift, quality,
	// performance per day from feedback, the label-free estimate per day,
	// alerts); nil when nothing was logged.
	Report *monitor.Report `json:"report,omitempty"`
	// Days holds one entry per day with predictions, oldest first.
	Days []MonitoringDay `json:"days"`
	// Goals are the goals the report was checked against.
	Goals []string `json:"goals,omitempty"`
	// Note explains an empty view (no reference profile, nothing logged).
	Note string `json:"note,omitempty"`
}

// MonitoringDay is one day of a model's production traffic.
type MonitoringDay struct {
	Day  time.Time `json:"day"`
	Rows int       `json:"rows"`
	// Drift is each feature's drift score that day: the test's statistic
	// over its threshold for distances, the threshold over the p-value for
	// tests (so 1 is the threshold and above 1 drifted), capped at 10;
	// null when the feature was not tested.
	Drift map[string]*float64 `json:"drift"`
	// Drifted names the features whose test fired that day.
	Drifted []string `json:"drifted,omitempty"`
	// Share is the drifted share of tested features.
	Share float64 `json:"share"`
}

func (s *Server) monitorRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/models/{name}/monitoring", Role: access.Viewer,
			Summary: "A served model's production view: volume and per-feature drift per day, performance and its estimate over time, alerts.",
			Query: []Param{{"version", "model version (default: @production, else the latest)"}, {"days", "days back from now (1-90, default 14)"},
				{"goal", `a metric goal, e.g. "roc_auc >= 0.85" (repeatable)`}},
			Response: Monitoring{}, Handler: ok(s.monitoring)},
	}
}

func (s *Server) monitoring(r *http.Request) (*Monitoring, error) {
	ctx := r.Context()
	name, err := modelName(r, access.Viewer)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	days := 14
	if d := q.Get("days"); d != "" {
		if days, err = strconv.Atoi(d); err != nil || days < 1 || days > 90 {
			return nil, errorf(KindInvalid, "days", "days %q: want 1 to 90", d)
		}
	}
	o := monitor.Options{Window: 24 * time.Hour, MinWindowRows: 20}
	var goals []string
	for _, g := range q["goal"] {
		goal, err := metric.ParseGoal(g)
		if err != nil {
			return nil, invalid("goal", err)
		}
		o.Goals = append(o.Goals, goal)
		goals = append(goals, g)
	}
	v, err := s.servedVersion(r, name, q.Get("version"))
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	m := &Monitoring{Model: name, Version: v.Version, Until: now, Since: now.Add(-time.Duration(days) * 24 * time.Hour), Goals: goals, Days: []MonitoringDay{}}
	b, err := s.loadBundle(r, v)
	if err != nil {
		return nil, err
	}
	ref, err := monitor.BundleReference(b)
	if err != nil {
		m.Note = fmt.Sprintf("%s carries no training profile to compare production data with: %v", v.Ref(), err)
		return m, nil
	}
	cur, err := monitor.ReadCurrent(ctx, predlog.New(s.o.DB, s.o.Blobs), b, predlog.Query{Model: name, Since: m.Since})
	if err != nil {
		return nil, fmt.Errorf("monitoring %s: %w", v.Ref(), err)
	}
	m.Rows = cur.Frame.NumRows()
	if m.Rows == 0 {
		m.Note = fmt.Sprintf("no predictions of %s were logged in the last %d days (gyre serve logs them with --log-predictions)", v.Ref(), days)
		return m, nil
	}
	if m.Report, err = monitor.Analyze(ctx, b, ref, cur, o); err != nil {
		return nil, fmt.Errorf("monitoring %s: %w", v.Ref(), err)
	}
	// Rows are in time order: each day is one contiguous stretch.
	dayOpts := monitor.Options{Drift: o.Drift, NoPredictionDrift: true}
	for lo := 0; lo < m.Rows; {
		day := cur.Times[lo].Truncate(24 * time.Hour)
		hi := lo
		for hi < m.Rows && cur.Times[hi].Before(day.Add(24*time.Hour)) {
			hi++
		}
		rep, err := monitor.Analyze(ctx, b, ref, sliceCurrent(cur, lo, hi), dayOpts)
		if err != nil && !errors.Is(err, validate.ErrNoOverlap) {
			return nil, fmt.Errorf("monitoring %s on %s: %w", v.Ref(), day.Format(time.DateOnly), err)
		}
		d := MonitoringDay{Day: day, Rows: hi - lo, Drift: map[string]*float64{}}
		if rep != nil && rep.Drift != nil {
			d.Share = rep.Drift.Share
			for _, c := range rep.Drift.Columns {
				d.Drift[c.Column] = driftScore(c)
				if c.Drifted {
					d.Drifted = append(d.Drifted, c.Column)
				}
			}
		}
		m.Days = append(m.Days, d)
		lo = hi
	}
	return m, nil
}

// driftScore puts a drift test on one scale: 1 at its threshold, above 1
// drifted, capped at 10.
func driftScore(c validate.ColumnDrift) *float64 {
	st := float64(c.Statistic)
	if c.Skipped != "" || math.IsNaN(st) || c.Threshold <= 0 {
		return nil
	}
	var v float64
	if c.StatisticName == "p_value" {
		v = c.Threshold / math.Max(st, 1e-12)
	} else {
		v = st / c.Threshold
	}
	v = math.Min(v, 10)
	return &v
}

// sliceCurrent returns rows [lo, hi) of cur.
func sliceCurrent(cur *monitor.Current, lo, hi int) *monitor.Current {
	out := &monitor.Current{Frame: cur.Frame.Slice(lo, hi), Times: cur.Times[lo:hi]}
	if cur.Labels != nil {
		out.Labels = cur.Labels[lo:hi]
	}
	if p := cur.Pred; p != nil {
		np := &bundle.Prediction{Classes: p.Classes, Values: p.Values[lo:hi]}
		if k := len(p.Classes); k > 0 && len(p.Proba) > 0 {
			np.Proba = p.Proba[lo*k : hi*k]
		}
		out.Pred = np
	}
	return out
}

// servedVersion is the version a monitoring view is about: the one asked
// for, else @production, else the latest.
func (s *Server) servedVersion(r *http.Request, name, version string) (*registry.Version, error) {
	ctx := r.Context()
	if version != "" {
		n, err := strconv.ParseInt(version, 10, 64)
		if err != nil || n < 1 {
			return nil, errorf(KindInvalid, "version", "version %q: want a positive version number", version)
		}
		return s.o.Registry.Version(ctx, name, n)
	}
	if v, err := s.o.Registry.Resolve(ctx, name+"@production"); err == nil {
		return v, nil
	}
	return s.o.Registry.Resolve(ctx, name)
}

// loadBundle reads and decodes a version's bundle.
func (s *Server) loadBundle(r *http.Request, v *registry.Version) (*bundle.Bundle, error) {
	if v.Bundle.Digest == "" {
		return nil, errorf(KindNotFound, "version", "%s holds no Gyre bundle (registered by an MLflow client from %q)", v.Ref(), v.Source)
	}
	rc, err := s.o.Registry.OpenBundle(r.Context(), v)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("read bundle of %s: %w", v.Ref(), err)
	}
	b, err := bundle.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("bundle of %s: %w", v.Ref(), err)
	}
	return b, nil
}
