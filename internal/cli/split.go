package cli

import (
	"errors"
	"fmt"
	"math"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/dataprep"
	"github.com/gyre-ml/gyre/internal/feature"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
)

func init() { register(newSplitCmd) }

func newSplitCmd(app *App) *cobra.Command {
	var (
		rf                 readFlags
		train, valid, test float64
		stratify, group    string
		timeCol, outDir    string
		seed               uint64
	)
	cmd := &cobra.Command{
		Use:   "split SOURCE --out-dir DIR",
		Short: "Split data into train/validation/test files (random, stratified, grouped or by time)",
		Long: `Split SOURCE into train, validation and test files, written to --out-dir in the
source's format as <name>.train.<ext>, <name>.valid.<ext> and <name>.test.<ext>
(a part with fraction 0 is not written). Rows keep their original order within
each part.

  random (default)  shuffled with --seed
  --stratify COL    each part keeps COL's class proportions
  --group COL       all rows with the same COL value land in one part
  --time COL        earliest rows train, then validation, latest test (no shuffle)

The same source, fractions and seed always give the same split.`,
		Example: `  gyre split examples/data/titanic/titanic.train.csv --stratify Survived --out-dir split/
  gyre split sales.parquet --time date --train 0.8 --valid 0 --test 0.2 --out-dir split/
  gyre split visits.csv --group patient_id --seed 7 --out-dir split/ --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if outDir == "" {
				return usageErrorf("split: --out-dir is required (where to write the parts)")
			}
			n := 0
			for _, s := range []string{stratify, group, timeCol} {
				if s != "" {
					n++
				}
			}
			if n > 1 {
				return usageErrorf("split: use only one of --stratify, --group and --time")
			}
			if math.Abs(train+valid+test-1) > 1e-6 || train < 0 || valid < 0 || test < 0 {
				return usageErrorf("split: --train %g + --valid %g + --test %g must be non-negative and sum to 1", train, valid, test)
			}
			f, err := readSource(cmd, app, &rf, args[0])
			if err != nil {
				return err
			}
			if f.NumRows() == 0 {
				return usageErrorf("split %s: no data rows (only a header naming %d columns): nothing to split", args[0], f.NumCols())
			}
			res, err := dataprep.Split(cmd.Context(), f, args[0], dataprep.SplitOptions{SplitOptions: feature.SplitOptions{Train: train, Valid: valid, Test: test, Seed: seed},
				By: feature.SplitBy{Stratify: stratify, Group: group, Time: timeCol}, OutDir: outDir})
			var se *feature.SplitByError
			var oe *dataprep.OutputError
			switch {
			case errors.As(err, &se) && errors.Is(se.Err, frame.ErrNoColumn):
				return usageErrorf("split: --%s: %w", se.By, se.Err)
			case errors.As(err, &se):
				return usageErrorf("split: --%s %s: %w", se.By, se.Column, se.Err)
			case errors.As(err, &oe) && errors.Is(err, ingest.ErrFormat):
				return usageErrorf("split: %w", oe.Err)
			case errors.As(err, &oe):
				return failed(fmt.Errorf("split: %w", oe.Err))
			case err != nil:
				return err
			}
			return app.print(res)
		},
	}
	rf.add(cmd)
	fl := cmd.Flags()
	fl.Float64Var(&train, "train", 0.7, "fraction of rows for training")
	fl.Float64Var(&valid, "valid", 0.15, "fraction of rows for validation (0 = no validation file)")
	fl.Float64Var(&test, "test", 0.15, "fraction of rows for testing (0 = no test file)")
	fl.StringVar(&stratify, "stratify", "", "keep this column's class proportions in every part")
	fl.StringVar(&group, "group", "", "keep all rows sharing this column's value in one part")
	fl.StringVar(&timeCol, "time", "", "split by this time (or number) column: earliest rows train, latest test")
	fl.StringVar(&outDir, "out-dir", "", "directory for the part files (created if needed)")
	fl.Uint64Var(&seed, "seed", 42, "seed for the shuffle")
	return cmd
}
