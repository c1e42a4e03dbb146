// Command kafka-stream-bench measures streaming scoring between two Kafka
// topics, the path of `gyre predict MODEL kafka://B/in?group=G --out
// kafka://B/out --keep-input`: score.Stream from a followed, committing
// kafka:// source into a kafka:// destination.
//
//	go run ./bench/kafka/stream gen -rows 50000 > iot.csv     # training data
//	gyre train iot.csv --target fault --learner gbdt --set n_estimators=100 --out iot.gyre
//	go run ./bench/kafka/stream run -model iot.gyre [-broker host:port] [-messages 1000000] [-rate 50000]
//
// Without -broker it starts franz-go's kfake broker in this process (so the
// broker's CPU shares the machine with the scorer). Throughput mode (rate
// 0) writes -messages small JSON messages (IoT readings, ~200 bytes) to the
// input topic first, then scores the backlog and reports messages/s end to
// end (consumed, scored, produced and acknowledged, offsets committed).
// Latency mode (-rate N) produces N messages/s while scoring runs and
// reports the added latency of each message: the time its prediction was
// handed to the producer minus the time the input was produced (carried in
// the message as ts_us), as p50/p99/max.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/ingest"
	_ "github.com/gyre-ml/gyre/internal/ingest/kafkasource"
	_ "github.com/gyre-ml/gyre/internal/learn/all"
	"github.com/gyre-ml/gyre/internal/score"
)

// reading is one IoT message; fault is the target (a function of the
// readings plus noise).
func reading(r *rand.Rand, seq int64, ts int64) ([]byte, bool) {
	temp := 20 + r.NormFloat64()*5
	vib := r.ExpFloat64()
	hum := 40 + r.NormFloat64()*10
	bat := r.Float64() * 100
	dev := r.IntN(50)
	fault := temp+8*vib-0.05*bat+float64(dev%7)+r.NormFloat64()*2 > 34
	b := fmt.Appendf(nil, `{"seq":%d,"ts_us":%d,"device":"dev-%02d","temp":%.2f,"hum":%.1f,"pressure":%.1f,"vib_x":%.3f,"vib_y":%.3f,"vib_z":%.3f,"battery":%.1f,"rssi":%d}`,
		seq, ts, dev, temp, hum, 1013+r.NormFloat64()*8, vib, r.ExpFloat64(), r.ExpFloat64()*0.5, bat, -40-r.IntN(50))
	return b, fault
}

func gen(rows int) {
	r := rand.New(rand.NewPCG(1, 2))
	fmt.Println("device,temp,hum,pressure,vib_x,vib_y,vib_z,battery,rssi,fault")
	for i := range rows {
		b, fault := reading(r, int64(i), 0)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		fmt.Printf("%s,%v,%v,%v,%v,%v,%v,%v,%v,%t\n", m["device"], m["temp"], m["hum"], m["pressure"], m["vib_x"], m["vib_y"], m["vib_z"], m["battery"], m["rssi"], fault)
	}
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: kafka-stream-bench gen|run [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	rows := fs.Int("rows", 50000, "gen: training rows")
	model := fs.String("model", "", "run: the model bundle")
	brokerAddr := fs.String("broker", "", "run: a broker (default: kfake in this process)")
	messages := fs.Int("messages", 1000000, "run: messages to score")
	rate := fs.Int("rate", 0, "run: messages/s produced while scoring (0: score a backlog)")
	partitions := fs.Int("partitions", 4, "run: partitions of the input topic")
	chunk := fs.Int("chunk-rows", 8192, "run: most rows per chunk")
	cpuProfile := fs.String("cpuprofile", "", "run: write a CPU profile of the scoring to this file")
	outParams := fs.String("out-params", "", "run: parameters of the output URL (e.g. compression=none)")
	_ = fs.Parse(os.Args[2:])
	if os.Args[1] == "gen" {
		gen(*rows)
		return
	}
	if err := run(*model, *brokerAddr, *messages, *rate, int32(*partitions), *chunk, *cpuProfile, *outParams); err != nil {
		fmt.Fprintln(os.Stderr, "kafka-stream-bench:", err)
		os.Exit(1)
	}
}

func run(model, addr string, n, rate int, partitions int32, chunk int, profile, outParams string) error {
	ctx := context.Background()
	b, err := bundle.Load(model)
	if err != nil {
		return err
	}
	if addr == "" {
		c, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			return err
		}
		defer c.Close()
		addr = c.ListenAddrs()[0]
	}
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	in, out := "bench-in-"+suffix, "bench-out-"+suffix
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(in), kgo.ProducerLinger(2*time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, partitions, 1, nil, in); err != nil {
		return err
	}
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, out); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(3, 4))
	produceOne := func(seq int) {
		v, _ := reading(r, int64(seq), time.Now().UnixMicro())
		cl.Produce(ctx, &kgo.Record{Value: v}, nil)
	}
	if rate == 0 {
		t0 := time.Now()
		for i := range n {
			produceOne(i)
		}
		if err := cl.Flush(ctx); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "backlog of %d messages written in %.1fs\n", n, time.Since(t0).Seconds())
	}

	opt := ingest.Options{Schema: score.Schema(b)}
	stop := make(chan struct{})
	opt.Stop = stop
	dest := "kafka://" + addr + "/" + out
	if outParams != "" {
		dest += "?" + outParams
	}
	w, err := ingest.Create(dest)
	if err != nil {
		return err
	}
	defer w.Abort()
	var lat []float64
	latDone := make(chan struct{})
	if rate > 0 {
		go func() { lat = latencies(addr, out, n); close(latDone) }()
		go func() {
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			start, sent := time.Now(), 0
			for sent < n {
				<-tick.C
				due := min(n, int(time.Since(start).Seconds()*float64(rate)))
				for ; sent < due; sent++ {
					produceOne(sent)
				}
			}
		}()
	}
	var consumed atomic.Int64
	var stopped atomic.Bool
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	c0, t0 := cpuSeconds(), time.Now()
	src := "kafka://" + addr + "/" + in + "?group=bench"
	_, err = score.Stream(ctx, b, src, w, score.Options{Ingest: opt, Keep: true, ChunkRows: chunk, Workers: runtime.GOMAXPROCS(0),
		Progress: func(done, _ int64) {
			consumed.Store(done)
			if done >= int64(n) && !stopped.Swap(true) {
				close(stop)
			}
		}})
	if err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	wall, cpu := time.Since(t0).Seconds(), cpuSeconds()-c0
	res := map[string]any{"messages": consumed.Load(), "wall_s": wall, "cpu_s": cpu, "msgs_per_s": float64(consumed.Load()) / wall,
		"rate": rate, "partitions": partitions, "gomaxprocs": runtime.GOMAXPROCS(0)}
	if rate > 0 {
		<-latDone
		slices.Sort(lat)
		if len(lat) > 0 {
			res["latency_ms_p50"] = lat[len(lat)/2]
			res["latency_ms_p99"] = lat[len(lat)*99/100]
			res["latency_ms_max"] = lat[len(lat)-1]
		}
	}
	la, _ := os.ReadFile("/proc/loadavg")
	res["loadavg"] = string(la[:len(la)-1])
	j, _ := json.Marshal(res)
	fmt.Println(string(j))
	return nil
}

// latencies reads n output records and returns, in ms, each one's
// producer timestamp minus the input's ts_us.
func latencies(addr, topic string, n int) []float64 {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil
	}
	defer cl.Close()
	out := make([]float64, 0, n)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var m struct {
		TS int64 `json:"ts_us"`
	}
	for len(out) < n && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if json.Unmarshal(r.Value, &m) == nil {
				out = append(out, float64(r.Timestamp.UnixMicro()-m.TS)/1000)
			}
		})
	}
	return out
}
