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
