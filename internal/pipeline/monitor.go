package pipeline

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/metric"
	"github.com/gyre-ml/gyre/internal/monitor"
	"github.com/gyre-ml/gyre/internal/predlog"
)

// ApplyMonitor fills monitoring options from the project where they are
// unset: its goals (those a model's predictions can be checked against:
// not latency or size), the performance window, drift share, tolerance
// and metric. The project's window, webhook and name are the caller's to
// apply (Monitor.Window, Monitor.Webhook, Name).
func (p *Project) ApplyMonitor(opt *monitor.Options) {
	for _, g := range p.Goals {
		if g.Metric != metric.GoalLatency && g.Metric != metric.GoalSize {
			opt.Goals = append(opt.Goals, g)
		}
	}
	mc := p.Monitor
	if opt.Window == 0 {
		opt.Window = mc.Every
	}
	if opt.Drift.DriftShare == 0 {
		opt.Drift.DriftShare = mc.DriftShare
	}
	if opt.Tolerance == 0 {
		opt.Tolerance = mc.Tolerance
	}
	if opt.Metric == "" {
		opt.Metric = p.Train.Metric
	}
}

// AlertCheck returns the monitoring check behind triggers.on_alert (for
// ScheduleOptions.Alert): drift or decay alerts on the production model's
// predictions logged in the project's monitor window (default 24h), posted
// to the project's webhook; the reason is the alerts' kinds. No model in
// production or nothing logged is no alert.
func AlertCheck(env *Env, p *Project) func(ctx context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		alias := p.Gate.Alias
		if alias == "" {
			alias = "production"
		}
		b, version, err := loadAliased(ctx, env, p.Name+"@"+alias)
		if err != nil {
			return "", nil // nothing in production yet
		}
		opt := monitor.Options{Metric: p.Train.Metric, Window: p.Monitor.Every, Tolerance: p.Monitor.Tolerance}
		opt.Drift.DriftShare = p.Monitor.DriftShare
		p.ApplyMonitor(&opt)
		window := p.Monitor.Window
		if window <= 0 {
			window = 24 * time.Hour
		}
		rep, err := monitor.AnalyzeLogged(ctx, predlog.New(env.DB, env.Blobs), b, p.Name, time.Now().Add(-window), opt)
		if errors.Is(err, monitor.ErrNoLogged) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		rep.Model, rep.Version = p.Name, version
		if !rep.Alerting() {
			return "", nil
		}
		if p.Monitor.Webhook != "" {
			_ = (&monitor.Webhook{URL: p.Monitor.Webhook}).Notify(ctx, rep)
		}
		return strings.Join(rep.AlertKinds(), ","), nil
	}
}

// loadAliased loads the bundle a registry reference resolves to, and its
// version number.
func loadAliased(ctx context.Context, env *Env, ref string) (*bundle.Bundle, string, error) {
	v, err := env.Registry.Resolve(ctx, ref)
	if err != nil {
		return nil, "", err
	}
	rc, err := env.Registry.OpenBundle(ctx, v)
	if err != nil {
		return nil, "", err
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return nil, "", err
	}
	b, err := bundle.Decode(data)
	if err != nil {
		return nil, "", err
	}
	return b, strconv.FormatInt(v.Version, 10), nil
}
