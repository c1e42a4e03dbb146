package cli

import (
	"encoding/csv"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
)

func init() { register(newPredictCmd) }

func newPredictCmd(app *App) *cobra.Command {
	var out string
	var keep bool
	cmd := &cobra.Command{
		Use:   "predict MODEL SOURCE [--out DEST]",
		Short: "Score a data set with a model",
		Long: `Score SOURCE with MODEL (a bundle path or a registry reference such as
adult-income@production) and write the predictions: a 'prediction' column,
and for classifiers one 'proba_<class>' column per class. --keep-input adds
the input columns. DEST's extension picks the format (.csv, .parquet, .jsonl);
without --out, CSV goes to stdout.`,
		Example: "  gyre predict adult.gyre examples/data/adult/adult.test.csv --out preds.csv\n  gyre predict adult-income@production new.parquet --out scored.parquet --keep-input",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			b, _, err := app.loadBundle(ctx, args[0])
			if err != nil {
				return err
			}
			f, err := app.loadFrame(ctx, args[1])
			if err != nil {
				return err
			}
			pred, err := b.Predict(f)
			if err != nil {
				return fmt.Errorf("predict %s: %w", args[1], err)
			}
			res, err := predictionFrame(b, pred, f, keep)
			if err != nil {
				return failed(err)
			}
			if out == "" {
				out = "-"
			}
			if out == "-" {
				return writeCSV(app, res)
			}
			if err := ingest.Write(ctx, res, out); err != nil {
				return failed(err)
			}
			if app.JSON {
				return app.printJSON(map[string]any{"rows": res.NumRows(), "out": out, "unseen_categories": pred.Unseen})
			}
			fmt.Fprintf(app.Stderr, "wrote %d predictions to %s\n", res.NumRows(), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "output file (.csv, .parquet, .jsonl); default CSV on stdout")
	cmd.Flags().BoolVar(&keep, "keep-input", false, "include the input columns in the output")
	return cmd
}

// predictionFrame builds the output table of a prediction.
func predictionFrame(b *bundle.Bundle, p *bundle.Prediction, in *frame.Frame, keep bool) (*frame.Frame, error) {
	var cols []frame.Column
	if keep {
		cols = append(cols, in.Columns()...)
	}
	n := len(p.Values)
	if p.Classes != nil {
		labels := make([]string, n)
		for i := range labels {
			labels[i] = p.Label(i)
		}
		cols = append(cols, frame.NewCategorical("prediction", labels, nil))
		k := len(p.Classes)
		for c, name := range p.Classes {
			v := make([]float64, n)
			for i := range v {
				v[i] = p.Proba[i*k+c]
			}
			cols = append(cols, frame.NewFloat("proba_"+name, v))
		}
	} else {
		cols = append(cols, frame.NewFloat("prediction", p.Values))
	}
	return frame.New(cols...)
}

// writeCSV writes a frame as RFC 4180 CSV to stdout.
func writeCSV(app *App, f *frame.Frame) error {
	w := csv.NewWriter(app.Stdout)
	if err := w.Write(f.Names()); err != nil {
		return failed(fmt.Errorf("write csv: %w", err))
	}
	rec := make([]string, f.NumCols())
	for i := 0; i < f.NumRows(); i++ {
		for j, c := range f.Columns() {
			rec[j] = c.Format(i)
		}
		if err := w.Write(rec); err != nil {
			return failed(fmt.Errorf("write csv: %w", err))
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return failed(fmt.Errorf("write csv: %w", err))
	}
	return nil
}
