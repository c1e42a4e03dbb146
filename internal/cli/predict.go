package cli

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
)

func init() { register(newPredictCmd) }

// predictResult is the --json output of gyre predict.
type predictResult struct {
	Rows             int            `json:"rows"`
	Out              string         `json:"out"`
	Seconds          float64        `json:"seconds"`
	RowsPerSecond    float64        `json:"rows_per_second"`
	UnseenCategories map[string]int `json:"unseen_categories"`
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
			ctx := cmd.Context()
			b, _, err := app.loadBundle(ctx, args[0])
			if err != nil {
				return err
			}
			opt := ingest.Options{Stdin: app.Stdin, Schema: predictSchema(b)}
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
			st, err := scoreStream(ctx, app, b, args[1], opt, scoreOptions{keep: keep, chunkRows: chunkRows, workers: workers}, w)
			if err != nil {
				return err
			}
			if err := w.Close(); err != nil {
				return failed(err)
			}
			el := time.Since(start)
			res := predictResult{Rows: w.Rows(), Out: out, Seconds: seconds(el), UnseenCategories: st.unseen}
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
				fmt.Fprintf(app.Stderr, "wrote %d predictions to %s in %.1fs (%.0f rows/s)\n", res.Rows, out, el.Seconds(), res.RowsPerSecond)
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

// predictSchema fixes the type of every model input column to its training
// kind (text as categorical, which the encoder maps fastest), so streaming
// needs no inference pass and a value of the wrong type is an error naming
// its line and column.
func predictSchema(b *bundle.Bundle) map[string]ingest.FieldOverride {
	out := make(map[string]ingest.FieldOverride, len(b.Manifest.Input.Fields))
	for _, f := range b.Manifest.Input.Fields {
		k := f.Kind
		if k == frame.KindString {
			k = frame.KindCategorical
		}
		out[f.Name] = ingest.FieldOverride{Type: k}
	}
	return out
}

type scoreOptions struct {
	keep      bool
	chunkRows int
	workers   int
}

type scoreStats struct {
	unseen map[string]int
}

// scoreJob is one chunk on its way through the pipeline.
type scoreJob struct {
	chunk  *ingest.Chunk
	done   chan struct{}
	enc    *ingest.Encoded
	unseen map[string]int
	err    error
}

// scoreStream reads source chunk by chunk, scores chunks on several
// goroutines (bundle.Predict is safe for concurrent use) and writes the
// results in input order. At most 2×workers+1 chunks are in memory at once.
func scoreStream(ctx context.Context, app *App, b *bundle.Bundle, source string, opt ingest.Options, so scoreOptions, w *ingest.ChunkWriter) (scoreStats, error) {
	st := scoreStats{unseen: map[string]int{}}
	workers := so.workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan *scoreJob)
	order := make(chan *scoreJob, workers+1)

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.enc, j.unseen, j.err = scoreChunk(ctx, b, source, j.chunk, so.keep, w)
				j.chunk = &ingest.Chunk{Row: j.chunk.Row, Done: j.chunk.Done, Total: j.chunk.Total} // drop the input
				close(j.done)
			}
		}()
	}

	var pipeErr error
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		var bar *Progress
		for j := range order {
			if pipeErr != nil {
				continue
			}
			select {
			case <-j.done:
			case <-ctx.Done():
				pipeErr = ctx.Err()
				continue
			}
			if j.err != nil {
				pipeErr = j.err
				cancel()
				continue
			}
			if err := w.WriteEncoded(j.enc); err != nil {
				pipeErr = failed(err)
				cancel()
				continue
			}
			for c, n := range j.unseen {
				st.unseen[c] += n
			}
			if bar == nil && j.chunk.Total > 0 {
				bar = app.progress(j.chunk.Total, "predict")
			}
			bar.Set(int(j.chunk.Done))
		}
		bar.Done()
	}()

	readErr := ingest.Stream(ctx, source, opt, so.chunkRows, func(c *ingest.Chunk) error {
		j := &scoreJob{chunk: c, done: make(chan struct{})}
		select {
		case jobs <- j:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case order <- j:
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	})
	close(jobs)
	close(order)
	<-writerDone
	wg.Wait()
	if pipeErr != nil && !(errors.Is(pipeErr, context.Canceled) && readErr != nil) {
		return st, pipeErr
	}
	if readErr != nil {
		return st, readErr
	}
	return st, nil
}

// scoreChunk predicts one chunk and formats its output rows.
func scoreChunk(ctx context.Context, b *bundle.Bundle, source string, c *ingest.Chunk, keep bool, w *ingest.ChunkWriter) (*ingest.Encoded, map[string]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	pred, err := b.Predict(c.Frame)
	if err != nil {
		return nil, nil, fmt.Errorf("predict %s (rows %d-%d): %w", source, c.Row+1, c.Row+c.Frame.NumRows(), err)
	}
	res, err := predictionFrame(b, pred, c.Frame, keep)
	if err != nil {
		return nil, nil, failed(err)
	}
	enc, err := w.Encode(ctx, res)
	if err != nil {
		return nil, nil, err
	}
	return enc, pred.Unseen, nil
}

// predictionFrame builds the output table of a prediction. The prediction
// column of a classifier is categorical with every class as a level, so
// chunks agree on it.
func predictionFrame(b *bundle.Bundle, p *bundle.Prediction, in *frame.Frame, keep bool) (*frame.Frame, error) {
	var cols []frame.Column
	if keep {
		cols = append(cols, in.Columns()...)
	}
	n := len(p.Values)
	if p.Classes != nil {
		codes := make([]int32, n)
		for i, v := range p.Values {
			codes[i] = int32(v)
		}
		cols = append(cols, &frame.Categorical{ColName: "prediction", Codes: codes, Levels: p.Classes})
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
