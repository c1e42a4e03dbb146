package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/metric"
	"github.com/gyre-ml/gyre/internal/profile"
	"github.com/gyre-ml/gyre/internal/validate"
)

// ErrNoReference is returned when a bundle carries no reference profile and
// none was given.
var ErrNoReference = errors.New("no reference profile: the bundle predates stored training profiles; pass reference data")

// ReferenceProfile computes the drift reference of a training frame (the
// profile stored in a bundle): per-column summaries, samples, quantile grids
// and histograms, without relationships. target names the target column.
func ReferenceProfile(ctx context.Context, f *frame.Frame, target string) (json.RawMessage, error) {
	p, err := Reference(ctx, f, target)
	if err != nil {
		return nil, err
	}
	return EncodeReference(p)
}

// Reference is ReferenceProfile's profile before it is encoded.
func Reference(ctx context.Context, f *frame.Frame, target string) (*profile.Profile, error) {
	p, err := profile.Compute(ctx, f, profile.Options{Target: target, NoRelations: true, Seed: 1, Source: "training data"})
	if err != nil {
		return nil, fmt.Errorf("reference profile: %w", err)
	}
	return p, nil
}

// EncodeReference encodes a reference profile as a bundle stores it.
func EncodeReference(p *profile.Profile) (json.RawMessage, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("reference profile: %w", err)
	}
	return b, nil
}

// BundleReference decodes the reference profile stored in a bundle.
func BundleReference(b *bundle.Bundle) (*profile.Profile, error) {
	if len(b.Profile) == 0 {
		return nil, ErrNoReference
	}
	var p profile.Profile
	if err := json.Unmarshal(b.Profile, &p); err != nil {
		return nil, fmt.Errorf("bundle reference profile: %w", err)
	}
	return &p, nil
}

// Options configure Analyze. The zero value uses Evidently's drift defaults,
// the task's default metric and a 10% decay tolerance.
type Options struct {
	// Drift configures the feature drift tests (methods, thresholds, the
	// data-set drift share).
	Drift validate.DriftOptions
	// Metric is the performance metric ("" = the bundle's selection metric,
	// else the task's default).
	Metric string
	// Window is the width of a performance window (0 = split the observed
	// time span into 10 windows).
	Window time.Duration
	// MinWindowRows is the least number of rows a window needs to be scored
	// (default 20).
	MinWindowRows int
	// Tolerance is the relative decay of the metric against the model's
	// reference score that raises an alert (default 0.1 = 10%).
	Tolerance float64
	// Goals are requirements the measured performance must meet (goals on
	// latency or size are not monitoring's and are skipped).
	Goals []metric.Goal
	// NoPredictionDrift skips the prediction drift test.
	NoPredictionDrift bool
}

// Report is the outcome of Analyze.
type Report struct {
	Model   string    `json:"model,omitempty"`
	Version string    `json:"version,omitempty"`
	Task    string    `json:"task"`
	Target  string    `json:"target"`
	Rows    int       `json:"rows"`
	Start   time.Time `json:"start,omitzero"`
	End     time.Time `json:"end,omitzero"`
	// Drift is the per-feature drift against the reference.
	Drift *validate.DriftReport `json:"drift"`
	// PredictionDrift tests the predictions against the training target.
	PredictionDrift *validate.ColumnDrift `json:"prediction_drift,omitempty"`
	// Quality lists per-feature data quality.
	Quality []Quality `json:"quality"`
	// Performance is measured from feedback labels, when there are some.
	Performance *Performance `json:"performance,omitempty"`
	// Estimated is the label-free estimate (classifiers with probabilities).
	Estimated *Estimate `json:"estimated,omitempty"`
	// Alerts are the conditions that fired.
	Alerts []Alert `json:"alerts"`
}

// Alerting reports whether any alert fired.
func (r *Report) Alerting() bool { return len(r.Alerts) > 0 }

// Quality is one feature's data quality against the reference.
type Quality struct {
	Column string `json:"column"`
	// MissingShare and RefMissingShare are the current and training shares
	// of missing values.
	MissingShare    float64 `json:"missing_share"`
	RefMissingShare float64 `json:"ref_missing_share"`
	// OutOfRange counts numbers outside the training [min, max].
	OutOfRange int `json:"out_of_range,omitempty"`
	// Unseen counts categories never seen in training; UnseenValues lists
	// up to 10 of them.
	Unseen       int      `json:"unseen,omitempty"`
	UnseenValues []string `json:"unseen_values,omitempty"`
}

// Performance is the measured performance from labelled rows.
type Performance struct {
	Metric         string  `json:"metric"`
	HigherIsBetter bool    `json:"higher_is_better"`
	Labeled        int     `json:"labeled"`
	Value          float64 `json:"value"`
	// Reference is the model's own score on held-out data (test, else
	// validation split) on the same metric; NaN when unknown (no decay
	// alert then, only goals).
	Reference profile.Float `json:"reference"`
	Windows   []Window      `json:"windows,omitempty"`
}

// Window is a metric over a time window.
type Window struct {
	Start time.Time     `json:"start"`
	End   time.Time     `json:"end"`
	Rows  int           `json:"rows"`
	Value profile.Float `json:"value"`
}

// Estimate is a confidence-based performance estimate (CBPE): the accuracy
// and ROC AUC expected if the predicted probabilities are calibrated.
type Estimate struct {
	Accuracy float64 `json:"accuracy"`
	ROCAUC   float64 `json:"roc_auc"`
	// RefAccuracy and RefROCAUC are the model's own scores, NaN when unknown.
	RefAccuracy profile.Float `json:"ref_accuracy"`
	RefROCAUC   profile.Float `json:"ref_roc_auc"`
	// Windows holds the estimated ROC AUC per window.
	Windows []Window `json:"windows,omitempty"`
}

// Alert is a monitoring condition that fired.
type Alert struct {
	// Kind is dataset_drift, prediction_drift, decay, estimated_decay or
	// goal.
	Kind      string  `json:"kind"`
	Message   string  `json:"message"`
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
}

// Analyze compares cur with the reference profile of bundle b.
func Analyze(ctx context.Context, b *bundle.Bundle, ref *profile.Profile, cur *Current, o Options) (*Report, error) {
	if ref == nil {
		return nil, ErrNoReference
	}
	if cur == nil || cur.Frame == nil {
		return nil, errors.New("monitor: no current data")
	}
	for _, g := range o.Goals {
		if err := g.Check(); err != nil {
			return nil, fmt.Errorf("monitor: %w", err)
		}
	}
	if o.Tolerance <= 0 {
		o.Tolerance = 0.1
	}
	if o.MinWindowRows <= 0 {
		o.MinWindowRows = 20
	}
	m := &b.Manifest
	rep := &Report{Task: m.Task.String(), Target: m.Target, Rows: cur.Frame.NumRows(), Alerts: []Alert{}}
	if len(cur.Times) > 0 {
		rep.Start, rep.End = cur.Times[0], cur.Times[0]
		for _, t := range cur.Times {
			if t.Before(rep.Start) {
				rep.Start = t
			}
			if t.After(rep.End) {
				rep.End = t
			}
		}
	}
	feats := featureFrame(b, cur.Frame)
	if feats.NumCols() == 0 {
		return nil, fmt.Errorf("monitor: the current data has none of the model's input columns (%v)", inputNames(b))
	}
	drift, err := validate.Drift(ref, feats, o.Drift)
	if err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	rep.Drift = drift
	if drift.DatasetDrift {
		rep.Alerts = append(rep.Alerts, Alert{Kind: "dataset_drift", Value: drift.Share, Threshold: drift.DriftShare,
			Message: fmt.Sprintf("data set drift: %d of %d features drifted (%.0f%% ≥ %.0f%%): %v", drift.Drifted, drift.Tested,
				100*drift.Share, 100*drift.DriftShare, driftedNames(drift))})
	}
	rep.Quality = quality(ref, feats)
	pred := cur.Pred
	if pred == nil {
		if pred, err = b.Predict(cur.Frame); err != nil {
			return nil, fmt.Errorf("monitor: predict current data: %w", err)
		}
	}
	if !o.NoPredictionDrift {
		if pd := predictionDrift(ref, b, pred); pd != nil {
			rep.PredictionDrift = pd
			if pd.Drifted {
				rep.Alerts = append(rep.Alerts, Alert{Kind: "prediction_drift", Value: float64(pd.Statistic), Threshold: pd.Threshold,
					Message: fmt.Sprintf("prediction drift: %s %s = %.4g (threshold %.4g)", pd.Method, pd.StatisticName, float64(pd.Statistic), pd.Threshold)})
			}
		}
	}
	mt, err := chooseMetric(b, o.Metric)
	if err != nil {
		return nil, err
	}
	if cur.Labels != nil {
		perf, err := performance(b, mt, pred, cur, o)
		if err != nil {
			return nil, err
		}
		rep.Performance = perf
		if perf != nil {
			if r := float64(perf.Reference); !math.IsNaN(r) && decayed(mt, r, perf.Value, o.Tolerance) {
				rep.Alerts = append(rep.Alerts, Alert{Kind: "decay", Value: perf.Value, Threshold: r,
					Message: fmt.Sprintf("performance decay: %s %.4g on %d labelled rows vs %.4g at training (tolerance %.0f%%)", mt.Name, perf.Value, perf.Labeled, r, 100*o.Tolerance)})
			}
			for _, g := range o.Goals {
				if g.Metric != mt.Name {
					v, err := scoreRows(b, g.Metric, pred, cur.Labels, nil)
					if err != nil || math.IsNaN(v) {
						continue
					}
					if met, _ := g.Met(v); !met {
						rep.Alerts = append(rep.Alerts, goalAlert(g, v))
					}
					continue
				}
				if met, _ := g.Met(perf.Value); !met {
					rep.Alerts = append(rep.Alerts, goalAlert(g, perf.Value))
				}
			}
		}
	}
	if m.Task.Classification() && len(pred.Proba) == len(pred.Values)*len(m.Classes) && len(pred.Values) > 0 {
		est := estimate(b, pred, cur.Times, o)
		rep.Estimated = est
		if r := float64(est.RefROCAUC); !math.IsNaN(r) && !math.IsNaN(est.ROCAUC) && est.ROCAUC < r*(1-o.Tolerance) {
			rep.Alerts = append(rep.Alerts, Alert{Kind: "estimated_decay", Value: est.ROCAUC, Threshold: r,
				Message: fmt.Sprintf("estimated decay (CBPE, no labels needed): expected ROC AUC %.4f vs %.4f at training", est.ROCAUC, r)})
		}
	}
	return rep, nil
}

func goalAlert(g metric.Goal, v float64) Alert {
	return Alert{Kind: "goal", Value: v, Threshold: g.Value, Message: fmt.Sprintf("goal %s missed: %s = %.4g", g, g.Metric, v)}
}

// decayed reports whether cur is worse than ref by more than tol
// (relative).
func decayed(mt metric.Metric, ref, cur, tol float64) bool {
	if math.IsNaN(cur) {
		return false
	}
	if mt.HigherIsBetter {
		return cur < ref-tol*math.Abs(ref)
	}
	return cur > ref+tol*math.Abs(ref)
}

func driftedNames(d *validate.DriftReport) []string {
	var out []string
	for _, c := range d.Columns {
		if c.Drifted {
			out = append(out, c.Column)
		}
	}
	return out
}

func inputNames(b *bundle.Bundle) []string {
	var out []string
	for _, f := range b.Manifest.Input.Fields {
		out = append(out, f.Name)
	}
	return out
}

// featureFrame keeps the bundle's input columns present in f (never the
// target).
func featureFrame(b *bundle.Bundle, f *frame.Frame) *frame.Frame {
	var names []string
	for _, fd := range b.Manifest.Input.Fields {
		if fd.Name != b.Manifest.Target && f.Index(fd.Name) >= 0 {
			names = append(names, fd.Name)
		}
	}
	out, _ := f.Select(names...)
	if out == nil {
		out = frame.MustNew()
	}
	return out
}

// quality measures missing shares, out-of-range numbers and unseen
// categories per feature.
func quality(ref *profile.Profile, f *frame.Frame) []Quality {
	refCols := map[string]*profile.Column{}
	for i := range ref.Columns {
		refCols[ref.Columns[i].Name] = &ref.Columns[i]
	}
	n := f.NumRows()
	out := make([]Quality, 0, f.NumCols())
	for _, c := range f.Columns() {
		q := Quality{Column: c.Name()}
		if n > 0 {
			q.MissingShare = float64(c.NullCount()) / float64(n)
		}
		rc := refCols[c.Name()]
		if rc == nil {
			out = append(out, q)
			continue
		}
		q.RefMissingShare = rc.MissingShare
		switch {
		case rc.Numeric != nil && c.Kind().Numeric():
			lo, hi := rc.Numeric.Min, rc.Numeric.Max
			for i := 0; i < n; i++ {
				if v, ok := frame.Value(c, i); ok && !math.IsNaN(v) && (v < lo || v > hi) {
					q.OutOfRange++
				}
			}
		case rc.Categories != nil && rc.Categories.Other == 0:
			known := rc.Categories.Map()
			counts, ok := profile.CategoryCounts(c)
			if !ok {
				break
			}
			var unseen []string
			for v, k := range counts {
				if _, ok := known[v]; !ok {
					q.Unseen += k
					unseen = append(unseen, v)
				}
			}
			sort.Strings(unseen)
			if len(unseen) > 10 {
				unseen = unseen[:10]
			}
			q.UnseenValues = unseen
		}
		out = append(out, q)
	}
	return out
}

// predictionDrift tests the predicted values (regression) or classes
// against the reference target column; nil when the reference has no
// target.
func predictionDrift(ref *profile.Profile, b *bundle.Bundle, p *bundle.Prediction) *validate.ColumnDrift {
	target := b.Manifest.Target
	var rc *profile.Column
	for i := range ref.Columns {
		if ref.Columns[i].Name == target {
			rc = &ref.Columns[i]
		}
	}
	if rc == nil || rc.Count == 0 || len(p.Values) == 0 {
		return nil
	}
	var col frame.Column
	switch {
	case p.Classes == nil:
		col = frame.NewFloat(target, p.Values)
	case rc.Numeric != nil: // numeric class labels
		vals := make([]float64, len(p.Values))
		for i := range vals {
			vals[i], _ = strconv.ParseFloat(p.Label(i), 64)
		}
		col = frame.NewFloat(target, vals)
	default:
		labels := make([]string, len(p.Values))
		missing := make([]bool, len(p.Values))
		for i := range labels {
			labels[i] = p.Label(i)
			missing[i] = labels[i] == ""
		}
		col = frame.NewCategorical(target, labels, missing)
	}
	one := *ref
	one.Columns = []profile.Column{*rc}
	one.Target = ""
	rep, err := validate.Drift(&one, frame.MustNew(col), validate.DriftOptions{})
	if err != nil || len(rep.Columns) == 0 || rep.Columns[0].Skipped != "" {
		return nil
	}
	cd := rep.Columns[0]
	return &cd
}

// chooseMetric picks the performance metric: the option, the bundle's
// selection metric, or the task's default.
func chooseMetric(b *bundle.Bundle, name string) (metric.Metric, error) {
	t := metric.Task(b.Manifest.Task)
	if name == "" {
		name = b.Manifest.Metric
	}
	if name != "" {
		mt, err := metric.LookupTask(t, name)
		if err != nil {
			return metric.Metric{}, fmt.Errorf("monitor: %w", err)
		}
		return mt, nil
	}
	mt, ok := metric.Default(t)
	if !ok {
		return metric.Metric{}, fmt.Errorf("monitor: no default metric for task %s", b.Manifest.Task)
	}
	return mt, nil
}

// referenceScore is the bundle's own score on a metric on held-out data:
// the test split, else the validation split; NaN when unknown. Training
// scores are optimistic and would raise false decay alarms.
func referenceScore(b *bundle.Bundle, name string) float64 {
	for _, split := range []string{"test", "valid"} {
		if v, ok := b.Manifest.Metrics[split][name]; ok {
			return v
		}
	}
	return math.NaN()
}

// scoreRows scores the labelled rows among idx (nil = all rows).
func scoreRows(b *bundle.Bundle, name string, p *bundle.Prediction, labels []float64, idx []int) (float64, error) {
	mt, err := metric.LookupTask(metric.Task(b.Manifest.Task), name)
	if err != nil {
		return math.NaN(), err
	}
	k := len(b.Manifest.Classes)
	in := metric.Input{K: k}
	add := func(i int) {
		if math.IsNaN(labels[i]) || (k > 0 && p.Values[i] < 0) {
			return
		}
		in.Y = append(in.Y, labels[i])
		in.Pred = append(in.Pred, p.Values[i])
		if k > 0 && len(p.Proba) > 0 {
			in.Proba = append(in.Proba, p.Proba[i*k:(i+1)*k]...)
		}
	}
	if idx == nil {
		for i := range labels {
			add(i)
		}
	} else {
		for _, i := range idx {
			add(i)
		}
	}
	if len(in.Y) == 0 {
		return math.NaN(), nil
	}
	if mt.NeedsProba && len(in.Proba) == 0 {
		return math.NaN(), nil
	}
	v, err := mt.Score(in)
	if err != nil {
		return math.NaN(), nil // e.g. one class only in a window
	}
	return v, nil
}

// performance scores the labelled rows overall and per window.
func performance(b *bundle.Bundle, mt metric.Metric, p *bundle.Prediction, cur *Current, o Options) (*Performance, error) {
	labeled := 0
	for _, y := range cur.Labels {
		if !math.IsNaN(y) {
			labeled++
		}
	}
	if labeled == 0 {
		return nil, nil
	}
	v, err := scoreRows(b, mt.Name, p, cur.Labels, nil)
	if err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	perf := &Performance{Metric: mt.Name, HigherIsBetter: mt.HigherIsBetter, Labeled: labeled, Value: v, Reference: profile.Float(referenceScore(b, mt.Name))}
	for _, w := range windows(cur.Times, o.Window) {
		n := 0
		for _, i := range w.rows {
			if !math.IsNaN(cur.Labels[i]) {
				n++
			}
		}
		win := Window{Start: w.start, End: w.end, Rows: n, Value: profile.Float(math.NaN())}
		if n >= o.MinWindowRows {
			s, _ := scoreRows(b, mt.Name, p, cur.Labels, w.rows)
			win.Value = profile.Float(s)
		}
		perf.Windows = append(perf.Windows, win)
	}
	return perf, nil
}

type window struct {
	start, end time.Time
	rows       []int
}

// windows buckets rows by time: fixed width, or 10 equal spans of the
// observed range.
func windows(times []time.Time, width time.Duration) []window {
	if len(times) == 0 {
		return nil
	}
	lo, hi := times[0], times[0]
	for _, t := range times {
		if t.Before(lo) {
			lo = t
		}
		if t.After(hi) {
			hi = t
		}
	}
	if width <= 0 {
		width = hi.Sub(lo)/10 + time.Millisecond
	}
	if hi.Sub(lo)/width > 1000 { // bound the number of windows
		width = hi.Sub(lo)/1000 + time.Millisecond
	}
	start := lo.Truncate(width)
	nw := int(hi.Sub(start)/width) + 1
	ws := make([]window, nw)
	for i := range ws {
		ws[i].start = start.Add(time.Duration(i) * width)
		ws[i].end = ws[i].start.Add(width)
	}
	for i, t := range times {
		k := int(t.Sub(start) / width)
		ws[k].rows = append(ws[k].rows, i)
	}
	out := ws[:0]
	for _, w := range ws {
		if len(w.rows) > 0 {
			out = append(out, w)
		}
	}
	return out
}
