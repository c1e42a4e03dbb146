package cli

import (
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/automl"
	"github.com/gyre-ml/gyre/internal/distrib"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/train"
	"github.com/gyre-ml/gyre/internal/trainrun"
)

func init() { register(newAutoMLCmd) }

type automlFlags struct {
	target, task, metric, valid, test, out, html, eval, register string
	search, space, engine                                        string
	learners                                                     []string
	budget, maxLatency                                           time.Duration
	trials, maxModelBytes, batch                                 int
	seed                                                         uint64
	noEnsemble, noCalibrate, noBag                               bool
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
	f.BoolVar(&fl.noBag, "no-bag", false, "refit the final models on all rows instead of keeping the cross-validation fold models (small data)")
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

func runAutoML(cmd *cobra.Command, app *App, source string, fl automlFlags) error {
	start := time.Now()
	task, spaces, err := checkAutoMLFlags(cmd, &fl)
	if err != nil {
		return err
	}
	c, err := app.trainCommon(source, fl.target, task, fl.valid, fl.test, fl.out, fl.register, fl.seed, fl.columns)
	if err != nil {
		return err
	}
	c.OnProblem = func(p *train.Problem) error {
		printProblemNotes(app, p)
		if _, err := train.ResolveMetric(p.Task, fl.metric); err != nil {
			return usageErrorf("automl: --metric: %v", err)
		}
		return nil
	}
	o := trainrun.AutoMLOptions{Common: c, Budget: fl.budget, Start: start, HTML: fl.html,
		Search: train.SearchOptions{Trials: fl.trials, Metric: fl.metric, Learners: fl.learners, Seed: fl.seed, Eval: fl.eval, Search: fl.search, Spaces: spaces,
			NoEnsemble: fl.noEnsemble, NoBag: fl.noBag, NoCalibrate: fl.noCalibrate, MaxLatency: fl.maxLatency, MaxModelBytes: fl.maxModelBytes, Batch: fl.batch}}
	if fl.engine != "" {
		eng, err := distrib.ParseEngine(fl.engine)
		if err != nil {
			return usageErrorf("automl: --engine: %v", err)
		}
		_, artifacts := app.storeLocations()
		if o.EngineArtifacts, err = distrib.Location(artifacts); err != nil {
			return usageErrorf("automl: artifact store %s: %v", artifacts, err)
		}
		o.Engine = &eng
	}
	r, err := trainrun.AutoML(cmd.Context(), o)
	if err != nil {
		return trainError(err)
	}
	if app.JSON {
		return app.printJSON(r.AutoMLResult)
	}
	r.WriteText(app.Stdout, app.Stderr)
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
