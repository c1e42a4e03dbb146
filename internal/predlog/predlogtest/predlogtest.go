// Package predlogtest fills a prediction log with synthetic traffic for
// benchmarks and tests of the packages that read it.
package predlogtest

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/predlog"
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
		part := feats.Slice(lo, hi)
		fbs := make([]predlog.Feedback, 0, hi-lo)
		for r := 0; r < hi-lo; r += 10 {
			e := min(r+10, hi-lo)
			i := lo + r
			id := "r" + strconv.Itoa(i/10)
			ts := t0.Add(time.Duration(i) * (span / time.Duration(n)))
			pred := make([]float64, e-r)
			for k := range pred {
				pred[k] = 0.9 * y[i+k]
				fbs = append(fbs, predlog.Feedback{Model: model, RequestID: id, Row: k, Label: strconv.FormatFloat(y[i+k], 'g', -1, 64), Time: ts})
			}
			b.AddFrame(id, ts, part.Slice(r, e), &bundle.Prediction{Values: pred})
		}
		start := time.Now()
		if err := l.LogPredictions(ctx, b.Batch()); err != nil {
			return stored, fmt.Errorf("log rows %d-%d: %w", lo, hi, err)
		}
		if err := l.LogFeedback(ctx, fbs); err != nil {
			return stored, fmt.Errorf("log labels %d-%d: %w", lo, hi, err)
		}
		stored += time.Since(start)
	}
	return stored, nil
}
