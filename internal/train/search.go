package train

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/automl"
	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/feature"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/metric"
)

// SearchOptions configure an AutoML search. The time budget is the
// deadline of Search's context (none: Trials alone, the reproducible
// trial-count mode).
type SearchOptions struct {
	Trials int
	// PostCost estimates what the caller does with the bundle after Search
	// returns and before the deadline, so the search leaves it time (see
	// automl.Options.PostCost and SaveAndScoreCost).
	PostCost func(automl.Output) time.Duration
	// Metric to optimise ("" = the task's default).
	Metric string
	// Learners restricts the search ("" or nil = the defaults).
	Learners []string
	Seed     uint64
	// Eval is "auto", "cv" or "holdout".
	Eval string
	// Valid is an optional user validation frame (with the target column).
	Valid *frame.Frame
	// Search is the search method: "cfo" (default), "random", "grid" or
	// "tpe".
	Search string
	// Spaces replaces the built-in search spaces (a user's --space file);
	// their families are filled in from the learner names.
	Spaces []automl.Space
	// NoEnsemble disables ensemble selection.
	NoEnsemble bool
	// NoBag refits the final models on all rows instead of keeping the
	// cross-validation fold models (automl.Options.NoBag).
	NoBag bool
	// NoCalibrate disables probability calibration (classifiers): the
	// trials' and the final model's temperature and smoothing.
	NoCalibrate   bool
	MaxLatency    time.Duration
	MaxModelBytes int
	Recorder      automl.Recorder
	OnTrial       func(t, best automl.Trial)
	// Batch and Executor: see automl.Options (nil Executor: trials run on
	// this process).
	Batch    int
	Executor automl.Executor
}

// SaveAndScoreCost is a SearchOptions.PostCost for a caller that saves the
// bundle (at bundle.SaveBytesPerSec) and scores rows rows with it after
// Search, and needs fixed more for work that does not depend on the model.
func SaveAndScoreCost(rows int, fixed time.Duration) func(automl.Output) time.Duration {
	return func(o automl.Output) time.Duration {
		save := time.Duration(float64(o.ModelBytes) / bundle.SaveBytesPerSec * float64(time.Second))
		return fixed + save + time.Duration(rows)*o.PredictPerRow
	}
}

// ResolveMetric returns the metric to optimise for a task.
func ResolveMetric(task learn.Task, name string) (metric.Metric, error) {
	if name == "" {
		m, ok := metric.Default(metric.Task(task))
		if !ok {
			return metric.Metric{}, fmt.Errorf("no default metric for %v", task)
		}
		return m, nil
	}
	return metric.LookupTask(metric.Task(task), name)
}

// Search runs AutoML on the problem and returns the bundle of the best model
// (or ensemble) and the search result.
func Search(ctx context.Context, p *Problem, o SearchOptions) (*bundle.Bundle, *automl.Result, error) {
	m, err := ResolveMetric(p.Task, o.Metric)
	if err != nil {
		return nil, nil, err
	}
	spaces := automl.DefaultSpaces(p.Task)
	if p.Frame.NumRows() > automl.KNNMaxRows && !slices.Contains(o.Learners, "knn") {
		spaces = slices.DeleteFunc(spaces, func(s automl.Space) bool { return s.Learner == "knn" })
	}
	if o.Spaces != nil {
		spaces = nil
		for _, sp := range o.Spaces {
			spec, err := learn.Lookup(sp.Learner)
			if err != nil {
				return nil, nil, err
			}
			if !slices.Contains(spec.Tasks, p.Task) {
				return nil, nil, fmt.Errorf("search space: learner %s does not do %v tasks", sp.Learner, p.Task)
			}
			if sp.Family == "" {
				sp.Family = bundle.FamilyOf(sp.Learner)
			}
			spaces = append(spaces, sp)
		}
	}
	if len(o.Learners) > 0 {
		var keep []automl.Space
		var known []string
		for _, s := range spaces {
			known = append(known, s.Learner)
			if slices.Contains(o.Learners, s.Learner) {
				keep = append(keep, s)
			}
		}
		for _, l := range o.Learners {
			if !slices.Contains(known, l) {
				return nil, nil, fmt.Errorf("learner %q has no AutoML search space for %v tasks (valid: %s): %w", l, p.Task, strings.Join(known, ", "), ErrNoSpace)
			}
		}
		spaces = keep
	}
	if len(spaces) == 0 {
		return nil, nil, fmt.Errorf("no learner available for %v tasks", p.Task)
	}
	simple := automl.Space{Learner: SimpleLearner(p.Task), Family: bundle.FamilyOf(SimpleLearner(p.Task))}
	ap, preps, err := p.searchProblem(append(slices.Clip(spaces), simple), o.Valid, m)
	if err != nil {
		return nil, nil, err
	}
	res, err := automl.Run(ctx, ap, automl.Options{
		Simple: simple,
		Trials: o.Trials, PostCost: o.PostCost, Spaces: spaces, Seed: o.Seed, Eval: o.Eval, Search: o.Search, Ensemble: !o.NoEnsemble, NoBag: o.NoBag, Calibrate: !o.NoCalibrate,
		CalibrateTrials: !o.NoCalibrate && (m.Name == "log_loss" || m.Name == "brier"),
		MaxLatency:      o.MaxLatency, MaxModelBytes: o.MaxModelBytes, Recorder: o.Recorder, OnTrial: o.OnTrial,
		Batch: o.Batch, Executor: o.Executor,
	})
	if err != nil {
		return nil, nil, err
	}
	b := p.bundleOf()
	b.Manifest.Metric = m.Name
	b.Manifest.Metrics = map[string]map[string]float64{"valid": {m.Name: m.Loss(res.ValidLoss)}}
	b.Manifest.Temperature = res.Temperature
	for _, mem := range res.Members {
		params, err := FullParams(mem.Learner, mem.Config, o.Seed)
		if err != nil {
			return nil, nil, err
		}
		b.Members = append(b.Members, bundle.Member{
			Info:  bundle.MemberInfo{Learner: mem.Learner, Family: mem.Family, Params: params, Weight: mem.Weight, Temperature: mem.Temperature, Smoothing: mem.Smoothing},
			Prep:  preps[mem.Family],
			Model: mem.Model,
		})
	}
	return b, res, nil
}

var inf = 1e300

// ErrNoSpace: a learner asked for by name has no search space for the
// task (an input error, not a failed search).
var ErrNoSpace = errors.New("no search space")

// searchProblem prepares the data of every family of spaces (fitted on the
// training rows) and the user's validation frame (nil: none) for AutoML,
// with m as the loss.
func (p *Problem) searchProblem(spaces []automl.Space, valid0 *frame.Frame, m metric.Metric) (automl.Problem, map[string]*bundle.Prep, error) {
	preps := map[string]*bundle.Prep{}
	data := map[string]*learn.Dataset{}
	var valid map[string]*learn.Dataset
	var yValid []float64
	valid0, err := p.prepared(valid0)
	if err != nil {
		return automl.Problem{}, nil, fmt.Errorf("validation data: %w", err)
	}
	if valid0 != nil {
		c, err := valid0.Column(p.Target)
		if err != nil {
			return automl.Problem{}, nil, fmt.Errorf("validation data: %w", err)
		}
		if p.Task.Classification() {
			yValid, err = feature.EncodeLabels(c, p.Classes)
		} else {
			yValid, _, err = feature.EncodeTarget(valid0, p.Target, false)
		}
		if err != nil {
			return automl.Problem{}, nil, fmt.Errorf("validation data: %w", err)
		}
		valid = map[string]*learn.Dataset{}
	}
	for _, s := range spaces {
		if _, ok := data[s.Family]; ok {
			continue
		}
		prep, d, err := p.Dataset(s.Family)
		if err != nil {
			return automl.Problem{}, nil, err
		}
		preps[s.Family], data[s.Family] = prep, d
		if valid0 != nil {
			X, _, err := prep.Transform(valid0)
			if err != nil {
				return automl.Problem{}, nil, fmt.Errorf("validation data: %w", err)
			}
			valid[s.Family] = &learn.Dataset{X: X, Features: d.Features, Task: p.Task, Y: yValid, Classes: p.Classes}
		}
	}
	loss := func(y, pred, proba []float64, k int) float64 {
		in := metric.Input{Y: y, Pred: pred, Proba: proba, K: k}
		if p.Task.Classification() {
			in.Pred = nil // derive from probabilities, as evaluation does
		}
		v, err := m.Score(in)
		if err != nil {
			return inf
		}
		return m.Loss(v)
	}
	return automl.Problem{Task: p.Task, Classes: p.Classes, Data: data, Valid: valid, Loss: loss}, preps, nil
}

// FullParams is every hyperparameter of a learner configured with cfg (and
// the seed, when it has one), defaults included: what the model was fitted
// with.
func FullParams(learner string, cfg map[string]string, seed uint64) (map[string]string, error) {
	l, err := learn.New(learner)
	if err != nil {
		return nil, err
	}
	keys := sortedKeys(cfg)
	for _, k := range keys {
		if err := learn.SetParam(l, k, cfg[k]); err != nil {
			return nil, fmt.Errorf("parameters of %s: %w", learner, err)
		}
	}
	if hasParam(l, "seed") {
		if err := learn.SetParam(l, "seed", fmt.Sprint(seed)); err != nil {
			return nil, err
		}
	}
	out := map[string]string{}
	for _, p := range learn.Params(l) {
		out[p.Name] = p.Default
	}
	return out, nil
}
