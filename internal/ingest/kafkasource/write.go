package kafkasource

import (
	"bytes"
	"context"
	"fmt"
	"sync"
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

// WriteChunk implements ingest.Sink: one record per line of text.
func (w *sink) WriteChunk(ctx context.Context, f *frame.Frame, text []byte) error {
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
	done := func(_ *kgo.Record, err error) {
		if err != nil {
			w.mu.Lock()
			if w.err == nil {
				w.err = err
			}
			w.mu.Unlock()
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
		for i := range f.NumRows() {
			rec := &kgo.Record{Value: a.value(f, i)}
			if keyCol != nil && !keyCol.IsNull(i) {
				rec.Key = []byte(keyCol.Format(i))
			}
			w.cl.Produce(ctx, rec, done)
		}
	}
	for i := 0; len(text) > 0; i++ {
		line := text
		if j := bytes.IndexByte(text, '\n'); j >= 0 {
			line, text = text[:j], text[j+1:]
		} else {
			text = nil
		}
		rec := &kgo.Record{Value: line}
		if keyCol != nil && !keyCol.IsNull(i) {
			rec.Key = []byte(keyCol.Format(i))
		}
		w.cl.Produce(ctx, rec, done)
	}
	fctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := w.cl.Flush(fctx); err != nil {
		return &Error{w.src.display, "produce", err}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return &Error{w.src.display, "produce", explain(w.err)}
	}
	return nil
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
	return nil
}

// Abort implements ingest.Sink: buffered records are dropped.
func (w *sink) Abort() { w.cl.Close() }

var (
	_ ingest.Source      = Source{}
	_ ingest.Destination = Source{}
	_ ingest.Follower    = Source{}
	_ ingest.Sink        = (*sink)(nil)
)
