package cli

import (
	"fmt"
	"math"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/learn"
)

func init() { register(newExplainCmd) }

type explanation struct {
	Model   string  `json:"model"`
	Member  string  `json:"member"`
	Output  string  `json:"output"`
	Rows    int     `json:"rows"`
	Bias    float64 `json:"mean_bias"`
	Summary []struct {
		Feature     string  `json:"feature"`
		MeanAbs     float64 `json:"mean_abs_contribution"`
		MeanContrib float64 `json:"mean_contribution"`
	} `json:"summary"`
	Out  string `json:"out,omitempty"`
	Note string `json:"note,omitempty"`
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
			best := -1
			for i, m := range b.Members {
				if _, ok := m.Model.(learn.Explainer); ok && (best < 0 || m.Info.Weight > b.Members[best].Info.Weight) {
					best = i
				}
			}
			if best < 0 {
				return usageErrorf("explain: no member of %s can explain itself (learners: %s); train a gbdt model", ref, memberNames(b.Members))
			}
			m := b.Members[best]
			X, _, err := m.Prep.Transform(f)
			if err != nil {
				return fmt.Errorf("explain %s: %w", args[1], err)
			}
			contrib, err := m.Model.(learn.Explainer).Explain(X)
			if err != nil {
				return failed(fmt.Errorf("explain: %w", err))
			}
			feats := m.Prep.Features()
			n, p := X.Rows, len(feats)
			outputs := len(contrib) / (n * (p + 1))
			c, label := 0, "value"
			if b.Manifest.Task.Classification() {
				label = "log-odds of " + b.Manifest.Classes[len(b.Manifest.Classes)-1]
				if outputs > 1 {
					c = -1
					for i, name := range b.Manifest.Classes {
						if name == class {
							c = i
						}
					}
					if c < 0 {
						return usageErrorf("explain: --class %q: want one of %v (multiclass models explain one class at a time)", class, b.Manifest.Classes)
					}
					label = "score of class " + class
				} else if class != "" && class != b.Manifest.Classes[1] {
					return usageErrorf("explain: binary models explain the log-odds of %q; --class %q is not it", b.Manifest.Classes[1], class)
				}
			}
			ex := explanation{Model: ref, Member: m.Info.Learner, Output: label, Rows: n}
			if len(b.Members) > 1 {
				ex.Note = fmt.Sprintf("the model is an ensemble; this explains its %s member (weight %.2f)", m.Info.Learner, m.Info.Weight)
			}
			sumAbs := make([]float64, p)
			sum := make([]float64, p)
			for i := 0; i < n; i++ {
				row := contrib[(c*n+i)*(p+1) : (c*n+i+1)*(p+1)]
				for j := 0; j < p; j++ {
					sumAbs[j] += math.Abs(row[j])
					sum[j] += row[j]
				}
				ex.Bias += row[p] / float64(n)
			}
			order := make([]int, p)
			for j := range order {
				order[j] = j
			}
			sort.SliceStable(order, func(a, b int) bool { return sumAbs[order[a]] > sumAbs[order[b]] })
			for _, j := range order {
				ex.Summary = append(ex.Summary, struct {
					Feature     string  `json:"feature"`
					MeanAbs     float64 `json:"mean_abs_contribution"`
					MeanContrib float64 `json:"mean_contribution"`
				}{feats[j].Name, sumAbs[j] / float64(n), sum[j] / float64(n)})
			}
			if out != "" {
				cols := make([]frame.Column, p+1)
				for j := 0; j <= p; j++ {
					v := make([]float64, n)
					for i := 0; i < n; i++ {
						v[i] = contrib[(c*n+i)*(p+1)+j]
					}
					name := "bias"
					if j < p {
						name = "contrib_" + feats[j].Name
					}
					cols[j] = frame.NewFloat(name, v)
				}
				res, err := frame.New(cols...)
				if err != nil {
					return failed(err)
				}
				if err := ingest.Write(ctx, res, out); err != nil {
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
			tw := tabwriter.NewWriter(app.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "rank\tfeature\tmean |contribution|\tmean contribution")
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

func memberNames(ms []bundle.Member) string {
	s := ""
	for i, m := range ms {
		if i > 0 {
			s += ", "
		}
		s += m.Info.Learner
	}
	return s
}
