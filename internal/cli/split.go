package cli

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/feature"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
)

func init() { register(newSplitCmd) }

// splitPart is one written part in `gyre split` output.
type splitPart struct {
	Part string `json:"part"`
	Path string `json:"path"`
	Rows int    `json:"rows"`
}

// splitResult is the `gyre split` output.
type splitResult struct {
	Source string      `json:"source"`
	Rows   int         `json:"rows"`
	Method string      `json:"method"`
	Seed   uint64      `json:"seed"`
	Parts  []splitPart `json:"parts"`
}

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
			opt := feature.SplitOptions{Train: train, Valid: valid, Test: test, Seed: seed}
			p, method, err := feature.SplitFrame(f, opt, feature.SplitBy{Stratify: stratify, Group: group, Time: timeCol})
			if se := (*feature.SplitByError)(nil); errors.As(err, &se) {
				if errors.Is(se.Err, frame.ErrNoColumn) {
					return usageErrorf("split: --%s: %w", se.By, se.Err)
				}
				return usageErrorf("split: --%s %s: %w", se.By, se.Column, se.Err)
			}
			if err != nil {
				return err
			}
			if err := os.MkdirAll(outDir, 0o755); err != nil {
				return failed(fmt.Errorf("split: %w", err))
			}
			base, ext := splitName(args[0])
			res := splitResult{Source: args[0], Rows: f.NumRows(), Method: method, Seed: seed}
			for _, part := range []struct {
				name string
				frac float64
				rows []int
			}{{"train", train, p.Train}, {"valid", valid, p.Valid}, {"test", test, p.Test}} {
				if part.frac == 0 {
					continue
				}
				dest := filepath.Join(outDir, base+"."+part.name+ext)
				if err := ingest.Write(cmd.Context(), f.Take(part.rows), dest); err != nil {
					if errors.Is(err, ingest.ErrFormat) {
						return usageErrorf("split: %w", err)
					}
					return failed(fmt.Errorf("split: %w", err))
				}
				res.Parts = append(res.Parts, splitPart{Part: part.name, Path: dest, Rows: len(part.rows)})
			}
			if app.JSON {
				return app.printJSON(res)
			}
			fmt.Fprintf(app.Stdout, "split %s: %d rows, %s (seed %d)\n", args[0], res.Rows, method, seed)
			for _, part := range res.Parts {
				fmt.Fprintf(app.Stdout, "  %-5s %7d rows  %s\n", part.Part, part.Rows, part.Path)
			}
			return nil
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

// splitName returns the base name and extension for part files: a file
// source keeps its name and format; other sources (tables, URLs with
// queries, stdin) are written as CSV named "data".
func splitName(source string) (base, ext string) {
	name := filepath.Base(source)
	if i := strings.IndexAny(name, "?#"); i >= 0 || strings.Contains(source, "://") && !strings.HasPrefix(source, "http") {
		return "data", ".csv"
	}
	for _, e := range []string{".csv.gz", ".tsv.gz", ".csv", ".tsv", ".parquet", ".jsonl", ".ndjson"} {
		if strings.HasSuffix(strings.ToLower(name), e) {
			base = name[:len(name)-len(e)]
			if e == ".tsv.gz" {
				e = ".tsv"
			}
			return base, e
		}
	}
	return "data", ".csv"
}
