package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/train"
	"github.com/gyre-ml/gyre/internal/trainrun"
)

func init() { register(newEvaluateCmd) }

// evaluation is the --json output of evaluate.
type evaluation struct {
	Model   string             `json:"model"`
	Data    string             `json:"data"`
	Task    string             `json:"task"`
	Rows    int                `json:"rows"`
	Metrics map[string]float64 `json:"metrics"`
	// Confusion is the confusion matrix (rows: true class, columns:
	// predicted) for classifiers.
	Confusion [][]int            `json:"confusion,omitempty"`
	Classes   []string           `json:"classes,omitempty"`
	Unseen    map[string]int     `json:"unseen_categories,omitempty"`
	Training  map[string]float64 `json:"training_metrics,omitempty"`
}

func newEvaluateCmd(app *App) *cobra.Command {
	var html string
	cmd := &cobra.Command{
		Use:   "evaluate MODEL SOURCE [--html report.html]",
		Short: "Score a model on labelled data it has not seen",
		Long: `Score MODEL on SOURCE, which must hold the target column: every metric of the
task, the confusion matrix for classifiers, and with --html a report with ROC
and precision-recall curves, calibration, residuals and feature importance.`,
		Example: "  gyre evaluate adult.gyre examples/data/adult/adult.test.csv\n  gyre evaluate adult-income@staging holdout.csv --html eval.html --json",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			b, ref, err := app.loadBundle(ctx, args[0])
			if err != nil {
				return err
			}
			f, err := app.loadFrame(ctx, args[1])
			if err != nil {
				return err
			}
			scores, pred, y, err := train.Score(b, f)
			if err != nil {
				return fmt.Errorf("evaluate %s: %w", args[1], err)
			}
			ev := evaluation{Model: ref, Data: args[1], Task: b.Manifest.Task.String(), Rows: len(y), Metrics: scores,
				Classes: b.Manifest.Classes, Unseen: pred.Unseen, Training: b.Manifest.Metrics["train"]}
			if b.Manifest.Task.Classification() {
				ev.Confusion = confusion(y, pred.Values, len(b.Manifest.Classes))
			}
			if html != "" {
				if err := writeEvaluationReport(html, b, ev, y, pred); err != nil {
					return failed(err)
				}
			}
			if app.JSON {
				return app.printJSON(ev)
			}
			fmt.Fprintf(app.Stdout, "%s on %s: %d rows, %s\n", ref, args[1], ev.Rows, ev.Task)
			trainrun.WriteMetrics(app.Stdout, map[string]map[string]float64{"test": scores, "train": ev.Training})
			if ev.Confusion != nil && len(ev.Classes) <= 12 {
				fmt.Fprintln(app.Stdout, "\nconfusion matrix (rows: true, columns: predicted)")
				for i, row := range ev.Confusion {
					fmt.Fprintf(app.Stdout, "  %-16.16s", ev.Classes[i])
					for _, v := range row {
						fmt.Fprintf(app.Stdout, " %8d", v)
					}
					fmt.Fprintln(app.Stdout)
				}
			}
			for c, n := range ev.Unseen {
				fmt.Fprintf(app.Stdout, "note: column %q had %d values of categories not seen in training\n", c, n)
			}
			if html != "" {
				fmt.Fprintf(app.Stdout, "report: %s\n", html)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&html, "html", "", "write an HTML evaluation report")
	return cmd
}

func confusion(y, pred []float64, k int) [][]int {
	m := make([][]int, k)
	for i := range m {
		m[i] = make([]int, k)
	}
	for i := range y {
		m[int(y[i])][int(pred[i])]++
	}
	return m
}
