package serve

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/predlog"
)

// Resolver resolves a model reference (a registry reference such as
// NAME@ALIAS) to a bundle and its version. The registry satisfies it through
// a small adapter in the command line.
type Resolver interface {
	Resolve(ctx context.Context, ref string) (b *bundle.Bundle, version string, err error)
}

// PredictionLog receives sampled predictions, in batches of one model
// version, and feedback. Calls come from one background goroutine, never
// from a request. *predlog.Log satisfies it.
type PredictionLog interface {
	LogPredictions(ctx context.Context, b *predlog.Batch) error
	LogFeedback(ctx context.Context, fb []predlog.Feedback) error
}

// Model is one model to serve.
type Model struct {
	// Name is the name the model is served under.
	Name string
	// Ref is the reference it was loaded from; registry references (not
	// bundle paths) are re-resolved for hot reload.
	Ref string
	// Bundle and Version are the initially loaded model.
	Bundle  *bundle.Bundle
	Version string
	// Reloadable marks Ref as a registry reference to watch.
	Reloadable bool
}

// Options configure a Server.
type Options struct {
	// MaxBodyBytes limits request bodies (default 16 MiB).
	MaxBodyBytes int64
	// ReadTimeout bounds reading a request, so slow clients time out
	// (default 30s).
	ReadTimeout time.Duration
	// ReloadInterval is how often registry references are re-resolved
	// (default 2s; 0 disables watching).
	ReloadInterval time.Duration
	// Resolver re-resolves reloadable references.
	Resolver Resolver
	// Log receives sampled predictions and feedback (optional).
	Log PredictionLog
	// Sample is the share of requests logged, in [0, 1] (default 1 when Log
	// is set).
	Sample float64
	// QueueSize bounds the logging queue (default 10000 records).
	QueueSize int
	// Durable, when set (with Log), makes the prediction log durable: each
	// sampled request is written ahead to this directory and fsynced
	// before it is answered (a request whose record cannot be written is
	// answered 503, never answered unlogged), a full queue makes requests
	// wait instead of dropping records, and Serve first stores what a
	// previous process left there. The server closes it when Serve
	// returns.
	Durable *predlog.WAL
	// Logger for server events (default slog.Default()).
	Logger *slog.Logger
	// Version is the Gyre version reported by /version and /v2.
	Version string
	// GCPercent is the garbage collector's target while serving: 0 picks
	// one when the GOGC environment variable is unset and the loaded models
	// are small (heap under 64 MiB at start) so that the heap may grow by
	// 128 MiB between collections (see gcPercentFor): collections become
	// rare, which cuts CPU per request and the latency tail their mark
	// phases cause. A negative value leaves the runtime's setting alone.
	// The previous setting is restored when Serve returns.
	GCPercent int
	// MaxConnsPerClient caps the connections one client address may hold
	// open, so one client cannot take every socket (default 256; a
	// negative value removes the cap, as behind a load balancer whose
	// connections all come from one address). Connections past the cap
	// are answered 429 and closed.
	MaxConnsPerClient int
}

// defaultMaxConnsPerClient is Options.MaxConnsPerClient's default.
const defaultMaxConnsPerClient = 256

// Server serves models over HTTP.
type Server struct {
	opt     Options
	models  map[string]*entry
	names   []string
	metrics *metrics
	// metricsHandler serves the metrics registry.
	metricsHandler http.Handler
	// draining is set when shutdown starts (see drainConn).
	draining atomic.Bool
	queue    chan any
	dropped  atomic.Int64
	stored   atomic.Int64
	// unstored counts the records queued or in a batch being built, not
	// yet stored: what a crash would lose now without Durable (written
	// ahead with it).
	unstored atomic.Int64
	// durable mode: records a failed store left in the write-ahead
	// directory for the next start, and what the start replayed
	deferred, replayed, tornBytes atomic.Int64
	// logStopped closes when the durable logger stops taking records,
	// logExited when it has answered the last of them.
	logStopped, logExited chan struct{}
	wg                    sync.WaitGroup
	mux                   *http.ServeMux
	// gauges, when set, writes extra Prometheus gauges (e.g. drift scores
	// from monitoring) into /metrics.
	gauges func(io.Writer)
}

// SetGauges installs a writer of extra Prometheus metrics for /metrics.
func (s *Server) SetGauges(f func(io.Writer)) { s.gauges = f }

// entry is a served model whose current version swaps atomically.
type entry struct {
	name       string
	ref        string
	reloadable bool
	cur        atomic.Pointer[loaded]
	reloadMu   sync.Mutex
}

type loaded struct {
	b       *bundle.Bundle
	version string
	at      time.Time
	// row is the compiled single-row path, nil when the bundle needs the
	// general one.
	row *rowPlan
}

func newLoaded(b *bundle.Bundle, version string) *loaded {
	return &loaded{b: b, version: version, at: time.Now(), row: newRowPlan(b)}
}

// New builds a server for the models.
func New(models []Model, opt Options) (*Server, error) {
	if len(models) == 0 {
		return nil, errors.New("serve: no models")
	}
	if opt.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("serve: the request body limit is %d bytes: give a positive size (or 0 for the default, 16 MiB)", opt.MaxBodyBytes)
	}
	if opt.MaxBodyBytes == 0 {
		opt.MaxBodyBytes = 16 << 20
	}
	if opt.MaxBodyBytes > math.MaxInt32 {
		return nil, fmt.Errorf("serve: the request body limit %d is over 2 GiB: requests that large belong in batch scoring (gyre predict)", opt.MaxBodyBytes)
	}
	if opt.MaxConnsPerClient == 0 {
		opt.MaxConnsPerClient = defaultMaxConnsPerClient
	}
	if opt.ReadTimeout == 0 {
		opt.ReadTimeout = 30 * time.Second
	}
	if opt.QueueSize == 0 {
		opt.QueueSize = 10000
	}
	if opt.Durable != nil && opt.Log == nil {
		return nil, errors.New("serve: a durable prediction log needs a prediction log to store into")
	}
	if opt.Log != nil && opt.Sample == 0 {
		opt.Sample = 1
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	s := &Server{opt: opt, models: map[string]*entry{}}
	for _, m := range models {
		if _, dup := s.models[m.Name]; dup {
			return nil, fmt.Errorf("serve: two models named %q: name them apart", m.Name)
		}
		e := &entry{name: m.Name, ref: m.Ref, reloadable: m.Reloadable}
		e.cur.Store(newLoaded(m.Bundle, m.Version))
		s.models[m.Name] = e
		s.names = append(s.names, m.Name)
	}
	sort.Strings(s.names)
	s.metrics = newMetrics(s.names, func() float64 { return float64(s.dropped.Load()) }, s.servedVersions)
	s.metricsHandler = newMetricsHandler(s.metrics)
	if opt.Log != nil {
		s.queue = make(chan any, opt.QueueSize)
		s.logStopped, s.logExited = make(chan struct{}), make(chan struct{})
		s.registerLogMetrics()
	}
	s.routes()
	return s, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

// ListenAndServe serves on addr until ctx is cancelled, then shuts down
// gracefully: it stops accepting, drains in-flight requests (up to 30s) and
// flushes the prediction log. ready, if non-nil, receives the bound address.
func (s *Server) ListenAndServe(ctx context.Context, addr string, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve: listen %s: %w", addr, err)
	}
	return s.Serve(ctx, ln, ready)
}

// Serve serves on ln; see ListenAndServe.
func (s *Server) Serve(ctx context.Context, ln net.Listener, ready func(net.Addr)) error {
	hs := s.transport()
	if pct := gcPercent(s.opt); pct > 0 {
		defer debug.SetGCPercent(debug.SetGCPercent(pct))
	}
	bg, stopBG := context.WithCancel(context.Background())
	defer stopBG()
	switch {
	case s.opt.Durable != nil:
		if err := s.replay(ctx); err != nil {
			s.opt.Durable.Close()
			return err
		}
		s.wg.Add(1)
		go s.durableLoop(bg)
	case s.queue != nil:
		s.wg.Add(1)
		go s.logLoop(bg)
	}
	if s.opt.ReloadInterval > 0 && s.opt.Resolver != nil {
		s.wg.Add(1)
		go s.watch(bg)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(drainListener{ln, s}) }()
	if ready != nil {
		ready(ln.Addr())
	}
	select {
	case err := <-errc:
		stopBG()
		s.wg.Wait()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s.draining.Store(true)
	err := hs.ShutdownWithContext(shutdown)
	stopBG()
	s.wg.Wait()
	if err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	return nil
}

// gcHeadroom is how much the heap may grow between collections while
// serving small models.
const gcHeadroom = 128 << 20

// gcPercent is the GC target to serve with under opt, or 0 to leave it
// alone. It reads only its argument (and the environment and heap), so a
// caller holding a copy of the options never races with a running Serve.
func gcPercent(opt Options) int {
	switch {
	case opt.GCPercent < 0:
		return 0
	case opt.GCPercent > 0:
		return opt.GCPercent
	case os.Getenv("GOGC") != "":
		return 0
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return gcPercentFor(ms.HeapAlloc)
}

// gcPercentFor picks GOGC for a heap of live bytes (an over-estimate: it
// includes garbage from loading the models). A served request allocates a
// few kilobytes that die at once, so the live heap is the models and
// stays put; with the runtime's default (GOGC 100, a 4 MiB minimum) a
// server of small models collects several times a second under load, and
// each collection takes one of the cores for its mark phase for a few
// milliseconds: a latency tail. So the heap may grow by gcHeadroom
// (128 MiB) between collections, about one a second at 25,000 requests a
// second: GOGC = gcHeadroom / live, at least 200. Over 64 MiB of models
// the runtime's default already leaves that much room: 0, left alone.
func gcPercentFor(live uint64) int {
	if live > 64<<20 {
		return 0
	}
	live = max(live, 1<<20)
	return max(200, int(gcHeadroom*100/live))
}

// watch re-resolves reloadable references periodically.
func (s *Server) watch(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTicker(s.opt.ReloadInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, name := range s.names {
				e := s.models[name]
				if !e.reloadable {
					continue
				}
				if _, err := s.reload(ctx, e); err != nil {
					s.opt.Logger.Warn("reload failed; still serving the current version", "model", name, "ref", e.ref, "err", err)
				}
			}
		}
	}
}

// reload re-resolves e's reference and swaps in a new version. It reports
// whether the version changed.
func (s *Server) reload(ctx context.Context, e *entry) (bool, error) {
	if s.opt.Resolver == nil || !e.reloadable {
		return false, fmt.Errorf("model %q was loaded from a file, not a registry reference", e.name)
	}
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	b, v, err := s.opt.Resolver.Resolve(ctx, e.ref)
	if err != nil {
		return false, err
	}
	if v == e.cur.Load().version {
		return false, nil
	}
	e.cur.Store(newLoaded(b, v))
	s.metrics.reloads.Inc()
	s.opt.Logger.Info("model reloaded", "model", e.name, "ref", e.ref, "version", v)
	return true, nil
}

// newRequestID returns 24 random hex digits from the runtime's ChaCha8
// generator (seeded from the operating system): unique for joining
// feedback to logged predictions, without a system call per request.
func newRequestID() string {
	var raw [12]byte
	binary.LittleEndian.PutUint64(raw[:8], rand.Uint64())
	binary.LittleEndian.PutUint32(raw[8:], rand.Uint32())
	var out [24]byte
	hex.Encode(out[:], raw[:])
	return string(out[:])
}

// readBody reads a size-limited body into a pooled buffer; the caller calls
// release once nothing refers to the body any more (decoded values are
// copies, never slices of it).
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) (body []byte, release func(), err error) {
	buf := getBuf()
	release = func() { putBuf(buf) }
	b := (*buf)[:0]
	if n := r.ContentLength; n > 0 && n <= s.opt.MaxBodyBytes && int64(cap(b)) < n+1 {
		b = make([]byte, 0, n+1)
	}
	lr := http.MaxBytesReader(w, r.Body, s.opt.MaxBodyBytes)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, rerr := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			*buf = b
			release()
			var mbe *http.MaxBytesError
			if errors.As(rerr, &mbe) {
				return nil, func() {}, &RequestError{Status: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf("request body over %d bytes: send fewer rows per request", s.opt.MaxBodyBytes)}
			}
			return nil, func() {}, &RequestError{Status: http.StatusBadRequest, Msg: fmt.Sprintf("reading request body: %v", rerr)}
		}
	}
	*buf = b
	return b, release, nil
}

// servedVersions lists each model's current version.
func (s *Server) servedVersions() []modelVersion {
	out := make([]modelVersion, len(s.names))
	for i, n := range s.names {
		out[i] = modelVersion{n, s.models[n].cur.Load().version}
	}
	return out
}

// model finds a served model by name; "" picks the only one.
func (s *Server) model(name string) (*entry, error) {
	if name == "" {
		if len(s.models) == 1 {
			return s.models[s.names[0]], nil
		}
		return nil, &RequestError{Status: 400, Msg: fmt.Sprintf("several models are served (%s): use /v1/models/{name}/predict", strings.Join(s.names, ", "))}
	}
	e, ok := s.models[name]
	if !ok {
		return nil, &RequestError{Status: 404, Msg: fmt.Sprintf("no model named %q (serving: %s)", name, strings.Join(s.names, ", "))}
	}
	return e, nil
}
