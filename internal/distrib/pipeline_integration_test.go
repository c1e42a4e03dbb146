package distrib

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/gyre-ml/gyre/internal/frame/frametest"
)

// pipelineProject is the test's gyre.yaml; %s is the pipeline's name,
// unique per test run because a pipeline's schedule and workflow IDs are
// named after it and the dev server may outlive a run (.ci/run reuses one
// already listening).
const pipelineProject = `version: 1
name: %s
problem:
  target: cnt
  task: regression
data:
  source: data.csv
  holdout: 0.2
  split: last
goals:
  - r2 >= 0.5
train:
  learner: gbdt
  params: {n_estimators: "40"}
gate:
  min_gain: 0
`

// gyre runs the gyre binary with GYRE_HOME=home and returns its stdout.
func gyre(t *testing.T, home string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(gyreBinary(t), args...)
	cmd.Env = append(os.Environ(), "GYRE_HOME="+home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("gyre %v: %v\n%s\n%s", args, err, stderr.Bytes(), stdout.Bytes())
	}
	return stdout.Bytes()
}

// scheduleWait bounds how long the test waits for an "@every 2s" schedule
// to have fired and its run to have finished: generous, as CI runs the
// whole suite beside it on two cores.
const scheduleWait = 3 * time.Minute

// scheduleState describes the pipeline's schedule and its workflows, for a
// failure message that says whether Temporal fired and what the run did.
func scheduleState(c client.Client, name string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var b strings.Builder
	d, err := c.ScheduleClient().GetHandle(ctx, PipelineWorkflowID(name)+"-schedule").Describe(ctx)
	if err != nil {
		fmt.Fprintf(&b, "describe schedule: %v\n", err)
	} else {
		fmt.Fprintf(&b, "schedule: %d actions, %d missed (catch-up window), %d skipped (overlap), running %d, next %v\n",
			d.Info.NumActions, d.Info.NumActionsMissedCatchupWindow, d.Info.NumActionsSkippedOverlap, len(d.Info.RunningWorkflows), d.Info.NextActionTimes)
		for _, a := range d.Info.RecentActions {
			fmt.Fprintf(&b, "  fired %v (scheduled %v): workflow %s\n", a.ActualTime, a.ScheduleTime, a.StartWorkflowResult.WorkflowID)
			run := c.GetWorkflow(ctx, a.StartWorkflowResult.WorkflowID, a.StartWorkflowResult.FirstExecutionRunID)
			var out PipelineOutcome
			wctx, wcancel := context.WithTimeout(ctx, time.Second)
			err := run.Get(wctx, &out)
			wcancel()
			fmt.Fprintf(&b, "    outcome %+v err %v\n", out, err)
		}
	}
	return b.String()
}

// deleteSchedule deletes the pipeline's schedule and terminates the runs
// it started that still run, so that nothing of the test stays on a
// server that outlives it.
func deleteSchedule(t *testing.T, c client.Client, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := c.ScheduleClient().GetHandle(ctx, PipelineWorkflowID(name)+"-schedule")
	if err := h.Pause(ctx, client.SchedulePauseOptions{Note: "test cleanup"}); err != nil {
		t.Logf("pause schedule: %v", err)
	}
	if d, err := h.Describe(ctx); err == nil {
		for _, w := range d.Info.RunningWorkflows {
			if err := c.TerminateWorkflow(ctx, w.WorkflowID, "", "test cleanup"); err != nil {
				t.Logf("terminate %s: %v", w.WorkflowID, err)
			}
		}
	}
	if err := h.Delete(ctx); err != nil {
		t.Logf("delete schedule: %v", err)
	}
}

// pipelineRuns reads the project's recorded runs.
func pipelineRuns(t *testing.T, home, project string) []map[string]any {
	t.Helper()
	var st struct {
		Runs []map[string]any `json:"runs"`
	}
	if err := json.Unmarshal(gyre(t, home, "pipeline", "status", project, "--json"), &st); err != nil {
		t.Fatal(err)
	}
	return st.Runs
}

// TestIntegrationPipeline runs a pipeline with each step an activity on a
// worker, then lets a Temporal Schedule fire it: the scheduled run is
// recorded in the project's store, its steps cached.
func TestIntegrationPipeline(t *testing.T) {
	hp := sharedServer(t)
	queue := uniqueQueue(t)
	startWorker(t, hp, queue, "w1")
	startWorker(t, hp, queue, "w2")
	home, dir := t.TempDir(), t.TempDir()
	rows := frametest.Records(t, "../../examples/data/bike_sharing/bike_sharing.train.csv")
	f, _ := os.Create(filepath.Join(dir, "data.csv"))
	csv.NewWriter(f).WriteAll(rows[:2500])
	f.Close()
	project := filepath.Join(dir, "gyre.yaml")
	name := fmt.Sprintf("bike%d", time.Now().UnixNano()%1e9)
	os.WriteFile(project, []byte(fmt.Sprintf(pipelineProject, name)), 0o644)
	engine := "temporal://" + hp + "?task_queue=" + queue

	var res struct {
		ID      string `json:"id"`
		Status  string `json:"status"`
		Version int    `json:"version"`
		Steps   []struct{ Step, Status string }
	}
	if err := json.Unmarshal(gyre(t, home, "pipeline", "run", project, "--engine", engine, "--json"), &res); err != nil {
		t.Fatal(err)
	}
	if res.Status != "promoted" || res.Version != 1 || len(res.Steps) != 8 {
		t.Fatalf("engine run: %+v", res)
	}
	for _, s := range res.Steps {
		if s.Status != "done" {
			t.Errorf("step %s %s on a fresh store, want done", s.Step, s.Status)
		}
	}
	if runs := pipelineRuns(t, home, project); len(runs) != 1 || runs[0]["id"] != res.ID || runs[0]["status"] != "promoted" {
		t.Fatalf("recorded runs %v, want the one promoted run %s", runs, res.ID)
	}

	gyre(t, home, "pipeline", "schedule", project, "--engine", engine, "--cron", "@every 2s")
	c, err := client.Dial(client.Options{HostPort: hp, Logger: sdkLogger()})
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last first: the schedule goes before the client closes
	// (a deferred Close ran before them and left the schedule firing).
	t.Cleanup(c.Close)
	t.Cleanup(func() { deleteSchedule(t, c, name) })
	{
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		d, err := c.ScheduleClient().GetHandle(ctx, PipelineWorkflowID(name)+"-schedule").Describe(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if a, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction); !ok || a.WorkflowRunTimeout != DefaultRunTimeout {
			t.Errorf("schedule's action %+v: want each run bounded by %v", d.Schedule.Action, DefaultRunTimeout)
		}
	}
	deadline := time.Now().Add(scheduleWait)
	for {
		var scheduled []map[string]any
		for _, r := range pipelineRuns(t, home, project) {
			if r["trigger"] == "schedule" && r["status"] != "running" {
				scheduled = append(scheduled, r)
			}
		}
		if len(scheduled) > 0 {
			if scheduled[0]["status"] != "unchanged" {
				t.Errorf("scheduled run %v: want unchanged (every step cached)", scheduled[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scheduled run recorded within %v: runs %v\n%s", scheduleWait, pipelineRuns(t, home, project), scheduleState(c, name))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestIntegrationPipelineTriggers puts a project's new-data trigger on the
// engine: the watcher workflow, polling on a worker, starts a run for the
// data it has not seen, and another when the source file changes; then
// `gyre pipeline unschedule` cancels the watcher.
func TestIntegrationPipelineTriggers(t *testing.T) {
	hp := sharedServer(t)
	queue := uniqueQueue(t)
	startWorker(t, hp, queue, "w1")
	home, dir := t.TempDir(), t.TempDir()
	rows := frametest.Records(t, "../../examples/data/bike_sharing/bike_sharing.train.csv")
	writeRows := func(n int) {
		f, err := os.Create(filepath.Join(dir, "data.csv.tmp"))
		if err != nil {
			t.Fatal(err)
		}
		csv.NewWriter(f).WriteAll(rows[:n])
		f.Close()
		// renamed in, so that a poll never versions a half-written file
		if err := os.Rename(filepath.Join(dir, "data.csv.tmp"), filepath.Join(dir, "data.csv")); err != nil {
			t.Fatal(err)
		}
	}
	writeRows(2000)
	project := filepath.Join(dir, "gyre.yaml")
	name := fmt.Sprintf("bikew%d", time.Now().UnixNano()%1e9)
	yaml := fmt.Sprintf(pipelineProject, name) + "triggers:\n  on_new_data: true\n  poll: 1s\n"
	os.WriteFile(project, []byte(yaml), 0o644)
	engine := "temporal://" + hp + "?task_queue=" + queue

	var sched EngineSchedule
	if err := json.Unmarshal(gyre(t, home, "pipeline", "schedule", project, "--engine", engine, "--run-timeout", "1h", "--json"), &sched); err != nil {
		t.Fatal(err)
	}
	if sched.Watcher != WatchWorkflowID(name) || sched.Schedule != "" || sched.Poll != "1s" {
		t.Fatalf("schedule %+v: want the watcher alone, polling every 1s", sched)
	}
	c, err := client.Dial(client.Options{HostPort: hp, Logger: sdkLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c.TerminateWorkflow(ctx, WatchWorkflowID(name), "", "test cleanup")
	})
	// waitRuns waits for n finished runs triggered by new data.
	waitRuns := func(n int) []map[string]any {
		deadline := time.Now().Add(scheduleWait)
		for {
			var done []map[string]any
			for _, r := range pipelineRuns(t, home, project) {
				if r["trigger"] == "new data version" && r["status"] != "running" {
					done = append(done, r)
				}
			}
			if len(done) >= n {
				return done
			}
			if time.Now().After(deadline) {
				var w WatchOutcome
				if v, err := c.QueryWorkflow(context.Background(), WatchWorkflowID(name), "", pipelineQuery); err == nil {
					v.Get(&w)
				}
				t.Fatalf("%d runs for new data within %v, want %d: runs %v, watcher %+v", len(done), scheduleWait, n, pipelineRuns(t, home, project), w)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	first := waitRuns(1)
	if first[0]["status"] != "promoted" {
		t.Fatalf("first run %v: want promoted", first[0])
	}
	writeRows(2600)
	second := waitRuns(2)
	for _, r := range second {
		if s := r["status"]; s != "promoted" && s != "rejected" {
			t.Errorf("run %v: want promoted or rejected by the gate", r)
		}
	}
	var un struct {
		Schedule bool `json:"schedule_deleted"`
		Watcher  bool `json:"watcher_cancelled"`
	}
	if err := json.Unmarshal(gyre(t, home, "pipeline", "unschedule", project, "--engine", engine, "--json"), &un); err != nil {
		t.Fatal(err)
	}
	if un.Schedule || !un.Watcher {
		t.Errorf("unschedule %+v: want the watcher cancelled and no schedule", un)
	}
}
