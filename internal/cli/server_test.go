package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/apiclient"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
)

// buildGyre builds the gyre binary into a temporary directory.
func buildGyre(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gyre")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/gyre")
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build gyre: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServerBinary runs the real `gyre server` and works against it over
// loopback with the real `gyre` CLI in client mode: bootstrap, accounts and
// tokens, login, registering and promoting a model through the server, the
// same rows read back from the local store, the audit trail, a viewer
// refused, and a graceful shutdown that lets an in-flight upload finish.
func TestServerBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildGyre(t)
	for _, b := range sqlstoretest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { serverSession(t, bin, b) })
	}
}

// checkLoginExpiry: a user signs in with a password and --expires-in,
// the token kept carries its expiry, and once the kept expiry has passed
// commands refuse with a message that says to log in again (the server
// side, 401 for an expired token, is in internal/web's security table).
func checkLoginExpiry(t *testing.T, bin string, env []string, url, adminToken, logins string) {
	t.Helper()
	run := func(wantCode int, stdin, token string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(env, "GYRE_TOKEN="+token)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != wantCode {
			t.Fatalf("gyre %s: exit %d, want %d: %s", strings.Join(args, " "), code, wantCode, out)
		}
		return string(out)
	}
	run(0, "carol's long password\n", adminToken, "users", "create", "carol", "--role", "viewer", "--password-stdin", "--server", url)
	run(2, "", "", "login", url, "--token", "gyre_x", "--expires-in", "1h")
	run(2, "carol's long password\n", "", "login", url, "--user", "carol", "--password-stdin", "--expires-in", "soon")
	t0 := time.Now()
	run(0, "carol's long password\n", "", "login", url, "--user", "carol", "--password-stdin", "--expires-in", "1h")
	var ls apiclient.Logins
	b, _ := os.ReadFile(logins)
	if err := json.Unmarshal(b, &ls); err != nil {
		t.Fatal(err)
	}
	lg := ls.Servers[url]
	if lg.User != "carol" || lg.Expires == nil || lg.Expires.Before(t0.Add(59*time.Minute)) || lg.Expires.After(time.Now().Add(time.Hour)) {
		t.Fatalf("kept login %+v: want carol's token expiring in an hour", lg)
	}
	if who := run(0, "", "", "whoami", "--server", url); !strings.Contains(who, "carol") {
		t.Fatalf("whoami as carol: %s", who)
	}
	past := time.Now().Add(-time.Minute)
	lg.Expires = &past
	ls.Servers[url] = lg
	if b, err := json.Marshal(ls); err != nil || os.WriteFile(logins, b, 0o600) != nil {
		t.Fatal(err)
	}
	if msg := run(2, "", "", "whoami", "--server", url); !strings.Contains(msg, "expired") || !strings.Contains(msg, "gyre login "+url) {
		t.Fatalf("whoami with an expired kept token: %s", msg)
	}
}

func serverSession(t *testing.T, bin string, b sqlstoretest.Backend) {
	s := startServer(t, bin, b)
	defer s.srv.Process.Kill()
	s.accounts()
	s.models()
	s.training()
	s.servedLog()
	s.shutdown()
}

// session is a running `gyre server` and the `gyre` client commands run
// against it: the bootstrap admin's token, the environment (the server's
// store, a private config directory) and --server URL.
type session struct {
	t         *testing.T
	bin       string
	home, cfg string
	url       string
	env       []string
	clientEnv []string // env with a store of the client's own, which must stay unused
	flag      []string // --server URL
	admin     string   // the bootstrap admin's token
	srv       *exec.Cmd
	stderr    *bytes.Buffer
}

// startServer starts `gyre server` on backend b, reads the bootstrap
// admin's token from its stdout and waits until it is ready.
func startServer(t *testing.T, bin string, b sqlstoretest.Backend) *session {
	home := t.TempDir()
	artifacts := filepath.Join(home, "artifacts")
	if s3 := os.Getenv("GYRE_TEST_S3"); s3 != "" && b.Name == "postgres" {
		base, q, _ := strings.Cut(s3, "?")
		artifacts = strings.TrimRight(base, "/") + "/server-" + filepath.Base(home) + "?" + q
	}
	cfg := filepath.Join(home, "config")
	env := append(os.Environ(), "XDG_CONFIG_HOME="+cfg, "HOME="+home, "GYRE_STORE="+b.URL, "GYRE_ARTIFACTS="+artifacts,
		"GYRE_SERVER=", "GYRE_TOKEN=", "GYRE_USER=ops")
	addr := freePort(t)
	url := "http://" + addr
	srv := exec.Command(bin, "server", "--addr", addr, "--bootstrap-admin", "alice", "--log-format", "json", "--shutdown-timeout", "20s")
	srv.Env = env
	stdout, _ := srv.StdoutPipe()
	var stderr bytes.Buffer
	srv.Stderr = &stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	adminToken := ""
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "gyre_") {
			adminToken = line
			break
		}
	}
	if adminToken == "" {
		srv.Process.Kill()
		t.Fatalf("no bootstrap token on stdout; stderr: %s", stderr.String())
	}
	go io.Copy(io.Discard, stdout)
	waitReady(t, url)
	clientEnv := append(append([]string(nil), env...), "GYRE_STORE="+filepath.Join(home, "client", "gyre.db"), "GYRE_ARTIFACTS="+filepath.Join(home, "client", "artifacts"))
	return &session{t: t, bin: bin, home: home, cfg: cfg, url: url, env: env, clientEnv: clientEnv, flag: []string{"--server", url},
		admin: adminToken, srv: srv, stderr: &stderr}
}

// gyre runs the gyre binary with token as GYRE_TOKEN, wants exit code
// wantCode, and returns its stdout and stderr.
func (s *session) gyre(wantCode int, token string, args ...string) string {
	return s.run(s.env, wantCode, token, args...)
}

// viaServer runs gyre as the admin through the server, with a local store
// of the client's own that must stay unused.
func (s *session) viaServer(wantCode int, args ...string) string {
	return s.run(s.clientEnv, wantCode, s.admin, append(args, s.flag...)...)
}

func (s *session) run(env []string, wantCode int, token string, args ...string) string {
	t := s.t
	t.Helper()
	cmd := exec.Command(s.bin, args...)
	cmd.Env = append(env, "GYRE_TOKEN="+token)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != wantCode {
		t.Fatalf("gyre %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, wantCode, out.String(), errb.String())
	}
	return out.String() + errb.String()
}

// accounts: accounts and tokens through the server, login, whoami.
func (s *session) accounts() {
	t := s.t
	// Accounts and tokens through the server, as the bootstrap admin.
	s.gyre(0, s.admin, append([]string{"users", "create", "bob", "--role", "viewer"}, s.flag...)...)
	out := s.gyre(0, s.admin, append([]string{"tokens", "create", "bob", "--json", "--expires-in", "30d"}, s.flag...)...)
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(out), &tok); err != nil || !strings.HasPrefix(tok.Token, "gyre_") {
		t.Fatalf("tokens create: %s", out)
	}
	// gyre login keeps bob's token in the config directory, private.
	s.gyre(0, "", "login", s.url, "--token", tok.Token)
	logins := filepath.Join(s.cfg, "gyre", "logins.json")
	for p, want := range map[string]os.FileMode{logins: 0o600, filepath.Dir(logins): 0o700} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != want {
			t.Fatalf("%s: mode %v, %v; want %v", p, fi.Mode().Perm(), err, want)
		}
	}
	if who := s.gyre(0, "", append([]string{"whoami"}, s.flag...)...); !strings.Contains(who, "bob") || !strings.Contains(who, "viewer") {
		t.Fatalf("whoami with the kept token: %s", who)
	}
	checkLoginExpiry(s.t, s.bin, s.env, s.url, s.admin, logins)
	s.gyre(0, "", "login", s.url, "--token", tok.Token)
}

// models: a model registered, promoted and read through the server, a
// viewer refused, the audit trail.
func (s *session) models() {
	t := s.t
	// A model registered and promoted through the server...
	bundle := filepath.Join(s.home, "titanic.gyre")
	s.gyre(0, "", "train", "../../examples/data/titanic/titanic.train.csv", "--target", "Survived", "--learner", "decision_tree", "--out", bundle, "--quiet")
	s.gyre(0, s.admin, append([]string{"models", "register", "titanic", bundle}, s.flag...)...)
	s.gyre(0, s.admin, append([]string{"models", "alias", "titanic", "1", "production"}, s.flag...)...)
	// ...is refused to a viewer (exit 2, the server's reason)...
	if msg := s.gyre(2, "", append([]string{"models", "alias", "titanic", "1", "staging"}, s.flag...)...); !strings.Contains(msg, "needs editor") {
		t.Fatalf("viewer alias: %s", msg)
	}
	// ...and reads the same through the server and from the local store.
	var remote, local []struct {
		Name    string           `json:"name"`
		Aliases map[string]int64 `json:"aliases"`
	}
	json.Unmarshal([]byte(s.gyre(0, "", append([]string{"models", "list", "--json"}, s.flag...)...)), &remote)
	json.Unmarshal([]byte(s.gyre(0, "", "models", "list", "--json")), &local)
	if len(remote) != 1 || len(local) != 1 || remote[0].Aliases["production"] != 1 || local[0].Aliases["production"] != 1 {
		t.Fatalf("models through the server %+v, locally %+v", remote, local)
	}
	if l := s.gyre(0, "", append([]string{"lineage", "titanic@production"}, s.flag...)...); !strings.Contains(l, "titanic/1") {
		t.Fatalf("lineage through the server: %s", l)
	}
	// The audit trail names alice, from loopback, for the alias move.
	var trail struct {
		Items []struct {
			Action string `json:"action"`
			Actor  struct {
				Name, Kind, Remote string
			} `json:"actor"`
		} `json:"items"`
	}
	json.Unmarshal([]byte(s.gyre(0, s.admin, append([]string{"audit", "--model", "titanic", "--json"}, s.flag...)...)), &trail)
	found := false
	for _, e := range trail.Items {
		if strings.Contains(e.Action, "alias") && e.Actor.Name == "alice" && strings.HasPrefix(e.Actor.Remote, "127.0.0.1:") {
			found = true
		}
	}
	if !found {
		t.Fatalf("audit of titanic has no alias move by alice from loopback: %+v", trail.Items)
	}
	s.gyre(2, "", append([]string{"audit", "--model", "titanic"}, s.flag...)...) // bob is no admin

}

// training: train, runs, data sets and predict through the server.
func (s *session) training() {
	t := s.t
	// Training through the server: the run with its params and metrics, the
	// bundle as its artifact, the registered version and the training data
	// set version are all the server's; none is in a store of the client's.
	var trained struct {
		RunID      string `json:"run_id"`
		Registered string `json:"registered"`
	}
	out := s.viaServer(0, "train", "../../examples/data/titanic/titanic.train.csv", "--target", "Survived", "--learner", "decision_tree",
		"--out", filepath.Join(s.home, "remote.gyre"), "--register", "titanic-remote", "--json")
	if err := json.Unmarshal([]byte(out), &trained); err != nil || trained.RunID == "" || trained.Registered != "titanic-remote/1" {
		t.Fatalf("train through the server: %v: %s", err, out)
	}
	var shown struct {
		Params    map[string]string       `json:"params"`
		Metrics   map[string]float64      `json:"metrics"`
		Datasets  []struct{ Name string } `json:"datasets"`
		Artifacts []struct{ Name string } `json:"artifacts"`
	}
	out = s.gyre(0, "", "runs", "show", trained.RunID, "--json") // the server's own store
	if err := json.Unmarshal([]byte(out), &shown); err != nil || shown.Params["learner"] != "decision_tree" || shown.Metrics["train_accuracy"] == 0 ||
		len(shown.Artifacts) != 1 || shown.Artifacts[0].Name != "model.gyre" || len(shown.Datasets) != 1 || shown.Datasets[0].Name != "titanic.train" {
		t.Fatalf("the server's run %s: %v: %s", trained.RunID, err, out)
	}
	if l := s.viaServer(0, "runs", "list", "--experiment", "titanic.train"); !strings.Contains(l, trained.RunID[:12]) {
		t.Fatalf("runs list through the server lacks %s: %s", trained.RunID, l)
	}
	if l := s.viaServer(0, "data", "log", "titanic.train"); !strings.Contains(l, "titanic.train@1") {
		t.Fatalf("data log through the server: %s", l)
	}
	if _, err := os.Stat(filepath.Join(s.home, "client", "gyre.db")); err == nil {
		t.Fatal("client mode opened a local store")
	}
	// data version uploads; the same content again is the same version.
	for i, want := range []string{"new version", "unchanged"} {
		if v := s.viaServer(0, "data", "version", "../../examples/data/titanic/titanic.test.csv", "--name", "titanic-test"); !strings.Contains(v, "titanic-test@1  "+want) {
			t.Fatalf("data version through the server (%d): %s", i, v)
		}
	}
	s.viaServer(0, "data", "get", "titanic-test@1", filepath.Join(s.home, "test-copy.csv"))
	if a, b := readFile(t, filepath.Join(s.home, "test-copy.csv")), readFile(t, "../../examples/data/titanic/titanic.test.csv"); a != b {
		t.Fatal("data get through the server: the bytes differ")
	}
	// predict by registry reference downloads the server's bundle.
	remotePreds := s.viaServer(0, "predict", "titanic-remote/1", "../../examples/data/titanic/titanic.test.csv")
	localPreds := s.gyre(0, "", "predict", filepath.Join(s.home, "remote.gyre"), "../../examples/data/titanic/titanic.test.csv")
	if remotePreds != localPreds || strings.Count(remotePreds, "\n") < 100 {
		t.Fatalf("predict through the server differs from the bundle file's: %.300s", remotePreds)
	}

}

// shutdown: an upload in flight when SIGTERM arrives finishes.
func (s *session) shutdown() {
	t := s.t
	// Graceful shutdown: an upload in flight when SIGTERM arrives finishes.
	var run struct {
		ID string `json:"run_id"`
	}
	post(t, s.url+"/api/v1/runs", s.admin, `{"experiment":"shutdown"}`, &run)
	pr, pw := io.Pipe()
	req, _ := http.NewRequestWithContext(context.Background(), "PUT", s.url+"/api/v1/runs/"+run.ID+"/artifacts/big.bin", pr)
	req.Header.Set("Authorization", "Bearer "+s.admin)
	req.ContentLength = 2 << 20
	done := make(chan *http.Response, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("in-flight upload: %v", err)
			done <- nil
			return
		}
		done <- resp
	}()
	chunk := bytes.Repeat([]byte("x"), 1<<20)
	pw.Write(chunk)
	time.Sleep(200 * time.Millisecond)
	if err := s.srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := http.Get(s.url + "/healthz"); err == nil {
		t.Error("the server still accepts connections after SIGTERM")
	}
	pw.Write(chunk)
	pw.Close()
	if resp := <-done; resp == nil || resp.StatusCode != 201 {
		t.Fatalf("in-flight upload after SIGTERM: %+v", resp)
	}
	exited := make(chan error, 1)
	go func() { exited <- s.srv.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("server exit: %v\n%s", err, s.stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not exit after SIGTERM")
	}
	if !strings.Contains(s.stderr.String(), `"msg":"gyre server stopped"`) || !strings.Contains(s.stderr.String(), `"route":"/api/v1/runs/{run_id}/artifacts/{path...}"`) {
		t.Errorf("server log lacks the structured request line or the stop: %s", s.stderr.String())
	}
	// The upload is in the store.
	out := s.gyre(0, "", "runs", "show", run.ID, "--json")
	if !strings.Contains(out, "big.bin") {
		t.Fatalf("uploaded artifact not in the run: %s", out)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("server at %s not ready", url)
}

func post(t *testing.T, url, token, body string, out any) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("POST %s: %s: %v", url, b, err)
	}
}
