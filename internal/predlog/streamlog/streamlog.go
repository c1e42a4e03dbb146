// Package streamlog publishes gyre serve's prediction log to a stream
// instead of the store: `gyre serve MODEL --log-predictions=kafka://B/T`.
// Every logged row becomes one record of T, the flat layout the store's
// log keeps (time, model, version, request id, row, the inputs as
// input.NAME, the prediction and one proba_CLASS per class) as a JSON
// object; feedback labels go to T.feedback (model, request_id, row, label,
// time). Each batch is written through package ingest's destination for
// the URL and acknowledged before LogPredictions returns.
package streamlog

import (
	"context"
	"fmt"
	"net/url"
	"sync"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/predlog"
)

// Log is a prediction log written to a stream destination. It is safe for
// concurrent use.
type Log struct {
	dest, feedback string
	mu             sync.Mutex
	writers        map[string]*ingest.ChunkWriter // per model and version: their columns differ
}

// Open checks that dest can be written (the topics exist, the brokers
// answer) and returns the log.
func Open(dest string) (*Log, error) {
	u, err := url.Parse(dest)
	if err != nil {
		return nil, fmt.Errorf("prediction log %s: %w", ingest.Redact(dest), err)
	}
	u.Path += ".feedback"
	l := &Log{dest: dest, feedback: u.String(), writers: map[string]*ingest.ChunkWriter{}}
	w, err := ingest.Create(l.dest) // fails now, not at the first request
	if err != nil {
		return nil, fmt.Errorf("prediction log: %w", err)
	}
	w.Abort()
	if w, err = ingest.Create(l.feedback); err != nil {
		return nil, fmt.Errorf("prediction log feedback: %w", err)
	}
	l.writers["\x00"+l.feedback] = w
	return l, nil
}

func (l *Log) writer(key, dest string) (*ingest.ChunkWriter, error) {
	if w, ok := l.writers[key]; ok {
		return w, nil
	}
	w, err := ingest.Create(dest)
	if err != nil {
		return nil, err
	}
	l.writers[key] = w
	return w, nil
}

// LogPredictions implements serve.PredictionLog.
func (l *Log) LogPredictions(ctx context.Context, b *predlog.Batch) error {
	f, err := b.Frame()
	if err != nil {
		return fmt.Errorf("prediction log: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w, err := l.writer(b.Model+"\x00"+b.Version, l.dest)
	if err != nil {
		return fmt.Errorf("prediction log: %w", err)
	}
	if err := w.Write(ctx, f); err != nil {
		return fmt.Errorf("prediction log: %w", err)
	}
	return nil
}

// LogFeedback implements serve.PredictionLog.
func (l *Log) LogFeedback(ctx context.Context, fb []predlog.Feedback) error {
	n := len(fb)
	model, req, label := make([]string, n), make([]string, n), make([]string, n)
	row, at := make([]int64, n), make([]int64, n)
	for i, x := range fb {
		model[i], req[i], label[i], row[i], at[i] = x.Model, x.RequestID, x.Label, int64(x.Row), x.Time.UnixNano()
	}
	f, err := frame.New(frame.NewString("model", model), frame.NewString("request_id", req), frame.NewInt("row", row),
		frame.NewString("label", label), frame.NewTime("time", at))
	if err != nil {
		return fmt.Errorf("prediction log feedback: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w, err := l.writer("\x00"+l.feedback, l.feedback)
	if err != nil {
		return fmt.Errorf("prediction log feedback: %w", err)
	}
	if err := w.Write(ctx, f); err != nil {
		return fmt.Errorf("prediction log feedback: %w", err)
	}
	return nil
}

// Close flushes and closes every writer.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var first error
	for k, w := range l.writers {
		if w.Rows() == 0 {
			w.Abort()
		} else if err := w.Close(); err != nil && first == nil {
			first = err
		}
		delete(l.writers, k)
	}
	return first
}
