// Command gbdt-bench times Gyre's gbdt learner on the synthetic 1,000,000 × 20
// binary data set of ../../../shared/bench/speed_anchors.py, regenerated bit
// for bit (splitmix64), with test rows 1,000,000–1,199,999 of the same
// generator. It prints one JSON line: fit seconds, train and test ROC-AUC,
// test log loss, batch prediction throughput and small-batch latencies.
//
//	go run ./bench/gbdt -threads 2
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"syscall"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/gbdt"
	"github.com/gyre-ml/gyre/internal/metric"
)

func splitmix64(i uint64) uint64 {
	z := 0x2545F4914F6CDD1D + (i+1)*0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// makeData generates rows [from, to) of the speed-anchor data set.
func makeData(from, to int) (*frame.Matrix, []float64) {
	n := to - from
	X := frame.NewMatrix(n, 20)
	y := make([]float64, n)
	var x [20]float64
	for i := range n {
		r := uint64(from + i)
		for c := range 20 {
			u := float64(splitmix64(r*21+uint64(c))>>11) * (1.0 / (1 << 53))
			x[c] = 2*u - 1
			X.Data[c*n+i] = x[c]
		}
		f := x[0]*x[1] + math.Sin(3*x[2]) + x[3]*x[3] - x[4] + 0.5*(x[5]+x[6]+x[7]+x[8]+x[9])
		u20 := float64(splitmix64(r*21+20)>>11) * (1.0 / (1 << 53))
		if f+(u20-0.5) > 0.35 {
			y[i] = 1
		}
	}
	return X, y
}

// auc and logloss score class-1 probabilities with the metric package.
func auc(y, p []float64) float64 {
	v, err := metric.ROCAUC(y, p, nil)
	if err != nil {
		log.Fatal(err)
	}
	return v
}

func logloss(y, p []float64) float64 {
	proba := make([]float64, 2*len(p))
	for i, v := range p {
		proba[2*i], proba[2*i+1] = 1-v, v
	}
	v, err := metric.LogLoss(y, proba, 2, nil)
	if err != nil {
		log.Fatal(err)
	}
	return v
}

func main() {
	rows := flag.Int("rows", 1_000_000, "training rows")
	testRows := flag.Int("test", 200_000, "test rows (following the training rows)")
	trees := flag.Int("trees", 100, "boosting rounds")
	leaves := flag.Int("leaves", 31, "max leaves")
	depth := flag.Int("depth", -1, "max depth (-1 = none)")
	threads := flag.Int("threads", 2, "threads (GOMAXPROCS)")
	cpuprof := flag.String("cpuprofile", "", "write a CPU profile of the fit here")
	config := flag.String("config", "gyre_leaves31", "config label for the output")
	flag.Parse()
	runtime.GOMAXPROCS(*threads)

	t0 := time.Now()
	X, y := makeData(0, *rows)
	Xt, yt := makeData(*rows, *rows+*testRows)
	genS := time.Since(t0).Seconds()
	feats := make([]learn.Feature, 20)
	for j := range feats {
		feats[j] = learn.Feature{Name: fmt.Sprintf("x%d", j)}
	}
	d := &learn.Dataset{X: X, Features: feats, Task: learn.Binary, Y: y, Classes: []string{"0", "1"}}
	l := gbdt.New()
	l.NumTrees, l.MaxLeaves, l.MaxDepth, l.Threads = *trees, *leaves, *depth, *threads
	l.LearningRate = 0.1
	l.MinDataInLeaf = 20
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		_ = pprof.StartCPUProfile(f)
	}
	load0 := loadavg()
	runtime.GC()
	w0, c0 := time.Now(), cpuSeconds()
	lm, err := l.Fit(context.Background(), d)
	fitS, fitC := time.Since(w0).Seconds(), cpuSeconds()-c0
	if *cpuprof != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	m := lm.(learn.Prober)
	best, bestC := math.Inf(1), math.Inf(1)
	var pTrain []float64
	for range 3 {
		w, c := time.Now(), cpuSeconds()
		pp, err := m.PredictProba(X)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		best = min(best, time.Since(w).Seconds())
		bestC = min(bestC, cpuSeconds()-c)
		pTrain = pp
	}
	p1 := make([]float64, *rows)
	for i := range p1 {
		p1[i] = pTrain[2*i+1]
	}
	pt, _ := m.PredictProba(Xt)
	p2 := make([]float64, *testRows)
	for i := range p2 {
		p2[i] = pt[2*i+1]
	}
	lat := map[int]float64{}
	for _, bs := range []int{1000, 1} {
		Xb := X.Take(seq(bs))
		var ts []float64
		for range 50 {
			w := time.Now()
			_, _ = m.PredictProba(Xb)
			ts = append(ts, time.Since(w).Seconds())
		}
		slices.Sort(ts)
		lat[bs] = ts[len(ts)/2]
	}
	rec := map[string]any{
		"system": "gyre", "config": *config, "threads": *threads, "rows": *rows, "test_rows": *testRows,
		"data_gen_seconds": round(genS, 2), "fit_wall_seconds": round(fitS, 3), "fit_cpu_seconds": round(fitC, 3),
		"predict_cpu_seconds":   round(bestC, 4),
		"predict_batch_seconds": round(best, 4), "predict_rows_per_second": math.Round(float64(*rows) / best),
		"predict_1k_batch_ms": round(lat[1000]*1e3, 3), "predict_1row_ms": round(lat[1]*1e3, 4),
		"train_auc": round(auc(y, p1), 5), "test_auc": round(auc(yt, p2), 5), "test_logloss": round(logloss(yt, p2), 5),
		"trees": gbdt.AsModel(lm).NumTrees(), "go": runtime.Version(),
		"loadavg_1m_start_end": []float64{load0, loadavg()},
	}
	b, _ := json.Marshal(rec)
	fmt.Println(string(b))
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func loadavg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	var v float64
	_, _ = fmt.Sscan(string(b), &v)
	return v
}
