package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/trainrun"
)

func init() { register(newEvaluateCmd) }

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
			ev, err := trainrun.Evaluate(b, ref, args[1], f)
			if err != nil {
				return err
			}
			if html != "" {
				if err := ev.WriteHTML(html); err != nil {
					return failed(err)
				}
			}
			if err := app.print(ev); err != nil || app.JSON {
				return err
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
