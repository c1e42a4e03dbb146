package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/study"
)

func init() { register(newStudyCmd) }

func newStudyCmd(app *App) *cobra.Command {
	var (
		target, task, metricName string
		seed                     uint64
		repeats                  int
		budget                   time.Duration
		columns                  problemFlags
	)
	cmd := &cobra.Command{
		Use:   "study SOURCE --target COL",
		Short: "The preliminary study: is there enough data, and is a model needed?",
		Long: `Study a learning problem before choosing a model: a learning curve (the
score of a small gradient-boosted model against the training rows, with its
spread over repeated random validation sets, next to a dummy's), whether more
rows would help (the slope per doubling of the last points against their
spread), single-feature scores that betray target leakage, identifier and
free-text columns left out, class balance, warnings (too few rows, a class
label stored as numbers), and a suggested metric and validation scheme.`,
		Example: `  gyre study examples/data/titanic/titanic.train.csv --target Survived
  gyre study data.csv --target price --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if target == "" {
				return usageErrorf("study: --target is required (the column to predict)")
			}
			if repeats < 1 || repeats > 20 {
				return usageErrorf("study: --repeats %d: want 1 to 20", repeats)
			}
			t, err := parseTask(task)
			if err != nil {
				return err
			}
			po, err := columns.options()
			if err != nil {
				return err
			}
			f, err := app.loadFrame(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			bar := app.progress(-1, "studying")
			r, err := study.Run(cmd.Context(), f, target, study.Options{Task: t, Metric: metricName, Seed: seed, Repeats: repeats, Budget: budget, Columns: po})
			bar.Done()
			if err != nil {
				return problemError("study", args[0], err)
			}
			if app.JSON {
				return app.printJSON(r)
			}
			r.WriteText(app.Stdout, app.Stderr)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&target, "target", "", "target column (required)")
	fl.StringVar(&task, "task", "", "regression, binary, multiclass or classification (default: detect)")
	fl.StringVar(&metricName, "metric", "", "metric of the learning curve (default: the task's)")
	fl.Uint64Var(&seed, "seed", 0, "random seed")
	fl.IntVar(&repeats, "repeats", 3, "repeats of every learning-curve point")
	fl.DurationVar(&budget, "budget", 6*time.Second, "time for the learning curve (its larger points are skipped past it)")
	columns.add(cmd)
	return cmd
}
