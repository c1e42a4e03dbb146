package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/ingest"
)

func init() { register(newExplainCmd) }

func newExplainCmd(app *App) *cobra.Command {
	var out, class string
	var top int
	cmd := &cobra.Command{
		Use:   "explain MODEL SOURCE [--out contributions.csv]",
		Short: "Explain predictions with per-feature contributions (TreeSHAP)",
		Long: `Explain MODEL's predictions on SOURCE with exact TreeSHAP contributions: for
every row, one additive contribution per feature plus a bias, summing to the
model's raw output (log-odds for binary classifiers, the class score for
multiclass, the value for regression). Prints the features ranked by mean
absolute contribution; --out writes every row's contributions (.csv,
.parquet, .jsonl). Models that explain themselves: gbdt. For an ensemble,
its highest-weight explainable member is explained.`,
		Example: "  gyre explain adult.gyre examples/data/adult/adult.test.csv --top 10\n  gyre explain adult.gyre new.csv --out shap.csv --class '>50K'",
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
			e, err := b.Explain(f, class)
			var ce *bundle.ClassError
			switch {
			case errors.Is(err, bundle.ErrNoExplainer):
				return usageErrorf("%v in %s: train a gbdt model", err, ref)
			case errors.As(err, &ce) && ce.Binary:
				return usageErrorf("explain: binary models explain the log-odds of %q; --class %q is not it", ce.Classes[1], ce.Class)
			case errors.As(err, &ce):
				return usageErrorf("explain: --class %q: want one of %v (multiclass models explain one class at a time)", ce.Class, ce.Classes)
			case bundle.IsInputError(err):
				return fmt.Errorf("explain %s: %w", args[1], err)
			case err != nil:
				return failed(fmt.Errorf("explain %s: %w", args[1], err))
			}
			ex := e.SummaryOf(b, ref)
			ex.Top = top
			if out != "" {
				if err := ingest.Write(ctx, e.Contributions, out); err != nil {
					return failed(err)
				}
				ex.Out = out
			}
			return app.print(ex)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write per-row contributions (.csv, .parquet, .jsonl)")
	cmd.Flags().StringVar(&class, "class", "", "class to explain (multiclass models)")
	cmd.Flags().IntVar(&top, "top", 20, "features to list (0: all)")
	return cmd
}
