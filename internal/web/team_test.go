package web_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
)

// teamSetup is the shell block of docs/server.md's "A team set-up in five
// commands", one entry per numbered step (its comment lines dropped).
func teamSetup(t *testing.T) []string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/server.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(doc), "## A team set-up in five commands\n")
	_, block, ok2 := strings.Cut(sec, "```sh\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("docs/server.md: no ```sh block under \"A team set-up in five commands\"")
	}
	var steps []string
	num := regexp.MustCompile(`^# (\d)\. `)
	for _, line := range strings.Split(block, "\n") {
		switch {
		case num.MatchString(line):
			steps = append(steps, "")
		case strings.HasPrefix(line, "#"), strings.TrimSpace(line) == "":
		case len(steps) == 0:
			t.Fatalf("docs/server.md: command %q before step 1", line)
		default:
			steps[len(steps)-1] += line + "\n"
		}
	}
	if len(steps) != 5 {
		t.Fatalf("docs/server.md: the team set-up has %d numbered steps, want 5", len(steps))
	}
	return steps
}

// nodeClient is the node binary and the npm MLflow client's node_modules,
// or "" when either is missing (then the MLflow client step is skipped,
// unless GYRE_TEST_NODE_REQUIRED is set, as .ci/run sets it).
func nodeClient(t *testing.T) (node, modules string) {
	node, _ = exec.LookPath("node")
	for _, d := range []string{os.Getenv("GYRE_NODE_MODULES"), "../../.cache/node/node_modules"} {
		if _, err := os.Stat(filepath.Join(d, "mlflow", "package.json")); d != "" && err == nil {
			modules, _ = filepath.Abs(d)
			break
		}
	}
	if node == "" || modules == "" {
		if os.Getenv("GYRE_TEST_NODE_REQUIRED") != "" {
			t.Fatal("GYRE_TEST_NODE_REQUIRED is set but node or the npm package mlflow (.cache/node) is missing")
		}
		return "", ""
	}
	return node, modules
}

// TestTeamSetupAsDocumented runs docs/server.md's five commands as written
// (hosts, store, bucket and tokens substituted) against the real binary:
// the server started with a bootstrap admin, an editor made, its token
// made, the CLI logged in and pointed at the server, and an MLflow client
// (the npm package, with MLFLOW_TRACKING_URI and MLFLOW_TRACKING_TOKEN)
// logging a session. What the client logged is read back through the CLI,
// a model Gyre registered is found by the client, and the client's own
// store is never opened. On PostgreSQL the artifacts are in MinIO when
// GYRE_TEST_S3 is set.
func TestTeamSetupAsDocumented(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gyre binary")
	}
	steps := teamSetup(t)
	node, modules := nodeClient(t)
	bin := filepath.Join(t.TempDir(), "gyre")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/gyre")
	build.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build gyre: %v\n%s", err, out)
	}
	for _, b := range sqlstoretest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			teamSession(t, steps, bin, node, modules, b)
		})
	}
}

func teamSession(t *testing.T, steps []string, bin, node, modules string, b sqlstoretest.Backend) {
	home := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	url := "http://" + addr
	artifacts := artifactsFor(t, b)
	clientStore := filepath.Join(home, "client-store")
	sub := strings.NewReplacer("0.0.0.0:5000", addr, "http://gyre:5000", url, "postgres://gyre@db/gyre", "'"+b.URL+"'",
		"'s3://gyre?endpoint=minio:9000'", "'"+artifacts+"'", "gyre_...", `"$TOKEN"`)
	env := []string{"PATH=" + filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, "config"), "GYRE_HOME=" + clientStore,
		"GYRE_STORE=" + filepath.Join(clientStore, "gyre.db"), "GYRE_ARTIFACTS=" + filepath.Join(clientStore, "artifacts"),
		"GYRE_USER=ops", "NODE_PATH=" + modules}
	for _, k := range []string{"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "TMPDIR", "GOCACHE"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	sh := func(token, script string) string {
		t.Helper()
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
		cmd.Env = append(env, "TOKEN="+token)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\nstdout: %s\nstderr: %s", script, err, out.String(), errb.String())
		}
		return out.String()
	}
	tokenIn := func(out string) string {
		for _, line := range strings.Split(out, "\n") {
			if line = strings.TrimSpace(line); strings.HasPrefix(line, "gyre_") {
				return line
			}
		}
		t.Fatalf("no token printed: %s", out)
		return ""
	}

	// 1. The server, in the background; its first admin's token on stdout.
	srv := exec.Command("bash", "-c", "exec "+sub.Replace(steps[0]))
	srv.Env = env
	stdout, _ := srv.StdoutPipe()
	var srvErr bytes.Buffer
	srv.Stderr = &srvErr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = srv.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- srv.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = srv.Process.Kill()
		}
	}()
	stuck := time.AfterFunc(2*time.Minute, func() { _ = srv.Process.Kill() })
	sc := bufio.NewScanner(stdout)
	admin := ""
	for admin == "" && sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "gyre_") {
			admin = line
		}
	}
	if admin == "" {
		t.Fatalf("step 1 printed no admin token; stderr: %s", srvErr.String())
	}
	stuck.Stop()
	go io.Copy(io.Discard, stdout)
	for deadline := time.Now().Add(60 * time.Second); ; {
		resp, err := http.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready: %v; stderr: %s", err, srvErr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	// 2, 3. As the admin: an editor and its token.
	sh(admin, sub.Replace(steps[1]))
	bob := tokenIn(sh(admin, sub.Replace(steps[2])))

	// 4, 5. As bob, in one shell: log in, point the CLI and an MLflow
	// client at the server, then work.
	work := filepath.Join(home, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	script := sub.Replace(steps[3]) + sub.Replace(steps[4]) + `
test "$GYRE_SERVER" = ` + url + ` && test "$MLFLOW_TRACKING_URI" = ` + url + ` && test "$MLFLOW_TRACKING_TOKEN" = "$TOKEN"
unset TOKEN
gyre whoami
gyre train ` + mustAbs(t, titanic) + ` --target Survived --learner decision_tree --register titanic --quiet --out ` + filepath.Join(work, "t.gyre") + ` >/dev/null
`
	if node != "" {
		script += `GYRE_EXPECT_MODEL=titanic node ` + mustAbs(t, "../mlflowapi/testdata/mlflow_client_session.js") + ` | tail -n 1 > ` + filepath.Join(work, "session.txt") + `
gyre runs list --experiment node-session --json > ` + filepath.Join(work, "runs.json") + `
gyre models show node-model --json > ` + filepath.Join(work, "model.json") + `
`
	}
	who := sh(bob, script)
	if !strings.Contains(who, "bob on "+url+": editor") {
		t.Errorf("after step 4, gyre whoami: %q; want bob, editor", who)
	}
	if _, err := os.Stat(clientStore); !os.IsNotExist(err) {
		t.Errorf("a command opened the client's own store %s (%v): everything must go through the server", clientStore, err)
	}
	if node == "" {
		t.Log("node or the npm package mlflow is missing: the MLflow client step was not run")
		return
	}
	checkNodeSession(t, work, sh(admin, `GYRE_TOKEN="$TOKEN" gyre audit --model node-model --json --server `+url))
}

// checkNodeSession reads back, through the CLI's --json output, what the
// MLflow client logged.
func checkNodeSession(t *testing.T, work, auditJSON string) {
	t.Helper()
	raw, _ := os.ReadFile(filepath.Join(work, "session.txt"))
	var res struct {
		RunID   string `json:"run_id"`
		Version string `json:"version"`
	}
	if err := json.Unmarshal(bytes.TrimPrefix(bytes.TrimSpace(raw), []byte("RESULT ")), &res); err != nil {
		t.Fatalf("MLflow client session: %q: %v", raw, err)
	}
	var runs struct {
		Runs []struct {
			ID      string             `json:"run_id"`
			Name    string             `json:"name"`
			Status  string             `json:"status"`
			User    string             `json:"user"`
			Command string             `json:"command"`
			Params  map[string]string  `json:"params"`
			Metrics map[string]float64 `json:"metrics"`
			Tags    map[string]string  `json:"tags"`
		} `json:"runs"`
	}
	raw, _ = os.ReadFile(filepath.Join(work, "runs.json"))
	if err := json.Unmarshal(raw, &runs); err != nil || len(runs.Runs) != 1 {
		t.Fatalf("gyre runs list --experiment node-session --json: %s (%v); want the client's one active run", raw, err)
	}
	r := runs.Runs[0]
	if r.ID != res.RunID || r.Name != "node-run" || r.Status != "FINISHED" || r.User != "bob" || r.Params["learning_rate"] != "0.05" ||
		r.Params["max_depth"] != "6" || r.Metrics["loss"] != 0.1 || r.Metrics["auc"] != 0.9 || r.Tags["team"] != "churn" {
		t.Errorf("the MLflow client's run through gyre runs list: %+v", r)
	}
	if strings.Contains(r.Command, "server") {
		t.Errorf("the client's run carries the server's command line: %q", r.Command)
	}
	raw, _ = os.ReadFile(filepath.Join(work, "model.json"))
	if !bytes.Contains(raw, []byte(`"champion"`)) || !bytes.Contains(raw, []byte(res.RunID)) {
		t.Errorf("gyre models show node-model --json: %s; want version %s with alias champion from run %s", raw, res.Version, res.RunID)
	}
	for _, action := range []string{"model.create", "model.version.create", "model.alias.set"} {
		if !strings.Contains(auditJSON, `"`+action+`"`) {
			t.Errorf("gyre audit --model node-model lacks %s: %s", action, auditJSON)
		}
	}
	if !strings.Contains(auditJSON, `"bob"`) {
		t.Errorf("gyre audit --model node-model: the client's writes are not bob's: %s", auditJSON)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
