package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/ingest"
)

func init() { register(newExplainCmd) }

type explanation struct {
	Model   string                       `json:"model"`
	Member  string                       `json:"member"`
	Output  string                       `json:"output"`
	Rows    int                          `json:"rows"`
	Bias    float64                      `json:"mean_bias"`
	Summary []bundle.FeatureContribution `json:"summary"`
	Out     string                       `json:"out,omitempty"`
	Note    string                       `json:"note,omitempty"`
}

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
			n, label := e.Rows, e.Output
			ex := explanation{Model: ref, Member: e.Member, Output: label, Rows: n, Bias: e.Bias, Summary: e.Summary}
			if len(b.Members) > 1 {
				ex.Note = fmt.Sprintf("the model is an ensemble; this explains its %s member (weight %.2f)", e.Member, e.Weight)
			}
			if out != "" {
				if err := ingest.Write(ctx, e.Contributions, out); err != nil {
					return failed(err)
				}
				ex.Out = out
			}
			if app.JSON {
				return app.printJSON(ex)
			}
			fmt.Fprintf(app.Stdout, "%s (%s) on %d rows: contributions to the %s; mean bias %.4f\n", ref, ex.Member, n, label, ex.Bias)
			if ex.Note != "" {
				fmt.Fprintf(app.Stdout, "note: %s\n", ex.Note)
			}
			tw := app.table("rank", "feature", "mean |contribution|", "mean contribution")
			for i, s := range ex.Summary {
				if top > 0 && i == top {
					break
				}
				fmt.Fprintf(tw, "%d\t%s\t%.4f\t%+.4f\n", i+1, s.Feature, s.MeanAbs, s.MeanContrib)
			}
			tw.Flush()
			if out != "" {
				fmt.Fprintf(app.Stdout, "wrote per-row contributions to %s\n", out)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write per-row contributions (.csv, .parquet, .jsonl)")
	cmd.Flags().StringVar(&class, "class", "", "class to explain (multiclass models)")
	cmd.Flags().IntVar(&top, "top", 20, "features to list (0: all)")
	return cmd
}
