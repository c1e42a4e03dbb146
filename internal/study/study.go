// Package study is the preliminary study of a learning problem, before any
// model is chosen ("do you need a machine learning model, and is there
// enough data?"): a learning curve with its spread and whether more rows
// would help, single-feature scores that betray target leakage, identifier
// and free-text columns, class balance, warnings about the problem, and a
// suggested metric and validation scheme. `gyre study` prints it.
package study

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/train"
)

// Options configure Run.
type Options struct {
	// Task overrides the detected task (0: detect).
	Task learn.Task
	// Metric scores the learning curve ("" = the task's default).
	Metric string
	Seed   uint64
	// Repeats of every learning-curve point, each with its own random
	// validation rows (default 3).
	Repeats int
	// Budget bounds the learning curve's time (default 6 s): its larger
	// points are left out when their predicted fit time would overrun it
	// (Report.Curve then stops early and CurveCut says so).
	Budget time.Duration
	// Columns override the identifier and free-text exclusions.
	Columns train.ProblemOptions
}

// Report is the study of one problem.
type Report struct {
	Target   string            `json:"target"`
	Task     string            `json:"task"`
	Rows     int               `json:"rows"`
	Features int               `json:"features"`
	Dropped  int               `json:"dropped_rows,omitempty"`
	Excluded []train.Exclusion `json:"excluded_columns,omitempty"`
	// Warnings are the questions the problem raises (train.ProblemWarnings,
	// leakage, a curve no better than the dummy).
	Warnings []string `json:"warnings,omitempty"`
	// Classes are the class counts (classification), largest first, and
	// Imbalance the largest count over the smallest.
	Classes   []Class `json:"classes,omitempty"`
	Imbalance float64 `json:"imbalance,omitempty"`
	// Metric and Validation are suggestions, with the reason.
	Metric     Suggestion `json:"metric"`
	Validation Suggestion `json:"validation"`
	// CurveMetric scores Curve, made with CurveModel; Curve is the learning
	// curve: the score of a small model (see CurveModel) against the
	// training rows, mean and spread over the repeats, next to the dummy's.
	CurveMetric string  `json:"curve_metric"`
	CurveModel  string  `json:"curve_model"`
	Curve       []Point `json:"curve,omitempty"`
	// CurveCut says why the curve stops short of the rows available ("":
	// it does not).
	CurveCut string `json:"curve_cut,omitempty"`
	// MoreData is the verdict on whether more rows would help.
	MoreData Verdict `json:"more_data"`
	// SingleFeature are the best single-feature scores (a depth-6 tree on
	// one feature; roc_auc for binary targets, accuracy for classes, r2
	// for numbers), best first, at most 10; Leakage those near perfect.
	SingleFeatureMetric string         `json:"single_feature_metric"`
	SingleFeature       []FeatureScore `json:"single_feature,omitempty"`
	Leakage             []FeatureScore `json:"leakage,omitempty"`
	Seconds             float64        `json:"seconds"`
}

// Class is one class's count and share of the rows.
type Class struct {
	Name  string  `json:"name"`
	Count int     `json:"count"`
	Share float64 `json:"share"`
}

// Suggestion is a suggested choice and why.
type Suggestion struct {
	Choice string `json:"choice"`
	Reason string `json:"reason"`
}

// Point is one learning-curve point.
type Point struct {
	Rows    int     `json:"rows"`
	Mean    float64 `json:"mean"`
	Spread  float64 `json:"spread"`
	Dummy   float64 `json:"dummy"`
	Repeats int     `json:"repeats"`
}

// Verdict says whether more rows would help, from the slope of the last
// learning-curve points.
type Verdict struct {
	// Answer is "likely", "a little", "unlikely" or "unknown".
	Answer string `json:"answer"`
	// Slope is the score's change per doubling of the training rows over
	// the last three points (positive: better), in metric units.
	Slope  float64 `json:"slope_per_doubling"`
	Reason string  `json:"reason"`
}

// FeatureScore is the validation score of a model on one feature.
type FeatureScore struct {
	Feature string  `json:"feature"`
	Score   float64 `json:"score"`
}

// curveTrees and curveRate are the learning curve's model: a small,
// quickly fitted gradient-boosted ensemble, strong enough to show how the
// score grows with the rows.
const (
	curveTrees  = 60
	curveRate   = 0.15
	curveLeaves = 15
)

// leakageScore is the single-feature score (roc_auc, accuracy or r2)
// from which a feature is reported as a likely leak of the target.
const leakageScore = 0.98

// Run studies the problem of predicting target from f.
func Run(ctx context.Context, f *frame.Frame, target string, o Options) (*Report, error) {
	start := time.Now()
	if o.Repeats <= 0 {
		o.Repeats = 3
	}
	if o.Budget <= 0 {
		o.Budget = 6 * time.Second
	}
	p, err := train.NewProblemWith(f, target, o.Task, o.Columns)
	if err != nil {
		return nil, fmt.Errorf("study: %w", err)
	}
	m, err := train.ResolveMetric(p.Task, o.Metric)
	if err != nil {
		return nil, fmt.Errorf("study: %w", err)
	}
	_, d, err := p.Dataset(bundle.FamilyTrees)
	if err != nil {
		return nil, fmt.Errorf("study: prepare features: %w", err)
	}
	d.Shared = learn.NewShared()
	r := &Report{Target: target, Task: p.Task.String(), Rows: d.N(), Features: d.X.Cols, Dropped: p.Dropped,
		Excluded: p.Excluded, Warnings: append([]string(nil), p.Warnings...), CurveMetric: m.Name, CurveModel: CurveModel(len(p.Classes))}
	if p.Task.Classification() {
		r.classes(p)
	}
	r.Metric = suggestMetric(p, r)
	r.Validation = suggestValidation(p)
	s := &studier{p: p, d: d, m: m, o: o, rng: rand.New(rand.NewPCG(o.Seed, 0x57d1)), deadline: start.Add(o.Budget)}
	if err := s.singleFeatures(ctx, r); err != nil {
		return nil, err
	}
	if err := s.curve(ctx, r); err != nil {
		return nil, err
	}
	r.MoreData = verdict(r.Curve, r.CurveCut, m.HigherIsBetter)
	if n := len(r.Curve); n > 0 {
		last := r.Curve[n-1]
		if m.Loss(last.Mean) >= m.Loss(last.Dummy)-last.Spread {
			r.Warnings = append(r.Warnings, fmt.Sprintf("at %d training rows a small model scores %s %.4f ± %.4f, no better than the dummy's %.4f: the features may not predict %q at all (do you need a model?)", last.Rows, m.Name, last.Mean, last.Spread, last.Dummy, target))
		}
	}
	for _, l := range r.Leakage {
		r.Warnings = append(r.Warnings, fmt.Sprintf("feature %q alone scores %s %.4f: it nearly determines the target; check it is known at prediction time (target leakage), or drop it with --drop-column", l.Feature, r.SingleFeatureMetric, l.Score))
	}
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}

// classes fills the class counts and the imbalance.
func (r *Report) classes(p *train.Problem) {
	counts := make([]int, len(p.Classes))
	for _, y := range p.Y {
		counts[int(y)]++
	}
	for i, c := range counts {
		r.Classes = append(r.Classes, Class{Name: p.Classes[i], Count: c, Share: float64(c) / float64(len(p.Y))})
	}
	sort.SliceStable(r.Classes, func(a, b int) bool { return r.Classes[a].Count > r.Classes[b].Count })
	if least := r.Classes[len(r.Classes)-1].Count; least > 0 {
		r.Imbalance = float64(r.Classes[0].Count) / float64(least)
	} else {
		r.Imbalance = math.Inf(1)
	}
}

// suggestMetric picks a metric from the task, the class balance and the
// target's distribution.
func suggestMetric(p *train.Problem, r *Report) Suggestion {
	switch p.Task {
	case learn.Binary:
		if minority := r.Classes[len(r.Classes)-1].Share; minority < 0.1 {
			return Suggestion{"pr_auc", fmt.Sprintf("the positive class is rare (%.1f %% of the rows): average precision measures how well the rare class is found, where ROC AUC looks good on the easy negatives", 100*minority)}
		}
		return Suggestion{"roc_auc", "two classes, neither rare: ROC AUC ranks the rows independently of a threshold; read log_loss if the probabilities themselves matter"}
	case learn.Multiclass:
		if r.Imbalance > 5 {
			return Suggestion{"f1_macro", fmt.Sprintf("the classes are imbalanced (largest/smallest %.1f×): macro F1 weighs every class equally, where accuracy follows the big ones", r.Imbalance)}
		}
		return Suggestion{"log_loss", "several balanced classes: log loss scores the probabilities of every class; report accuracy beside it"}
	}
	y := p.Y
	lo, skew := math.Inf(1), skewness(y)
	for _, v := range y {
		lo = math.Min(lo, v)
	}
	switch {
	case lo >= 0 && skew > 2:
		return Suggestion{"rmsle", fmt.Sprintf("the target is non-negative and right-skewed (skewness %.1f): errors on a log scale weigh a 10 %% miss alike on small and large values", skew)}
	case math.Abs(skew) > 2:
		return Suggestion{"mae", fmt.Sprintf("the target is skewed (skewness %.1f) with long tails: the mean absolute error is not dominated by a few extreme rows", skew)}
	}
	return Suggestion{"rmse", fmt.Sprintf("a numeric target without heavy tails (skewness %.1f): RMSE, in the target's units", skew)}
}

// suggestValidation picks a validation scheme from the rows and the
// columns (a time column calls for a time-ordered split).
func suggestValidation(p *train.Problem) Suggestion {
	f := p.Frame
	for i, c := range f.Columns() {
		if f.Role(i) == frame.RoleTime || f.Role(i) == frame.RoleFeature && c.Kind() == frame.KindTime {
			return Suggestion{"time-ordered holdout", fmt.Sprintf("column %q holds times: validate on the latest rows, trained on the earlier ones, as the model will be used (random folds leak the future)", c.Name())}
		}
	}
	n := f.NumRows()
	strat := ""
	if p.Task.Classification() {
		strat = ", stratified by class"
	}
	switch {
	case n < 1000:
		return Suggestion{"repeated 5-fold cross-validation (3 repeats)" + strat, fmt.Sprintf("%d rows: one split's score is noisy; repeats average the noise out and show the spread", n)}
	case n <= 100000:
		return Suggestion{"5-fold cross-validation" + strat, fmt.Sprintf("%d rows: every row is validated once, at five fits' cost", n)}
	}
	return Suggestion{"holdout (10-20 %)" + strat, fmt.Sprintf("%d rows: a holdout of this size already gives a steady score", n)}
}

func skewness(y []float64) float64 {
	n := float64(len(y))
	var mean float64
	for _, v := range y {
		mean += v
	}
	mean /= n
	var m2, m3 float64
	for _, v := range y {
		d := v - mean
		m2 += d * d
		m3 += d * d * d
	}
	m2 /= n
	m3 /= n
	if m2 == 0 {
		return 0
	}
	return m3 / math.Pow(m2, 1.5)
}

// verdict reads the slope of the last three curve points against the
// last point's spread (higher: the metric is better higher).
func verdict(curve []Point, cut string, higher bool) Verdict {
	if len(curve) < 3 {
		return Verdict{Answer: "unknown", Reason: "too few learning-curve points to read a trend"}
	}
	pts := curve[len(curve)-3:]
	var xs, ys []float64
	for _, p := range pts {
		xs = append(xs, math.Log2(float64(p.Rows)))
		ys = append(ys, p.Mean)
	}
	slope := lsSlope(xs, ys)
	last := pts[2]
	orient := 1.0
	if !higher {
		orient = -1 // a falling error is a gain
	}
	v := Verdict{Slope: slope}
	gain := orient * slope
	spread := math.Max(last.Spread, 1e-12)
	extra := ""
	if cut != "" {
		extra = " (" + cut + ")"
	}
	switch {
	case gain > spread:
		v.Answer = "likely"
		v.Reason = fmt.Sprintf("the score still improves by %.4f per doubling of the rows, more than its spread %.4f over the repeats%s", gain, last.Spread, extra)
	case gain > 0:
		v.Answer = "a little"
		v.Reason = fmt.Sprintf("the score improves by %.4f per doubling, within its spread %.4f: more rows help slowly%s", gain, last.Spread, extra)
	default:
		v.Answer = "unlikely"
		v.Reason = fmt.Sprintf("the curve has flattened (%+.4f per doubling over the last points): better features or models, not more rows%s", gain, extra)
	}
	return v
}

func lsSlope(xs, ys []float64) float64 {
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(len(xs))
	my /= float64(len(ys))
	var num, den float64
	for i := range xs {
		num += (xs[i] - mx) * (ys[i] - my)
		den += (xs[i] - mx) * (xs[i] - mx)
	}
	if den == 0 {
		return 0
	}
	return num / den
}
