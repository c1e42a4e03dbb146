package cli_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gyre-ml/gyre/internal/apiclient"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/predlog"
)

// servedLog: gyre serve --log-predictions writes its log through the
// server, masking a PII column before a batch leaves; gyre monitor reads
// it back through the server, labels joined; gyre profile --contract masks
// with the server's salt, the same way; pipeline status goes through the
// server and pipeline run refuses with its reason. No command opens the
// client's own store.
func (s *session) servedLog() {
	t := s.t
	contract := filepath.Join(s.home, "pii.yaml")
	if err := os.WriteFile(contract, []byte("version: 1\nallow_extra_columns: true\ncolumns:\n  - {name: Sex, type: string, pii: hash}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	test := "../../examples/data/titanic/titanic.test.csv"
	inputs, labels := titanicRequest(s, test)

	addr := freePort(t)
	srv := exec.Command(s.bin, "serve", "titanic-remote/1", "--log-predictions", "--contract", contract, "--addr", addr, "--server", s.url)
	srv.Env = append(s.clientEnv, "GYRE_TOKEN="+s.admin)
	var out bytes.Buffer
	srv.Stdout, srv.Stderr = &out, &out
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	base := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + "/ping")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gyre serve through the server did not start: %s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	req, _ := http.NewRequest("POST", base+"/invocations", bytes.NewReader(inputs))
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("predict: %v %v: %s", err, resp, out.String())
	}
	resp.Body.Close()
	reqID := resp.Header.Get("X-Request-Id")
	var fb []string
	for i, l := range labels {
		fb = append(fb, fmt.Sprintf(`{"request_id":%q,"row":%d,"label":%s}`, reqID, i, l))
	}
	resp, err = http.Post(base+"/v1/models/titanic-remote/feedback", "application/json", strings.NewReader(`{"feedback":[`+strings.Join(fb, ",")+`]}`))
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("feedback: %v %v: %s", err, resp, out.String())
	}
	resp.Body.Close()
	// SIGTERM stores what the logger holds, then the process exits.
	srv.Process.Signal(syscall.SIGTERM)
	if err := srv.Wait(); err != nil {
		t.Fatalf("gyre serve after SIGTERM: %v: %s", err, out.String())
	}

	// The server's log holds every row, the PII column hashed, the labels.
	c, err := apiclient.New(s.url, s.admin)
	if err != nil {
		t.Fatal(err)
	}
	lg, err := c.PredictionLog().Read(context.Background(), predlog.Query{Model: "titanic-remote"},
		frame.Schema{Fields: []frame.Field{{Name: "Sex", Kind: frame.KindString}, {Name: "Age", Kind: frame.KindFloat}}}, []string{"0", "1"})
	if err != nil || lg.Len() != len(labels) || lg.Labeled != len(labels) {
		t.Fatalf("the server's prediction log: %v; %d rows, %d labelled, want %d: %s", err, lg.Len(), lg.Labeled, len(labels), out.String())
	}
	sex, _ := lg.Input.Column("Sex")
	hashed := sex.Format(0)
	if !strings.HasPrefix(hashed, "pii:") || strings.Contains(hashed, "male") {
		t.Fatalf("the logged PII column Sex holds %q, want its hash", hashed)
	}
	var rep struct {
		Rows        int `json:"rows"`
		Performance *struct {
			Labeled int `json:"labeled"`
		} `json:"performance"`
	}
	mon := s.viaServer(0, "monitor", "titanic-remote/1", "--json", "--no-fail")
	if err := json.Unmarshal([]byte(mon), &rep); err != nil || rep.Rows != len(labels) || rep.Performance == nil || rep.Performance.Labeled != len(labels) {
		t.Fatalf("monitor through the server: %v: %.500s", err, mon)
	}
	// profile --contract hashes with the server's salt: the same values.
	prof := s.viaServer(0, "profile", test, "--contract", contract, "--json")
	if !strings.Contains(prof, hashed) || strings.Contains(prof, `"female"`) {
		t.Fatalf("profile --contract through the server lacks the log's hash %s: %.300s", hashed, prof)
	}
	if st := s.viaServer(0, "pipeline", "status", "../../examples/gyre.yaml"); !strings.Contains(st, "has not run yet") {
		t.Fatalf("pipeline status through the server: %s", st)
	}
	if msg := s.viaServer(2, "pipeline", "run", "../../examples/gyre.yaml"); !strings.Contains(msg, "pipeline run and schedule: works on the local store only") {
		t.Fatalf("pipeline run through the server: %s", msg)
	}
	s.classify()
	if _, err := os.Stat(filepath.Join(s.home, "client", "gyre.db")); err == nil {
		t.Fatal("serve, monitor, profile, pipeline or classify through the server opened a local store")
	}
}

// classify: classifications set through the server show in its listings
// and audit trail; a viewer is refused.
func (s *session) classify() {
	t := s.t
	s.viaServer(0, "data", "classify", "titanic.train", "pii")
	s.viaServer(0, "models", "classify", "titanic-remote", "internal")
	if l := s.viaServer(0, "data", "log", "titanic.train"); !strings.Contains(l, "pii") {
		t.Fatalf("data log through the server lacks the class: %s", l)
	}
	var m struct {
		Model struct {
			Classification string `json:"classification"`
		} `json:"model"`
	}
	if out := s.viaServer(0, "models", "show", "titanic-remote", "--json"); json.Unmarshal([]byte(out), &m) != nil || m.Model.Classification != "internal" {
		t.Fatalf("models show through the server: %s", out)
	}
	if msg := s.gyre(2, "", append([]string{"models", "classify", "titanic-remote", "public"}, s.flag...)...); !strings.Contains(msg, "admin") {
		t.Fatalf("a viewer classifying: %s", msg)
	}
	trail := s.viaServer(0, "audit", "--action", "model.classify", "--json")
	if !strings.Contains(trail, `"alice"`) || !strings.Contains(trail, "internal") {
		t.Fatalf("the audit of model.classify: %.400s", trail)
	}
}

// titanicRequest returns the test set's inputs as CSV (the target left
// out) and its labels.
func titanicRequest(s *session, path string) ([]byte, []string) {
	rows, err := csv.NewReader(strings.NewReader(readFile(s.t, path))).ReadAll()
	if err != nil {
		s.t.Fatal(err)
	}
	target := len(rows[0]) - 1
	if rows[0][target] != "Survived" {
		s.t.Fatalf("%s: last column %s, want Survived", path, rows[0][target])
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	var labels []string
	for i, r := range rows {
		w.Write(r[:target])
		if i > 0 {
			labels = append(labels, r[target])
		}
	}
	w.Flush()
	return buf.Bytes(), labels
}
