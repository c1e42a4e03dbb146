package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/automl"
	"github.com/gyre-ml/gyre/internal/feature"
	"github.com/gyre-ml/gyre/internal/learn"
	_ "github.com/gyre-ml/gyre/internal/learn/all" // the built-in learners
	"github.com/gyre-ml/gyre/internal/train"
	"github.com/gyre-ml/gyre/internal/trainlog"
	"github.com/gyre-ml/gyre/internal/trainrun"
)

func init() { register(newTrainCmd) }

type trainFlags struct {
	target, learner, task, valid, test, out, register string
	set                                               []string
	seed                                              uint64
	cv                                                int
	columns                                           problemFlags
}

// problemFlags override which columns train and automl leave out, and
// give the recipe fitted into the model.
type problemFlags struct {
	keep, drop []string
	recipe     string
}

func (c *problemFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringSliceVar(&c.keep, "keep-column", nil, "use this column as a feature even if it looks like an identifier or free text (repeatable)")
	f.StringSliceVar(&c.drop, "drop-column", nil, "leave this column out of the features (repeatable)")
	if cmd.Name() != "study" {
		f.StringVar(&c.recipe, "recipe", "", "recipe (YAML, see 'gyre prepare') fitted on the training rows and stored in the model: predict, serve and monitor apply it to raw rows")
	}
}

// options reads the recipe file, if any, into the problem's options.
func (c problemFlags) options() (train.ProblemOptions, error) {
	o := train.ProblemOptions{Keep: c.keep, Drop: c.drop}
	if c.recipe != "" {
		r, err := feature.LoadRecipe(c.recipe)
		if err != nil {
			return o, usageErrorf("--recipe: %w", err)
		}
		o.Recipe = &r
	}
	return o, nil
}

// printProblemNotes prints the columns left out (and why) and the
// problem's warnings.
func printProblemNotes(app *App, p *train.Problem) {
	if app.JSON {
		for _, w := range p.Warnings {
			fmt.Fprintf(app.Stderr, "warning: %s\n", w)
		}
		return
	}
	for _, e := range p.Excluded {
		fmt.Fprintf(app.Stdout, "excluded column %s: %s (--keep-column %s to use it)\n", e.Column, e.Reason, e.Column)
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(app.Stderr, "warning: %s\n", w)
	}
}

func newTrainCmd(app *App) *cobra.Command {
	var fl trainFlags
	cmd := &cobra.Command{
		Use:   "train SOURCE --target COL --learner NAME",
		Short: "Train one learner and write a model bundle",
		Long: `Train one learner on SOURCE and write a model bundle: the fitted feature
preprocessing, the model, the input schema and its metrics, in one file that
'gyre predict', 'gyre evaluate' and 'gyre serve' load. The task is detected
from the target column (text or bool: classification; numbers: regression;
integers with few distinct values: classification); --task overrides it.
See 'gyre learners' for learners and their hyperparameters.`,
		Example: `  gyre train examples/data/adult/adult.train.csv --target class --learner gbdt \
      --test examples/data/adult/adult.test.csv --out adult.gyre
  gyre train data.csv --target price --learner random_forest --set n_estimators=300 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTrain(cmd, app, args[0], fl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.target, "target", "", "target column (required)")
	f.StringVar(&fl.learner, "learner", "gbdt", "learner name (see 'gyre learners')")
	f.StringArrayVar(&fl.set, "set", nil, "hyperparameter key=value (repeatable)")
	f.StringVar(&fl.task, "task", "", "regression, binary, multiclass or classification (default: detect)")
	f.StringVar(&fl.valid, "valid", "", "validation data to score")
	f.StringVar(&fl.test, "test", "", "held-out test data to score")
	f.StringVar(&fl.out, "out", "", "bundle path (default TARGET-LEARNER.gyre)")
	f.Uint64Var(&fl.seed, "seed", 0, "random seed")
	f.StringVar(&fl.register, "register", "", "register the bundle in the model registry under this name")
	fl.columns.add(cmd)
	f.IntVar(&fl.cv, "cv", 0, "cross-validate with K folds (default: 5-fold when the data are small enough, else a 10% holdout; --valid replaces both)")
	return cmd
}

// trainResult and automlResult are the --json outputs of train and
// automl.
type (
	trainResult  = trainrun.Result
	automlResult = trainrun.AutoMLResult
)

func runTrain(cmd *cobra.Command, app *App, source string, fl trainFlags) error {
	spec, err := learn.Lookup(fl.learner)
	if err != nil {
		return usageErrorf("train: %v", err)
	}
	clustering := slices.Equal(spec.Tasks, []learn.Task{learn.Clustering})
	switch {
	case clustering && fl.target != "":
		return usageErrorf("train: %s clusters rows without a target: drop --target %s (or --drop-column it to leave it out of the features)", fl.learner, fl.target)
	case !clustering && fl.target == "":
		return usageErrorf("train: --target is required (the column to predict; only a clustering learner such as kmeans trains without one)")
	}
	task, err := parseTask(fl.task)
	if err != nil {
		return err
	}
	set, err := parseSet(fl.set)
	if err != nil {
		return err
	}
	if err := checkRegisterName("train", fl.register); err != nil {
		return err
	}
	if err := checkOutPath("train", "--out", fl.out); err != nil {
		return err
	}
	if fl.cv < 0 || fl.cv == 1 {
		return usageErrorf("train: --cv %d: want 2 folds or more", fl.cv)
	}
	c, err := app.trainCommon(source, fl.target, task, fl.valid, fl.test, fl.out, fl.register, fl.seed, fl.columns)
	if err != nil {
		return err
	}
	res, err := trainrun.Train(cmd.Context(), trainrun.TrainOptions{Common: c, Learner: fl.learner, Params: set, CV: fl.cv})
	if err != nil {
		return trainError(err)
	}
	if app.JSON {
		return app.printJSON(res)
	}
	res.WriteText(app.Stdout, app.Stderr)
	return nil
}

// trainCommon are the options train and automl give trainrun: the data,
// problem and outputs from their flags, and the command line's loader,
// backend, progress bars and notes.
func (a *App) trainCommon(source, target string, task learn.Task, valid, test, out, register string, seed uint64, cols problemFlags) (trainrun.Common, error) {
	po, err := cols.options()
	if err != nil {
		return trainrun.Common{}, err
	}
	return trainrun.Common{Source: source, Valid: valid, Test: test, Target: target, Task: task, Problem: po, RecipePath: cols.recipe,
		Seed: seed, Out: out, Register: register, Load: a.loadFrame, Open: a.trainBackend, GyreVersion: Version,
		OnProblem: func(p *train.Problem) error { printProblemNotes(a, p); return nil },
		Progress:  func(total int64, label string) trainrun.Bar { return a.progress(total, label) },
		Warnf:     a.warnf, Infof: a.infof}, nil
}

// trainBackend opens the backend a training run is logged to.
func (a *App) trainBackend(ctx context.Context) (*trainrun.Backend, error) {
	st, err := a.openBackend(ctx)
	if err != nil {
		return nil, err
	}
	b := &trainrun.Backend{Stores: &trainlog.Stores{StartRun: st.StartRun, Datasets: st.Data, Models: st.Models}, Close: st.Close}
	if st.Local != nil {
		b.Blobs = st.Local.Blobs
	}
	return b, nil
}

// trainError words trainrun's errors for the command line.
func trainError(err error) error {
	var pe *trainrun.ProblemError
	var be *trainrun.BudgetSpentError
	var se *trainrun.SearchError
	var ste *trainrun.StoreError
	switch {
	case errors.As(err, &pe) && errors.Is(err, train.ErrNotBinary):
		return usageErrorf("%v: use --task multiclass", err)
	case errors.As(err, &be):
		return usageErrorf("automl: %v: raise --budget", err)
	case errors.As(err, &se) && errors.Is(err, automl.ErrNoTrial):
		return usageErrorf("automl: %v: raise --budget or use fewer rows", se.Err)
	case errors.As(err, &se) && errors.Is(err, train.ErrNoSpace):
		return usageErrorf("automl: --learners: %v", se.Err)
	case errors.As(err, &ste):
		return storeError(ste.Err)
	}
	return err
}

// parseSet parses --set key=value settings.
func parseSet(kvs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, usageErrorf("train: --set %q: want key=value", kv)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

// problemError words train.NewProblem's error for command on source.
func problemError(command, source string, err error) error {
	if errors.Is(err, train.ErrNotBinary) {
		return usageErrorf("%s %s: %v: use --task multiclass", command, source, err)
	}
	return fmt.Errorf("%s %s: %w", command, source, err)
}
