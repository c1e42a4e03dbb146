package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/score"
)

func init() { register(newPredictCmd) }

// predictResult is the --json output of gyre predict.
type predictResult = score.Result

func newPredictCmd(app *App) *cobra.Command {
	var out string
	var keep bool
	var chunkRows, workers int
	cmd := &cobra.Command{
		Use:   "predict MODEL SOURCE [--out DEST]",
		Short: "Score a data set with a model",
		Long: `Score SOURCE with MODEL (a bundle path or a registry reference such as
adult-income@production) and write the predictions: a 'prediction' column,
and for classifiers one 'proba_<class>' column per class. --keep-input adds
the input columns. DEST's extension picks the format (.csv, .tsv, .csv.gz,
.parquet, .jsonl); without --out, CSV goes to stdout.

SOURCE (CSV/TSV, JSON Lines or Parquet, of any size) is streamed: chunks of
about --chunk-rows rows are read, scored on all cores and written in input
order, with a bounded number of chunks in flight, so memory does not grow
with the input. The model's input columns are read with the types they had
in training; other columns are only read for --keep-input. DEST appears only
when complete: on any error no output file is left behind.`,
		Example: "  gyre predict adult.gyre examples/data/adult/adult.test.csv --out preds.csv\n  gyre predict adult-income@production new.parquet --out scored.parquet --keep-input --json",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if chunkRows < 0 || workers < 0 {
				return usageErrorf("--chunk-rows and --workers must not be negative")
			}
			ctx, stop, release := score.FollowStop(cmd.Context(), args[1])
			defer release()
			b, _, err := app.loadBundle(ctx, args[0])
			if err != nil {
				return err
			}
			opt := ingest.Options{Stdin: app.Stdin, RenameDuplicates: app.RenameDuplicates, Stop: stop, API: app.API}
			if !app.JSON && !app.Quiet {
				opt.Warn = func(msg string) { fmt.Fprintf(app.Stderr, "gyre: note: %s\n", msg) }
			}
			if out == "" {
				out = "-"
			}
			var bar *Progress
			res, err := score.ToDest(ctx, b, args[1], out, app.Stdout, score.Options{Ingest: opt, Keep: keep, ChunkRows: chunkRows, Workers: workers,
				Progress: func(done, total int64) {
					if bar == nil && total > 0 {
						bar = app.progress(total, "predict")
					}
					bar.Set(int(done))
				}})
			bar.Done()
			var ce *score.CreateError
			var oe *score.OutputError
			switch {
			case errors.As(err, &ce):
				return usageErrorf("--out: %v", ce.Err)
			case errors.As(err, &oe):
				return failed(err)
			case err != nil:
				return err
			}
			if res.SkippedRecords > 0 {
				app.warnf("%d unreadable records of %s were left out (the source's bad= choice)", res.SkippedRecords, ingest.Redact(args[1]))
			}
			if app.JSON {
				if out == "-" {
					// Predictions went to stdout; the summary goes to stderr.
					fmt.Fprintf(app.Stderr, "{\"rows\":%d,\"seconds\":%g,\"rows_per_second\":%.0f}\n", res.Rows, res.Seconds, res.RowsPerSecond)
					return nil
				}
				return app.printJSON(res)
			}
			if out != "-" {
				fmt.Fprintf(app.Stderr, "wrote %d predictions to %s in %.1fs (%.0f rows/s)\n", res.Rows, res.Out, res.Seconds, res.RowsPerSecond)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "output file (.csv, .tsv, .csv.gz, .parquet, .jsonl); default CSV on stdout")
	cmd.Flags().BoolVar(&keep, "keep-input", false, "include the input columns in the output")
	cmd.Flags().IntVar(&chunkRows, "chunk-rows", ingest.DefaultChunkRows, "rows per chunk (memory grows with chunk size × workers)")
	cmd.Flags().IntVar(&workers, "workers", 0, "chunks scored at once (0 = number of CPUs)")
	return cmd
}
