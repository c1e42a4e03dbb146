// Command monitor-bench times the full monitoring path on N logged
// predictions × 20 features: reading a day's window from the prediction log
// (Parquet batches in a local artifact store, indexed in a SQLite store, with
// labels as Parquet feedback files) straight into a typed frame, and analysing
// drift, quality and windowed performance against a stored 100,000-row
// reference.
//
//	go run ./bench/monitor -n 1000000
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame/frametest"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/monitor"
	"github.com/gyre-ml/gyre/internal/predlog"
	"github.com/gyre-ml/gyre/internal/predlog/predlogtest"
	"github.com/gyre-ml/gyre/internal/sqlstore"
)

func main() {
	n := flag.Int("n", 1_000_000, "logged predictions")
	batch := flag.Int("batch", 8192, "records per logged batch (gyre serve logs up to 8192 at a time)")
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
	blobs, err := blob.OpenDir(filepath.Join(dir, "artifacts"))
	if err != nil {
		log.Fatal(err)
	}

	ref := frametest.Synthetic(100_000, 1, 0)
	feats, _ := ref.Drop("y")
	b := &bundle.Bundle{Manifest: bundle.Manifest{Task: learn.Regression, Target: "y", Input: feats.Schema(), Metric: "rmse",
		Metrics: map[string]map[string]float64{"test": {"rmse": 1}}}}
	if b.Profile, err = monitor.ReferenceProfile(ctx, ref, "y"); err != nil {
		log.Fatal(err)
	}

	model := "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36) // a PostgreSQL store outlives the run

	// log n predictions with labels, one day's worth
	l := predlog.New(db, blobs)
	start := time.Now()
	_, stored, err := predlogtest.Day(ctx, l, model, *n, *batch)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("logged %d predictions + labels in %.1fs (storing %.1fs: %.0f rows/s)\n", *n, time.Since(start).Seconds(), stored.Seconds(), float64(*n)/stored.Seconds())

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
	c, err := monitor.ReadCurrent(ctx, l, b, predlog.Query{Model: model, Since: time.Now().Add(-24 * time.Hour)})
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
	var size, files int64
	if err := db.QueryRowContext(ctx, "SELECT COALESCE(SUM(size), 0), COUNT(*) FROM prediction_log WHERE model = ?", model).Scan(&size, &files); err == nil {
		fmt.Printf("stored prediction batches: %d Parquet files, %.1f MB (%.0f bytes/row)\n", files, float64(size)/1e6, float64(size)/float64(*n))
	}
}
