package track_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
	"github.com/gyre-ml/gyre/internal/track"
)

const livenessChild = "GYRE_TRACK_LIVENESS_CHILD"

// livenessChildMain lets the test binary act as a training process that
// starts a run and then hangs until it is killed (called from TestMain).
func livenessChildMain() {
	if path := os.Getenv(livenessChild); path != "" {
		ctx := context.Background()
		db, err := sqlstore.Open(ctx, path)
		if err != nil {
			os.Exit(3)
		}
		run, err := track.New(db, nil).Start(ctx, track.RunOptions{Experiment: "train", Command: "gyre train (test child)"})
		if err != nil {
			os.Exit(4)
		}
		os.Stdout.WriteString(run.ID() + "\n")
		time.Sleep(time.Hour)
	}
}

// TestKilledRunIsMarkedFailed kills a real process in the middle of its
// run: the next read marks the run FAILED and says why; a run whose
// process is alive stays RUNNING.
func TestKilledRunIsMarkedFailed(t *testing.T) {
	for _, b := range sqlstoretest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { testKilledRun(t, b) })
	}
}

func testKilledRun(t *testing.T, b sqlstoretest.Backend) {
	ctx := context.Background()
	path := b.URL
	db := sqlstoretest.Open(t, b)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), livenessChild+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("child: %v", err)
	}
	id := strings.TrimSpace(line)
	if ri, err := track.New(db, nil).Get(ctx, id); err != nil || ri.Status != track.StatusRunning {
		t.Fatalf("while the process lives: %+v %v", ri, err)
	}
	// A run of this (live) test process is left alone too.
	mine, err := track.New(db, nil).Start(ctx, track.RunOptions{Experiment: "train"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	ri, err := track.New(db, nil).Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if ri.Status != track.StatusFailed || ri.End == nil || !strings.Contains(ri.Tags[track.FailureTag], "exited without ending the run") {
		t.Errorf("killed run: status %s end %v tags %v", ri.Status, ri.End, ri.Tags)
	}
	if m, _ := track.New(db, nil).Get(ctx, mine.ID()); m.Status != track.StatusRunning {
		t.Errorf("live run: %s", m.Status)
	}
}

// TestStaleHeartbeat: a run on another host is marked FAILED when its
// heartbeat stops; a run of this live process is not, however old its
// heartbeat, and a run logged through the server (no process) is never
// touched.
func TestStaleHeartbeat(t *testing.T) {
	for _, b := range sqlstoretest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { testStaleHeartbeat(t, b) })
	}
}

func testStaleHeartbeat(t *testing.T, b sqlstoretest.Backend) {
	ctx := context.Background()
	db := sqlstoretest.Open(t, b)
	tr := track.New(db, nil)
	var runs [3]*track.Run
	var err error
	for i := range runs {
		c := ctx
		if i == 2 {
			c = audit.WithActor(ctx, audit.Actor{Name: "mlflow-client", Kind: audit.KindUser})
		}
		if runs[i], err = tr.Start(c, track.RunOptions{Experiment: "train"}); err != nil {
			t.Fatal(err)
		}
	}
	stale := (track.HeartbeatTimeout + time.Minute).Milliseconds()
	if err := db.Write(ctx, func(tx *sqlstore.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE runs SET heartbeat_ms = heartbeat_ms - ?", stale); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "UPDATE runs SET host = 'elsewhere' WHERE id = ?", runs[0].ID())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ids, err := tr.ReapDead(ctx)
	if err != nil || len(ids) != 1 || ids[0] != runs[0].ID() {
		t.Fatalf("reaped %v, %v; want only %s", ids, err, runs[0].ID())
	}
	ri, _ := tr.Get(ctx, runs[0].ID())
	if ri.Status != track.StatusFailed || !strings.Contains(ri.Tags[track.FailureTag], "no heartbeat") {
		t.Errorf("stale run: %s %v", ri.Status, ri.Tags)
	}
	for _, r := range runs[1:] {
		if ri, _ := tr.Get(ctx, r.ID()); ri.Status != track.StatusRunning {
			t.Errorf("run %s: %s, want RUNNING", r.ID(), ri.Status)
		}
	}
	entries, _, err := audit.List(ctx, db, audit.Query{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		found = found || (e.Action == "run.update" && e.Resource == runs[0].ID() && strings.Contains(string(e.After), "FAILED"))
	}
	if !found {
		t.Errorf("no audit record of the reaped run in %+v", entries)
	}
	if err := runs[1].End(ctx, track.StatusFinished); err != nil {
		t.Fatal(err)
	}
}
