package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gyre-ml/gyre/internal/predlog"
)

// Durable mode (Options.Durable): the logger adds each sampled request to
// a write-ahead directory (predlog.WAL) and fsyncs it before the request is
// answered, so no answered prediction is lost when the process is killed.
// Requests wait in the queue rather than being dropped (backpressure), and
// the requests that arrive while one fsync runs share the next one (group
// commit). A segment is cut every logFlushEvery or logBatchRows rows, and
// its batches are stored by a second goroutine, which removes the segment
// file once they are; what a killed process did not store is replayed by
// the next start.

// durableItem is a queued log item whose request waits for done: nil once
// the item is fsynced, the error otherwise.
type durableItem struct {
	item any
	done chan error
}

// errLogStopped answers a request that came after the logger stopped.
var errLogStopped = errors.New("the prediction log has stopped (the server is shutting down)")

// enqueueDurable queues a log item and waits until it is on disk.
func (s *Server) enqueueDurable(item any) error {
	d := &durableItem{item: item, done: make(chan error, 1)}
	select {
	case s.queue <- d:
		s.unstored.Add(int64(itemRows(item)))
	case <-s.logStopped:
		return s.durableError(errLogStopped)
	}
	select {
	case err := <-d.done:
		return s.durableError(err)
	case <-s.logExited:
		select {
		case err := <-d.done:
			return s.durableError(err)
		default:
			return s.durableError(errLogStopped)
		}
	}
}

// durableError is the answer to a request whose log record is not on disk:
// 503, since durable mode answers only what it logged.
func (s *Server) durableError(err error) error {
	if err == nil {
		return nil
	}
	return &RequestError{Status: http.StatusServiceUnavailable, Msg: "not answered: the durable prediction log could not write this request ahead: " + err.Error()}
}

// durableLoop is the logger goroutine in durable mode.
func (s *Server) durableLoop(ctx context.Context) {
	defer s.wg.Done()
	defer close(s.logExited)
	w := s.opt.Durable
	segs := make(chan *predlog.Segment, 2)
	storerDone := make(chan struct{})
	go func() {
		defer close(storerDone)
		for seg := range segs {
			s.storeSegment(seg)
		}
	}()
	var waiting []chan error
	add := func(d *durableItem) {
		switch x := d.item.(type) {
		case *predLog:
			if x.frame != nil {
				w.AddFrame(x.model, x.version, x.schema, x.reqID, x.at, x.latency, x.frame, x.pred)
			} else {
				w.AddRow(x.model, x.version, x.schema, x.reqID, x.at, x.latency, x.row.num, x.row.text, x.row.present, x.pred)
			}
		case []predlog.Feedback:
			w.AddFeedback(x)
		}
		waiting = append(waiting, d.done)
	}
	cut := func() {
		seg, err := w.Cut()
		if err != nil {
			s.opt.Logger.Warn("prediction log: cutting the write-ahead segment failed", "err", err)
		}
		if seg != nil {
			segs <- seg
		}
	}
	commit := func() {
		err := w.Sync()
		for _, c := range waiting {
			c <- err
		}
		waiting = waiting[:0]
		if err != nil {
			s.opt.Logger.Warn("prediction log: write-ahead fsync failed; its requests were answered 503", "err", err)
			cut() // a fresh segment: the failed one is stored from memory, and replay stops where it tore
			return
		}
		if w.Rows() >= logBatchRows || w.Feedback() >= logBatchRows {
			cut()
		}
	}
	drain := func() {
		for len(waiting) < logBatchRows {
			select {
			case d := <-s.queue:
				add(d.(*durableItem))
			default:
				return
			}
		}
	}
	tick := time.NewTicker(logFlushEvery)
	defer tick.Stop()
	for {
		select {
		case d := <-s.queue:
			add(d.(*durableItem))
			drain()
			commit()
		case <-tick.C:
			cut()
		case <-ctx.Done():
			close(s.logStopped)
			for {
				drain()
				if len(waiting) == 0 {
					break
				}
				commit()
			}
			cut()
			close(segs)
			<-storerDone
			if err := w.Close(); err != nil {
				s.opt.Logger.Warn("prediction log: closing the write-ahead log failed", "err", err)
			}
			return
		}
	}
}

// storeRetryWait is the first wait before storing a segment again (then
// twice, and four times as long).
var storeRetryWait = time.Second

// storeSegment stores a cut segment's batches and feedback, retrying, and
// removes its file once they are stored; a segment it cannot store stays
// on disk for the next start's replay.
func (s *Server) storeSegment(seg *predlog.Segment) {
	err := s.storeBatches(seg)
	for wait := storeRetryWait; err != nil && wait <= 4*storeRetryWait; wait *= 2 {
		time.Sleep(wait)
		err = s.storeBatches(seg)
	}
	rows := 0
	for _, b := range seg.Batches {
		rows += b.Len()
	}
	s.unstored.Add(-int64(rows + len(seg.Feedback)))
	if err != nil {
		s.opt.Logger.Warn("prediction log write failed; the write-ahead segment stays for the next start", "records", rows, "err", err)
		s.deferred.Add(int64(rows))
		return
	}
	s.stored.Add(int64(rows))
	if err := seg.Done(); err != nil {
		s.opt.Logger.Warn("prediction log: removing a stored write-ahead segment failed (the next start stores it again, adding nothing)", "err", err)
	}
}

func (s *Server) storeBatches(seg *predlog.Segment) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, b := range seg.Batches {
		if err := s.opt.Log.LogPredictions(ctx, b); err != nil {
			return err
		}
	}
	if len(seg.Feedback) > 0 {
		if err := s.opt.Log.LogFeedback(ctx, seg.Feedback); err != nil {
			return err
		}
	}
	return nil
}

// replay stores what a previous process left in the write-ahead directory,
// before the server takes requests.
func (s *Server) replay(ctx context.Context) error {
	rep, err := s.opt.Durable.Replay(ctx, s.opt.Log)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	s.replayed.Store(int64(rep.Rows))
	s.tornBytes.Store(rep.TornBytes)
	if rep.Segments > 0 {
		s.opt.Logger.Info("prediction log: replayed the write-ahead log of a previous run", "dir", s.opt.Durable.Dir(),
			"segments", rep.Segments, "records", rep.Rows, "feedback", rep.Feedback, "torn_segments", rep.TornSegments, "torn_bytes", rep.TornBytes)
	}
	return nil
}
