// Command monitor-bench times the full monitoring path on N logged
// predictions × 20 features: reading a day's window from the prediction log
// in a SQLite store straight into a typed frame (columnar batches, labels
// joined), and analysing drift, quality and windowed performance against a
// stored 100,000-row reference.
//
//	go run ./bench/monitor -n 1000000
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/frame/frametest"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/monitor"
	"github.com/gyre-ml/gyre/internal/sqlstore"
)

func main() {
	n := flag.Int("n", 1_000_000, "logged predictions")
	batch := flag.Int("batch", 1000, "records per logged batch (gyre serve logs up to 1000 at a time)")
	viaJSON := flag.Bool("json", false, "also time the per-row JSON path (Predictions + Records)")
	store := flag.String("store", "", "metadata store: a postgres:// URL (default: a fresh SQLite file)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the read and analysis to this file")
	flag.Parse()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "gyre-monitor-bench")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	loc := *store
	if loc == "" {
		loc = filepath.Join(dir, "gyre.db")
	}
	db, err := sqlstore.Open(ctx, loc)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	ref := frametest.Synthetic(100_000, 1, 0)
	feats, _ := ref.Drop("y")
	b := &bundle.Bundle{Manifest: bundle.Manifest{Task: learn.Regression, Target: "y", Input: feats.Schema(), Metric: "rmse",
		Metrics: map[string]map[string]float64{"test": {"rmse": 1}}}}
	if b.Profile, err = monitor.ReferenceProfile(ctx, ref, "y"); err != nil {
		log.Fatal(err)
	}

	model := "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36) // a PostgreSQL store outlives the run

	// log n predictions with labels, one day's worth
	cur := frametest.Synthetic(*n, 2, 0.3)
	l := monitor.NewLog(db)
	t0 := time.Now().Add(-23 * time.Hour)
	start := time.Now()
	row := map[string]any{}
	for lo := 0; lo < *n; lo += *batch {
		hi := min(lo+*batch, *n)
		recs := make([]monitor.Record, 0, hi-lo)
		fbs := make([]monitor.Feedback, 0, hi-lo)
		for i := lo; i < hi; i++ {
			for _, c := range cur.Columns()[:20] {
				if v, ok := frame.Value(c, i); ok && c.Kind() == frame.KindFloat {
					row[c.Name()] = v
				} else {
					row[c.Name()] = c.Format(i)
				}
			}
			in, _ := json.Marshal(row)
			y, _ := frame.Value(cur.Columns()[20], i)
			id := "r" + strconv.Itoa(i/10)
			ts := t0.Add(time.Duration(i) * ((22 * time.Hour) / time.Duration(*n)))
			recs = append(recs, monitor.Record{Model: model, Version: "1", RequestID: id, Row: i % 10, Time: ts, Input: in,
				Output: json.RawMessage(fmt.Sprintf(`{"prediction": %g}`, 0.9*y))})
			fbs = append(fbs, monitor.Feedback{Model: model, RequestID: id, Row: i % 10, Label: json.RawMessage(strconv.FormatFloat(y, 'g', -1, 64)), Time: ts})
		}
		if err := l.LogPredictions(ctx, recs); err != nil {
			log.Fatal(err)
		}
		if err := l.LogFeedback(ctx, fbs); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("logged %d predictions + labels in %.1fs (%.0f rows/s)\n", *n, time.Since(start).Seconds(), float64(*n)/time.Since(start).Seconds())

	refProfile, err := monitor.BundleReference(b)
	if err != nil {
		log.Fatal(err)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	// the monitoring path: query the window straight into typed columns
	t := time.Now()
	c, err := l.Current(ctx, b, monitor.Query{Model: model, Since: time.Now().Add(-24 * time.Hour)})
	if err != nil {
		log.Fatal(err)
	}
	tq := time.Since(t)
	t = time.Now()
	rep, err := monitor.Analyze(ctx, b, refProfile, c, monitor.Options{Window: time.Hour})
	if err != nil {
		log.Fatal(err)
	}
	ta := time.Since(t)
	labelled := 0
	for _, y := range c.Labels {
		if !math.IsNaN(y) {
			labelled++
		}
	}
	fmt.Printf("rows %d (%d labelled): read into typed frame %.2fs, analyse %.2fs, total %.2fs; %d of %d features drifted, %d windows, %d alerts\n",
		c.Frame.NumRows(), labelled, tq.Seconds(), ta.Seconds(), (tq + ta).Seconds(), rep.Drift.Drifted, rep.Drift.Tested, len(rep.Performance.Windows), len(rep.Alerts))
	var size int64
	if err := db.QueryRowContext(ctx, "SELECT COALESCE(SUM(LENGTH(data)), 0) FROM prediction_chunks WHERE model = ?", model).Scan(&size); err == nil {
		fmt.Printf("stored prediction batches: %.1f MB (%.0f bytes/row)\n", float64(size)/1e6, float64(size)/float64(*n))
	}
	if *viaJSON {
		t = time.Now()
		logged, err := l.Predictions(ctx, monitor.Query{Model: model, Since: time.Now().Add(-24 * time.Hour)})
		if err != nil {
			log.Fatal(err)
		}
		tq := time.Since(t)
		t = time.Now()
		if _, err := monitor.Records(b, logged); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("for comparison, rows rebuilt as JSON and decoded: query %.2fs, decode %.2fs\n", tq.Seconds(), time.Since(t).Seconds())
	}
}
