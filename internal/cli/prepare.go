package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/feature"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
)

func init() { register(newPrepareCmd) }

// prepareResult is the `gyre prepare` output.
type prepareResult struct {
	Source  string `json:"source"`
	FitOn   string `json:"fit_on,omitempty"`
	Out     string `json:"out"`
	Fitted  string `json:"fitted"`
	RowsIn  int    `json:"rows_in"`
	RowsOut int    `json:"rows_out"`
	// Removed counts training rows dropped (duplicates, outliers).
	Removed int      `json:"removed"`
	Missing int      `json:"missing"`
	Columns []string `json:"columns"`
}

func newPrepareCmd(app *App) *cobra.Command {
	var (
		rf                               readFlags
		recipe, out, fitOn, save, fitted string
	)
	cmd := &cobra.Command{
		Use:   "prepare SOURCE --recipe RECIPE.yaml --out DEST",
		Short: "Clean and engineer features with a fitted recipe",
		Long: `Fit the steps of a recipe (docs/recipes.md) on training rows and apply them to SOURCE,
writing DEST in the format of its extension (.csv, .parquet, .jsonl, ...).

  --recipe R            fit R on SOURCE itself (training rows: duplicate and outlier
                        removal apply, target encoding is out-of-fold) and write it
  --recipe R --fit-on T fit R on T, then apply it to SOURCE as new data
  --fitted F            apply a fitted recipe saved earlier (no fitting at all)

The fitted recipe is saved as JSON (to --save-fitted, default DEST's name with
.fitted.json); applying it to another file gives the same columns in the same order.`,
		Example: `  gyre prepare split/titanic.train.csv --recipe examples/recipes/titanic.yaml --out train.clean.parquet
  gyre prepare split/titanic.test.csv --fitted train.clean.fitted.json --out test.clean.parquet
  gyre prepare new.csv --recipe recipe.yaml --fit-on train.csv --out new.clean.csv --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			source := args[0]
			switch {
			case out == "":
				return usageErrorf("prepare: --out is required (where to write the prepared data)")
			case fitted != "" && (recipe != "" || fitOn != ""):
				return usageErrorf("prepare: --fitted applies a saved recipe; it cannot be combined with --recipe or --fit-on")
			case fitted == "" && recipe == "":
				return usageErrorf("prepare: give --recipe RECIPE.yaml to fit, or --fitted FITTED.json to apply a saved one")
			case fitted != "" && save != "":
				return usageErrorf("prepare: --save-fitted needs --recipe; --fitted is already saved")
			}
			res := prepareResult{Source: source, Out: out, FitOn: fitOn}
			var fp *feature.FittedPipeline
			var result *frame.Frame
			if fitted != "" {
				var err error
				if fp, err = feature.LoadFitted(fitted); err != nil {
					return err
				}
				res.Fitted = fitted
			} else {
				p, err := feature.LoadRecipe(recipe)
				if err != nil {
					return err
				}
				fitPath := fitOn
				if fitPath == "" {
					fitPath = source
				}
				train, err := readSource(cmd, app, &rf, fitPath)
				if err != nil {
					return err
				}
				var trainOut *frame.Frame
				if fp, trainOut, err = p.Fit(train); err != nil {
					return fmt.Errorf("prepare: fit %s on %s: %w", recipe, fitPath, err)
				}
				if fitOn == "" {
					result = trainOut
					res.RowsIn = train.NumRows()
					res.Removed = train.NumRows() - trainOut.NumRows()
				}
				res.Fitted = save
				if res.Fitted == "" {
					res.Fitted = fittedPath(out)
				}
				if err := fp.Save(res.Fitted); err != nil {
					return failed(err)
				}
			}
			if result == nil {
				f, err := readSource(cmd, app, &rf, source)
				if err != nil {
					return err
				}
				res.RowsIn = f.NumRows()
				if result, err = fp.Transform(f); err != nil {
					return fmt.Errorf("prepare %s: %w", source, err)
				}
			}
			if err := ingest.Write(cmd.Context(), result, out); err != nil {
				if errors.Is(err, ingest.ErrFormat) {
					return usageErrorf("prepare: %w", err)
				}
				return failed(fmt.Errorf("prepare: %w", err))
			}
			res.RowsOut = result.NumRows()
			res.Columns = result.Names()
			for _, c := range result.Columns() {
				res.Missing += c.NullCount()
			}
			if app.JSON {
				return app.printJSON(res)
			}
			fmt.Fprintf(app.Stdout, "wrote %s: %d rows × %d columns (%d missing values)\n", out, res.RowsOut, len(res.Columns), res.Missing)
			if res.Removed > 0 {
				fmt.Fprintf(app.Stdout, "removed %d training rows (duplicates or outliers)\n", res.Removed)
			}
			if fitted == "" {
				fmt.Fprintf(app.Stdout, "fitted recipe: %s (apply it to new data with --fitted %s)\n", res.Fitted, res.Fitted)
			}
			return nil
		},
	}
	rf.add(cmd)
	fl := cmd.Flags()
	fl.StringVar(&recipe, "recipe", "", "recipe file (YAML) listing the steps to fit")
	fl.StringVar(&out, "out", "", "where to write the prepared data (.csv, .parquet, .jsonl, ...)")
	fl.StringVar(&fitOn, "fit-on", "", "fit the recipe on this data instead of SOURCE, then apply it to SOURCE")
	fl.StringVar(&save, "save-fitted", "", "where to save the fitted recipe (default: DEST with .fitted.json)")
	fl.StringVar(&fitted, "fitted", "", "apply this saved fitted recipe instead of fitting one")
	return cmd
}

// fittedPath is the default fitted-recipe path next to out.
func fittedPath(out string) string {
	dir, name := filepath.Split(out)
	for _, e := range []string{".csv.gz", ".tsv.gz", ".csv", ".tsv", ".parquet", ".jsonl", ".ndjson"} {
		if strings.HasSuffix(strings.ToLower(name), e) {
			name = name[:len(name)-len(e)]
			break
		}
	}
	return filepath.Join(dir, name+".fitted.json")
}
