package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/monitor"
	"github.com/gyre-ml/gyre/internal/pipeline"
	"github.com/gyre-ml/gyre/internal/predlog"
	"github.com/gyre-ml/gyre/internal/serve"
	"github.com/gyre-ml/gyre/internal/serverun"
	"github.com/gyre-ml/gyre/internal/workspace"
)

// bikeByDate returns the header and the bike sharing rows (train and test
// files together) in time order: by year, then month.
func bikeByDate(t testing.TB) ([]string, [][]string) {
	t.Helper()
	var all [][]string
	var header []string
	for _, split := range []string{"train", "test"} {
		f, err := os.Open(filepath.Join("..", "..", "examples", "data", "bike_sharing", "bike_sharing."+split+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		header = recs[0]
		all = append(all, recs[1:]...)
	}
	key := func(r []string) int { y, _ := strconv.Atoi(r[1]); m, _ := strconv.Atoi(r[2]); return y*12 + m }
	sort.SliceStable(all, func(i, j int) bool { return key(all[i]) < key(all[j]) })
	return header, all
}

func writeRows(t testing.TB, path string, header []string, rows [][]string) {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(header)
	w.WriteAll(rows)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

const loopProject = `# bike sharing demand, retrained when production drifts or decays
version: 1
name: bike
problem:
  task: regression
  target: cnt
  purpose: hourly rental demand for staffing and bike rebalancing
data:
  source: data.csv
  holdout: 0.2
  split: last
goals:
  - r2 >= 0.5
  - p99_latency <= 1s
train:
  trials: 6
  learners: [gbdt]
  seed: 7
gate:
  min_gain: 5
monitor:
  tolerance: 0.1
triggers:
  on_alert: true
  poll: 100ms
`

// TestMonitoringLoopBikeSharing proves the loop: train on 2011, serve it,
// replay the first half of 2012 through the server with feedback labels,
// detect drift and decay, let the alert trigger the retraining pipeline,
// see the new version pass the gate and get promoted, and the server switch
// to it without a failed request.
func TestMonitoringLoopBikeSharing(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end loop")
	}
	dir := isolate(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	header, rows := bikeByDate(t)
	var early, later [][]string
	for _, r := range rows {
		m, _ := strconv.Atoi(r[2])
		switch {
		case r[1] == "0":
			early = append(early, r)
		case m <= 6:
			later = append(later, r)
		}
	}
	data := filepath.Join(dir, "data.csv")
	project := filepath.Join(dir, "gyre.yaml")
	writeRows(t, data, header, early)
	if err := os.WriteFile(project, []byte(loopProject), 0o644); err != nil {
		t.Fatal(err)
	}

	// 1. the first pipeline run trains on 2011 and promotes version 1
	firstPipelineRuns(t, project)

	// 2. serve bike@production with the store-backed prediction log
	app := &App{Stdout: os.Stdout, Stderr: os.Stderr}
	st, err := app.openStores(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg := &workspace.Loader{Models: st.Registry}
	m, err := reg.Load(ctx, "bike@production")
	if err != nil {
		t.Fatal(err)
	}
	ls := startLoopServer(t, ctx, st, reg, m, header, later[0])
	defer ls.stop()

	// 3. replay the first half of 2012 with feedback labels
	ls.replay(t, ctx, later)

	// 4. monitoring sees drift and decay, and exits 1
	checkLoopMonitor(t, dir, project)

	// the same figures as Prometheus gauges for 'gyre serve'
	checkLoopGauges(t, ctx, st, reg, m)

	// 5. the alert triggers the retraining pipeline on the data including
	// the labelled 2012 rows: the candidate beats production on the fresh
	// holdout and is promoted
	writeRows(t, data, header, append(append([][]string{}, early...), later...))
	retrainOnAlert(t, ctx, st, project)

	// 6. the server switches to version 2 with no failed request
	ls.waitVersion(t, "2")
}

// firstPipelineRuns runs the project's pipeline, which promotes version 1,
// and runs it again, which finds every step cached.
func firstPipelineRuns(t *testing.T, project string) {
	t.Helper()
	code, out, errOut := runCLI(t, "--json", "pipeline", "run", project)
	if code != 0 {
		t.Fatalf("pipeline run: exit %d: %s %s", code, out, errOut)
	}
	var first pipeline.Result
	if err := json.Unmarshal([]byte(out), &first); err != nil || first.Status != "promoted" || first.Version != 1 {
		t.Fatalf("first run: %v %+v", err, first)
	}
	start := time.Now()
	if code, out, _ := runCLI(t, "--json", "pipeline", "run", project); code != 0 || !strings.Contains(out, `"status": "unchanged"`) {
		t.Fatalf("unchanged re-run: exit %d: %s", code, out)
	}
	t.Logf("unchanged pipeline re-run through the CLI: %v", time.Since(start))
}

// loopServer is the loop's prediction server with a client predicting all
// along, counting failures and the versions it was answered by.
type loopServer struct {
	st     *stores
	header []string
	base   string
	client *http.Client
	stop   func()

	failures, requests atomic.Int64
	versionsMu         sync.Mutex
	versions           map[string]int
}

// startLoopServer serves m as bike@production, reloading from reg, logging
// to st's prediction log, and starts the probing client on probeRow.
func startLoopServer(t *testing.T, ctx context.Context, st *stores, reg *workspace.Loader, m *workspace.Model, header, probeRow []string) *loopServer {
	t.Helper()
	srv, err := serve.New([]serve.Model{{Name: "bike", Ref: "bike@production", Bundle: m.Bundle, Version: m.Version, Reloadable: true}},
		serve.Options{ReloadInterval: 100 * time.Millisecond, Resolver: reg, Log: predlog.New(st.DB, st.Blobs), Sample: 1})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srvCtx, stopSrv := context.WithCancel(ctx)
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Serve(srvCtx, ln, nil) }()
	probeStop := make(chan struct{})
	probeDone := make(chan struct{})
	var stopOnce sync.Once
	ls := &loopServer{st: st, header: header, base: "http://" + ln.Addr().String(), client: &http.Client{Timeout: 10 * time.Second}, versions: map[string]int{}}
	ls.stop = func() {
		stopOnce.Do(func() {
			close(probeStop)
			<-probeDone
			stopSrv()
			<-srvDone
		})
	}
	// a client predicting all along counts failures and versions seen
	go func() {
		defer close(probeDone)
		probe := map[string]any{"records": []any{ls.record(probeRow)}}
		for {
			select {
			case <-probeStop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			ls.requests.Add(1)
			out, err := ls.post("/v1/models/bike/predict", probe)
			if err != nil {
				ls.failures.Add(1)
				t.Logf("probe request failed: %v", err)
				continue
			}
			ls.versionsMu.Lock()
			ls.versions[fmt.Sprint(out["version"])]++
			ls.versionsMu.Unlock()
		}
	}()
	return ls
}

// post sends body as JSON to the server's path and decodes the answer.
func (ls *loopServer) post(path string, body any) (map[string]any, error) {
	b, _ := json.Marshal(body)
	resp, err := ls.client.Post(ls.base+path, "application/json", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("%s: status %d: %w", path, resp.StatusCode, err)
	}
	if resp.StatusCode >= 300 {
		return out, fmt.Errorf("%s: status %d: %v", path, resp.StatusCode, out)
	}
	return out, nil
}

// record is a data row as a request record, the target left out.
func (ls *loopServer) record(r []string) map[string]any {
	rec := map[string]any{}
	for j, h := range ls.header[:len(ls.header)-1] {
		v, _ := strconv.ParseFloat(r[j], 64)
		rec[h] = v
	}
	return rec
}

// replay predicts rows in batches with their feedback labels and waits
// until the log holds every label.
func (ls *loopServer) replay(t *testing.T, ctx context.Context, later [][]string) {
	t.Helper()
	const batch = 100
	for lo := 0; lo < len(later); lo += batch {
		hi := min(lo+batch, len(later))
		recs := make([]any, 0, hi-lo)
		for _, r := range later[lo:hi] {
			recs = append(recs, ls.record(r))
		}
		out, err := ls.post("/v1/models/bike/predict", map[string]any{"records": recs})
		if err != nil {
			t.Fatal(err)
		}
		reqID, _ := out["request_id"].(string)
		if reqID == "" {
			t.Fatalf("no request_id in %v", out)
		}
		fb := make([]any, 0, hi-lo)
		for i, r := range later[lo:hi] {
			y, _ := strconv.ParseFloat(r[len(r)-1], 64)
			fb = append(fb, map[string]any{"request_id": reqID, "row": i, "label": y})
		}
		if _, err := ls.post("/v1/models/bike/feedback", map[string]any{"feedback": fb}); err != nil {
			t.Fatal(err)
		}
	}
	log := predlog.New(ls.st.DB, ls.st.Blobs)
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, labels, err := log.Count(ctx, "bike", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if labels >= len(later) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d labels logged", labels, len(later))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitVersion waits until the probing client is answered by version
// more than 10 times, stops the server and checks no request failed.
func (ls *loopServer) waitVersion(t *testing.T, version string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ls.versionsMu.Lock()
		n := ls.versions[version]
		ls.versionsMu.Unlock()
		if n > 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not switch to version %s: %v", version, ls.versions)
		}
		time.Sleep(20 * time.Millisecond)
	}
	ls.stop()
	if f := ls.failures.Load(); f != 0 {
		t.Errorf("%d of %d requests failed during the loop", f, ls.requests.Load())
	}
	t.Logf("%d probe requests, versions served %v", ls.requests.Load(), ls.versions)
}

// checkLoopMonitor runs gyre monitor on the project: drift, a decay alert,
// performance windows, an HTML report, and exit code 1.
func checkLoopMonitor(t *testing.T, dir, project string) {
	t.Helper()
	html := filepath.Join(dir, "monitor.html")
	code, out, errOut := runCLI(t, "--json", "monitor", "bike@production", "--project", project, "--html", html)
	if code != 1 {
		t.Fatalf("monitor: exit %d, want 1 (alerts): %s %s", code, out, errOut)
	}
	var rep monitor.Report
	if err := json.NewDecoder(strings.NewReader(out)).Decode(&rep); err != nil { // the error envelope follows
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, a := range rep.Alerts {
		kinds[a.Kind] = true
		t.Logf("alert: %s", a.Message)
	}
	if rep.Drift == nil || rep.Drift.Drifted == 0 {
		t.Errorf("no drifted feature between 2011 and 2012: %+v", rep.Drift)
	}
	if !kinds["decay"] {
		t.Errorf("no decay alert: performance %+v", rep.Performance)
	}
	if rep.Performance == nil || len(rep.Performance.Windows) == 0 {
		t.Errorf("no performance windows")
	}
	if fi, err := os.Stat(html); err != nil || fi.Size() < 10000 {
		t.Errorf("HTML report: %v", err)
	}

}

// checkLoopGauges reads the same figures as Prometheus gauges for 'gyre
// serve'.
func checkLoopGauges(t *testing.T, ctx context.Context, st *stores, reg *workspace.Loader, m *workspace.Model) {
	t.Helper()
	gctx, gcancel := context.WithCancel(ctx)
	served := []serve.Model{{Name: "bike", Ref: "bike@production", Bundle: m.Bundle, Version: m.Version, Reloadable: true}}
	gauges := monitor.Gauges(gctx, predlog.New(st.DB, st.Blobs), serverun.GaugeModels(served, reg), time.Hour, time.Hour)
	var gb strings.Builder
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		gb.Reset()
		gauges(&gb)
		if gb.Len() > 0 || time.Now().After(deadline) {
			break
		}
	}
	gcancel()
	for _, want := range []string{`gyre_drift_share{model="bike"}`, `gyre_performance{model="bike",metric="rmse"}`, `gyre_monitor_alerts{model="bike"}`} {
		if !strings.Contains(gb.String(), want) {
			t.Errorf("gauges lack %s:\n%s", want, gb.String())
		}
	}

}

// retrainOnAlert schedules the project's pipeline with only the alert
// trigger and checks the run it triggers promotes version 2 over 1.
func retrainOnAlert(t *testing.T, ctx context.Context, st *stores, project string) {
	t.Helper()
	p, err := pipeline.Load(project)
	if err != nil {
		t.Fatal(err)
	}
	env := &pipeline.Env{DB: st.DB, Blobs: st.Blobs, Tracker: st.Tracker, Registry: st.Registry, Datasets: st.Datasets}
	p.Trigger.OnNewData = false // the alert alone triggers
	schedCtx, stopSched := context.WithCancel(ctx)
	var res *pipeline.Result
	var runErr error
	var trigger string
	err = pipeline.Schedule(schedCtx, env, p, pipeline.ScheduleOptions{Alert: pipeline.AlertCheck(env, p), OnRun: func(tr string, r *pipeline.Result, err error) {
		trigger, res, runErr = tr, r, err
		stopSched()
	}})
	stopSched()
	if err != nil || runErr != nil {
		t.Fatalf("schedule: %v / run: %v", err, runErr)
	}
	if !strings.HasPrefix(trigger, "alert: ") {
		t.Errorf("trigger %q, want an alert", trigger)
	}
	if res.Status != "promoted" || res.Version != 2 || res.Gate == nil || res.Gate.ProductionVersion != 1 {
		t.Fatalf("retraining: %+v gate %+v", res, res.Gate)
	}
	t.Logf("gate: %s candidate %.2f vs production %.2f", res.Gate.Metric, res.Gate.Candidate, *res.Gate.Production)

}
