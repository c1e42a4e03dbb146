package kafkasource

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// broker returns the broker address the tests use: $GYRE_TEST_KAFKA (a
// real Kafka, host:port) or an in-process kfake cluster of the test's own.
func broker(t testing.TB, opts ...kfake.Opt) string {
	t.Helper()
	if a := os.Getenv("GYRE_TEST_KAFKA"); a != "" && len(opts) == 0 {
		return a
	}
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

var nonWord = regexp.MustCompile(`[^a-zA-Z0-9]+`)

// topic creates a topic named after the test with the given partitions.
func topic(t testing.TB, addr, suffix string, partitions int32) string {
	t.Helper()
	name := strings.ToLower(nonWord.ReplaceAllString(t.Name(), "-")) + "-" + suffix + fmt.Sprintf("-%d", time.Now().UnixNano()%1e6)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, name)
	if err == nil {
		err = r.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
	return name
}

// produce writes values to a topic, spread over its partitions by key.
func produce(t testing.TB, addr, topic string, values ...string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	for i, v := range values {
		cl.Produce(ctx, &kgo.Record{Key: fmt.Appendf(nil, "k%d", i%7), Value: []byte(v)}, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Errorf("produce: %v", err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// consumeAll reads every record of a topic from the start.
func consumeAll(t testing.TB, addr, topic string, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		out = append(out, fs.Records()...)
	}
	return out
}
