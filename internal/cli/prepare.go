package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/dataprep"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
)

func init() { register(newPrepareCmd) }

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
			res, err := dataprep.Prepare(cmd.Context(), dataprep.PrepareOptions{Source: source, Out: out, Recipe: recipe, FitOn: fitOn, Save: save, Fitted: fitted,
				Read: func(path string) (*frame.Frame, error) { return readSource(cmd, app, &rf, path) }})
			if oe := (*dataprep.OutputError)(nil); errors.As(err, &oe) {
				if errors.Is(err, ingest.ErrFormat) {
					return usageErrorf("prepare: %w", oe.Err)
				}
				return failed(fmt.Errorf("prepare: %w", oe.Err))
			}
			if err != nil {
				return err
			}
			if err := app.print(res); err != nil || app.JSON {
				return err
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
