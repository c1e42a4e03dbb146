package monitor

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/gyre-ml/gyre/internal/predlog"
)

// LatencyBucket is one stretch of a served model's logged traffic: how
// many requests and rows, and the percentiles of the requests' latency
// (from arrival to prediction, as gyre serve logs it).
type LatencyBucket struct {
	// Start is the bucket's start; it holds the requests predicted in
	// [Start, Start+step).
	Start time.Time `json:"start"`
	// Requests and Rows count the logged requests and rows.
	Requests int `json:"requests"`
	Rows     int `json:"rows"`
	// Timed is how many of the requests carry a latency (a log written
	// before latencies were logged has none).
	Timed int `json:"timed"`
	// P50, P95, P99 and Max are latency percentiles over the timed
	// requests, in milliseconds (nearest rank); nil when none is timed.
	P50 *float64 `json:"p50_ms"`
	P95 *float64 `json:"p95_ms"`
	P99 *float64 `json:"p99_ms"`
	Max *float64 `json:"max_ms"`
}

// latencySteps are the bucket widths LatencyStep chooses from.
var latencySteps = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour,
	3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}

// LatencyStep is the narrowest of 1m, 5m, 15m, 1h, 3h, 6h, 12h and 24h that
// cuts span into at most maxBuckets buckets (24h when none does).
func LatencyStep(span time.Duration, maxBuckets int) time.Duration {
	for _, s := range latencySteps {
		if span/s <= time.Duration(maxBuckets) {
			return s
		}
	}
	return latencySteps[len(latencySteps)-1]
}

// MaxLatencyBuckets bounds the buckets LatencyOverTime returns.
const MaxLatencyBuckets = 10000

// LatencyOverTime cuts logged predictions (in time order, as predlog's Read
// returns them) into buckets of step, aligned to the Unix epoch in UTC,
// from the first row's bucket to the last one's, empty buckets between
// included. A request is counted once, by its first row (row 0), and its
// latency is that row's. It is an error when step is not positive or the
// rows span more than MaxLatencyBuckets buckets.
func LatencyOverTime(b *predlog.Batch, step time.Duration) ([]LatencyBucket, error) {
	if step <= 0 {
		return nil, fmt.Errorf("latency over time: step %v: want a positive duration", step)
	}
	n := b.Len()
	if n == 0 {
		return []LatencyBucket{}, nil
	}
	first, last := b.Time[0], b.Time[n-1]
	if last < first {
		return nil, fmt.Errorf("latency over time: rows are not in time order")
	}
	lo := floorStep(first, step)
	k := (floorStep(last, step)-lo)/int64(step) + 1
	if k > MaxLatencyBuckets {
		return nil, fmt.Errorf("latency over time: %v to %v in steps of %v is %d buckets, more than %d: use a wider step",
			time.Unix(0, first).UTC(), time.Unix(0, last).UTC(), step, k, MaxLatencyBuckets)
	}
	out := make([]LatencyBucket, k)
	for i := range out {
		out[i].Start = time.Unix(0, lo+int64(i)*int64(step)).UTC()
	}
	var ms []float64
	cur := -1
	finish := func() {
		if cur >= 0 && len(ms) > 0 {
			setPercentiles(&out[cur], ms)
		}
		ms = ms[:0]
	}
	for i, t := range b.Time {
		j := int((floorStep(t, step) - lo) / int64(step))
		if j != cur {
			finish()
			cur = j
		}
		out[j].Rows++
		if b.Row[i] != 0 {
			continue
		}
		out[j].Requests++
		if b.Latency != nil && b.Latency[i] >= 0 {
			out[j].Timed++
			ms = append(ms, float64(b.Latency[i])/1e6)
		}
	}
	finish()
	return out, nil
}

// floorStep is t (unix nanoseconds) rounded down to a multiple of step.
func floorStep(t int64, step time.Duration) int64 {
	s := int64(step)
	q := t / s
	if t < 0 && t%s != 0 {
		q--
	}
	return q * s
}

// setPercentiles sets a bucket's percentiles from its latencies (sorted
// in place).
func setPercentiles(b *LatencyBucket, ms []float64) {
	slices.Sort(ms)
	rank := func(p float64) *float64 {
		i := int(math.Ceil(p*float64(len(ms)))) - 1
		v := ms[max(0, min(i, len(ms)-1))]
		return &v
	}
	b.P50, b.P95, b.P99, b.Max = rank(0.50), rank(0.95), rank(0.99), rank(1)
}
