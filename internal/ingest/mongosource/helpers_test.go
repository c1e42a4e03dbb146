package mongosource

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ferretBinary finds a FerretDB server binary: $GYRE_FERRETDB, the
// repository's .cache/bin (where .ci/run builds it), /work/cache/bin, PATH.
func ferretBinary() string {
	if p := os.Getenv("GYRE_FERRETDB"); p != "" {
		return p
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; d != "/" && d != "."; d = filepath.Dir(d) {
			p := filepath.Join(d, ".cache", "bin", "ferretdb")
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if _, err := os.Stat("/work/cache/bin/ferretdb"); err == nil {
		return "/work/cache/bin/ferretdb"
	}
	p, _ := exec.LookPath("ferretdb")
	return p
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startFerret starts a FerretDB server on its SQLite backend on a free
// loopback port for the test, with extra flags, and returns its address
// (host:port). It skips the test when no binary is found.
func startFerret(t testing.TB, extra ...string) string {
	t.Helper()
	addr, stop := launchFerret(t, t.TempDir(), extra...)
	t.Cleanup(stop)
	return addr
}

// launchFerret starts FerretDB with its state in dir on a free loopback
// port and waits until it listens; it returns the address and the stop
// function. It skips the test when no binary is found.
func launchFerret(t testing.TB, dir string, extra ...string) (addr string, stop func()) {
	t.Helper()
	bin := ferretBinary()
	if bin == "" {
		t.Skip("no FerretDB binary (build it with .ci/run, or set GYRE_TEST_MONGODB to a MongoDB server's mongodb:// URL)")
	}
	addr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	args := append([]string{"--handler=sqlite", "--sqlite-url=file:" + dir + "/", "--listen-addr=" + addr,
		"--debug-addr=-", "--telemetry=disable", "--state-dir=" + dir, "--log-level=ERROR"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start ferretdb: %v", err)
	}
	stop = func() { cmd.Process.Kill(); cmd.Wait() }
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if i > 200 {
			stop()
			t.Fatalf("ferretdb did not listen on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return addr, stop
}

var shared struct {
	addr string
	stop func()
}

// testServer returns the mongodb://host:port of the server the tests use:
// $GYRE_TEST_MONGODB (a real MongoDB, or any compatible server), else one
// FerretDB started for the whole package.
func testServer(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("GYRE_TEST_MONGODB"); u != "" {
		return strings.TrimSuffix(u, "/")
	}
	if shared.addr == "" {
		shared.addr = startFerretShared(t)
	}
	return "mongodb://" + shared.addr
}

// startFerretShared starts the package's FerretDB, stopped by TestMain.
func startFerretShared(t testing.TB) string {
	if ferretBinary() == "" {
		t.Skip("no FerretDB binary (build it with .ci/run, or set GYRE_TEST_MONGODB to a MongoDB server's mongodb:// URL)")
	}
	dir, err := os.MkdirTemp("", "gyre-ferretdb-*")
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := launchFerret(t, dir)
	shared.stop = func() { stop(); os.RemoveAll(dir) }
	return addr
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.stop != nil {
		shared.stop()
	}
	os.Exit(code)
}

var nonWord = regexp.MustCompile(`[^a-zA-Z0-9]+`)

// testDB returns a database name of the test's own (dropped afterwards) and
// a connected client.
func testDB(t testing.TB) (server, db string, c *mongo.Client) {
	t.Helper()
	server = testServer(t)
	db = "gyretest_" + strings.ToLower(nonWord.ReplaceAllString(t.Name(), "_"))
	if len(db) > 60 {
		db = db[:60]
	}
	c, err := mongo.Connect(options.Client().ApplyURI(server).SetServerSelectionTimeout(10 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c.Database(db).Drop(ctx)
	t.Cleanup(func() { c.Database(db).Drop(context.Background()); c.Disconnect(context.Background()) })
	return server, db, c
}
