package predlog

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
)

// TestLatencyAcrossFormats reads one window over a file written before
// latencies were logged (no __latency_ns column) and one written with them:
// the old rows' latency is unknown (-1), the new ones come back as logged,
// an unknown one among them included.
func TestLatencyAcrossFormats(t *testing.T) {
	for name, l := range testLogs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			model := fmt.Sprintf("lat-%d", time.Now().UnixNano())
			t0 := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
			in := frame.MustNew(frame.NewFloat("x", []float64{1, 2}), frame.NewCategorical("c", []string{"a", "b"}, nil))
			pred := &bundle.Prediction{Values: []float64{3, 4}}
			old := NewBuilder(model, "1", xcSchema, nil)
			old.AddFrame("old", t0, in, pred)
			ob := old.Batch()
			if ob.Latency != nil {
				t.Fatalf("a batch without latencies has %v", ob.Latency)
			}
			if f, err := ob.Frame(); err != nil || f.Index(ColLatency) >= 0 {
				t.Fatalf("old layout: %v, has %s: %v", err, ColLatency, f.Index(ColLatency) >= 0)
			}
			if err := l.LogPredictions(ctx, ob); err != nil {
				t.Fatal(err)
			}
			nb := NewBuilder(model, "2", xcSchema, nil)
			nb.AddTimedFrame("new", t0.Add(time.Minute), 3*time.Millisecond, in, pred)
			nb.AddTimedFrame("unknown", t0.Add(2*time.Minute), -1, in.Slice(0, 1), &bundle.Prediction{Values: []float64{5}})
			nb.AddTimedRow("row", t0.Add(3*time.Minute), 750*time.Microsecond, []float64{9, 0}, []string{"", "a"}, []bool{true, true}, &bundle.Prediction{Values: []float64{6}})
			if err := l.LogPredictions(ctx, nb.Batch()); err != nil {
				t.Fatal(err)
			}
			lg, err := l.Read(ctx, Query{Model: model}, frame.Schema{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := []int64{-1, -1, 3e6, 3e6, -1, 750e3}
			if !slices.Equal(lg.Latency, want) {
				t.Errorf("latencies %v, want %v", lg.Latency, want)
			}
			if !slices.Equal(lg.RequestID, []string{"old", "old", "new", "new", "unknown", "row"}) {
				t.Errorf("requests %v", lg.RequestID)
			}
		})
	}
}

// TestWALSegmentWithoutLatency replays a 'P' record as a segment written
// before latencies were logged holds it (no latency trailer): its rows'
// latency is unknown.
func TestWALSegmentWithoutLatency(t *testing.T) {
	b := NewBuilder("m", "1", xcSchema, nil)
	in := frame.MustNew(frame.NewFloat("x", []float64{1, 2}), frame.NewCategorical("c", []string{"a", "b"}, nil))
	b.AddTimedFrame("r", time.Unix(1, 0), 2*time.Millisecond, in, &bundle.Prediction{Values: []float64{3, 4}})
	rec := b.appendWAL(nil, 0)
	got := NewBuilder("m", "1", xcSchema, nil)
	if err := got.addWAL(rec); err != nil {
		t.Fatal(err)
	}
	if l := got.Batch().Latency; !slices.Equal(l, []int64{2e6, 2e6}) {
		t.Errorf("replayed latencies %v, want 2 ms twice", l)
	}
	// the old record: the same bytes without the latency trailer
	old := NewBuilder("m", "1", xcSchema, nil)
	if err := old.addWAL(rec[:len(rec)-2*len(binary.AppendVarint(nil, 2e6))]); err != nil {
		t.Fatal(err)
	}
	ob := old.Batch()
	if ob.Len() != 2 || ob.Latency != nil {
		t.Errorf("old record: %d rows, latencies %v; want 2 rows, none known", ob.Len(), ob.Latency)
	}
	if err := old.addWAL(rec[:len(rec)-1]); err == nil {
		t.Error("a record with half its latency trailer was accepted")
	}
}
