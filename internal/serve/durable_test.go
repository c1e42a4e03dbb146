package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/predlog"
)

// failLog refuses every write.
type failLog struct{}

func (failLog) LogPredictions(context.Context, *predlog.Batch) error {
	return errors.New("store down")
}
func (failLog) LogFeedback(context.Context, []predlog.Feedback) error {
	return errors.New("store down")
}

// runLogged serves the titanic model with opt, sends requests with client
// request ids on the row path (one row) and the general path (two rows)
// and a label, shuts down gracefully and returns the ids answered 200.
func runLogged(t *testing.T, opt Options) map[string]int {
	t.Helper()
	b := bundles(t)
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s, err := New([]Model{{Name: "titanic", Bundle: b[0], Version: "1"}}, opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- s.ListenAndServe(ctx, "127.0.0.1:0", func(a net.Addr) { addr <- a.String() }) }()
	var base string
	select {
	case base = <-addr:
	case err := <-errc:
		t.Fatalf("serve: %v", err)
	}
	acked := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				id, rows := fmt.Sprintf("w%d-%d", w, i), 1+i%2
				body := `{"records": [` + strings.Repeat(passenger+`,`, rows-1) + passenger + `]}`
				req, _ := http.NewRequest("POST", "http://"+base+"/v1/models/titanic/predict", strings.NewReader(body))
				req.Header.Set("X-Request-Id", id)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode == 200 {
					mu.Lock()
					acked[id] = rows
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if code, out := post(t, "http://"+base+"/v1/models/titanic/feedback", "application/json", `{"request_id": "w0-1", "row": 1, "label": "1"}`); code != 202 {
		t.Errorf("feedback: %d %v", code, out)
	}
	http.DefaultClient.CloseIdleConnections()
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return acked
}

// checkLogged checks that the log holds exactly the acknowledged rows,
// under the ids the clients sent, and the label.
func checkLogged(t *testing.T, log *memLog, acked map[string]int) {
	t.Helper()
	log.mu.Lock()
	defer log.mu.Unlock()
	got := map[string]int{}
	for _, r := range log.recs {
		got[r.RequestID]++
	}
	if len(acked) != 200 {
		t.Errorf("%d of 200 requests answered 200", len(acked))
	}
	for id, n := range acked {
		if got[id] != n {
			t.Errorf("request %s: %d rows answered, %d logged", id, n, got[id])
		}
	}
	if len(got) != len(acked) {
		t.Errorf("%d request ids logged, %d answered", len(got), len(acked))
	}
	if len(log.fbs) != 1 || log.fbs[0].RequestID != "w0-1" {
		t.Errorf("feedback logged: %+v", log.fbs)
	}
}

// TestLoggedRequestIDs logs each row under the request id its client sent,
// with and without the durable log: the id outlives the request (the
// transport reuses the header's memory).
func TestLoggedRequestIDs(t *testing.T) {
	log := &memLog{}
	checkLogged(t, log, runLogged(t, Options{Log: log}))
}

// TestDurableLog stores what a durable server answered and leaves no
// segment behind; when the store is down, requests are still answered
// (they are written ahead), the segments stay, and the next start stores
// them.
func TestDurableLog(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wal")
	open := func() *predlog.WAL {
		w, err := predlog.OpenWAL(dir)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	segments := func() []string {
		m, _ := filepath.Glob(filepath.Join(dir, "*.wal"))
		return m
	}

	log := &memLog{}
	checkLogged(t, log, runLogged(t, Options{Log: log, Durable: open()}))
	if s := segments(); len(s) != 0 {
		t.Errorf("segments left after a clean shutdown: %v", s)
	}

	// the store is down: answered all the same, kept on disk
	defer func(w time.Duration) { storeRetryWait = w }(storeRetryWait)
	storeRetryWait = time.Millisecond
	start := time.Now()
	acked := runLogged(t, Options{Log: failLog{}, Durable: open()})
	if len(segments()) == 0 {
		t.Fatal("no segment kept for a store that refused every write")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown with the store down took %s", d)
	}
	log = &memLog{}
	w := open()
	b := bundles(t)
	s, err := New([]Model{{Name: "titanic", Bundle: b[0], Version: "1"}}, Options{Log: log, Durable: w, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // replay, then shut down at once
	if err := s.ListenAndServe(ctx, "127.0.0.1:0", nil); err != nil {
		t.Fatal(err)
	}
	checkLogged(t, log, acked)
	if n := s.replayed.Load(); int(n) != len(log.recs) {
		t.Errorf("replayed counter %d, %d rows stored", n, len(log.recs))
	}
	if s := segments(); len(s) != 0 {
		t.Errorf("segments left after the replay: %v", s)
	}
	if _, err := os.Stat(filepath.Join(dir, "LOCK")); err != nil {
		t.Error(err)
	}
}

// gatedLog holds every write until its gate is closed.
type gatedLog struct {
	memLog
	gate chan struct{}
}

func (g *gatedLog) LogPredictions(ctx context.Context, b *predlog.Batch) error {
	<-g.gate
	return g.memLog.LogPredictions(ctx, b)
}

// metricValue reads one unlabelled series from /metrics.
func metricValue(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %q", name, line)
			}
			return f
		}
	}
	t.Fatalf("no %s in /metrics", name)
	return 0
}

// Without the durable log, gyre_prediction_log_unstored counts the
// answered predictions not yet written, including those of a write in
// progress (what a crash would lose now), and stored_total what was
// written.
func TestUnstoredCountsWhatACrashWouldLose(t *testing.T) {
	log := &gatedLog{gate: make(chan struct{})}
	_, hs := newTestServer(t, Options{Log: log})
	for range 3 {
		if code, out := post(t, hs.URL+"/v1/models/titanic/predict", "application/json", `{"records": [`+passenger+`,`+passenger+`]}`); code != 200 {
			t.Fatalf("predict: %d %v", code, out)
		}
	}
	// The logger takes the rows within a flush interval and blocks in the
	// write: they stay unstored.
	time.Sleep(2 * logFlushEvery)
	if n := metricValue(t, hs.URL, "gyre_prediction_log_unstored"); n != 6 {
		t.Errorf("unstored %v during a blocked write, want the 6 answered rows", n)
	}
	if n := metricValue(t, hs.URL, "gyre_prediction_log_stored_total"); n != 0 {
		t.Errorf("stored %v before any write returned", n)
	}
	close(log.gate)
	deadline := time.Now().Add(10 * time.Second)
	for metricValue(t, hs.URL, "gyre_prediction_log_stored_total") != 6 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s, u := metricValue(t, hs.URL, "gyre_prediction_log_stored_total"), metricValue(t, hs.URL, "gyre_prediction_log_unstored"); s != 6 || u != 0 {
		t.Errorf("after the write: stored %v, unstored %v; want 6 and 0", s, u)
	}
}
