package cli

import (
	"context"
	"fmt"

	"github.com/gyre-ml/gyre/internal/automl"
	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/monitor"
	"github.com/gyre-ml/gyre/internal/train"
	"github.com/gyre-ml/gyre/internal/trainlog"
)

// runLog tracks one training command through trainlog, on the backend
// (the local store or a team server). Every train and automl command logs
// a run without being asked; a store that cannot be opened is a warning,
// unless the user asked to register the model.
type runLog struct {
	app *App
	st  *backend
	log *trainlog.Log
}

// startRunLog opens the backend, versions the training file and starts
// the run.
func startRunLog(ctx context.Context, app *App, source, command string, params map[string]string, mustWork bool) (*runLog, error) {
	rl := &runLog{app: app}
	st, err := app.openBackend(ctx)
	if err == nil {
		rl.st = st
		rl.log, err = trainlog.Start(ctx, &trainlog.Stores{StartRun: st.StartRun, Datasets: st.Data, Models: st.Models},
			trainlog.Options{Source: source, Display: ingest.Redact(source), Command: command, Params: params, GyreVersion: Version, Warn: app.warnf})
		if err != nil {
			st.Close()
			rl.st = nil
			err = failed(err)
		}
	}
	if err != nil {
		if mustWork {
			return nil, err
		}
		app.warnf("not tracking this run: %v", err)
	}
	return rl, nil
}

// startRunLogAsync runs startRunLog on its own goroutine and returns the
// function that waits for its result.
func startRunLogAsync(ctx context.Context, app *App, source, command string, params map[string]string, mustWork bool) func() (*runLog, error) {
	type result struct {
		rl  *runLog
		err error
	}
	ch := make(chan result, 1)
	go func() {
		rl, err := startRunLog(ctx, app, source, command, params, mustWork)
		ch <- result{rl, err}
	}()
	var res *result
	return func() (*runLog, error) {
		if res == nil {
			r := <-ch
			res = &r
		}
		return res.rl, res.err
	}
}

// warnf prints a note on stderr unless output is JSON or quiet.
func (a *App) warnf(format string, args ...any) {
	if !a.JSON && !a.Quiet {
		fmt.Fprintf(a.Stderr, "gyre: note: "+format+"\n", args...)
	}
}

// recorder returns the AutoML recorder, or nil when not tracking.
func (rl *runLog) recorder() automl.Recorder { return rl.log.Recorder() }

// linkSplits versions the validation and test files and links them to
// the run (roles validation and test).
func (rl *runLog) linkSplits(ctx context.Context, valid, test split) {
	rl.log.LinkDataset(ctx, valid.src, "validation")
	rl.log.LinkDataset(ctx, test.src, "test")
}

// finish stamps the bundle's lineage, saves it to out, logs metrics and the
// bundle to the run, registers it when asked, and ends the run.
func (rl *runLog) finish(ctx context.Context, b *bundle.Bundle, out, registerAs string, res *trainResult) error {
	b.Manifest.GyreVersion = Version
	rl.log.Stamp(b)
	if err := b.Save(out); err != nil {
		rl.fail(ctx)
		return failed(err)
	}
	if rl.st == nil {
		return nil
	}
	defer rl.st.Close()
	res.RunID = rl.log.RunID()
	reg, err := rl.log.Finish(ctx, b, out, registerAs)
	if err != nil {
		return storeError(err)
	}
	res.Registered = reg
	return nil
}

// attachReference stores the training data's profile in the bundle: the
// reference 'gyre monitor' and 'gyre serve' compare production data with,
// so monitoring never needs the training data.
func attachReference(ctx context.Context, app *App, b *bundle.Bundle, p *train.Problem) {
	f := p.Frame
	if p.Raw != nil {
		f = p.Raw // the model is given raw rows: drift is measured on them
	}
	ref, err := monitor.ReferenceProfile(ctx, f, p.Target)
	if err != nil {
		app.warnf("the model has no drift reference: %v", err)
		return
	}
	b.Profile = ref
}

// fail ends the run as failed (best effort) and closes the store.
func (rl *runLog) fail(ctx context.Context) {
	rl.log.Fail(ctx)
	if rl.st != nil {
		rl.st.Close()
		rl.st = nil
	}
}
