package streamlog

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	_ "github.com/gyre-ml/gyre/internal/ingest/kafkasource"
	"github.com/gyre-ml/gyre/internal/predlog"
)

func TestLogToKafka(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "preds", "preds.feedback"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	if _, err := Open("kafka://" + addr + "/absent"); err == nil || !strings.Contains(err.Error(), `no topic "absent"`) {
		t.Fatalf("missing topic: got %v", err)
	}
	l, err := Open("kafka://" + addr + "/preds")
	if err != nil {
		t.Fatal(err)
	}
	in, _ := frame.New(frame.NewFloat("age", []float64{30, 61}), frame.NewString("city", []string{"Lyon", "Oslo"}))
	now := time.Now().UnixNano()
	ctx := context.Background()
	b := &predlog.Batch{Model: "churn", Version: "3", Input: in, RequestID: []string{"r1", "r1"}, Row: []int32{0, 1}, Time: []int64{now, now},
		Pred: &bundle.Prediction{Values: []float64{0, 1}, Classes: []string{"no", "yes"}, Proba: []float64{0.8, 0.2, 0.3, 0.7}}}
	if err := l.LogPredictions(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := l.LogFeedback(ctx, []predlog.Feedback{{Model: "churn", RequestID: "r1", Row: 1, Label: "yes", Time: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	recs := consume(t, addr, "preds", 2)
	var m map[string]any
	if err := json.Unmarshal(recs[1].Value, &m); err != nil {
		t.Fatal(err)
	}
	if m[predlog.ColModel] != "churn" || m[predlog.ColPrediction] != "yes" || m[predlog.ProbaPrefix+"yes"] != 0.7 {
		t.Errorf("logged row: %s", recs[1].Value)
	}
	if fb := consume(t, addr, "preds.feedback", 1); !strings.Contains(string(fb[0].Value), `"label":"yes"`) {
		t.Errorf("feedback: %s", fb[0].Value)
	}
}

func consume(t *testing.T, addr, topic string, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want && ctx.Err() == nil {
		out = append(out, cl.PollFetches(ctx).Records()...)
	}
	if len(out) < want {
		t.Fatalf("topic %s: %d records, want %d", topic, len(out), want)
	}
	return out
}
