package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/automl"
	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/distrib"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/metric"
	"github.com/gyre-ml/gyre/internal/train"
	"github.com/gyre-ml/gyre/internal/trainlog"
)

func init() { register(newAutoMLCmd) }

type automlFlags struct {
	target, task, metric, valid, test, out, html, eval, register string
	search, space, engine                                        string
	learners                                                     []string
	budget, maxLatency                                           time.Duration
	trials, maxModelBytes, batch                                 int
	seed                                                         uint64
	noEnsemble, noCalibrate                                      bool
	columns                                                      problemFlags
}

func newAutoMLCmd(app *App) *cobra.Command {
	var fl automlFlags
	cmd := &cobra.Command{
		Use:   "automl SOURCE --target COL [--budget 60s | --trials N]",
		Short: "Find the best model within a time or trial budget",
		Long: `Search learners and hyperparameters for the best model on SOURCE, FLAML-style:
every learner starts from a cheap configuration and moves by local search,
learners that improve cheaply get more trials, small data is scored by k-fold
cross-validation and large data on a holdout with a growing sample. The best
trials are then ensembled (greedy selection) when that beats the best single
model, and the result is refitted on all rows within the budget.

A classifier's probabilities are calibrated by temperature scaling fitted on
the validation predictions (never the test data): every trial's when the
metric is log_loss or brier, so selection compares calibrated models, and the
final ensemble's. It never changes a row's predicted class. --no-calibrate
turns it off.

--budget is wall time including the refit. --trials N without --budget is the
reproducible mode: the same --seed and N give a bit-identical model.

--search tpe|random|grid with --space FILE searches your own space instead:

  learners:
    - learner: gbdt
      params:
        n_estimators: {low: 50, high: 1000, log: true, int: true}
        learning_rate: {low: 0.01, high: 0.3, log: true}
        max_leaves: {choices: [15, 31, 63]}
      fixed:
        l2: 1`,
		Example: `  gyre automl examples/data/adult/adult.train.csv --target class --budget 60s \
      --test examples/data/adult/adult.test.csv --out adult.gyre
  gyre automl data.csv --target price --trials 50 --seed 1 --learners gbdt,random_forest --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runAutoML(cmd, app, args[0], fl) },
	}
	f := cmd.Flags()
	f.StringVar(&fl.target, "target", "", "target column (required)")
	f.DurationVar(&fl.budget, "budget", 0, "wall-time budget including the final refit (default 60s unless --trials is set)")
	f.IntVar(&fl.trials, "trials", 0, "maximum number of trials; alone, the reproducible trial-count mode")
	f.StringVar(&fl.metric, "metric", "", "metric to optimise (default: roc_auc binary, log_loss multiclass, rmse regression)")
	f.StringVar(&fl.task, "task", "", "regression, binary, multiclass or classification (default: detect)")
	f.StringSliceVar(&fl.learners, "learners", nil, "learners to search (default: all with a search space)")
	f.StringVar(&fl.valid, "valid", "", "validation data to select models on (default: cross-validation or holdout of SOURCE)")
	f.StringVar(&fl.test, "test", "", "held-out test data, scored once at the end")
	f.Uint64Var(&fl.seed, "seed", 0, "random seed")
	f.StringVar(&fl.eval, "eval", "auto", "evaluation: auto, cv or holdout")
	f.BoolVar(&fl.noEnsemble, "no-ensemble", false, "do not ensemble the best trials")
	f.BoolVar(&fl.noCalibrate, "no-calibrate", false, "do not calibrate classifier probabilities (temperature and smoothing fitted on validation predictions)")
	f.StringVar(&fl.search, "search", "cfo", "search method: cfo (cost-frugal local search), tpe, random or grid")
	f.StringVar(&fl.space, "space", "", "YAML search space replacing the built-in ones (see 'gyre automl --help')")
	f.DurationVar(&fl.maxLatency, "max-latency", 0, "discard models predicting slower than this per row")
	f.IntVar(&fl.maxModelBytes, "max-model-bytes", 0, "discard models larger than this many bytes")
	f.StringVar(&fl.out, "out", "", "bundle path (default TARGET-automl.gyre)")
	f.StringVar(&fl.html, "html", "", "write an HTML report of the search")
	f.StringVar(&fl.register, "register", "", "register the model under this name")
	f.StringVar(&fl.engine, "engine", "", "run the trials on Temporal workers: temporal://HOST:PORT[?namespace=N&task_queue=Q] (see 'gyre worker')")
	fl.columns.add(cmd)
	f.IntVar(&fl.batch, "batch", 0, "trials proposed at once (default 1, 8 with --engine); results depend on it, not on where trials run")
	return cmd
}

type automlResult struct {
	trainResult
	Trials    int    `json:"trials"`
	Eval      string `json:"eval"`
	Folds     int    `json:"folds,omitempty"`
	Repeats   int    `json:"repeats,omitempty"`
	Ensembled bool   `json:"ensembled"`
	// Refitted is false when the budget ran out before the final refit on
	// all training rows finished and the model trained during the search
	// was kept.
	Refitted bool `json:"refitted"`
	// Temperature is the probability calibration of the final classifier
	// (omitted when none was fitted).
	Temperature *calibrationJSON `json:"calibration,omitempty"`
	Members     []memberJSON     `json:"members"`
	Leaderboard []automl.Trial   `json:"leaderboard"`
	Seconds     float64          `json:"seconds"`
}

type calibrationJSON struct {
	Temperature float64 `json:"temperature"`
	// Log losses of the out-of-fold (or validation) probabilities.
	LogLossBefore float64 `json:"log_loss_before"`
	LogLossAfter  float64 `json:"log_loss_after"`
}

type memberJSON struct {
	Learner string  `json:"learner"`
	Weight  float64 `json:"weight"`
	// Temperature is the member's own probability calibration (omitted:
	// none).
	Temperature float64           `json:"temperature,omitempty"`
	Smoothing   float64           `json:"smoothing,omitempty"`
	Config      map[string]string `json:"config"`
}

func runAutoML(cmd *cobra.Command, app *App, source string, fl automlFlags) error {
	ctx := cmd.Context()
	start := time.Now()
	task, spaces, err := checkAutoMLFlags(cmd, &fl)
	if err != nil {
		return err
	}
	f, err := app.loadFrame(ctx, source)
	if err != nil {
		return err
	}
	po, err := fl.columns.options()
	if err != nil {
		return err
	}
	p, err := train.NewProblemWith(f, fl.target, task, po)
	if err != nil {
		return problemError("automl", source, err)
	}
	printProblemNotes(app, p)
	if _, err := train.ResolveMetric(p.Task, fl.metric); err != nil {
		return usageErrorf("automl: --metric: %v", err)
	}
	opts := train.SearchOptions{Trials: fl.trials, Metric: fl.metric, Learners: fl.learners, Seed: fl.seed,
		Eval: fl.eval, Search: fl.search, Spaces: spaces, NoEnsemble: fl.noEnsemble, NoCalibrate: fl.noCalibrate, MaxLatency: fl.maxLatency, MaxModelBytes: fl.maxModelBytes}
	valid, err := loadSplit(ctx, app, fl.valid)
	if err != nil {
		return err
	}
	test, err := loadSplit(ctx, app, fl.test)
	if err != nil {
		return err
	}
	opts.Valid = valid.f
	params := map[string]string{"learner": "automl", "target": fl.target, "task": p.Task.String(), "seed": fmt.Sprint(fl.seed),
		"budget": fl.budget.String(), "trials": fmt.Sprint(fl.trials), "metric": fl.metric, "learners": strings.Join(fl.learners, ","), "eval": fl.eval}
	if fl.batch != 1 {
		params["batch"] = fmt.Sprint(fl.batch)
	}
	problemParams(params, p, fl.columns)
	rl, err := startRunLog(ctx, app, source, "automl", params, fl.register != "")
	if err != nil {
		return err
	}
	opts.Recorder = rl.recorder()
	opts.Batch = fl.batch
	var engine *distrib.Executor
	if fl.engine != "" {
		var blobs blob.Store
		if rl.st != nil && rl.st.Local != nil {
			blobs = rl.st.Local.Blobs
		}
		if engine, err = app.engineSearch(ctx, fl.engine, blobs, rl.log.RunID(), source, fl); err != nil {
			rl.fail(ctx)
			return err
		}
		opts.Executor = engine
	}
	total := int64(fl.trials)
	if fl.budget > 0 {
		total = int64(fl.budget / time.Second)
	}
	bar := app.progress(total, "automl")
	m, _ := train.ResolveMetric(p.Task, fl.metric)
	opts.OnTrial = func(t, best automl.Trial) {
		if fl.budget > 0 {
			bar.Set(int(time.Since(start) / time.Second))
		} else {
			bar.Add(1)
		}
		bar.Describe(fmt.Sprintf("automl: trial %d, best %s %.4f (%s)", t.ID+1, m.Name, m.Loss(best.Loss), best.Learner))
		engineProgress(engine, m.Name, m.Loss, t, best)
	}
	searchCtx, cancel, err := searchDeadline(ctx, start, fl.budget, p, &opts, valid, test)
	if err != nil {
		rl.fail(ctx)
		return err
	}
	b, res, err := train.Search(searchCtx, p, opts)
	if engine != nil {
		if ferr := engine.End(err); ferr != nil {
			app.warnf("automl: end workflow %s: %v", engine.ID, ferr)
		}
	}
	cancel()
	bar.Done()
	if err != nil {
		rl.fail(ctx)
		if errors.Is(err, automl.ErrNoTrial) {
			return usageErrorf("automl: %v: raise --budget or use fewer rows", err)
		}
		if errors.Is(err, train.ErrNoSpace) {
			return usageErrorf("automl: --learners: %v", err)
		}
		return failed(fmt.Errorf("automl: %w", err))
	}
	if err := scoreSplits(b, p.Input(), valid, test); err != nil {
		rl.fail(ctx)
		return err
	}
	attachReference(ctx, app, b, p)
	out := fl.out
	if out == "" {
		out = trainlog.SafeName(fl.target) + "-automl.gyre"
	}
	r := automlResultOf(p, b, res, out)
	if r.Comparison, err = train.CompareSearch(opts.Metric, p.Task, res); err != nil {
		return failed(fmt.Errorf("automl: compare with the baselines: %w", err))
	}
	rl.linkSplits(ctx, valid, test)
	if err := rl.finish(ctx, b, out, fl.register, &r.trainResult); err != nil {
		return err
	}
	if fl.html != "" {
		sr := searchReport{source: source, budget: fl.budget.String(), rows: p.Frame.NumRows(), testName: fl.test, test: test.f}
		if err := writeSearchReport(fl.html, b, res, m.Name, m.HigherIsBetter, sr); err != nil {
			return failed(err)
		}
	}
	r.Seconds = time.Since(start).Seconds()
	if app.JSON {
		return app.printJSON(r)
	}
	printAutoML(app, r, res, m, p.Frame.NumRows(), rl.log.Trials())
	return nil
}

// checkAutoMLFlags checks automl's flags before any data is read, fills in
// their defaults and returns the task and the --space file's spaces.
func checkAutoMLFlags(cmd *cobra.Command, fl *automlFlags) (learn.Task, []automl.Space, error) {
	if fl.target == "" {
		return 0, nil, usageErrorf("automl: --target is required (the column to predict)")
	}
	if fl.budget < 0 || fl.trials < 0 || cmd.Flags().Changed("budget") && fl.budget == 0 {
		return 0, nil, usageErrorf("automl: --budget %v --trials %d: a budget must be positive (e.g. --budget 60s), and trials 1 or more", fl.budget, fl.trials)
	}
	for _, l := range fl.learners {
		if _, err := learn.Lookup(l); err != nil {
			return 0, nil, usageErrorf("automl: --learners: %v", err)
		}
	}
	if err := checkRegisterName("automl", fl.register); err != nil {
		return 0, nil, err
	}
	for _, o := range []struct{ flag, path string }{{"--out", fl.out}, {"--html", fl.html}} {
		if err := checkOutPath("automl", o.flag, o.path); err != nil {
			return 0, nil, err
		}
	}
	if fl.budget == 0 && fl.trials == 0 {
		fl.budget = 60 * time.Second
	}
	if fl.batch < 0 {
		return 0, nil, usageErrorf("automl: --batch %d: want at least 1", fl.batch)
	}
	if fl.batch == 0 {
		fl.batch = 1
		if fl.engine != "" {
			fl.batch = defaultEngineBatch
		}
	}
	if fl.eval != "auto" && fl.eval != "cv" && fl.eval != "holdout" {
		return 0, nil, usageErrorf("automl: --eval %q: want auto, cv or holdout", fl.eval)
	}
	task, err := parseTask(fl.task)
	if err != nil {
		return 0, nil, err
	}
	switch fl.search {
	case "cfo", "tpe", "random", "grid":
	default:
		return 0, nil, usageErrorf("automl: --search %q: want cfo, tpe, random or grid", fl.search)
	}
	var spaces []automl.Space
	if fl.space != "" {
		data, err := os.ReadFile(fl.space)
		if err != nil {
			return 0, nil, usageErrorf("automl: --space: %v", err)
		}
		if spaces, err = automl.ParseSpaces(data, fl.space); err != nil {
			return 0, nil, usageErrorf("automl: %v", err)
		}
	}
	return task, spaces, nil
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
		return nil, nil, usageErrorf("automl: reading the data took %v of the %v budget: raise --budget", time.Since(start).Round(time.Millisecond), budget)
	}
	searchCtx, cancel := context.WithDeadline(ctx, start.Add(budget))
	return searchCtx, cancel, nil
}

// automlResultOf is the --json output of a finished search.
func automlResultOf(p *train.Problem, b *bundle.Bundle, res *automl.Result, out string) automlResult {
	r := automlResult{trainResult: trainResult{Model: out, Task: p.Task.String(), Target: p.Target, Classes: p.Classes, Rows: p.Frame.NumRows(),
		Dropped: p.Dropped, Ignored: p.Ignored, Excluded: p.Excluded, Warnings: p.Warnings, Learner: res.Best.Learner, Params: res.Best.Config, FitSeconds: res.Elapsed.Seconds(), Metrics: b.Manifest.Metrics},
		Trials: len(res.Trials), Eval: res.Eval, Folds: res.Folds, Repeats: res.Repeats, Ensembled: res.Ensembled, Refitted: res.Refitted, Leaderboard: res.Leaderboard()}
	if r.Ensembled {
		r.Learner = "ensemble"
	}
	if res.Temperature != 0 {
		r.Temperature = &calibrationJSON{Temperature: res.Temperature, LogLossBefore: res.UncalibratedLogLoss, LogLossAfter: res.CalibratedLogLoss}
	}
	for _, mem := range res.Members {
		r.Members = append(r.Members, memberJSON{Learner: mem.Learner, Weight: mem.Weight, Temperature: mem.Temperature, Smoothing: mem.Smoothing, Config: mem.Config})
	}
	return r
}

// printAutoML prints a finished search for people.
func printAutoML(app *App, r automlResult, res *automl.Result, m metric.Metric, rows, logged int) {
	eval := res.Eval
	switch {
	case res.Eval == "cv" && res.Repeats > 1:
		eval = fmt.Sprintf("%d×%d-fold cv", res.Repeats, res.Folds)
	case res.Eval == "cv":
		eval = fmt.Sprintf("%d-fold cv", res.Folds)
	}
	fmt.Fprintf(app.Stdout, "automl: %d trials in %.1fs on %d rows (%s, %s by %s)\n\n", r.Trials, res.Elapsed.Seconds(), r.Rows, r.Task, m.Name, eval)
	tw := app.table()
	fmt.Fprintf(tw, "rank\tlearner\t%s\tfit s\tpredict µs/row\tconfig\n", m.Name)
	for i, t := range r.Leaderboard {
		if i == 10 {
			break
		}
		fmt.Fprintf(tw, "%d\t%s\t%.4f\t%.2f\t%.2f\t%s\n", i+1, t.Learner, m.Loss(t.Loss), t.FitTime.Seconds(), float64(t.PredictPerRow.Nanoseconds())/1000, configString(t.Config))
	}
	tw.Flush()
	fmt.Fprintln(app.Stdout)
	if r.Ensembled {
		fmt.Fprintf(app.Stdout, "final: ensemble of %d models (validation %s %.4f vs best single %.4f)\n", len(r.Members), m.Name, m.Loss(res.ValidLoss), m.Loss(res.Best.Loss))
	} else {
		fmt.Fprintf(app.Stdout, "final: %s (validation %s %.4f)\n", res.Best.Learner, m.Name, m.Loss(res.ValidLoss))
	}
	if n := len(r.Members); n == 1 && (r.Members[0].Temperature != 0 || r.Members[0].Smoothing != 0) {
		fmt.Fprintf(app.Stdout, "calibrated: temperature %.3f, smoothing %g, fitted on the validation predictions\n", temperatureOr1(r.Members[0].Temperature), r.Members[0].Smoothing)
	} else if n > 1 {
		k := 0
		for _, mem := range r.Members {
			if mem.Temperature != 0 || mem.Smoothing != 0 {
				k++
			}
		}
		if k > 0 {
			fmt.Fprintf(app.Stdout, "calibrated: %d of %d members by their own temperature or smoothing\n", k, n)
		}
	}
	if c := r.Temperature; c != nil {
		fmt.Fprintf(app.Stdout, "calibrated: temperature %.3f (validation log loss %.4f → %.4f, cross-fitted)\n", c.Temperature, c.LogLossBefore, c.LogLossAfter)
	}
	if !r.Refitted {
		fmt.Fprintf(app.Stdout, "not refitted: the budget ran out before the final model was refitted on all %d rows; it is the best trial's own model, fitted during the search on part of its %d-row sample (raise --budget to refit)\n", rows, res.Best.Sample)
	}
	printMetrics(app, r.Metrics)
	printComparison(app, r.Comparison)
	fmt.Fprintf(app.Stdout, "model: %s  (%.1fs total)\n", r.Model, r.Seconds)
	if r.RunID != "" {
		fmt.Fprintf(app.Stdout, "run: %s (%d trials logged as child runs)\n", r.RunID, logged)
	}
	if r.Registered != "" {
		fmt.Fprintf(app.Stdout, "registered: %s\n", r.Registered)
	}
}

func configString(c map[string]string) string {
	keys := make([]string, 0, len(c))
	for k := range c {
		if k == "seed" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + c[k]
	}
	return strings.Join(parts, " ")
}

// temperatureOr1 reads a bundle or AutoML temperature, where 0 means none.
func temperatureOr1(t float64) float64 {
	if t == 0 {
		return 1
	}
	return t
}
