// Package predlogtest fills a prediction log with synthetic traffic for
// benchmarks and tests of the packages that read it.
package predlogtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/frame/frametest"
	"github.com/gyre-ml/gyre/internal/predlog"
	"github.com/gyre-ml/gyre/internal/sqlstore"
)

// Log logs the rows of feats as a regression model "1" served under model
// would: requests of ten rows, predicted 0.9·y, spread evenly over span from
// t0, in batches of batch rows, each row labelled y. It returns the time
// spent storing the batches and the labels.
func Log(ctx context.Context, l *predlog.Log, model string, feats *frame.Frame, y []float64, t0 time.Time, span time.Duration, batch int) (time.Duration, error) {
	n := feats.NumRows()
	var stored time.Duration
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		b := predlog.NewBuilder(model, "1", feats.Schema(), nil)
		pred := make([]float64, hi-lo)
		for i := range pred {
			pred[i] = 0.9 * y[lo+i]
		}
		b.AddFrame("", t0, feats.Slice(lo, hi), &bundle.Prediction{Values: pred})
		out := b.Batch()
		fbs := make([]predlog.Feedback, hi-lo)
		for j := range out.Len() {
			i := lo + j
			out.RequestID[j], out.Row[j] = "r"+strconv.Itoa(i/10), int32(i%10)
			out.Time[j] = t0.Add(time.Duration(i) * (span / time.Duration(n))).UnixNano()
			fbs[j] = predlog.Feedback{Model: model, RequestID: out.RequestID[j], Row: i % 10,
				Label: strconv.FormatFloat(y[i], 'g', -1, 64), Time: time.Unix(0, out.Time[j])}
		}
		start := time.Now()
		if err := l.LogPredictions(ctx, out); err != nil {
			return stored, fmt.Errorf("log rows %d-%d: %w", lo, hi, err)
		}
		if err := l.LogFeedback(ctx, fbs); err != nil {
			return stored, fmt.Errorf("log labels %d-%d: %w", lo, hi, err)
		}
		stored += time.Since(start)
	}
	return stored, nil
}

// Day logs n rows of frametest.Synthetic(n, 2, 0.3) without its target y
// (20 features) as [Log] does, spread over the 22 hours from 23 hours ago,
// in batches of batch rows: a day of a served model's traffic. It returns
// the features logged and the time spent storing them.
func Day(ctx context.Context, l *predlog.Log, model string, n, batch int) (*frame.Frame, time.Duration, error) {
	src := frametest.Synthetic(n, 2, 0.3)
	yc, err := src.Column("y")
	if err != nil {
		return nil, 0, err
	}
	feats, err := src.Drop("y")
	if err != nil {
		return nil, 0, err
	}
	stored, err := Log(ctx, l, model, feats, yc.(*frame.Float).Values, time.Now().Add(-23*time.Hour), 22*time.Hour, batch)
	return feats, stored, err
}

// Open opens a prediction log on the metadata store at loc (a fresh SQLite
// file when loc is "") with a fresh local artifact store, closed when tb
// ends.
func Open(tb testing.TB, loc string) *predlog.Log {
	tb.Helper()
	dir := tb.TempDir()
	blobs, err := blob.OpenDir(filepath.Join(dir, "artifacts"))
	if err != nil {
		tb.Fatal(err)
	}
	return predlog.New(openDB(tb, loc, dir), blobs)
}

// Logs opens a prediction log on a fresh SQLite store, and one on the
// PostgreSQL store of GYRE_TEST_POSTGRES when it is set, both with one fresh
// local artifact store.
func Logs(tb testing.TB) map[string]*predlog.Log {
	tb.Helper()
	dir := tb.TempDir()
	blobs, err := blob.OpenDir(filepath.Join(dir, "artifacts"))
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]*predlog.Log{"sqlite": predlog.New(openDB(tb, "", dir), blobs)}
	if url := os.Getenv("GYRE_TEST_POSTGRES"); url != "" {
		out["postgres"] = predlog.New(openDB(tb, url, dir), blobs)
	}
	return out
}

// openDB opens the metadata store at loc (dir/gyre.db when loc is ""),
// closed when tb ends.
func openDB(tb testing.TB, loc, dir string) *sqlstore.DB {
	tb.Helper()
	if loc == "" {
		loc = filepath.Join(dir, "gyre.db")
	}
	db, err := sqlstore.Open(context.Background(), loc)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
