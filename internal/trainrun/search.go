package trainrun

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/automl"
	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/distrib"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/metric"
	"github.com/gyre-ml/gyre/internal/report"
	"github.com/gyre-ml/gyre/internal/train"
	"github.com/gyre-ml/gyre/internal/trainlog"
)

// AutoMLOptions configure AutoML.
type AutoMLOptions struct {
	Common
	// Search are the search's options; AutoML sets Valid, Recorder,
	// OnTrial, Executor and PostCost.
	Search train.SearchOptions
	// Budget is the wall time of the whole run, counted from Start (the
	// command's start: reading the data is taken off the search); 0:
	// Search.Trials alone.
	Budget time.Duration
	Start  time.Time
	// HTML, when set, is where the search's report is written.
	HTML string
	// Engine, when set, runs the trials on its workers, which open the
	// artifact store at EngineArtifacts (see distrib.Location).
	Engine          *distrib.Engine
	EngineArtifacts string
}

// AutoMLResult is what gyre automl reports (its --json output).
type AutoMLResult struct {
	Result
	Trials    int    `json:"trials"`
	Eval      string `json:"eval"`
	Folds     int    `json:"folds,omitempty"`
	Repeats   int    `json:"repeats,omitempty"`
	Ensembled bool   `json:"ensembled"`
	// EnsembleCheck is the cross-fitted comparison the ensemble was kept
	// or dropped on (omitted when none was made).
	EnsembleCheck *EnsembleCheck `json:"ensemble_check,omitempty"`
	// Refitted is false when the budget ran out before the final refit on
	// all training rows finished and the model trained during the search
	// was kept.
	Refitted bool `json:"refitted"`
	// Temperature is the probability calibration of the final classifier
	// (omitted when none was fitted).
	Temperature *Calibration   `json:"calibration,omitempty"`
	Members     []Member       `json:"members"`
	Leaderboard []automl.Trial `json:"leaderboard"`
	Seconds     float64        `json:"seconds"`
}

// EnsembleCheck is automl's cross-fitted ensemble check: each evaluation
// group predicted by the ensemble, or by the single model, chosen on the
// other groups; SE is the standard error of their per-group difference.
type EnsembleCheck struct {
	EnsembleLoss float64 `json:"ensemble_loss"`
	SingleLoss   float64 `json:"single_loss"`
	SE           float64 `json:"se"`
}

// Calibration is the final classifier's temperature.
type Calibration struct {
	Temperature float64 `json:"temperature"`
	// Log losses of the out-of-fold (or validation) probabilities.
	LogLossBefore float64 `json:"log_loss_before"`
	LogLossAfter  float64 `json:"log_loss_after"`
}

// Member is a member of the final model.
type Member struct {
	Learner string  `json:"learner"`
	Weight  float64 `json:"weight"`
	// Temperature is the member's own probability calibration (omitted:
	// none).
	Temperature float64           `json:"temperature,omitempty"`
	Smoothing   float64           `json:"smoothing,omitempty"`
	Config      map[string]string `json:"config"`
}

// Searched is a finished AutoML run: its result, the search's own, the
// metric it optimised and the trials logged as child runs.
type Searched struct {
	AutoMLResult
	Search *automl.Result
	Metric metric.Metric
	Logged int
}

// AutoML searches for the best model within the budget and writes, logs
// and optionally registers its bundle.
func AutoML(ctx context.Context, o AutoMLOptions) (*Searched, error) {
	o.defaults()
	d, err := prepare(ctx, &o.Common, "automl", false)
	if err != nil {
		return nil, err
	}
	p, opts := d.p, o.Search
	opts.Valid = d.valid.f
	params := map[string]string{"budget": o.Budget.String(), "trials": fmt.Sprint(opts.Trials), "metric": opts.Metric,
		"learners": strings.Join(opts.Learners, ","), "eval": opts.Eval}
	if opts.Batch != 1 {
		params["batch"] = fmt.Sprint(opts.Batch)
	}
	rl, err := startRunLog(ctx, &o.Common, "automl", o.params("automl", p, params), d)
	if err != nil {
		return nil, err
	}
	opts.Recorder = rl.log.Recorder()
	var engine *distrib.Executor
	if o.Engine != nil {
		so := distrib.SearchOptions{Artifacts: o.EngineArtifacts, RunID: rl.log.RunID(), Source: o.Source,
			Trials: opts.Trials, Budget: o.Budget, Seed: opts.Seed, Warnf: o.Warnf}
		if rl.be != nil {
			so.Blobs = rl.be.Blobs
		}
		if engine, err = distrib.StartSearch(ctx, *o.Engine, so); err != nil {
			rl.fail(ctx)
			return nil, failed(fmt.Errorf("automl: %w", err))
		}
		o.Infof("automl: trials run on %s as workflow %s (batches of %d)", o.Engine.String(), engine.ID, opts.Batch)
		opts.Executor = engine
	}
	total := int64(opts.Trials)
	if o.Budget > 0 {
		total = int64(o.Budget / time.Second)
	}
	bar := o.Progress(total, "automl")
	m, _ := train.ResolveMetric(p.Task, opts.Metric)
	opts.OnTrial = func(t, best automl.Trial) {
		if o.Budget > 0 {
			bar.Set(int(time.Since(o.Start) / time.Second))
		} else {
			bar.Add(1)
		}
		bar.Describe(fmt.Sprintf("automl: trial %d, best %s %.4f (%s)", t.ID+1, m.Name, m.Loss(best.Loss), best.Learner))
		if engine != nil {
			engine.SetProgress(distrib.Progress{Trials: t.ID + 1, Best: m.Loss(best.Loss), Metric: m.Name, Learner: best.Learner})
		}
	}
	searchCtx, cancel, err := searchDeadline(ctx, o.Start, o.Budget, p, &opts, d.valid, d.test)
	if err != nil {
		rl.fail(ctx)
		return nil, err
	}
	b, res, err := train.Search(searchCtx, p, opts)
	if engine != nil {
		if ferr := engine.End(err); ferr != nil {
			o.Warnf("automl: end workflow %s: %v", engine.ID, ferr)
		}
	}
	cancel()
	bar.Done()
	if err != nil {
		rl.fail(ctx)
		return nil, &SearchError{err}
	}
	if err := scoreSplits(b, p, &d.valid, &d.test); err != nil {
		rl.fail(ctx)
		return nil, err
	}
	attachReference(&o.Common, b, d.ref)
	out := o.Out
	if out == "" {
		out = trainlog.SafeName(o.Target) + "-automl.gyre"
	}
	r := searchResultOf(p, b, res, out)
	if r.Comparison, err = train.CompareSearch(opts.Metric, p.Task, res); err != nil {
		return nil, failed(fmt.Errorf("automl: compare with the baselines: %w", err))
	}
	if err := rl.finish(ctx, b, out, d.valid, d.test, &r.Result); err != nil {
		return nil, err
	}
	if o.HTML != "" {
		sr := searchReport{source: o.Source, budget: o.Budget.String(), rows: p.Frame.NumRows(), testName: o.Test, test: d.test.f}
		if err := writeSearchReport(o.HTML, b, res, m.Name, m.HigherIsBetter, sr); err != nil {
			return nil, failed(err)
		}
	}
	r.Seconds = time.Since(o.Start).Seconds()
	return &Searched{AutoMLResult: r, Search: res, Metric: m, Logged: rl.log.Trials()}, nil
}

// searchDeadline returns the search's context: the budget covers the whole
// command, so its deadline counts from the command's start (loading is
// taken off the search), and the search keeps time for what follows it
// (scoring the splits, saving, logging) through opts.PostCost.
func searchDeadline(ctx context.Context, start time.Time, budget time.Duration, p *train.Problem, opts *train.SearchOptions, valid, test split) (context.Context, context.CancelFunc, error) {
	if budget <= 0 {
		return ctx, func() {}, nil
	}
	scored := p.Frame.NumRows()
	for _, f := range []*frame.Frame{valid.f, test.f} {
		if f != nil {
			scored += f.NumRows()
		}
	}
	opts.PostCost = train.SaveAndScoreCost(scored, max(2*time.Second, budget*8/100))
	if left := budget - time.Since(start); left <= opts.PostCost(automl.Output{}) {
		return nil, nil, &BudgetSpentError{Read: time.Since(start), Budget: budget}
	}
	searchCtx, cancel := context.WithDeadline(ctx, start.Add(budget))
	return searchCtx, cancel, nil
}

// searchResultOf is the result of a finished search.
func searchResultOf(p *train.Problem, b *bundle.Bundle, res *automl.Result, out string) AutoMLResult {
	r := AutoMLResult{Result: resultOf(p, out), Trials: len(res.Trials), Eval: res.Eval, Folds: res.Folds, Repeats: res.Repeats,
		Ensembled: res.Ensembled, Refitted: res.Refitted, Leaderboard: res.Leaderboard()}
	r.Learner, r.Params, r.FitSeconds, r.Metrics = res.Best.Learner, res.Best.Config, res.Elapsed.Seconds(), b.Manifest.Metrics
	if r.Ensembled {
		r.Learner = "ensemble"
	}
	if res.CrossEnsembleLoss != 0 || res.CrossSingleLoss != 0 {
		r.EnsembleCheck = &EnsembleCheck{EnsembleLoss: res.CrossEnsembleLoss, SingleLoss: res.CrossSingleLoss, SE: res.CrossSE}
	}
	if res.Temperature != 0 {
		r.Temperature = &Calibration{Temperature: res.Temperature, LogLossBefore: res.UncalibratedLogLoss, LogLossAfter: res.CalibratedLogLoss}
	}
	for _, mem := range res.Members {
		r.Members = append(r.Members, Member{Learner: mem.Learner, Weight: mem.Weight, Temperature: mem.Temperature, Smoothing: mem.Smoothing, Config: mem.Config})
	}
	return r
}

// searchReport carries what the AutoML report needs beyond the result.
type searchReport struct {
	source, budget string
	rows           int
	test           *frame.Frame
	testName       string
}

func writeSearchReport(path string, b *bundle.Bundle, res *automl.Result, metricName string, higher bool, sr searchReport) error {
	orient := func(loss float64) float64 {
		if higher {
			return -loss
		}
		return loss
	}
	s := &report.Search{Source: ingest.Redact(sr.source), Target: b.Manifest.Target, Task: b.Manifest.Task.String(), Metric: metricName, HigherIsBetter: higher,
		Rows: sr.rows, Eval: res.Eval, Budget: sr.budget, Seconds: res.Elapsed.Seconds(), ValidScore: orient(res.ValidLoss), Final: res.Best.Learner}
	for _, t := range res.Trials {
		s.Trials = append(s.Trials, report.SearchTrial{ID: t.ID, Learner: t.Learner, Config: t.Config, Score: orient(t.Loss),
			FitSeconds: t.FitTime.Seconds(), PredictMicros: float64(t.PredictPerRow.Nanoseconds()) / 1000, Elapsed: t.Elapsed.Seconds(), Err: t.Err})
	}
	if res.Ensembled {
		s.Final = fmt.Sprintf("ensemble of %d", len(res.Members))
	}
	for _, m := range res.Members {
		member := fmt.Sprintf("%s ×%.2f", m.Learner, m.Weight)
		if m.Temperature != 0 {
			member += fmt.Sprintf(" (T = %.2f)", m.Temperature)
		}
		s.Members = append(s.Members, member)
	}
	if res.Temperature != 0 {
		s.Calibration = fmt.Sprintf("T = %.3f (log loss %.4f → %.4f)", res.Temperature, res.UncalibratedLogLoss, res.CalibratedLogLoss)
	}
	if sr.test != nil {
		scores, pred, y, err := train.Score(b, sr.test)
		if err == nil {
			s.TestMetrics = scores
			s.Evaluation = report.EvaluationOf(b, "automl", sr.testName, scores, y, pred)
		}
	}
	return report.SearchPage(s).WriteFile(path)
}
