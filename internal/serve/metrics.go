package serve

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// latencyBuckets are the upper bounds (seconds) of the latency histogram.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// series is one label set's request counters and latency histogram.
type series struct {
	labels  string
	count   atomic.Int64
	errors  atomic.Int64
	rows    atomic.Int64
	sumNs   atomic.Int64
	buckets []atomic.Int64 // per bucket, not cumulative
}

// metrics are the server's Prometheus metrics, kept lock-free on the hot
// path: two sync.Map lookups by comparable struct keys (no label formatting)
// and a few atomic adds per request. Label strings are built once, when a
// series first appears.
type metrics struct {
	series  sync.Map // seriesKey → *series
	codes   sync.Map // codeKey → *counter
	unseen  sync.Map // unseenKey → *counter
	reloads atomic.Int64
	started time.Time
}

type seriesKey struct{ model, version, endpoint string }

type codeKey struct {
	model, endpoint string
	code            int
}

type unseenKey struct{ model, column string }

// counter is one labelled Prometheus counter.
type counter struct {
	labels string
	n      atomic.Int64
}

func newMetrics() *metrics { return &metrics{started: time.Now()} }

func (m *metrics) observe(model, version, endpoint string, code, rows int, d time.Duration) {
	key := seriesKey{model, version, endpoint}
	v, ok := m.series.Load(key)
	if !ok {
		labels := fmt.Sprintf(`model=%q,version=%q,endpoint=%q`, model, version, endpoint)
		v, _ = m.series.LoadOrStore(key, &series{labels: labels, buckets: make([]atomic.Int64, len(latencyBuckets))})
	}
	s := v.(*series)
	s.count.Add(1)
	s.rows.Add(int64(rows))
	if code >= 400 {
		s.errors.Add(1)
	}
	s.sumNs.Add(int64(d))
	// One atomic add in the request's own bucket (not one per cumulative
	// bucket); write() accumulates.
	sec := d.Seconds()
	for i, ub := range latencyBuckets {
		if sec <= ub {
			s.buckets[i].Add(1)
			break
		}
	}
	ckey := codeKey{model, endpoint, code}
	c, ok := m.codes.Load(ckey)
	if !ok {
		c, _ = m.codes.LoadOrStore(ckey, &counter{labels: fmt.Sprintf(`model=%q,endpoint=%q,code="%d"`, model, endpoint, code)})
	}
	c.(*counter).n.Add(1)
}

func (m *metrics) countUnseen(model string, cols map[string]int) {
	for col, n := range cols {
		key := unseenKey{model, col}
		c, ok := m.unseen.Load(key)
		if !ok {
			c, _ = m.unseen.LoadOrStore(key, &counter{labels: fmt.Sprintf(`model=%q,column=%q`, model, col)})
		}
		c.(*counter).n.Add(int64(n))
	}
}

// write renders the Prometheus text exposition format.
func (m *metrics) write(w io.Writer, s *Server) {
	var all []*series
	m.series.Range(func(_, v any) bool { all = append(all, v.(*series)); return true })
	sort.Slice(all, func(i, j int) bool { return all[i].labels < all[j].labels })

	fmt.Fprintln(w, "# HELP gyre_requests_total Prediction requests by model, version, endpoint and status code.")
	fmt.Fprintln(w, "# TYPE gyre_requests_total counter")
	printSorted(w, &m.codes, "gyre_requests_total")
	fmt.Fprintln(w, "# HELP gyre_request_errors_total Prediction requests answered with a 4xx or 5xx status.")
	fmt.Fprintln(w, "# TYPE gyre_request_errors_total counter")
	for _, s := range all {
		fmt.Fprintf(w, "gyre_request_errors_total{%s} %d\n", s.labels, s.errors.Load())
	}
	fmt.Fprintln(w, "# HELP gyre_predicted_rows_total Rows predicted.")
	fmt.Fprintln(w, "# TYPE gyre_predicted_rows_total counter")
	for _, s := range all {
		fmt.Fprintf(w, "gyre_predicted_rows_total{%s} %d\n", s.labels, s.rows.Load())
	}
	fmt.Fprintln(w, "# HELP gyre_request_duration_seconds Prediction request latency.")
	fmt.Fprintln(w, "# TYPE gyre_request_duration_seconds histogram")
	for _, s := range all {
		var cum int64
		for i, ub := range latencyBuckets {
			cum += s.buckets[i].Load()
			fmt.Fprintf(w, "gyre_request_duration_seconds_bucket{%s,le=\"%g\"} %d\n", s.labels, ub, cum)
		}
		fmt.Fprintf(w, "gyre_request_duration_seconds_bucket{%s,le=\"+Inf\"} %d\n", s.labels, s.count.Load())
		fmt.Fprintf(w, "gyre_request_duration_seconds_sum{%s} %g\n", s.labels, float64(s.sumNs.Load())/1e9)
		fmt.Fprintf(w, "gyre_request_duration_seconds_count{%s} %d\n", s.labels, s.count.Load())
	}
	fmt.Fprintln(w, "# HELP gyre_unseen_categories_total Input values of categories not seen in training (served, counted for monitoring).")
	fmt.Fprintln(w, "# TYPE gyre_unseen_categories_total counter")
	printSorted(w, &m.unseen, "gyre_unseen_categories_total")
	fmt.Fprintln(w, "# HELP gyre_model_info The served version of each model.")
	fmt.Fprintln(w, "# TYPE gyre_model_info gauge")
	for _, name := range s.names {
		l := s.models[name].cur.Load()
		fmt.Fprintf(w, "gyre_model_info{model=%q,version=%q} 1\n", name, l.version)
	}
	fmt.Fprintln(w, "# HELP gyre_model_reloads_total Hot reloads of a new model version.")
	fmt.Fprintln(w, "# TYPE gyre_model_reloads_total counter")
	fmt.Fprintf(w, "gyre_model_reloads_total %d\n", m.reloads.Load())
	fmt.Fprintln(w, "# HELP gyre_prediction_log_dropped_total Prediction log records dropped because the log queue was full.")
	fmt.Fprintln(w, "# TYPE gyre_prediction_log_dropped_total counter")
	fmt.Fprintf(w, "gyre_prediction_log_dropped_total %d\n", s.dropped.Load())
	fmt.Fprintln(w, "# HELP gyre_uptime_seconds Seconds since the server started.")
	fmt.Fprintln(w, "# TYPE gyre_uptime_seconds gauge")
	fmt.Fprintf(w, "gyre_uptime_seconds %g\n", math.Round(time.Since(m.started).Seconds()))
	if g := s.gauges; g != nil {
		g(w)
	}
}

func printSorted(w io.Writer, m *sync.Map, name string) {
	var lines []string
	m.Range(func(_, v any) bool {
		c := v.(*counter)
		lines = append(lines, fmt.Sprintf("%s{%s} %d", name, c.labels, c.n.Load()))
		return true
	})
	sort.Strings(lines)
	if len(lines) > 0 {
		fmt.Fprintln(w, strings.Join(lines, "\n"))
	}
}
