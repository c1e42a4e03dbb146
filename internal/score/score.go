// Package score scores a data source of any size with a model bundle: the
// source is streamed in chunks (ingest.Stream), the chunks are predicted on
// several goroutines (bundle.Predict is safe for concurrent use) and their
// output rows are formatted there too, and a single writer appends them to
// the destination in input order. A destination that stores chunks
// asynchronously (a Kafka topic) gets the next chunk while earlier ones
// await their acknowledgements; a committer then commits each chunk's
// input, in order, once its output is stored. At most 3×Workers+3 chunks
// are in memory at once, so memory does not grow with the input.
//
// The destination is an ingest.ChunkWriter the caller creates and closes
// (or aborts): a failed Stream leaves it for the caller to abort, so no
// partial output is passed off as complete.
package score

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
)

// Options configure Stream.
type Options struct {
	// Ingest is how the source is read; Schema is usually Schema(b) and
	// Columns the model's input columns unless Keep is set.
	Ingest ingest.Options
	// Keep adds the input columns to the output.
	Keep bool
	// ChunkRows is the rows per chunk (0: ingest.DefaultChunkRows).
	ChunkRows int
	// Workers is the number of chunks scored at once (0: GOMAXPROCS).
	Workers int
	// Progress, if set, is called from one goroutine after each chunk is
	// stored (and its input committed) with the bytes (or rows) read so
	// far and the total (0 when unknown), as ingest.Chunk reports them.
	Progress func(done, total int64)
}

// Stats summarise a scored stream.
type Stats struct {
	// Unseen counts, per input column, values of categories the model did
	// not see in training.
	Unseen map[string]int
	// Skipped counts the source's records it could not read and left out
	// (poison messages skipped or dead-lettered, by the source's choice).
	Skipped int
	// Commit, when set, commits the source's position up to the last
	// chunk written: the caller calls it after closing the writer (the
	// output was stored only then). When the writer stores each chunk as
	// it is written (ChunkWriter.Stored), Stream commits as it goes.
	Commit func(context.Context) error
}

// OutputError marks a failure to build or write the output, as opposed to
// an error in the source or the model's input: the caller may treat it as
// an internal failure.
type OutputError struct{ Err error }

func (e *OutputError) Error() string { return e.Err.Error() }
func (e *OutputError) Unwrap() error { return e.Err }

// Schema fixes the type of every model input column to its training kind
// (text as categorical, which the encoder maps fastest), so streaming needs
// no inference pass and a value of the wrong type is an error naming its
// line and column.
func Schema(b *bundle.Bundle) map[string]ingest.FieldOverride {
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

// job is one chunk on its way through the pipeline.
type job struct {
	chunk  *ingest.Chunk
	done   chan struct{}
	enc    *ingest.Encoded
	unseen map[string]int
	err    error
}

// Stream reads source chunk by chunk, scores every chunk with b and writes
// the output rows to w in input order. It does not close w.
func Stream(ctx context.Context, b *bundle.Bundle, source string, w *ingest.ChunkWriter, o Options) (Stats, error) {
	st := Stats{Unseen: map[string]int{}}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan *job)
	order := make(chan *job, workers+1)

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.enc, j.unseen, j.err = chunk(ctx, b, source, j.chunk, o.Keep, w)
				c := j.chunk
				j.chunk = &ingest.Chunk{Row: c.Row, Done: c.Done, Total: c.Total, Commit: c.Commit, Skipped: c.Skipped} // drop the input
				close(j.done)
			}
		}()
	}

	p := &pipe{w: w, o: o, st: &st, cancel: cancel, commits: make(chan *sent, workers+2)}
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		p.write(ctx, order)
	}()
	committerDone := make(chan struct{})
	go func() {
		defer close(committerDone)
		p.commit(ctx)
	}()

	readErr := ingest.Stream(ctx, source, o.Ingest, o.ChunkRows, func(c *ingest.Chunk) error {
		j := &job{chunk: c, done: make(chan struct{})}
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
	<-committerDone
	wg.Wait()
	pipeErr := p.writeErr
	if pipeErr == nil {
		pipeErr = p.commitErr
	}
	if pipeErr != nil && !(errors.Is(pipeErr, context.Canceled) && readErr != nil) {
		return st, pipeErr
	}
	return st, readErr
}

// storeTimeout bounds the wait for a chunk's output to be stored (the
// brokers' acknowledgements of a Kafka topic).
const storeTimeout = 2 * time.Minute

// pipe is the output end of Stream: the writer hands each scored chunk to
// the destination in input order, without waiting for it to be stored
// when the destination can have several chunks in flight
// (ingest.AsyncSink), and the committer waits for each chunk's output to
// be stored, in order, then commits the chunk's input (at least once) and
// reports progress.
type pipe struct {
	w       *ingest.ChunkWriter
	o       Options
	st      *Stats
	cancel  func()
	commits chan *sent // bounds the chunks in flight
	// writeErr is set by the writer, commitErr by the committer.
	writeErr, commitErr error
}

// sent is a chunk handed to the destination.
type sent struct {
	j      *job
	stored chan error
}

// write runs on the writer goroutine until order is closed.
func (p *pipe) write(ctx context.Context, order <-chan *job) {
	defer close(p.commits)
	for j := range order {
		if p.writeErr != nil {
			continue
		}
		select {
		case <-j.done:
		case <-ctx.Done():
			p.writeErr = ctx.Err()
			continue
		}
		if j.err != nil {
			p.writeErr = j.err
			p.cancel()
			continue
		}
		s := &sent{j: j, stored: make(chan error, 1)}
		if err := p.w.WriteEncodedAsync(j.enc, func(err error) { s.stored <- err }); err != nil {
			p.writeErr = &OutputError{err}
			p.cancel()
			continue
		}
		j.enc = nil // the destination holds what it still needs
		select {
		case p.commits <- s:
		case <-ctx.Done():
			p.writeErr = ctx.Err()
		}
	}
}

// commit runs on the committer goroutine until the writer is done.
func (p *pipe) commit(ctx context.Context) {
	timer := time.NewTimer(storeTimeout)
	defer timer.Stop()
	for s := range p.commits {
		if p.commitErr != nil {
			continue
		}
		timer.Reset(storeTimeout)
		var err error
		select {
		case err = <-s.stored:
		case <-ctx.Done():
			err = ctx.Err()
		case <-timer.C:
			err = fmt.Errorf("write the output: chunk at row %d was not stored within %s", s.j.chunk.Row+1, storeTimeout)
		}
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				err = &OutputError{err}
			}
			p.commitErr = err
			p.cancel()
			continue
		}
		j := s.j
		for c, n := range j.unseen {
			p.st.Unseen[c] += n
		}
		p.st.Skipped += j.chunk.Skipped
		if c := j.chunk.Commit; c != nil && p.w.Stored() {
			// At least once: the input is committed after its output.
			if err := c(ctx); err != nil {
				p.commitErr = err
				p.cancel()
				continue
			}
		} else if c != nil {
			p.st.Commit = c
		}
		if p.o.Progress != nil {
			p.o.Progress(j.chunk.Done, j.chunk.Total)
		}
	}
}

// chunk predicts one chunk and formats its output rows.
func chunk(ctx context.Context, b *bundle.Bundle, source string, c *ingest.Chunk, keep bool, w *ingest.ChunkWriter) (*ingest.Encoded, map[string]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	pred, err := b.Predict(c.Frame)
	if err != nil {
		return nil, nil, fmt.Errorf("predict %s (rows %d-%d): %w", source, c.Row+1, c.Row+c.Frame.NumRows(), err)
	}
	res, err := Frame(pred, c.Frame, keep)
	if err != nil {
		return nil, nil, &OutputError{err}
	}
	enc, err := w.Encode(ctx, res)
	if err != nil {
		return nil, nil, err
	}
	return enc, pred.Unseen, nil
}

// Frame builds the output table of a prediction: a "prediction" column,
// and for classifiers one "proba_<class>" column per class, after the
// input columns when keep is set. A classifier's prediction column is
// categorical with every class as a level, so chunks agree on it.
func Frame(p *bundle.Prediction, in *frame.Frame, keep bool) (*frame.Frame, error) {
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
