package cli

import (
	"context"
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/monitor"
	"github.com/gyre-ml/gyre/internal/serve"
)

func init() {
	predictionLog = func(st *stores) serve.PredictionLog { return &storePredictionLog{log: monitor.NewLog(st.DB)} }
}

// storePredictionLog is serve's prediction log backed by the metadata
// store (tables prediction_chunks and feedback_chunks, columnar batches
// encoded by monitor.Log off the request path: serve's logger goroutine
// hands over up to a thousand records at a time).
type storePredictionLog struct {
	log *monitor.Log
}

// LogPredictions implements serve.PredictionLog.
func (l *storePredictionLog) LogPredictions(ctx context.Context, recs []serve.Record) error {
	out := make([]monitor.Record, len(recs))
	for i, r := range recs {
		out[i] = monitor.Record{Model: r.Model, Version: r.Version, RequestID: r.RequestID, Row: r.Row, Time: r.Time, Input: r.Input, Output: r.Output}
	}
	return l.log.LogPredictions(ctx, out)
}

// LogFeedback implements serve.PredictionLog.
func (l *storePredictionLog) LogFeedback(ctx context.Context, fbs []serve.Feedback) error {
	out := make([]monitor.Feedback, len(fbs))
	for i, f := range fbs {
		label, err := json.Marshal(f.Label)
		if err != nil {
			return err
		}
		out[i] = monitor.Feedback{Model: f.Model, RequestID: f.RequestID, Row: f.Row, Label: label, Time: f.Time}
	}
	return l.log.LogFeedback(ctx, out)
}

var _ serve.PredictionLog = (*storePredictionLog)(nil)

// monitorGauges returns a /metrics writer with drift scores and (estimated)
// performance of each served model over the last window of logged
// predictions, recomputed every refresh in the background until ctx ends.
// serve.go wires it with srv.SetGauges when predictions are logged.
func monitorGauges(ctx context.Context, st *stores, models []serve.Model, window, refresh time.Duration) func(io.Writer) {
	var mu sync.Mutex
	reports := map[string]*monitor.Report{}
	log := monitor.NewLog(st.DB)
	reg := &registryModels{reg: st.Registry}
	update := func() {
		for _, m := range models {
			b := m.Bundle
			version := m.Version
			if m.Reloadable {
				if rm, err := reg.load(ctx, m.Ref); err == nil {
					b, version = rm.Bundle, rm.Version
				}
			}
			rep, err := monitorLogged(ctx, log, b, m.Name, time.Now().Add(-window), monitor.Options{})
			if err != nil {
				continue
			}
			rep.Model, rep.Version = m.Name, version
			mu.Lock()
			reports[m.Name] = rep
			mu.Unlock()
		}
	}
	go func() {
		t := time.NewTicker(refresh)
		defer t.Stop()
		for {
			update()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func(w io.Writer) {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range models {
			if r := reports[m.Name]; r != nil {
				r.WriteGauges(w)
			}
		}
	}
}

// monitorLogged analyses a model's logged predictions since a time.
func monitorLogged(ctx context.Context, log *monitor.Log, b *bundle.Bundle, name string, since time.Time, o monitor.Options) (*monitor.Report, error) {
	ref, err := monitor.BundleReference(b)
	if err != nil {
		return nil, err
	}
	cur, err := log.Current(ctx, b, monitor.Query{Model: name, Since: since})
	if err != nil {
		return nil, err
	}
	if cur.Frame.NumRows() == 0 {
		return nil, errNoLogged
	}
	return monitor.Analyze(ctx, b, ref, cur, o)
}
