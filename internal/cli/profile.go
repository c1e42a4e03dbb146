package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/profile"
	"github.com/gyre-ml/gyre/internal/report"
)

func init() { register(newProfileCmd) }

func newProfileCmd(app *App) *cobra.Command {
	var (
		target, htmlOut, save string
		contract              string
		seed                  uint64
		bins                  int
		noRelations           bool
	)
	cmd := &cobra.Command{
		Use:   "profile SOURCE",
		Short: "Profile a data set: statistics, correlations, warnings and an HTML EDA report",
		Long: `Profile computes per-column statistics (missing values, distinct counts, moments,
quantiles, histograms, top categories), data-set facts (duplicate rows, constant
and ID-like columns, outliers), relationships (Pearson, Spearman, Cramér's V,
correlation ratio; mutual information with --target) and warnings.

--html writes a self-contained report that opens offline; --save writes the
profile as JSON, usable as the reference of 'gyre validate --against'.`,
		Example: `  gyre profile examples/data/adult/adult.train.csv --target class --html eda.html
  gyre profile data.csv --save reference.json --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if bins < 1 || bins > 1000 {
				return usageErrorf("profile: --bins %d: want 1 to 1000 histogram bins (default %d)", bins, profile.HistogramBins)
			}
			f, err := app.readData(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if contract != "" { // PII columns masked before anything is computed
				masker, err := app.contractMasker(cmd.Context(), contract)
				if err != nil {
					return err
				}
				if masker != nil {
					if f, err = masker.Frame(f); err != nil {
						return failed(err)
					}
				}
			}
			if f.NumRows() == 0 {
				return usageErrorf("profile %s: no data rows (only a header naming %d columns): nothing to profile", args[0], f.NumCols())
			}
			bar := app.progress(-1, "profiling")
			p, err := profile.Compute(cmd.Context(), f, profile.Options{Target: target, Seed: seed, Bins: bins, NoRelations: noRelations, Source: filepath.Base(args[0])})
			bar.Done()
			if err != nil {
				if cmd.Context().Err() != nil {
					return failed(err)
				}
				return usageErrorf("%w", err)
			}
			if save != "" {
				if err := writeFileAtomic(save, p.Write); err != nil {
					return failed(fmt.Errorf("profile: save: %w", err))
				}
			}
			if htmlOut != "" {
				if err := writeFileAtomic(htmlOut, report.ProfilePage(p).Render); err != nil {
					return failed(fmt.Errorf("profile: html: %w", err))
				}
			}
			if app.JSON {
				return app.printJSON(p)
			}
			report.WriteProfileText(app.Stdout, p)
			for _, out := range []string{save, htmlOut} {
				if out != "" {
					fmt.Fprintf(app.Stdout, "wrote %s\n", out)
				}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&target, "target", "", "target column: adds class balance, mutual information and target plots")
	fl.StringVar(&htmlOut, "html", "", "write a self-contained HTML report to this file")
	fl.StringVar(&save, "save", "", "save the profile as JSON (a reference for 'gyre validate --against')")
	fl.Uint64Var(&seed, "seed", 0, "seed for sampling")
	fl.IntVar(&bins, "bins", profile.HistogramBins, "histogram bins")
	fl.BoolVar(&noRelations, "no-relations", false, "skip pairwise correlations (faster on wide data)")
	fl.StringVar(&contract, "contract", "", "data contract whose PII columns (pii: hash|drop) are masked in the profile and report")
	return cmd
}

// readData reads a source with default ingest options; input errors stay
// unmarked (exit 2), cancellation exits 1.
func (a *App) readData(ctx context.Context, source string) (*frame.Frame, error) {
	f, err := ingest.Read(ctx, source, ingest.Options{RenameDuplicates: a.RenameDuplicates, API: a.API})
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil, failed(err)
		}
		return nil, err
	}
	return f, nil
}

// writeFileAtomic writes through a temporary file renamed into place.
func writeFileAtomic(path string, write func(w io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_ = tmp.Chmod(0o644)
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
