package predlog_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/predlog"
	"github.com/gyre-ml/gyre/internal/predlog/predlogtest"
)

// BenchmarkRead1M reads a day's window of 1,000,000 logged predictions ×
// 20 features, every row labelled, into a typed frame with the labels
// joined: the read half of gyre monitor. The log is a SQLite store (or the
// PostgreSQL store of GYRE_BENCH_POSTGRES) with Parquet batches of 8,192
// rows in a local artifact store, as gyre serve logs them under load;
// logging the rows and labels is setup, not timed. cpu-s/op is the CPU
// time the process spent per read (on all cores, GC included), which a
// loaded machine moves less than the wall time.
func BenchmarkRead1M(b *testing.B) {
	const n, batch = 1_000_000, 8192
	ctx := context.Background()
	l := predlogtest.Open(b, os.Getenv("GYRE_BENCH_POSTGRES"))
	model := "bench-" + time.Now().Format("150405.000000000") // a PostgreSQL store outlives the run
	feats, _, err := predlogtest.Day(ctx, l, model, n, batch)
	if err != nil {
		b.Fatal(err)
	}
	schema := feats.Schema()
	cpu := cpuSeconds()
	b.ResetTimer()
	for b.Loop() {
		lg, err := l.Read(ctx, predlog.Query{Model: model, Since: time.Now().Add(-24 * time.Hour)}, schema, nil)
		if err != nil {
			b.Fatal(err)
		}
		if lg.Len() != n || lg.Labeled != n || lg.Input.NumCols() != 20 {
			b.Fatalf("read %d rows, %d labelled, %d columns", lg.Len(), lg.Labeled, lg.Input.NumCols())
		}
	}
	b.ReportMetric((cpuSeconds()-cpu)/float64(b.N), "cpu-s/op")
}
