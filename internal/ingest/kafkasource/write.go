package kafkasource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
)

// Create implements ingest.Destination: every row becomes one record of
// the topic, a JSON object (or with format=csv a CSV record, with
// format=avro an Avro datum: see avrowrite.go), keyed by the
// value of the column named by &key= when given. WriteChunk returns once
// the brokers acknowledged every record of the chunk (acks from all
// in-sync replicas, idempotent producer), so a consumer that commits its
// input offsets after it (gyre predict) is at-least-once. Records cannot
// be taken back: Abort stops writing, but what was acknowledged stays.
func (Source) Create(ctx context.Context, dest string) (ingest.Sink, error) {
	s, err := parseURL(dest, true)
	if err != nil {
		return nil, err
	}
	cl, err := s.connect(ctx, kgo.DefaultProduceTopic(s.topic), kgo.ProducerLinger(0),
		kgo.ProducerBatchMaxBytes(1<<20), kgo.MaxBufferedRecords(1<<20))
	if err != nil {
		return nil, err
	}
	return &sink{src: s, cl: cl}, nil
}

type sink struct {
	src  *source
	cl   *kgo.Client
	key  int // column index of &key=, -1 when none
	once bool
	mu   sync.Mutex
	err  error
}

// Format implements ingest.Sink: Avro values are encoded from the frame.
func (w *sink) Format() string {
	switch w.src.format {
	case "csv":
		return "csv"
	case "avro":
		return ""
	}
	return "jsonl"
}

// WriteChunk implements ingest.Sink: one record per line of text, and it
// returns once the brokers acknowledged them all.
func (w *sink) WriteChunk(ctx context.Context, f *frame.Frame, text []byte) error {
	acked := make(chan error, 1)
	if err := w.StartChunk(ctx, f, text, func(err error) { acked <- err }); err != nil {
		return err
	}
	t := time.NewTimer(2 * time.Minute)
	defer t.Stop()
	select {
	case err := <-acked:
		return err
	case <-t.C:
		return &Error{w.src.display, "produce", errors.New("the brokers did not acknowledge the records within 2m0s")}
	}
}

// StartChunk implements ingest.AsyncSink: the chunk's records are handed
// to the producer (which batches them with earlier chunks' records still
// on their way), and stored is called once the last of them is
// acknowledged, or with the first error.
func (w *sink) StartChunk(ctx context.Context, f *frame.Frame, text []byte, stored func(error)) error {
	if !w.once {
		w.once, w.key = true, -1
		if w.src.key != "" {
			if w.key = f.Index(w.src.key); w.key < 0 {
				return fmt.Errorf("kafka %s: key=%s: no such column (the output has %v)", w.src.display, w.src.key, f.Names())
			}
		}
		if a := w.src.avroOut; a != nil {
			if err := a.start(ctx, f); err != nil {
				return err
			}
		}
	}
	var keyCol frame.Column
	if w.key >= 0 {
		keyCol = f.Col(w.key)
	}
	if a := w.src.avroOut; a != nil {
		if err := a.w.Check(f); err != nil {
			return fmt.Errorf("kafka %s: %w", w.src.display, err)
		}
	}
	n := f.NumRows()
	if n == 0 {
		stored(nil)
		return nil
	}
	c := &chunkAcks{sink: w, left: int64(n), stored: stored}
	recs := make([]kgo.Record, n) // one allocation for the chunk's records
	for i := range n {
		rec := &recs[i]
		if a := w.src.avroOut; a != nil {
			rec.Value = a.value(f, i)
		} else {
			j := bytes.IndexByte(text, '\n')
			if j < 0 {
				j = len(text)
			}
			rec.Value, text = text[:j:j], text[min(j+1, len(text)):]
		}
		if keyCol != nil && !keyCol.IsNull(i) {
			rec.Key = []byte(keyCol.Format(i))
		}
		w.cl.Produce(ctx, rec, c.acked)
	}
	return nil
}

// chunkAcks counts a chunk's records acknowledged by the brokers.
type chunkAcks struct {
	sink   *sink
	left   int64
	failed atomic.Bool
	stored func(error)
}

// acked is the producer's callback for each of the chunk's records.
func (c *chunkAcks) acked(_ *kgo.Record, err error) {
	if err != nil {
		w := c.sink
		w.mu.Lock()
		if w.err == nil {
			w.err = err
		}
		w.mu.Unlock()
		if !c.failed.Swap(true) {
			c.stored(&Error{w.src.display, "produce", explain(err)})
		}
	}
	if atomic.AddInt64(&c.left, -1) == 0 && !c.failed.Load() {
		c.stored(nil)
	}
}

// Close implements ingest.Sink.
func (w *sink) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := w.cl.Flush(ctx)
	w.cl.Close()
	if err != nil {
		return &Error{w.src.display, "produce", err}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return &Error{w.src.display, "produce", explain(w.err)}
	}
	return nil
}

// Abort implements ingest.Sink: buffered records are dropped.
func (w *sink) Abort() { w.cl.Close() }

var (
	_ ingest.Source      = Source{}
	_ ingest.Destination = Source{}
	_ ingest.Follower    = Source{}
	_ ingest.Sink        = (*sink)(nil)
	_ ingest.AsyncSink   = (*sink)(nil)
)
