package train

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gyre-ml/gyre/internal/automl"
	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/metric"
)

// SimpleLearner is the simple model every trained model is compared with:
// L2-regularised logistic regression for classification, ridge regression
// otherwise, with their default hyperparameters.
func SimpleLearner(task learn.Task) string {
	if task.Classification() {
		return "logistic_regression"
	}
	return "ridge"
}

// Reference is one model's score on the comparison's evaluation: the
// metric on all validation predictions and its spread (the standard
// deviation of the metric over the evaluation groups: the folds of the
// first cross-validation repeat, or five systematic groups of a holdout).
type Reference struct {
	Name   string  `json:"name"`
	Score  float64 `json:"score"`
	Spread float64 `json:"spread"`
	// Gain is the chosen model's mean improvement over this reference per
	// group, in metric units (positive: better), and GainSpread the
	// standard deviation of those paired differences (baselines only).
	Gain       float64 `json:"gain,omitempty"`
	GainSpread float64 `json:"gain_spread,omitempty"`
	// Meaningful reports a gain larger than its spread (see Compare).
	Meaningful bool   `json:"meaningful"`
	Err        string `json:"error,omitempty"`
}

// Comparison is the chosen model next to the dummy and the simple model on
// one evaluation split.
type Comparison struct {
	Metric string `json:"metric"`
	// Eval is "cv" (Folds × Repeats), "holdout" or "valid".
	Eval    string `json:"eval"`
	Folds   int    `json:"folds,omitempty"`
	Repeats int    `json:"repeats,omitempty"`
	// SampleRows, when set, is the size of the evenly spaced sample of a
	// large training set the comparison ran on (compareMaxRows).
	SampleRows int         `json:"sample_rows,omitempty"`
	Model      Reference   `json:"model"`
	Baselines  []Reference `json:"baselines"`
	// Warnings say when the model is not meaningfully better than a
	// baseline.
	Warnings []string `json:"warnings,omitempty"`
}

// Compare builds the comparison of a model (its loss and per-group losses)
// with the baselines scored on the same groups. The rule: the model is
// meaningfully better than a baseline when its mean per-group gain over it
// is positive and larger than the standard deviation of the per-group gains
// (with one group: positive); otherwise a warning says so.
func Compare(m metric.Metric, name, eval string, loss float64, groups []float64, baselines []automl.Baseline) *Comparison {
	c := &Comparison{Metric: m.Name, Eval: eval}
	score := func(l float64) float64 { return m.Loss(l) } // Loss is its own inverse
	c.Model = Reference{Name: name, Score: score(loss), Spread: spread(groups, m)}
	for _, b := range baselines {
		r := Reference{Name: b.Name, Err: b.Err}
		if b.Err == "" {
			r.Score, r.Spread = score(b.Loss), spread(b.GroupLosses, m)
			r.Gain, r.GainSpread = pairedGain(groups, b.GroupLosses)
			if math.IsNaN(r.Gain) { // no group scored on both: the overall scores
				r.Gain, r.GainSpread = b.Loss-loss, 0
			}
			r.Meaningful = r.Gain > 0 && r.Gain > r.GainSpread
		}
		c.Baselines = append(c.Baselines, r)
		if b.Err != "" || r.Meaningful {
			continue
		}
		what := "the simple model " + b.Name
		if b.Name == "dummy" {
			what = "the dummy baseline (predicting the majority class or the mean)"
		}
		c.Warnings = append(c.Warnings, fmt.Sprintf("%s is not meaningfully better than %s: %s %.4f vs %.4f, a gain of %+.4f per %s with a spread of %.4f across them",
			name, what, m.Name, c.Model.Score, r.Score, r.Gain, groupWord(eval), r.GainSpread))
	}
	return c
}

func groupWord(eval string) string {
	if eval == "cv" {
		return "fold"
	}
	return "validation group"
}

// spread is the standard deviation of the metric over the groups scored.
func spread(losses []float64, m metric.Metric) float64 {
	var xs []float64
	for _, l := range losses {
		if !math.IsNaN(l) {
			xs = append(xs, m.Loss(l))
		}
	}
	_, sd := MeanSD(xs)
	return sd
}

// pairedGain is the mean and standard deviation of baseline − model losses
// over the groups both scored (NaN mean when none did).
func pairedGain(model, base []float64) (mean, sd float64) {
	var d []float64
	for i := range min(len(model), len(base)) {
		if !math.IsNaN(model[i]) && !math.IsNaN(base[i]) {
			d = append(d, base[i]-model[i])
		}
	}
	if len(d) == 0 {
		return math.NaN(), 0
	}
	return MeanSD(d)
}

// MeanSD returns the mean and the sample standard deviation (0 for fewer
// than two values; NaN, 0 for none).
func MeanSD(xs []float64) (mean, sd float64) {
	if len(xs) == 0 {
		return math.NaN(), 0
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	for _, x := range xs {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(xs)-1))
}

// CompareSearch is the comparison of a search's final model with its
// baselines.
func CompareSearch(metricName string, task learn.Task, res *automl.Result) (*Comparison, error) {
	m, err := ResolveMetric(task, metricName)
	if err != nil {
		return nil, err
	}
	name := res.Best.Learner
	if res.Ensembled {
		var names []string
		for _, mem := range res.Members {
			if !slices.Contains(names, mem.Learner) {
				names = append(names, mem.Learner)
			}
		}
		name = fmt.Sprintf("ensemble of %d (%s)", len(res.Members), strings.Join(names, ", "))
	}
	c := Compare(m, name, res.Eval, res.ValidLoss, res.GroupLosses, res.Baselines)
	c.Folds, c.Repeats = res.Folds, res.Repeats
	return c, nil
}

// CVOptions configure CrossValidate.
type CVOptions struct {
	// Folds forces k-fold cross-validation with this many folds (0: the
	// automatic choice of AutoML: cross-validation when the data are small
	// enough, else a holdout).
	Folds int
	// Repeats of cross-validation (0: automatic, 3 on small data).
	Repeats int
	// Metric to score ("" = the task's default).
	Metric string
	// Valid, when given, replaces cross-validation: models are fitted on
	// the training rows and scored on it (a frame with the target column).
	Valid *frame.Frame
}

// compareMaxRows caps the rows CrossValidate's automatic evaluation fits
// on: on a larger training set it compares the learner with the baselines
// on an evenly spaced sample of this many rows, so the check costs a
// fraction of the real fit instead of two more fits of the whole data
// (issue 24). The cap stays above automl's cross-validation limit (100,000
// rows), so the sample is scored on a 10% holdout (20,000 rows) with one
// fit per model; five folds of a smaller sample would cost more.
var compareMaxRows = 200_000

// sample returns p restricted to at most n evenly spaced rows (p itself
// when it has no more).
func (p *Problem) sample(n int) *Problem {
	total := p.Frame.NumRows()
	if total <= n {
		return p
	}
	rows := make([]int, n)
	y := make([]float64, n)
	for i := range rows {
		rows[i] = int(int64(i) * int64(total) / int64(n))
		y[i] = p.Y[rows[i]]
	}
	q := *p
	q.Frame, q.Y, q.Raw, q.sampleOf = p.Frame.Take(rows), y, nil, total
	if p.Raw != nil {
		q.Raw = p.Raw.Take(rows)
	}
	return &q
}

// CompareSample returns the problem CrossValidate compares the learner
// with the baselines on, given cv: an evenly spaced sample of 200,000 of
// p's rows when p has more and cv sets neither folds nor validation data,
// else p. A caller done with p's other rows (gyre train, once the drift
// reference is made) passes the sample to CrossValidate with the same cv
// and lets the whole frame go; CrossValidate samples no further and
// reports the sample's size (Comparison.SampleRows) as it would have.
func CompareSample(p *Problem, cv CVOptions) *Problem {
	if p.sampleOf > 0 || cv.Valid != nil || cv.Folds > 0 {
		return p
	}
	return p.sample(compareMaxRows)
}

// searchSample is the search problem for spaces of CompareSample(p, cv),
// with its number of rows when it is a sample (else 0). The sample's frame
// is garbage once encoded: only its matrices are kept through the search
// (32 MB less at the peak of a 1M × 20 run).
func searchSample(p *Problem, cv CVOptions, spaces []automl.Space, m metric.Metric) (automl.Problem, int, error) {
	p = CompareSample(p, cv)
	ap, _, err := p.searchProblem(spaces, cv.Valid, m)
	if p.sampleOf == 0 {
		return ap, 0, err
	}
	return ap, p.Frame.NumRows(), err
}

// CrossValidate scores one learner (o) with the dummy and the simple model
// on one evaluation split: k-fold cross-validation (cv.Folds), AutoML's
// automatic choice, or the user's validation data. It returns the
// comparison and every metric of the task on the learner's out-of-fold (or
// validation) predictions.
func CrossValidate(ctx context.Context, p *Problem, o Options, cv CVOptions) (*Comparison, Scores, error) {
	m, err := ResolveMetric(p.Task, cv.Metric)
	if err != nil {
		return nil, nil, err
	}
	if _, err := learn.Lookup(o.Learner); err != nil {
		return nil, nil, err
	}
	simple := automl.Space{Learner: SimpleLearner(p.Task), Family: bundle.FamilyOf(SimpleLearner(p.Task))}
	sp := automl.Space{Learner: o.Learner, Family: bundle.FamilyOf(o.Learner)}
	// p is not used past here: its frame can go once encoded.
	task, classes := p.Task, p.Classes
	ap, sampleRows, err := searchSample(p, cv, []automl.Space{sp, simple}, m)
	if err != nil {
		return nil, nil, err
	}
	eval := "auto"
	if cv.Folds > 0 {
		eval = "cv"
	}
	cfg := automl.Config{}
	for k, v := range o.Params {
		cfg[k] = v
	}
	r, err := automl.Evaluate(ctx, ap, automl.Options{Spaces: []automl.Space{sp}, Simple: simple, Seed: o.Seed, Eval: eval, Folds: cv.Folds, Repeats: cv.Repeats}, cfg)
	if err != nil {
		return nil, nil, err
	}
	c := Compare(m, o.Learner, r.Eval, r.Loss, r.GroupLosses, r.Baselines)
	c.Folds, c.Repeats = r.Folds, r.Repeats
	c.SampleRows = sampleRows
	k := len(classes)
	y := r.Y
	var pred, proba []float64
	if task.Classification() {
		proba = r.OOF
		pred = learn.ArgMax(proba, k)
	} else {
		pred = r.OOF
	}
	scores, err := Metrics(task, k, y, pred, proba)
	return c, scores, err
}
