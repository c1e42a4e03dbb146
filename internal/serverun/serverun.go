// Package serverun is `gyre serve` end to end: the models named resolved
// to bundles (files, or registry references through a workspace backend,
// hot-reloaded and verified against signing keys), the prediction log
// opened (the store's, masked and written ahead as asked, or a stream),
// the drift gauges over the logged predictions, and the server built on
// them. The command line checks its flags and words the typed errors this
// package returns.
package serverun

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/governance"
	"github.com/gyre-ml/gyre/internal/monitor"
	"github.com/gyre-ml/gyre/internal/predlog"
	"github.com/gyre-ml/gyre/internal/predlog/streamlog"
	"github.com/gyre-ml/gyre/internal/serve"
	"github.com/gyre-ml/gyre/internal/workspace"
)

// Options are what `gyre serve` serves and how.
type Options struct {
	// Refs are the model references: bundle files or registry references.
	Refs []string
	// Keys, when set, are the public keys every bundle must be signed
	// with, on every load and reload.
	Keys []ed25519.PublicKey
	// Resolve loads one reference (the command's resolution: file
	// warnings, its backend).
	Resolve func(ctx context.Context, ref string) (*workspace.Model, error)
	// Open opens the backend registry references reload through.
	Open func(ctx context.Context) (*workspace.Backend, error)
	// OpenLog opens the store's prediction log (Log.Dest "store"): the
	// local store's, or a team server's through its API. The function it
	// returns closes it.
	OpenLog func(ctx context.Context) (StoreLog, func() error, error)
	// Log is the prediction log; its zero value logs nothing.
	Log LogOptions
	// Serve are the server's options; Resolver, Log, Sample and Durable
	// are set here.
	Serve serve.Options
}

// LogOptions say where logged predictions go.
type LogOptions struct {
	// Dest is "" (no log), "store" (the store's prediction log) or a
	// stream destination (kafka://BROKER/TOPIC, see package streamlog).
	Dest string
	// Masker, with the store's log, masks the PII columns of the data
	// contract before a batch is stored (or leaves for a team server).
	Masker *governance.Masker
	// Durable, with the store's log, is the directory each logged request
	// is written ahead to before it is answered.
	Durable string
	// Sample is the share of requests logged.
	Sample float64
}

// Server is a built prediction server with what it holds open.
type Server struct {
	*serve.Server
	// Models are the served models.
	Models  []serve.Model
	closers []func() error
}

// Close closes the stores and logs the server holds open.
func (s *Server) Close() error {
	var errs []error
	for _, c := range s.closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// Names are the served models as NAME/VERSION.
func (s *Server) Names() []string {
	names := make([]string, len(s.Models))
	for i, m := range s.Models {
		names[i] = m.Name + "/" + m.Version
	}
	return names
}

// UnsignedError is a bundle not signed with any of the keys given.
type UnsignedError struct {
	Ref string
	Err error
}

func (e *UnsignedError) Error() string {
	return fmt.Sprintf("serve %s: %v: the server was given a verify key and serves signed bundles only", e.Ref, e.Err)
}
func (e *UnsignedError) Unwrap() error { return e.Err }

// InputError marks the error as the input's fault (exit code 2).
func (e *UnsignedError) InputError() bool { return true }

// ConfigError is a set of models or options the server refuses (serve.New).
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// InputError marks the error as the input's fault (exit code 2).
func (e *ConfigError) InputError() bool { return true }

// DurableError is a write-ahead directory (LogOptions.Durable) that cannot
// be opened.
type DurableError struct{ Err error }

func (e *DurableError) Error() string { return e.Err.Error() }
func (e *DurableError) Unwrap() error { return e.Err }

// failure marks an error that is not the input's fault (exit code 1).
type failure struct{ error }

func (f failure) Unwrap() error { return f.error }
func (failure) Failure() bool   { return true }

// New resolves the models, opens the prediction log and builds the
// server, with drift gauges over the last day of logged predictions when
// the store's log is on. The caller closes the Server.
func New(ctx context.Context, o Options) (srv *Server, err error) {
	s := &Server{}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	opt := o.Serve
	var loader *workspace.Loader
	for _, ref := range o.Refs {
		m, err := o.Resolve(ctx, ref)
		if err != nil {
			return nil, err
		}
		if o.Keys != nil {
			if err := m.Bundle.Verify(o.Keys...); err != nil {
				return nil, &UnsignedError{Ref: ref, Err: err}
			}
		}
		if m.Version != "file" && loader == nil {
			b, err := o.Open(ctx)
			if err != nil {
				return nil, err
			}
			s.closers = append(s.closers, b.Close)
			loader = &workspace.Loader{Models: b.Models, Keys: o.Keys}
			opt.Resolver = loader
		}
		s.Models = append(s.Models, serve.Model{Name: m.Name, Ref: ref, Bundle: m.Bundle, Version: m.Version, Reloadable: m.Registry})
	}
	plog, err := s.openLog(ctx, o, &opt)
	if err != nil {
		return nil, err
	}
	if s.Server, err = serve.New(s.Models, opt); err != nil {
		if opt.Durable != nil {
			opt.Durable.Close()
		}
		return nil, &ConfigError{err}
	}
	if plog != nil {
		// Drift scores and estimated performance over the last day of
		// logged predictions, as Prometheus gauges.
		s.SetGauges(monitor.Gauges(ctx, plog, GaugeModels(s.Models, loader), 24*time.Hour, time.Minute))
	}
	return s, nil
}

// GaugeModels are the served models as the drift gauges watch them: a
// registry reference at the version it resolves to now (through loader,
// when one is given), else the version served.
func GaugeModels(models []serve.Model, loader *workspace.Loader) []monitor.GaugeModel {
	out := make([]monitor.GaugeModel, len(models))
	for i, m := range models {
		out[i] = monitor.GaugeModel{Name: m.Name, Load: func(ctx context.Context) (*bundle.Bundle, string, error) {
			if m.Reloadable && loader != nil {
				if rm, err := loader.Load(ctx, m.Ref); err == nil {
					return rm.Bundle, rm.Version, nil
				}
			}
			return m.Bundle, m.Version, nil
		}}
	}
	return out
}

// StoreLog is a store's prediction log, the local store's (*predlog.Log)
// or a team server's: serve writes to it, the drift gauges read it.
type StoreLog interface {
	serve.PredictionLog
	monitor.LogReader
}

var _ StoreLog = (*predlog.Log)(nil)

// openLog opens the prediction log o.Log names and sets opt's Log, Sample
// and Durable. It returns the store's log (nil for none or a stream).
func (s *Server) openLog(ctx context.Context, o Options, opt *serve.Options) (StoreLog, error) {
	switch o.Log.Dest {
	case "":
		return nil, nil
	case "store":
	default:
		sl, err := streamlog.Open(o.Log.Dest)
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, sl.Close)
		opt.Log, opt.Sample = sl, o.Log.Sample
		return nil, nil
	}
	plog, closeLog, err := o.OpenLog(ctx)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, closeLog)
	opt.Log, opt.Sample = plog, o.Log.Sample
	if o.Log.Masker != nil { // PII columns are masked before the log stores them
		opt.Log = &governance.MaskingLog{Next: plog, Masker: o.Log.Masker}
	}
	if o.Log.Durable != "" {
		w, err := predlog.OpenWAL(o.Log.Durable)
		if err != nil {
			return nil, &DurableError{err}
		}
		opt.Durable = w
	}
	return plog, nil
}
