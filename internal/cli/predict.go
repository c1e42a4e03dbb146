package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/score"
)

func init() { register(newPredictCmd) }

// predictResult is the --json output of gyre predict.
type predictResult struct {
	Rows             int            `json:"rows"`
	Out              string         `json:"out"`
	Seconds          float64        `json:"seconds"`
	RowsPerSecond    float64        `json:"rows_per_second"`
	UnseenCategories map[string]int `json:"unseen_categories"`
	SkippedRecords   int            `json:"skipped_records,omitempty"`
}

// followStop, for a source that does not end by itself (a Kafka topic read
// without a bound), turns the end of ctx (the first SIGINT or SIGTERM) into
// a graceful stop: the source stops reading, and what it read is scored,
// written and committed. The returned context ends 30 s after the signal if
// that takes longer, or when release is called.
func followStop(ctx context.Context, source string) (run context.Context, stop <-chan struct{}, release func()) {
	if !ingest.Follows(source) {
		return ctx, nil, func() {}
	}
	ch := make(chan struct{})
	run, cancel := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		select {
		case <-ctx.Done():
			close(ch)
			select {
			case <-time.After(30 * time.Second):
				cancel()
			case <-run.Done():
			}
		case <-run.Done():
		}
	}()
	return run, ch, cancel
}

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
			ctx, stop, release := followStop(cmd.Context(), args[1])
			defer release()
			b, _, err := app.loadBundle(ctx, args[0])
			if err != nil {
				return err
			}
			opt := ingest.Options{Stdin: app.Stdin, Schema: score.Schema(b), RenameDuplicates: app.RenameDuplicates, Stop: stop, API: app.API}
			if !app.JSON && !app.Quiet {
				opt.Warn = func(msg string) { fmt.Fprintf(app.Stderr, "gyre: note: %s\n", msg) }
			}
			if !keep {
				opt.Columns = b.Manifest.Input.Names()
			}
			if out == "" {
				out = "-"
			}
			var w *ingest.ChunkWriter
			if out == "-" {
				w, err = ingest.NewChunkWriter(app.Stdout, "csv")
			} else {
				w, err = ingest.Create(out)
			}
			if err != nil {
				return usageErrorf("--out: %v", err)
			}
			defer w.Abort()
			start := time.Now()
			var bar *Progress
			st, err := score.Stream(ctx, b, args[1], w, score.Options{Ingest: opt, Keep: keep, ChunkRows: chunkRows, Workers: workers,
				Progress: func(done, total int64) {
					if bar == nil && total > 0 {
						bar = app.progress(total, "predict")
					}
					bar.Set(int(done))
				}})
			bar.Done()
			var oe *score.OutputError
			if errors.As(err, &oe) {
				return failed(err)
			}
			if err != nil {
				return err
			}
			if err := w.Close(); err != nil {
				return failed(err)
			}
			if st.Commit != nil {
				if err := st.Commit(ctx); err != nil {
					return failed(err)
				}
			}
			el := time.Since(start)
			res := predictResult{Rows: w.Rows(), Out: ingest.Redact(out), Seconds: seconds(el), UnseenCategories: st.Unseen, SkippedRecords: st.Skipped}
			if st.Skipped > 0 {
				app.warnf("%d unreadable records of %s were left out (the source's bad= choice)", st.Skipped, ingest.Redact(args[1]))
			}
			if el > 0 {
				res.RowsPerSecond = float64(res.Rows) / el.Seconds()
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
				fmt.Fprintf(app.Stderr, "wrote %d predictions to %s in %.1fs (%.0f rows/s)\n", res.Rows, res.Out, el.Seconds(), res.RowsPerSecond)
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
