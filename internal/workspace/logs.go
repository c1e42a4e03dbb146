package workspace

import (
	"context"

	"github.com/gyre-ml/gyre/internal/apiclient"
	"github.com/gyre-ml/gyre/internal/governance"
	"github.com/gyre-ml/gyre/internal/monitor"
	"github.com/gyre-ml/gyre/internal/pipeline"
	"github.com/gyre-ml/gyre/internal/predlog"
	"github.com/gyre-ml/gyre/internal/serve"
)

// PredictionLog is a store's prediction log: `gyre serve` writes it,
// `gyre monitor` reads it.
type PredictionLog interface {
	serve.PredictionLog
	monitor.LogReader
}

// Both backends' logs (the local predlog.Log, a team server's API).
var (
	_ PredictionLog = (*predlog.Log)(nil)
	_ PredictionLog = (*apiclient.PredictionLog)(nil)
)

// PredictionLog returns the backend's prediction log: the team server's
// API, or the local store's. With upgrade, the local log converts the
// logs of older migrations first (before serving, not on the logger's
// first batch). It lives as long as the backend.
func (b *Backend) PredictionLog(ctx context.Context, upgrade bool) (PredictionLog, error) {
	if b.Client != nil {
		return b.Client.PredictionLog(), nil
	}
	l := predlog.New(b.Local.DB, b.Local.Blobs)
	if upgrade {
		if err := l.Upgrade(ctx); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// MaskingSalt returns the salt PII hashes are keyed with in the
// backend's store (a team server gives it to editors), so a value masks
// the same way in a command's report as in the server's prediction log.
func (b *Backend) MaskingSalt(ctx context.Context) ([]byte, error) {
	if b.Client != nil {
		return b.Client.MaskingSalt(ctx)
	}
	return governance.Salt(ctx, b.Local.DB)
}

// PipelineRuns lists the named pipeline's most recent runs, at most
// limit.
func (b *Backend) PipelineRuns(ctx context.Context, name string, limit int) ([]pipeline.RunInfo, error) {
	if b.Client != nil {
		return b.Client.PipelineRuns(ctx, name, limit)
	}
	return pipeline.Runs(ctx, b.Local.DB, name, limit)
}
