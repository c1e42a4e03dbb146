package kafkasource

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
)

// sensor is an IoT-style message: nested, with an array and a missing field.
func sensor(i int) string {
	hum := fmt.Sprintf(`,"hum":%d.5`, i%50)
	if i%10 == 0 {
		hum = ""
	}
	return fmt.Sprintf(`{"device":"d%d","temp":%d.25,"n":%d,"ok":%t,"loc":{"site":"s%d","floor":%d},"tags":["a","b\"%d"]%s}`,
		i%5, 20+i%7, i, i%3 == 0, i%2, i%4, i, hum)
}

func TestReadBoundedJSON(t *testing.T) {
	addr := broker(t)
	tp := topic(t, addr, "in", 3)
	var msgs []string
	for i := range 500 {
		msgs = append(msgs, sensor(i))
	}
	produce(t, addr, tp, msgs...)
	ctx := context.Background()
	src := "kafka://" + addr + "/" + tp
	f, err := ingest.Read(ctx, src, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.NumRows() != 500 {
		t.Fatalf("got %d rows, want 500", f.NumRows())
	}
	want := map[string]frame.Kind{"device": frame.KindCategorical, "temp": frame.KindFloat, "n": frame.KindInt, "ok": frame.KindBool,
		"loc.site": frame.KindCategorical, "loc.floor": frame.KindInt, "tags": frame.KindString, "hum": frame.KindFloat}
	for name, k := range want {
		j := f.Index(name)
		if j < 0 {
			t.Errorf("no column %s (have %v)", name, f.Names())
			continue
		}
		if got := f.Col(j).Kind(); got != k {
			t.Errorf("column %s: got %s, want %s", name, got, k)
		}
	}
	// Every message once: the n values are 0..499.
	seen := map[string]bool{}
	n := f.Col(f.Index("n"))
	for i := range f.NumRows() {
		seen[n.Format(i)] = true
	}
	if len(seen) != 500 {
		t.Errorf("%d distinct messages, want 500", len(seen))
	}
	if !f.Col(f.Index("hum")).IsNull(rowOf(f, "0")) {
		t.Error("hum: no missing values, want the messages without it missing")
	}

	// Bounds: max-records, and a topic read again reads the same.
	f, err = ingest.Read(ctx, src+"?max-records=120", ingest.Options{})
	if err != nil || f.NumRows() != 120 {
		t.Fatalf("max-records=120: %v rows, %v", rows(f), err)
	}
	// A sliding window of the newest records: last= splits over the 3
	// partitions (34 each, rounded up), and the newest are the highest n.
	f, err = ingest.Read(ctx, src+"?last=100", ingest.Options{})
	if err != nil || f.NumRows() < 100 || f.NumRows() > 102 || rowOf(f, "499") < 0 || rowOf(f, "0") >= 0 {
		t.Fatalf("last=100: %v rows, %v", rows(f), err)
	}
	f, err = ingest.Read(ctx, src+"?until="+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), ingest.Options{})
	if err != nil || f.NumRows() != 0 {
		t.Fatalf("until an hour ago: %v rows, %v", rows(f), err)
	}
	f, err = ingest.Read(ctx, src+"?arrays=explode", ingest.Options{})
	if err != nil || f.Index("tags.1") < 0 || f.Col(f.Index("tags.1")).Format(0) == "" {
		t.Fatalf("arrays=explode: %v, %v", f.Names(), err)
	}
}

func rows(f *frame.Frame) int {
	if f == nil {
		return -1
	}
	return f.NumRows()
}

func TestReadCSVMessages(t *testing.T) {
	addr := broker(t)
	tp := topic(t, addr, "csv", 1)
	produce(t, addr, tp, "1,2.5,red", "2,,blue", `3,4,"green, light"`)
	f, err := ingest.Read(context.Background(), "kafka://"+addr+"/"+tp+"?format=csv&columns=id,x,colour", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.NumRows() != 3 || f.Col(0).Kind() != frame.KindInt || f.Col(1).Kind() != frame.KindFloat || !f.Col(1).IsNull(1) || f.Col(2).Format(2) != "green, light" {
		t.Errorf("got %v rows, kinds %s %s, colour[2]=%q", f.NumRows(), f.Col(0).Kind(), f.Col(1).Kind(), f.Col(2).Format(2))
	}
}

func TestPoisonMessages(t *testing.T) {
	addr := broker(t)
	tp := topic(t, addr, "in", 1)
	msgs := []string{sensor(1), sensor(2), `{"device":"d1","temp":`, sensor(3), `{"device":"d1","temp":"hot","n":9}`, sensor(4)}
	produce(t, addr, tp, msgs...)
	ctx := context.Background()
	src := "kafka://" + addr + "/" + tp

	// Default: the first bad message is an error naming it.
	_, err := ingest.Read(ctx, src+"?sample=2", ingest.Options{})
	var pe *ingest.ParseError
	if !errors.As(err, &pe) || pe.Row != 3 || !strings.Contains(err.Error(), "partition 0 offset 2") || !strings.Contains(err.Error(), "bad=skip") {
		t.Fatalf("bad JSON: got %v", err)
	}

	// A field whose type changes after the sample names the field.
	_, err = ingest.Read(ctx, src+"?sample=2&max-records=2", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}

	// bad=skip: counted, the rest read.
	var skipped, got int
	err = ingest.Stream(ctx, src+"?sample=2&bad=skip&follow=false", ingest.Options{}, 100, func(c *ingest.Chunk) error {
		skipped += c.Skipped
		got += c.Frame.NumRows()
		return nil
	})
	if err != nil || skipped != 2 || got != 4 {
		t.Fatalf("bad=skip: %d skipped, %d rows, %v; want 2 and 4", skipped, got, err)
	}

	// bad=dead-letter: the two messages land in the dead-letter topic with
	// the error in a header.
	dlq := topic(t, addr, "dlq", 1)
	err = ingest.Stream(ctx, src+"?sample=2&follow=false&dead-letter="+dlq, ingest.Options{}, 100, func(c *ingest.Chunk) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	recs := consumeAll(t, addr, dlq, 2)
	if len(recs) != 2 || string(recs[0].Value) != msgs[2] || string(recs[1].Value) != msgs[4] {
		t.Fatalf("dead-letter topic: %d records", len(recs))
	}
	var why string
	for _, h := range recs[1].Headers {
		if h.Key == "gyre-error" {
			why = string(h.Value)
		}
	}
	if !strings.Contains(why, `"temp"`) || !strings.Contains(why, "offset 4") {
		t.Errorf("dead-letter header: %q, want the field and the offset", why)
	}
}

func TestStreamCommitsAfterOutput(t *testing.T) {
	addr := broker(t)
	in, out := topic(t, addr, "in", 2), topic(t, addr, "out", 1)
	var msgs []string
	for i := range 300 {
		msgs = append(msgs, sensor(i))
	}
	produce(t, addr, in, msgs...)
	ctx := context.Background()
	src := "kafka://" + addr + "/" + in + "?group=scorer"
	if !ingest.Follows(src) || ingest.Follows(src+"&max-records=5") {
		t.Fatal("Follows: want true without a bound, false with one")
	}
	w, err := ingest.Create("kafka://" + addr + "/" + out + "?key=device")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	stop := make(chan struct{})
	rowsIn := 0
	err = ingest.Stream(ctx, src, ingest.Options{Stop: stop}, 64, func(c *ingest.Chunk) error {
		if err := w.Write(ctx, c.Frame); err != nil {
			return err
		}
		rowsIn += c.Frame.NumRows()
		if err := c.Commit(ctx); err != nil {
			return err
		}
		if rowsIn >= 300 {
			close(stop)
		}
		return nil
	})
	if err != nil || rowsIn != 300 {
		t.Fatalf("stream: %d rows, %v", rowsIn, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if recs := consumeAll(t, addr, out, 300); len(recs) != 300 || !strings.HasPrefix(string(recs[0].Value), `{"device":`) || len(recs[0].Key) == 0 {
		t.Fatalf("output topic: %d records", len(recs))
	}
	// The group resumes after what was committed: only new messages.
	produce(t, addr, in, sensor(1000), sensor(1001))
	f, err := ingest.Read(ctx, src, ingest.Options{})
	if err != nil || f.NumRows() != 2 {
		t.Fatalf("after the commit: %d rows, %v; want the 2 new messages", rows(f), err)
	}
}

func TestBadSources(t *testing.T) {
	addr := broker(t)
	topic(t, addr, "present", 1)
	ctx := context.Background()
	_, err := ingest.Read(ctx, "kafka://"+addr+"/absent", ingest.Options{})
	var ke *Error
	if !errors.As(err, &ke) || !ke.InputError() || !strings.Contains(err.Error(), `no topic "absent"`) || !strings.Contains(err.Error(), "present") {
		t.Errorf("missing topic: got %v", err)
	}
	start := time.Now()
	_, err = ingest.Read(ctx, "kafka://127.0.0.1:1/t", ingest.Options{})
	if !errors.As(err, &ke) || time.Since(start) > 15*time.Second {
		t.Errorf("broker down: got %v after %s", err, time.Since(start))
	}
	for _, u := range []string{"kafka://" + addr, "kafka://" + addr + "/t?format=xml", "kafka://" + addr + "/t?format=csv", "kafka://" + addr + "/t?colour=red", "kafka://u:pw@" + addr + "/t"} {
		if _, err := ingest.Read(ctx, u, ingest.Options{}); err == nil || strings.Contains(err.Error(), ":pw@") {
			t.Errorf("%s: got %v", u, err)
		}
	}
}

func TestWrongCredentialsNotEchoed(t *testing.T) {
	addr := broker(t, kfake.EnableSASL(), kfake.Superuser("PLAIN", "gyre", "right-horse"))
	t.Setenv("GYRE_TEST_KAFKA_PW", "wrong-battery-staple")
	src := "kafka://" + addr + "/t?user=gyre&password-env=GYRE_TEST_KAFKA_PW"
	_, err := ingest.Read(context.Background(), src, ingest.Options{})
	if err == nil || strings.Contains(err.Error(), "wrong-battery-staple") {
		t.Fatalf("wrong password: got %v", err)
	}
	t.Setenv("GYRE_TEST_KAFKA_PW", "right-horse")
	if _, err := ingest.Read(context.Background(), src, ingest.Options{}); err == nil || !strings.Contains(err.Error(), `no topic "t"`) {
		t.Errorf("right password: got %v, want the missing-topic error (authenticated)", err)
	}
}

// rowOf finds the row whose n is v.
func rowOf(f *frame.Frame, v string) int {
	n := f.Col(f.Index("n"))
	for i := range f.NumRows() {
		if n.Format(i) == v {
			return i
		}
	}
	return -1
}

// compression= picks the codec of produced batches; the records read back
// are the messages written whatever the codec, and an unknown codec is
// refused.
func TestWriteCompression(t *testing.T) {
	addr := broker(t)
	ctx := context.Background()
	var msgs []string
	for i := range 300 {
		msgs = append(msgs, sensor(i))
	}
	in := topic(t, addr, "in", 1)
	produce(t, addr, in, msgs...)
	f, err := ingest.Read(ctx, "kafka://"+addr+"/"+in, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, codec := range []string{"none", "gzip", "lz4", "zstd"} {
		out := topic(t, addr, codec, 2)
		if err := ingest.Write(ctx, f, "kafka://"+addr+"/"+out+"?compression="+codec); err != nil {
			t.Fatalf("%s: %v", codec, err)
		}
		got, err := ingest.Read(ctx, "kafka://"+addr+"/"+out, ingest.Options{})
		if err != nil {
			t.Fatalf("%s: %v", codec, err)
		}
		if got.NumRows() != f.NumRows() || got.NumCols() != f.NumCols() {
			t.Errorf("%s: read %d×%d, wrote %d×%d", codec, got.NumRows(), got.NumCols(), f.NumRows(), f.NumCols())
		}
	}
	err = ingest.Write(ctx, f, "kafka://"+addr+"/"+in+"?compression=brotli")
	if err == nil || !strings.Contains(err.Error(), `compression="brotli"`) {
		t.Errorf("compression=brotli: %v, want a refusal naming it", err)
	}
}
