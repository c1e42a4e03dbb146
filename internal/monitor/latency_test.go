package monitor

import (
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/predlog"
)

// TestLatencyOverTime buckets requests by their first row: percentiles by
// nearest rank over the timed requests, an empty bucket between kept with
// no percentiles, a request's other rows counted as rows only.
func TestLatencyOverTime(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	b := &predlog.Batch{}
	add := func(at time.Duration, row int32, ms float64) {
		b.Time = append(b.Time, t0.Add(at).UnixNano())
		b.Row = append(b.Row, row)
		lat := int64(ms * 1e6)
		if ms < 0 {
			lat = -1
		}
		b.Latency = append(b.Latency, lat)
		b.RequestID = append(b.RequestID, "")
	}
	// hour 10: 100 requests of 1..100 ms, the 100th with two more rows
	for i := 1; i <= 100; i++ {
		add(time.Duration(i)*time.Second, 0, float64(i))
	}
	add(100*time.Second, 1, 100)
	add(100*time.Second, 2, 100)
	// hour 11: nothing; hour 12: one timed request and one from an old log
	add(2*time.Hour+time.Minute, 0, 7.5)
	add(2*time.Hour+2*time.Minute, 0, -1)
	got, err := LatencyOverTime(b, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d buckets, want 3: %+v", len(got), got)
	}
	h := got[0]
	if !h.Start.Equal(t0) || h.Requests != 100 || h.Rows != 102 || h.Timed != 100 {
		t.Errorf("first bucket %v: %d requests, %d rows, %d timed; want %v, 100, 102, 100", h.Start, h.Requests, h.Rows, h.Timed, t0)
	}
	for name, p := range map[string]struct {
		got  *float64
		want float64
	}{"p50": {h.P50, 50}, "p95": {h.P95, 95}, "p99": {h.P99, 99}, "max": {h.Max, 100}} {
		if p.got == nil || *p.got != p.want {
			t.Errorf("%s = %v, want %v", name, p.got, p.want)
		}
	}
	if e := got[1]; e.Requests != 0 || e.P50 != nil || !e.Start.Equal(t0.Add(time.Hour)) {
		t.Errorf("empty bucket %+v", e)
	}
	if l := got[2]; l.Requests != 2 || l.Timed != 1 || l.P99 == nil || *l.P99 != 7.5 {
		t.Errorf("last bucket %+v, want 2 requests, 1 timed, p99 7.5", l)
	}
	if _, err := LatencyOverTime(b, time.Nanosecond); err == nil {
		t.Error("a nanosecond step over two hours was accepted")
	}
	if s := LatencyStep(14*24*time.Hour, 400); s != time.Hour {
		t.Errorf("step for 14 days = %v, want 1h", s)
	}
}
