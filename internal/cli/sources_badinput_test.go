package cli

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestSourceFailuresExitTwo runs gyre predict from database and stream
// sources that cannot be read, as the issue lists them: a server that is
// down, refused credentials, a topic or collection that does not exist, a
// poison message. Each exits 2 with an error naming the source (without
// the password), and no output file appears, not even a temporary one.
func TestSourceFailuresExitTwo(t *testing.T) {
	dir := isolate(t)
	model := trainAdult(t, dir)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "in"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	sasl, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser("PLAIN", "gyre", "right-horse"))
	if err != nil {
		t.Fatal(err)
	}
	defer sasl.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("in"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	good := `{"age":39,"workclass":"State-gov","fnlwgt":77516,"education":"Bachelors","education-num":13,"marital-status":"Never-married","occupation":"Adm-clerical","relationship":"Not-in-family","race":"White","sex":"Male","capital-gain":2174,"capital-loss":0,"hours-per-week":40,"native-country":"United-States"}`
	for _, m := range []string{good, good, strings.Replace(good, `"age":39`, `"age":"old"`, 1), good} {
		cl.Produce(t.Context(), &kgo.Record{Value: []byte(m)}, nil)
	}
	if err := cl.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GYRE_TEST_SOURCE_PW", "wrong-battery-staple")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String() // nothing listens there once closed
	ln.Close()
	cases := []struct{ name, src, want string }{
		{"kafka broker down", "kafka://" + down + "/in?follow=false", "no broker is listening"},
		{"kafka topic absent", "kafka://" + addr + "/absent?follow=false", `no topic "absent"`},
		{"kafka wrong password", "kafka://" + sasl.ListenAddrs()[0] + "/in?follow=false&user=gyre&password-env=GYRE_TEST_SOURCE_PW", "may have refused the credentials"},
		{"kafka poison message", "kafka://" + addr + "/in?follow=false", "partition 0 offset 2"},
		{"mongodb down", "mongodb://" + down + "/shop?collection=customers&serverSelectionTimeoutMS=1500", down},
		{"cassandra down", "cassandra://" + down + "/shop?table=customers", "no node is listening"},
	}
	if m := os.Getenv("GYRE_TEST_MONGODB"); m != "" {
		cases = append(cases, struct{ name, src, want string }{"mongodb collection absent",
			strings.TrimRight(m, "/") + "/gyre_absent_db?collection=absent", `no collection "absent"`})
	}
	for i, tc := range cases {
		out := filepath.Join(dir, "out", tc.name, "p.csv")
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			t.Fatal(err)
		}
		code, _, errs := runCLI(t, "predict", model, tc.src, "--out", out)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%d %s: exit %d, %q; want exit 2 and %q", i, tc.name, code, errs, tc.want)
		}
		if strings.Contains(errs, "wrong-battery-staple") {
			t.Errorf("%s: the password is in the error: %s", tc.name, errs)
		}
		if left, _ := os.ReadDir(filepath.Dir(out)); len(left) > 0 {
			t.Errorf("%s: the output directory holds %v, want nothing", tc.name, left)
		}
	}
}
