package monitor

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/frame/frametest"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/sqlstore"
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

// BenchmarkRecords1M decodes 1,000,000 logged predictions × 20 features
// from their JSON into a typed frame.
func BenchmarkRecords1M(b *testing.B) {
	const n = 1_000_000
	bd := syntheticBundle(b, frametest.Synthetic(10_000, 1, 0))
	src := frametest.Synthetic(n, 2, 0)
	recs := make([]Logged, n)
	row := make(map[string]any, 20)
	for i := range recs {
		for _, c := range src.Columns()[:20] {
			if v, ok := frame.Value(c, i); ok && c.Kind() == frame.KindFloat {
				row[c.Name()] = v
			} else {
				row[c.Name()] = c.Format(i)
			}
		}
		in, _ := json.Marshal(row)
		recs[i] = Logged{Record: Record{RequestID: "r", Row: i, Time: time.Unix(int64(i), 0), Input: in, Output: json.RawMessage(`{"prediction": 1.5}`)}, Label: json.RawMessage(`2`)}
	}
	b.ResetTimer()
	for b.Loop() {
		cur, err := Records(bd, recs)
		if err != nil {
			b.Fatal(err)
		}
		if cur.Frame.NumCols() != 20 {
			b.Fatal(cur.Frame.NumCols())
		}
	}
}

// BenchmarkLogCurrent1M is the whole monitoring path on 1,000,000 logged
// predictions × 20 features with labels: read a day's window from a SQLite
// prediction log (1,000 batches of 1,000 rows, as gyre serve logs them)
// into a typed frame, then analyse it against a stored 100,000-row
// reference. Logging the rows (≈ 20 s) is setup, not timed.
func BenchmarkLogCurrent1M(b *testing.B) {
	const n, batch = 1_000_000, 1000
	ctx := context.Background()
	bd := syntheticBundle(b, frametest.Synthetic(100_000, 1, 0))
	ref, err := BundleReference(bd)
	if err != nil {
		b.Fatal(err)
	}
	db, err := sqlstore.Open(ctx, filepath.Join(b.TempDir(), "gyre.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	l := NewLog(db)
	src := frametest.Synthetic(n, 2, 0.3)
	y := src.Columns()[20].(*frame.Float).Values
	t0 := time.Now().Add(-23 * time.Hour)
	row := make(map[string]any, 20)
	for lo := 0; lo < n; lo += batch {
		recs := make([]Record, 0, batch)
		fbs := make([]Feedback, 0, batch)
		for i := lo; i < lo+batch; i++ {
			for _, c := range src.Columns()[:20] {
				if v, ok := frame.Value(c, i); ok && c.Kind() == frame.KindFloat {
					row[c.Name()] = v
				} else {
					row[c.Name()] = c.Format(i)
				}
			}
			in, _ := json.Marshal(row)
			id := "r" + strconv.Itoa(i/10)
			ts := t0.Add(time.Duration(i) * (22 * time.Hour / n))
			recs = append(recs, Record{Model: "bench", Version: "1", RequestID: id, Row: i % 10, Time: ts, Input: in,
				Output: json.RawMessage(`{"prediction": ` + strconv.FormatFloat(0.9*y[i], 'g', -1, 64) + `}`)})
			fbs = append(fbs, Feedback{Model: "bench", RequestID: id, Row: i % 10, Label: json.RawMessage(strconv.FormatFloat(y[i], 'g', -1, 64)), Time: ts})
		}
		if err := l.LogPredictions(ctx, recs); err != nil {
			b.Fatal(err)
		}
		if err := l.LogFeedback(ctx, fbs); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		cur, err := l.Current(ctx, bd, Query{Model: "bench", Since: time.Now().Add(-24 * time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
		rep, err := Analyze(ctx, bd, ref, cur, Options{Window: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		if cur.Frame.NumRows() != n || rep.Drift.Tested != 20 || rep.Performance == nil || rep.Performance.Labeled != n {
			b.Fatalf("rows %d, tested %d", cur.Frame.NumRows(), rep.Drift.Tested)
		}
	}
}
