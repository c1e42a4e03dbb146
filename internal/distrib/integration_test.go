package distrib

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// The integration tests run the real Temporal dev server and gyre
// processes on loopback. They use the server at GYRE_TEST_TEMPORAL
// (HOST:PORT) when set, else start one from the temporal binary in
// .cache/bin or /work/cache/bin, and skip when there is neither. Tests that
// kill the server start their own.

// temporalBinary returns the dev server's binary, or "" when absent.
func temporalBinary() string {
	for _, p := range []string{os.Getenv("GYRE_TEMPORAL_BIN"), "../../.cache/bin/temporal", "/work/cache/bin/temporal"} {
		if p == "" {
			continue
		}
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			abs, _ := filepath.Abs(p)
			return abs
		}
	}
	return ""
}

var (
	gyreOnce sync.Once
	gyreBin  string
	gyreErr  error
)

// gyreBinary builds cmd/gyre once per test binary.
func gyreBinary(t *testing.T) string {
	t.Helper()
	gyreOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gyre-distrib-test")
		if err != nil {
			gyreErr = err
			return
		}
		gyreBin = filepath.Join(dir, "gyre")
		cmd := exec.Command("go", "build", "-o", gyreBin, "../../cmd/gyre")
		cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
		if out, err := cmd.CombinedOutput(); err != nil {
			gyreErr = fmt.Errorf("build gyre: %v\n%s", err, out)
		}
	})
	if gyreErr != nil {
		t.Fatal(gyreErr)
	}
	return gyreBin
}

// devServer is a Temporal dev server this test started.
type devServer struct {
	hostPort string
	args     []string
	cmd      *exec.Cmd
	log      *os.File
}

// startDevServer starts a dev server on 127.0.0.1:port (with its HTTP and
// metrics ports at port+1 and port+2) on the database file db.
func startDevServer(t *testing.T, port int, db string) *devServer {
	t.Helper()
	bin := temporalBinary()
	if bin == "" {
		t.Skip("no temporal binary (.cache/bin/temporal): bash .ci/run builds it")
	}
	log, err := os.Create(filepath.Join(t.TempDir(), "temporal.log"))
	if err != nil {
		t.Fatal(err)
	}
	s := &devServer{hostPort: fmt.Sprintf("127.0.0.1:%d", port), log: log,
		args: []string{"server", "start-dev", "--ip", "127.0.0.1", "--port", fmt.Sprint(port), "--http-port", fmt.Sprint(port + 1),
			"--metrics-port", fmt.Sprint(port + 2), "--headless", "--db-filename", db, "--log-level", "error",
			"--dynamic-config-value", "matching.numTaskqueueReadPartitions=1", "--dynamic-config-value", "matching.numTaskqueueWritePartitions=1"}}
	s.start(t)
	t.Cleanup(func() { s.kill() })
	return s
}

func (s *devServer) start(t *testing.T) {
	t.Helper()
	s.cmd = exec.Command(temporalBinary(), s.args...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitServer(t, s.hostPort)
}

// kill stops the server with SIGKILL: nothing gets to shut down cleanly.
func (s *devServer) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
	}
}

// waitServer waits until a Temporal frontend answers at hostPort.
func waitServer(t *testing.T, hostPort string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		c, err := client.DialContext(ctx, client.Options{HostPort: hostPort, Logger: sdkLogger()})
		cancel()
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("temporal at %s did not answer: %v", hostPort, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// sharedServer returns the server of GYRE_TEST_TEMPORAL, or starts one.
func sharedServer(t *testing.T) string {
	t.Helper()
	if hp := os.Getenv("GYRE_TEST_TEMPORAL"); hp != "" {
		waitServer(t, hp)
		return hp
	}
	if testing.Short() {
		t.Skip("integration test (-short)")
	}
	return startDevServer(t, 7250, filepath.Join(t.TempDir(), "t.db")).hostPort
}

// proc is a gyre process started by a test.
type proc struct {
	cmd *exec.Cmd
	out bytes.Buffer
}

// startWorker starts `gyre worker` on the task queue.
func startWorker(t *testing.T, hostPort, queue, identity string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(gyreBinary(t), "worker", "--temporal", hostPort, "--task-queue", queue, "--identity", identity)}
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { p.cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				p.cmd.Process.Kill()
			}
		}
		if t.Failed() {
			t.Logf("worker %s:\n%s", identity, p.out.String())
		}
	})
	return p
}

// searchResult is what the tests compare of two searches.
type searchResult struct {
	Leaderboard []map[string]any `json:"leaderboard"`
	Members     []map[string]any `json:"members"`
	Metrics     map[string]any   `json:"metrics"`
	RunID       string           `json:"run_id"`
	model       map[string][]byte
}

const titanic = "../../examples/data/titanic/titanic.train.csv"

// runAutoML runs `gyre automl` on titanic with the given extra flags and
// returns its result and its bundle's entries.
func runAutoML(t *testing.T, home string, trials int, extra ...string) searchResult {
	t.Helper()
	out := filepath.Join(home, fmt.Sprintf("model-%d.gyre", time.Now().UnixNano()))
	args := append([]string{"automl", titanic, "--target", "Survived", "--trials", fmt.Sprint(trials), "--seed", "11", "--batch", "8",
		"--json", "--out", out}, extra...)
	cmd := exec.Command(gyreBinary(t), args...)
	cmd.Env = append(os.Environ(), "GYRE_HOME="+home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("gyre %s: %v\n%s\n%s", strings.Join(args, " "), err, stderr.Bytes(), stdout.Bytes())
	}
	var r searchResult
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("automl output: %v\n%s", err, stdout.Bytes())
	}
	for _, tr := range r.Leaderboard {
		for _, k := range []string{"fit_time", "elapsed", "predict_time_per_row", "cost"} {
			delete(tr, k) // measured times differ from run to run
		}
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	r.model = map[string][]byte{}
	for _, f := range zr.File {
		if f.Name == "manifest.json" || f.Name == "integrity.json" {
			continue // the manifest holds the creation time and the run id; integrity.json its digest
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		r.model[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return r
}

func sameSearch(t *testing.T, local, dist searchResult) {
	t.Helper()
	if len(local.Leaderboard) != len(dist.Leaderboard) {
		t.Fatalf("%d trials on the engine, %d locally", len(dist.Leaderboard), len(local.Leaderboard))
	}
	for i := range local.Leaderboard {
		if !reflect.DeepEqual(local.Leaderboard[i], dist.Leaderboard[i]) {
			t.Fatalf("leaderboard row %d differs:\nengine %v\nlocal  %v", i, dist.Leaderboard[i], local.Leaderboard[i])
		}
	}
	if !reflect.DeepEqual(local.Members, dist.Members) || !reflect.DeepEqual(local.Metrics, dist.Metrics) {
		t.Fatalf("final model differs:\nengine %v %v\nlocal  %v %v", dist.Members, dist.Metrics, local.Members, local.Metrics)
	}
	for name, b := range local.model {
		if !bytes.Equal(b, dist.model[name]) {
			t.Errorf("bundle entry %s differs", name)
		}
	}
	if len(local.model) != len(dist.model) {
		t.Errorf("bundles of %d and %d entries", len(local.model), len(dist.model))
	}
}

// activityAttempts counts, from the workflow's history, the trial
// activities completed per worker identity and the largest attempt.
func activityAttempts(t *testing.T, hostPort, workflowID string) (perWorker map[string]int, maxAttempt int32) {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: hostPort, Logger: sdkLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	perWorker = map[string]int{}
	it := c.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := e.GetActivityTaskStartedEventAttributes(); a != nil {
			perWorker[a.GetIdentity()]++
			maxAttempt = max(maxAttempt, a.GetAttempt())
		}
	}
	return perWorker, maxAttempt
}

func uniqueQueue(t *testing.T) string {
	return fmt.Sprintf("gyre-test-%s-%d", strings.ToLower(t.Name()), time.Now().UnixNano())
}

// TestIntegrationFanOut runs a 60-trial search on two worker processes
// and checks it finishes with the leaderboard and model of the same search
// on this machine, both workers having run trials.
func TestIntegrationFanOut(t *testing.T) {
	hp := sharedServer(t)
	queue := uniqueQueue(t)
	startWorker(t, hp, queue, "w1")
	startWorker(t, hp, queue, "w2")
	home := t.TempDir()
	// The data and large results travel through S3-compatible storage
	// when there is one (GYRE_TEST_S3), else a shared directory.
	var store []string
	if loc := os.Getenv("GYRE_TEST_S3"); loc != "" {
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatalf("GYRE_TEST_S3: %v", err)
		}
		u.Path = fmt.Sprintf("/distrib-%d", time.Now().UnixNano())
		store = []string{"--artifacts", u.String()}
	}
	local := runAutoML(t, home, 60, store...)
	dist := runAutoML(t, home, 60, append(store, "--engine", "temporal://"+hp+"?task_queue="+queue+"&per_activity=2")...)
	sameSearch(t, local, dist)
	per, _ := activityAttempts(t, hp, "gyre-automl-"+dist.RunID)
	if per["w1"] == 0 || per["w2"] == 0 || per["w1"]+per["w2"] != 30 {
		t.Errorf("activities per worker %v, want 30 spread over w1 and w2", per)
	}
}

// startedBy waits until an activity of the workflow is running on the
// worker with that identity.
func startedBy(t *testing.T, hostPort, workflowID, identity string, timeout time.Duration) {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: hostPort, Logger: sdkLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		d, err := c.DescribeWorkflowExecution(context.Background(), workflowID, "")
		if err == nil {
			for _, a := range d.GetPendingActivities() {
				if a.GetState() == enumspb.PENDING_ACTIVITY_STATE_STARTED && a.GetLastWorkerIdentity() == identity {
					return
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no activity of %s started on %s within %v", workflowID, identity, timeout)
}

// startSearch starts `gyre automl` on the engine in the background; wait
// for it with the returned function.
func startSearch(t *testing.T, home, hostPort, queue, params string, trials int) (workflowID string, wait func() searchResult) {
	t.Helper()
	engine := "temporal://" + hostPort + "?task_queue=" + queue + params
	out := filepath.Join(home, "dist.gyre")
	args := []string{"automl", titanic, "--target", "Survived", "--trials", fmt.Sprint(trials), "--seed", "11", "--batch", "8", "--json", "--out", out, "--engine", engine}
	cmd := exec.Command(gyreBinary(t), args...)
	cmd.Env = append(os.Environ(), "GYRE_HOME="+home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The search's workflow is the one running on this test's task queue.
	c, err := client.Dial(client.Options{HostPort: hostPort, Logger: sdkLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(60 * time.Second)
	for workflowID == "" {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no workflow on task queue %s:\n%s", queue, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
		resp, err := c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("TaskQueue = '%s' AND WorkflowType = '%s'", queue, AutoMLWorkflowName)})
		if err == nil && len(resp.GetExecutions()) > 0 {
			workflowID = resp.GetExecutions()[0].GetExecution().GetWorkflowId()
		}
	}
	return workflowID, func() searchResult {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("gyre automl on the engine: %v\n%s", err, stderr.Bytes())
		}
		var r searchResult
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
			t.Fatalf("automl output: %v\n%s", err, stdout.Bytes())
		}
		for _, tr := range r.Leaderboard {
			for _, k := range []string{"fit_time", "elapsed", "predict_time_per_row", "cost"} {
				delete(tr, k)
			}
		}
		return r
	}
}

// TestIntegrationWorkerKilled kills a worker with SIGKILL while it runs
// trials: its activities time out on their heartbeat, run again on the
// other worker, and the search ends as it does on one machine.
func TestIntegrationWorkerKilled(t *testing.T) {
	hp := sharedServer(t)
	queue := uniqueQueue(t)
	victim := startWorker(t, hp, queue, "victim")
	startWorker(t, hp, queue, "survivor")
	home := t.TempDir()
	local := runAutoML(t, home, 40)
	id, wait := startSearch(t, home, hp, queue, "&per_activity=4&heartbeat=2s", 40)
	startedBy(t, hp, id, "victim", 60*time.Second)
	if err := victim.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	victim.cmd.Wait()
	dist := wait()
	local.model, dist.model = nil, nil
	sameSearch(t, local, dist)
	per, attempt := activityAttempts(t, hp, id)
	if attempt < 2 || per["survivor"] == 0 {
		t.Errorf("activities per worker %v, largest attempt %d: want the killed worker's trials re-run", per, attempt)
	}
}

// TestIntegrationServerRestart kills the Temporal server with SIGKILL in
// the middle of a search and restarts it on its database file: the
// search and its workflow finish, with the result of one machine.
func TestIntegrationServerRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (-short)")
	}
	db := filepath.Join(t.TempDir(), "restart.db")
	srv := startDevServer(t, 7245, db)
	queue := uniqueQueue(t)
	startWorker(t, srv.hostPort, queue, "w1")
	startWorker(t, srv.hostPort, queue, "w2")
	home := t.TempDir()
	local := runAutoML(t, home, 40)
	id, wait := startSearch(t, home, srv.hostPort, queue, "&per_activity=4", 40)
	startedBy(t, srv.hostPort, id, "w1", 60*time.Second)
	srv.kill()
	time.Sleep(2 * time.Second)
	srv.start(t)
	dist := wait()
	local.model, dist.model = nil, nil
	sameSearch(t, local, dist)
	c, err := client.Dial(client.Options{HostPort: srv.hostPort, Logger: sdkLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d, err := c.DescribeWorkflowExecution(context.Background(), id, "")
	if err != nil {
		t.Fatal(err)
	}
	if st := d.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		t.Errorf("workflow %s is %v after the restart, want completed", id, st)
	}
}

// TestIntegrationBudget runs time-budgeted searches on one worker with one
// slot and a batch larger than the budget holds, once as one activity of
// 64 trials (the activity cuts what it has not run by the deadline) and
// once as 64 queued activities (the workflow answers at the deadline,
// cancelling the rest): either way the trials finished in time make the
// model and the cut ones do not count. How close the wall time stays to
// the budget is measured by `MODE=budget sh bench/distrib/run.sh`; the
// bound here only guards that the search stops.
func TestIntegrationBudget(t *testing.T) {
	hp := sharedServer(t)
	queue := uniqueQueue(t)
	startWorker(t, hp, queue, "w1")
	home := t.TempDir()
	for _, per := range []string{"64", "1"} {
		engine := "temporal://" + hp + "?task_queue=" + queue + "&per_activity=" + per
		args := []string{"automl", titanic, "--target", "Survived", "--budget", "4s", "--seed", "3", "--batch", "64",
			"--json", "--out", filepath.Join(home, "m"+per+".gyre"), "--engine", engine}
		cmd := exec.Command(gyreBinary(t), args...)
		cmd.Env = append(os.Environ(), "GYRE_HOME="+home)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			t.Fatalf("per_activity=%s: gyre %s: %v\n%s\n%s", per, strings.Join(args, " "), err, stderr.Bytes(), stdout.Bytes())
		}
		wall := time.Since(start)
		var r struct {
			Leaderboard []map[string]any `json:"leaderboard"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
			t.Fatalf("automl output: %v\n%s", err, stdout.Bytes())
		}
		if n := len(r.Leaderboard); n == 0 || n >= 64 {
			t.Errorf("per_activity=%s: %d trials on the leaderboard, want some of the 64 proposed, not all", per, n)
		}
		if wall > 15*time.Second {
			t.Errorf("per_activity=%s: a 4s search took %v", per, wall)
		}
	}
}
