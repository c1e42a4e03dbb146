package monitor

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
)

// GaugeModel is a served model whose logged predictions Gauges watches.
type GaugeModel struct {
	// Name is the name the model is served and logged under.
	Name string
	// Load returns the model's current bundle and version (a server hot
	// reloads registry references, so the version may move).
	Load func(ctx context.Context) (*bundle.Bundle, string, error)
}

// Gauges returns a writer of Prometheus gauges with the drift scores and
// measured or estimated performance of each model over the last window of
// logged predictions, recomputed every refresh in the background until ctx
// ends (gyre serve puts them in /metrics). A model without predictions in
// the window, or whose analysis fails, keeps its previous gauges.
func Gauges(ctx context.Context, log LogReader, models []GaugeModel, window, refresh time.Duration) func(io.Writer) {
	var mu sync.Mutex
	reports := map[string]*Report{}
	update := func() {
		for _, m := range models {
			b, version, err := m.Load(ctx)
			if err != nil {
				continue
			}
			rep, err := AnalyzeLogged(ctx, log, b, m.Name, time.Now().Add(-window), Options{})
			if err != nil {
				continue
			}
			rep.Model, rep.Version = m.Name, version
			mu.Lock()
			reports[m.Name] = rep
			mu.Unlock()
		}
	}
	go func() {
		t := time.NewTicker(refresh)
		defer t.Stop()
		for {
			update()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func(w io.Writer) {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range models {
			if r := reports[m.Name]; r != nil {
				r.WriteGauges(w)
			}
		}
	}
}
