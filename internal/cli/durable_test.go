package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/predlog"
	"github.com/gyre-ml/gyre/internal/sqlstore"
)

// TestServeDurableSIGKILL kills a real `gyre serve --log-durable` with
// SIGKILL under load (one-row requests on the row path, two-row ones on
// the general path, and feedback) and restarts it: every request the
// clients got a 200 for is in the prediction log after the restart, and
// every acknowledged label.
func TestServeDurableSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildGyre(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "m.gyre")
	home := filepath.Join(dir, "home")
	env := append(os.Environ(), "GYRE_HOME="+home, "GYRE_STORE=", "GYRE_ARTIFACTS=")
	trainCmd := exec.Command(bin, "train", "../../examples/data/titanic/titanic.train.csv", "--target", "Survived", "--learner", "decision_tree", "--out", model)
	trainCmd.Env = env
	if out, err := trainCmd.CombinedOutput(); err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	wal := filepath.Join(dir, "wal")
	start := func() (*exec.Cmd, string, *bytes.Buffer) {
		addr := freePort(t)
		cmd := exec.Command(bin, "serve", model, "--addr", addr, "--log-predictions", "--log-durable", wal)
		cmd.Env = env
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		for i := 0; ; i++ {
			if resp, err := http.Get("http://" + addr + "/v2/health/ready"); err == nil {
				resp.Body.Close()
				break
			}
			if i > 200 {
				t.Fatalf("server did not start: %s", errb.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		return cmd, "http://" + addr, &errb
	}
	srv, url, _ := start()

	const rec = `{"Pclass":%d,"Name":"n","Sex":"male","Age":%d,"SibSp":1,"Parch":0,"Ticket":"A","Fare":7.25,"Cabin":"","Embarked":"S"}`
	var mu sync.Mutex
	acked := map[string]int{}     // request id → rows, for each 200
	labelled := map[string]bool{} // request id → a 202 for its label
	var stop atomic.Bool
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second}
	post := func(path, id, body string) int {
		req, _ := http.NewRequest("POST", url+path, strings.NewReader(body))
		req.Header.Set("X-Request-Id", id)
		resp, err := client.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				id := fmt.Sprintf("w%d-%d", w, i)
				rows := 1 + i%2
				recs := make([]string, rows)
				for r := range recs {
					recs[r] = fmt.Sprintf(rec, 1+(i+r)%3, 20+i%50)
				}
				if post("/v1/models/m/predict", id, `{"records":[`+strings.Join(recs, ",")+`]}`) != 200 {
					continue
				}
				mu.Lock()
				acked[id] = rows
				mu.Unlock()
				if i%5 == 0 && post("/v1/models/m/feedback", "", `{"request_id":"`+id+`","label":"1"}`) == 202 {
					mu.Lock()
					labelled[id] = true
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(2500 * time.Millisecond) // past a segment cut and store
	if err := srv.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	srv.Wait()
	stop.Store(true)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(acked) < 100 {
		t.Fatalf("only %d requests answered before the kill", len(acked))
	}

	srv2, _, errb := start() // replays what the killed one left
	if err := srv2.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	srv2.Wait()
	if !strings.Contains(errb.String(), "replayed the write-ahead log") {
		t.Errorf("the restart replayed nothing (the kill left no segment?):\n%s", errb.String())
	}

	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(home, "gyre.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	blobs, err := blob.OpenDir(filepath.Join(home, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	lg, err := predlog.New(db, blobs).Read(ctx, predlog.Query{Model: "m"}, frame.Schema{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	logged := map[string]int{}
	label := map[string]string{}
	for i, id := range lg.RequestID {
		logged[id]++
		if lg.Row[i] == 0 {
			label[id] = lg.Labels[i]
		}
	}
	lost, lostLabels, rows := 0, 0, 0
	for id, n := range acked {
		rows += n
		if logged[id] != n {
			if lost < 5 {
				t.Logf("request %s: %d rows answered, %d logged", id, n, logged[id])
			}
			lost++
		}
		if labelled[id] && label[id] != "1" {
			lostLabels++
		}
	}
	t.Logf("%d requests (%d rows) and %d labels acknowledged; %d rows logged after the restart", len(acked), rows, len(labelled), lg.Len())
	if lost > 0 || lostLabels > 0 {
		t.Errorf("%d acknowledged requests and %d acknowledged labels are not in the log after SIGKILL and restart", lost, lostLabels)
	}
}
