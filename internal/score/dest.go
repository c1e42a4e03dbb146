package score

import (
	"context"
	"io"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/ingest"
)

// Result is a source scored into a destination (`gyre predict --json`).
type Result struct {
	Rows             int            `json:"rows"`
	Out              string         `json:"out"`
	Seconds          float64        `json:"seconds"`
	RowsPerSecond    float64        `json:"rows_per_second"`
	UnseenCategories map[string]int `json:"unseen_categories"`
	SkippedRecords   int            `json:"skipped_records,omitempty"`
}

// CreateError is a destination that cannot be created (no such directory,
// an extension naming no format Gyre writes).
type CreateError struct{ Err error }

func (e *CreateError) Error() string { return e.Err.Error() }
func (e *CreateError) Unwrap() error { return e.Err }

// ToDest scores source with b into out, a file or URL in the format its
// extension names (ingest.Create), or CSV on stdout for "-": the model's
// input columns read with their training types (Schema) unless o.Ingest
// gives a schema, the others only with o.Keep. The destination appears
// only when complete, and the source's position is committed only then.
// A destination not created is a *CreateError; one not written, closed or
// committed an *OutputError; the rest (the source, the model's input) are
// the input's errors.
func ToDest(ctx context.Context, b *bundle.Bundle, source, out string, stdout io.Writer, o Options) (*Result, error) {
	if o.Ingest.Schema == nil {
		o.Ingest.Schema = Schema(b)
	}
	if !o.Keep {
		o.Ingest.Columns = b.Manifest.Input.Names()
	}
	var w *ingest.ChunkWriter
	var err error
	if out == "-" {
		w, err = ingest.NewChunkWriter(stdout, "csv")
	} else {
		w, err = ingest.Create(out)
	}
	if err != nil {
		return nil, &CreateError{err}
	}
	defer w.Abort()
	start := time.Now()
	st, err := Stream(ctx, b, source, w, o)
	if err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, &OutputError{err}
	}
	if st.Commit != nil {
		if err := st.Commit(ctx); err != nil {
			return nil, &OutputError{err}
		}
	}
	el := time.Since(start)
	res := &Result{Rows: w.Rows(), Out: ingest.Redact(out), Seconds: float64(el.Milliseconds()) / 1000, UnseenCategories: st.Unseen, SkippedRecords: st.Skipped}
	if el > 0 {
		res.RowsPerSecond = float64(res.Rows) / el.Seconds()
	}
	return res, nil
}

// FollowStop, for a source that does not end by itself (a Kafka topic read
// without a bound: ingest.Follows), turns the end of ctx (the first SIGINT
// or SIGTERM) into a graceful stop: the source stops reading at the stop
// channel (ingest.Options.Stop), and what it read is scored, written and
// committed. The returned context ends 30 s after ctx if that takes
// longer, or when release is called.
func FollowStop(ctx context.Context, source string) (run context.Context, stop <-chan struct{}, release func()) {
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
