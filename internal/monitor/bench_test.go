package monitor

import (
	"context"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/frame/frametest"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/predlog/predlogtest"
)

func syntheticBundle(b testing.TB, ref *frame.Frame) *bundle.Bundle {
	feats, _ := ref.Drop("y")
	s := feats.Schema()
	bd := &bundle.Bundle{Manifest: bundle.Manifest{Task: learn.Regression, Target: "y", Input: s, Metric: "rmse",
		Metrics: map[string]map[string]float64{"test": {"rmse": 1}}}}
	var err error
	if bd.Profile, err = ReferenceProfile(context.Background(), ref, "y"); err != nil {
		b.Fatal(err)
	}
	return bd
}

// BenchmarkAnalyze1M monitors 1,000,000 predictions × 20 features (with
// labels, 24 windows) against a stored 100,000-row reference.
func BenchmarkAnalyze1M(b *testing.B) {
	const n = 1_000_000
	bd := syntheticBundle(b, frametest.Synthetic(100_000, 1, 0))
	ref, err := BundleReference(bd)
	if err != nil {
		b.Fatal(err)
	}
	cur := frametest.Synthetic(n, 2, 0.3)
	yc, _ := cur.Column("y")
	y := yc.(*frame.Float).Values
	pred := make([]float64, n)
	times := make([]time.Time, n)
	t0 := time.Now()
	for i := range pred {
		pred[i] = y[i] * 0.9
		times[i] = t0.Add(time.Duration(i) * 86 * time.Millisecond) // one day
	}
	feats, _ := cur.Drop("y")
	in := &Current{Frame: feats, Pred: &bundle.Prediction{Values: pred}, Times: times, Labels: y}
	b.ResetTimer()
	for b.Loop() {
		rep, err := Analyze(context.Background(), bd, ref, in, Options{Window: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Drift.Tested != 20 || len(rep.Performance.Windows) < 24 {
			b.Fatalf("tested %d, windows %d", rep.Drift.Tested, len(rep.Performance.Windows))
		}
	}
}

// BenchmarkLogCurrent1M is the whole monitoring path on 1,000,000 logged
// predictions × 20 features with labels: read a day's window from a SQLite
// prediction log (Parquet batches of 8,192 rows, as gyre serve logs them
// under load, in a local artifact store) into a typed frame, then analyse it
// against a stored 100,000-row reference. Logging the rows is setup, not
// timed.
func BenchmarkLogCurrent1M(b *testing.B) {
	const n, batch = 1_000_000, 8192
	ctx := context.Background()
	bd := syntheticBundle(b, frametest.Synthetic(100_000, 1, 0))
	ref, err := BundleReference(bd)
	if err != nil {
		b.Fatal(err)
	}
	l := predlogtest.Open(b, "")
	if _, _, err := predlogtest.Day(ctx, l, "bench", n, batch); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		rep, err := AnalyzeLogged(ctx, l, bd, "bench", time.Now().Add(-24*time.Hour), Options{Window: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Rows != n || rep.Drift.Tested != 20 || rep.Performance == nil || rep.Performance.Labeled != n || ref == nil {
			b.Fatalf("rows %d, tested %d", rep.Rows, rep.Drift.Tested)
		}
	}
}
