package cli

import (
	"fmt"
	"strings"
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
			printStudy(app, r)
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

func printStudy(app *App, r *study.Report) {
	w := app.Stdout
	fmt.Fprintf(w, "study of %q: %s, %d rows, %d features (%.1fs)\n", r.Target, r.Task, r.Rows, r.Features, r.Seconds)
	if r.Dropped > 0 {
		fmt.Fprintf(w, "dropped %d rows with a missing target\n", r.Dropped)
	}
	for _, e := range r.Excluded {
		fmt.Fprintf(w, "excluded column %s: %s\n", e.Column, e.Reason)
	}
	if len(r.Classes) > 0 {
		fmt.Fprintf(w, "\nclasses (largest/smallest %.1f×):\n", r.Imbalance)
		tw := app.table()
		for i, c := range r.Classes {
			if i == 12 {
				fmt.Fprintf(tw, "…\t%d more\t\n", len(r.Classes)-i)
				break
			}
			fmt.Fprintf(tw, "  %s\t%d\t%.1f %%\n", c.Name, c.Count, 100*c.Share)
		}
		tw.Flush()
	}
	if len(r.Curve) > 0 {
		fmt.Fprintf(w, "\nlearning curve (%s, %s; ± the spread over repeats):\n", r.CurveMetric, r.CurveModel)
		tw := app.table()
		fmt.Fprintln(tw, "  train rows\tscore\tdummy")
		for _, p := range r.Curve {
			fmt.Fprintf(tw, "  %d\t%.4f ± %.4f\t%.4f\n", p.Rows, p.Mean, p.Spread, p.Dummy)
		}
		tw.Flush()
	}
	if r.CurveCut != "" {
		fmt.Fprintf(w, "learning curve: %s\n", r.CurveCut)
	}
	fmt.Fprintf(w, "more data would help: %s: %s\n", r.MoreData.Answer, r.MoreData.Reason)
	if len(r.SingleFeature) > 0 {
		var parts []string
		for _, s := range r.SingleFeature[:min(5, len(r.SingleFeature))] {
			parts = append(parts, fmt.Sprintf("%s %.3f", s.Feature, s.Score))
		}
		fmt.Fprintf(w, "best single features (%s): %s\n", r.SingleFeatureMetric, strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "\nsuggested metric: %s (%s)\n", r.Metric.Choice, r.Metric.Reason)
	fmt.Fprintf(w, "suggested validation: %s (%s)\n", r.Validation.Choice, r.Validation.Reason)
	for _, warn := range r.Warnings {
		fmt.Fprintf(app.Stderr, "warning: %s\n", warn)
	}
}
