package serve

import (
	"bytes"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// latencyBuckets are the upper bounds (seconds) of the latency histogram.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// metrics are the server's Prometheus metrics, kept in a registry of their
// own (client_golang) with the Go runtime and process collectors.
//
// Label sets are bounded: a series exists only for a served model (a
// request naming any other model counts in gyre_unknown_model_requests_total,
// labelled by endpoint alone), its served versions, the fixed endpoints,
// the status codes the server answers with and the model's input columns.
// Every request metric carries the same labels, model, version and
// endpoint (and code for the request count).
//
// The hot path resolves each (model, version, endpoint) label set once
// into a handles value (sync.Map, a comparable key, no label formatting),
// then adds to the children it holds: a few atomic operations a request.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	rows     *prometheus.CounterVec
	duration *prometheus.HistogramVec
	unseen   *prometheus.CounterVec
	unknown  *prometheus.CounterVec
	reloads  prometheus.Counter

	served  map[string]bool // model names: fixed at New
	handles sync.Map        // seriesKey → *handles
	unseenC sync.Map        // unseenKey → prometheus.Counter
}

type seriesKey struct{ model, version, endpoint string }

type unseenKey struct{ model, column string }

// handles are one label set's metric children.
type handles struct {
	rows     prometheus.Counter
	duration prometheus.Observer
	ok       prometheus.Counter // code 200, the common case
	codes    sync.Map           // int → prometheus.Counter
	key      seriesKey
	m        *metrics
}

func (h *handles) code(code int) prometheus.Counter {
	if code == http.StatusOK {
		return h.ok
	}
	if c, ok := h.codes.Load(code); ok {
		return c.(prometheus.Counter)
	}
	c := h.m.requests.WithLabelValues(h.key.model, h.key.version, h.key.endpoint, strconv.Itoa(code))
	h.codes.Store(code, c)
	return c
}

// newMetrics builds the registry for a server of the named models. dropped
// reads the prediction log's dropped-record count.
func newMetrics(names []string, dropped func() float64, models func() []modelVersion) *metrics {
	labels := []string{"model", "version", "endpoint"}
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gyre_requests_total",
			Help: "Prediction requests by model, version, endpoint and status code."}, append(labels, "code")),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gyre_predicted_rows_total",
			Help: "Rows predicted."}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gyre_request_duration_seconds",
			Help: "Prediction request latency.", Buckets: latencyBuckets}, labels),
		unseen: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gyre_unseen_categories_total",
			Help: "Input values of categories not seen in training (served, counted for monitoring)."}, []string{"model", "column"}),
		unknown: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gyre_unknown_model_requests_total",
			Help: "Prediction requests naming a model the server does not serve (no per-name series, so cardinality stays bounded)."}, []string{"endpoint"}),
		reloads: prometheus.NewCounter(prometheus.CounterOpts{Name: "gyre_model_reloads_total",
			Help: "Hot reloads of a new model version."}),
		served: map[string]bool{},
	}
	for _, n := range names {
		m.served[n] = true
	}
	started := time.Now()
	m.reg.MustRegister(m.requests, m.rows, m.duration, m.unseen, m.unknown, m.reloads,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gyre_prediction_log_dropped_total",
			Help: "Prediction log records dropped because the log queue was full or the log write failed."}, dropped),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gyre_uptime_seconds",
			Help: "Seconds since the server started."}, func() float64 { return float64(int64(time.Since(started).Seconds())) }),
		modelInfo{models},
	)
	return m
}

// modelVersion is a served model's current version, for gyre_model_info.
type modelVersion struct{ model, version string }

// modelInfo collects gyre_model_info, one series per served model at its
// current version.
type modelInfo struct{ models func() []modelVersion }

var modelInfoDesc = prometheus.NewDesc("gyre_model_info", "The served version of each model.", []string{"model", "version"}, nil)

// Describe implements prometheus.Collector.
func (c modelInfo) Describe(ch chan<- *prometheus.Desc) { ch <- modelInfoDesc }

// Collect implements prometheus.Collector.
func (c modelInfo) Collect(ch chan<- prometheus.Metric) {
	for _, mv := range c.models() {
		ch <- prometheus.MustNewConstMetric(modelInfoDesc, prometheus.GaugeValue, 1, mv.model, mv.version)
	}
}

// observe records one prediction request.
func (m *metrics) observe(model, version, endpoint string, code, rows int, d time.Duration) {
	if !m.served[model] {
		m.unknown.WithLabelValues(endpoint).Inc()
		return
	}
	key := seriesKey{model, version, endpoint}
	v, ok := m.handles.Load(key)
	if !ok {
		h := &handles{key: key, m: m,
			rows:     m.rows.WithLabelValues(model, version, endpoint),
			duration: m.duration.WithLabelValues(model, version, endpoint),
			ok:       m.requests.WithLabelValues(model, version, endpoint, "200")}
		v, _ = m.handles.LoadOrStore(key, h)
	}
	h := v.(*handles)
	h.code(code).Inc()
	if rows > 0 {
		h.rows.Add(float64(rows))
	}
	h.duration.Observe(d.Seconds())
}

// countUnseen counts unseen categories per input column.
func (m *metrics) countUnseen(model string, cols map[string]int) {
	for col, n := range cols {
		key := unseenKey{model, col}
		c, ok := m.unseenC.Load(key)
		if !ok {
			c, _ = m.unseenC.LoadOrStore(key, m.unseen.WithLabelValues(model, col))
		}
		c.(prometheus.Counter).Add(float64(n))
	}
}

// handleMetrics serves /metrics: the registry in the Prometheus text
// format, then any extra gauges installed with SetGauges (monitoring's
// drift scores).
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	if s.gauges == nil {
		s.metricsHandler.ServeHTTP(w, r)
		return
	}
	// The extra gauges come after the registry's families; both are text.
	rec := &bufferWriter{header: http.Header{}}
	r.Header.Del("Accept-Encoding")
	r.Header.Set("Accept", "text/plain")
	s.metricsHandler.ServeHTTP(rec, r)
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status())
	w.Write(rec.buf.Bytes())
	s.gauges(w)
}

// newMetricsHandler serves the registry.
func newMetricsHandler(m *metrics) http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// bufferWriter is a ResponseWriter kept in memory.
type bufferWriter struct {
	header http.Header
	buf    bytes.Buffer
	code   atomic.Int32
}

func (b *bufferWriter) Header() http.Header         { return b.header }
func (b *bufferWriter) Write(p []byte) (int, error) { return b.buf.Write(p) }
func (b *bufferWriter) WriteHeader(code int)        { b.code.Store(int32(code)) }
func (b *bufferWriter) status() int {
	if c := b.code.Load(); c != 0 {
		return int(c)
	}
	return http.StatusOK
}
