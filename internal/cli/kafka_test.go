package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/ingest"
)

// TestPredictBetweenKafkaTopics scores a followed topic into another with
// gyre predict, stops it as SIGTERM would (the command's context ends),
// and checks every message was scored exactly as bundle.Predict scores the
// same rows, and that the group's offsets were committed: a second run
// finds nothing new. The broker is franz-go's in-process kfake.
func TestPredictBetweenKafkaTopics(t *testing.T) {
	dir := isolate(t)
	model := trainAdult(t, dir)
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := t.Context()
	for _, tp := range []string{"in", "out"} {
		if _, err := kadm.NewClient(cl).CreateTopic(ctx, 2, 1, nil, tp); err != nil {
			t.Fatal(err)
		}
	}
	test, err := ingest.Read(ctx, adultTestCSV, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	test = test.Slice(0, 2000)
	var lines bytes.Buffer
	if err := ingest.WriteJSONL(ctx, &lines, test); err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSpace(lines.String()), "\n") {
		// The row number travels in the message, kept with --keep-input.
		msg := fmt.Sprintf(`{"row":%d,%s`, i, line[1:])
		cl.Produce(ctx, &kgo.Record{Topic: "in", Value: []byte(msg)}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	src := "kafka://" + addr + "/in?group=scorer"
	run, stop := context.WithCancel(ctx)
	done := make(chan int)
	var stderr bytes.Buffer
	go func() {
		app := &App{Stdout: &bytes.Buffer{}, Stderr: &stderr, Stdin: strings.NewReader("")}
		root := NewRoot(app)
		root.SetArgs([]string{"predict", model, src, "--out", "kafka://" + addr + "/out", "--keep-input", "--chunk-rows", "500"})
		err := root.ExecuteContext(run)
		done <- ExitCode(err)
	}()
	recs := waitRecords(t, addr, "out", 2000)
	stop() // as SIGTERM: stop reading, finish what was read, commit
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("predict exit %d: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("predict did not stop within 30 s of the stop")
	}
	b, err := bundle.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	want, err := b.Predict(test)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, r := range recs {
		var m map[string]any
		if err := json.Unmarshal(r.Value, &m); err != nil {
			t.Fatalf("output %s: %v", r.Value, err)
		}
		i := int(m["row"].(float64))
		seen[i] = true
		if got, w := m["prediction"], want.Classes[int(want.Values[i])]; got != w {
			t.Fatalf("row %d: prediction %v, want %v", i, got, w)
		}
	}
	if len(seen) != 2000 {
		t.Fatalf("%d distinct rows scored, want 2000", len(seen))
	}
	code, out, errs := runCLI(t, "predict", model, src+"&follow=false", "--json")
	if code != 0 || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("second run from the group: exit %d, output %q %s; want only the header (nothing new)", code, out, errs)
	}
}

// waitRecords consumes a topic until it holds want records (or 60 s).
func waitRecords(t *testing.T, addr, topic string, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want && ctx.Err() == nil {
		out = append(out, cl.PollFetches(ctx).Records()...)
	}
	if len(out) < want {
		t.Fatalf("topic %s: %d records after 60 s, want %d", topic, len(out), want)
	}
	return out
}

// TestPredictSkipsPoisonMessages: with &bad=skip a message that is not
// JSON, or whose field has the wrong type, is left out and counted, and
// the rest is scored; with the default the command fails with exit 2.
func TestPredictSkipsPoisonMessages(t *testing.T) {
	dir := isolate(t)
	model := trainAdult(t, dir)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "in"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("in"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	good := `{"age":39,"workclass":"State-gov","fnlwgt":77516,"education":"Bachelors","education-num":13,"marital-status":"Never-married","occupation":"Adm-clerical","relationship":"Not-in-family","race":"White","sex":"Male","capital-gain":2174,"capital-loss":0,"hours-per-week":40,"native-country":"United-States"}`
	for _, m := range []string{good, good, `{"age":`, strings.Replace(good, `"age":39`, `"age":"old"`, 1), good} {
		cl.Produce(t.Context(), &kgo.Record{Value: []byte(m)}, nil)
	}
	if err := cl.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	out := dir + "/p.csv"
	code, stdout, errs := runCLI(t, "predict", model, "kafka://"+addr+"/in?follow=false&bad=skip", "--out", out, "--json")
	var res predictResult
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || res.Rows != 3 || res.SkippedRecords != 2 {
		t.Fatalf("bad=skip: exit %d, %s %s; want 3 rows and 2 skipped", code, stdout, errs)
	}
	code, _, errs = runCLI(t, "predict", model, "kafka://"+addr+"/in?follow=false", "--out", dir+"/q.csv")
	if code != 2 || !strings.Contains(errs, "partition 0 offset 2") {
		t.Errorf("default: exit %d, %s; want 2 and the message's partition and offset", code, errs)
	}
}
