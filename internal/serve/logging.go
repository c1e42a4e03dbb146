package serve

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/predlog"
)

// The logger goroutine hands a model version's batch to the log when it
// holds logBatchRows rows, and every logFlushEvery otherwise.
const (
	logBatchRows  = 8192
	logFlushEvery = time.Second
)

// predLog is one request's logged prediction, queued as raw values: the
// logger goroutine appends them to its batch, not the request.
type predLog struct {
	model, version, reqID string
	at                    time.Time
	// latency is how long the request took from its arrival (at) to its
	// prediction: decoding, the model and the checks, not the writing of
	// the answer (in durable mode the log is written before that).
	latency time.Duration
	schema  frame.Schema
	frame   *frame.Frame // the request's rows, or nil with row set
	row     *rowInput
	pred    *bundle.Prediction
}

// rowInput is a single-row request's input values, copied out of the
// pooled row.
type rowInput struct {
	num     []float64
	text    []string
	present []bool
}

func newFrameLog(model string, cur *loaded, reqID string, at time.Time, f *frame.Frame, pred *bundle.Prediction) *predLog {
	return &predLog{model: model, version: cur.version, reqID: reqID, at: at, latency: time.Since(at), schema: cur.b.Manifest.Input, frame: f, pred: pred}
}

func newRowLog(model string, cur *loaded, reqID string, at time.Time, row *bundle.Row, pred *bundle.Prediction) *predLog {
	latency := time.Since(at)
	n := len(cur.row.kinds)
	in := &rowInput{num: make([]float64, n), text: make([]string, n), present: make([]bool, n)}
	for i := range n {
		num, text, present := row.Input(i)
		in.num[i], in.present[i] = num, present
		if present && text != nil {
			in.text[i] = string(text)
		}
	}
	p := &bundle.Prediction{Values: append([]float64(nil), pred.Values...), Classes: pred.Classes}
	if pred.Proba != nil {
		p.Proba = append([]float64(nil), pred.Proba...)
	}
	return &predLog{model: model, version: cur.version, reqID: reqID, at: at, latency: latency, schema: cur.row.schema, row: in, pred: p}
}

// rows is the number of logged rows.
func (l *predLog) rows() int {
	if l.frame != nil {
		return l.frame.NumRows()
	}
	return 1
}

// itemRows is the number of records a queue item holds.
func itemRows(item any) int {
	switch x := item.(type) {
	case *predLog:
		return x.rows()
	case []predlog.Feedback:
		return len(x)
	}
	return 0
}

// enqueue offers a log item without ever blocking the request; a full
// queue drops it and counts its records. In durable mode it waits until
// the item is written ahead instead, and an error is the request's answer.
func (s *Server) enqueue(item any) error {
	if s.queue == nil {
		return nil
	}
	if s.opt.Durable != nil {
		return s.enqueueDurable(item)
	}
	select {
	case s.queue <- item:
		s.unstored.Add(int64(itemRows(item)))
	default:
		s.dropped.Add(int64(itemRows(item)))
	}
	return nil
}

// batches are the logger goroutine's batches being built, one per model
// version.
type batches struct {
	byVersion map[[2]string]*predlog.Builder
	order     [][2]string
	rows      int
	feedback  []predlog.Feedback
}

func (b *batches) add(item any) {
	switch x := item.(type) {
	case *predLog:
		k := [2]string{x.model, x.version}
		bl := b.byVersion[k]
		if bl == nil {
			bl = predlog.NewBuilder(x.model, x.version, x.schema, x.pred.Classes)
			b.byVersion[k] = bl
			b.order = append(b.order, k)
		}
		if x.frame != nil {
			bl.AddTimedFrame(x.reqID, x.at, x.latency, x.frame, x.pred)
		} else {
			bl.AddTimedRow(x.reqID, x.at, x.latency, x.row.num, x.row.text, x.row.present, x.pred)
		}
		b.rows += x.rows()
	case []predlog.Feedback:
		b.feedback = append(b.feedback, x...)
	}
}

// logLoop drains the logging queue into batches until ctx ends, then
// flushes. A batch the log refuses is dropped and counted.
func (s *Server) logLoop(ctx context.Context) {
	defer s.wg.Done()
	pending := &batches{byVersion: map[[2]string]*predlog.Builder{}}
	flush := func() {
		bctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, k := range pending.order {
			b := pending.byVersion[k].Batch()
			// Unstored until the write returns: a crash during it loses
			// the batch.
			err := s.opt.Log.LogPredictions(bctx, b)
			s.unstored.Add(-int64(b.Len()))
			if err != nil {
				s.opt.Logger.Warn("prediction log write failed", "model", k[0], "version", k[1], "records", b.Len(), "err", err)
				s.dropped.Add(int64(b.Len()))
				continue
			}
			s.stored.Add(int64(b.Len()))
		}
		clear(pending.byVersion)
		pending.order, pending.rows = pending.order[:0], 0
		if fbs := pending.feedback; len(fbs) > 0 {
			err := s.opt.Log.LogFeedback(bctx, fbs)
			s.unstored.Add(-int64(len(fbs)))
			if err != nil {
				s.opt.Logger.Warn("feedback write failed", "records", len(fbs), "err", err)
				s.dropped.Add(int64(len(fbs)))
			}
			pending.feedback = nil
		}
	}
	tick := time.NewTicker(logFlushEvery)
	defer tick.Stop()
	add := func(item any) {
		pending.add(item)
		if pending.rows >= logBatchRows || len(pending.feedback) >= logBatchRows {
			flush()
		}
	}
	for {
		select {
		case item := <-s.queue:
			add(item)
		case <-tick.C:
			flush()
		case <-ctx.Done():
			for {
				select {
				case item := <-s.queue:
					add(item)
				default:
					flush()
					return
				}
			}
		}
	}
}

// registerLogMetrics adds the prediction log's counters to /metrics.
func (s *Server) registerLogMetrics() {
	s.metrics.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gyre_prediction_log_stored_total",
			Help: "Prediction log records stored (handed to the log and written)."}, func() float64 { return float64(s.stored.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gyre_prediction_log_unstored",
			Help: "Prediction log records accepted and not yet stored: what a crash would lose now, unless the log is durable (--log-durable: they are written ahead)."},
			func() float64 { return float64(s.unstored.Load()) }),
	)
	if s.opt.Durable != nil {
		s.metrics.reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gyre_prediction_log_replayed_total",
				Help: "Prediction log records a previous run left in the write-ahead directory, stored at start."}, func() float64 { return float64(s.replayed.Load()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gyre_prediction_log_torn_bytes_total",
				Help: "Bytes of torn write-ahead records dropped at start (cut short by a crash while written, never acknowledged)."}, func() float64 { return float64(s.tornBytes.Load()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gyre_prediction_log_deferred_total",
				Help: "Prediction log records whose store failed, kept in the write-ahead directory for the next start."}, func() float64 { return float64(s.deferred.Load()) }),
		)
	}
}
