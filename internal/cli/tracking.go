package cli

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gyre-ml/gyre/internal/automl"
	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/monitor"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/track"
	"github.com/gyre-ml/gyre/internal/train"
)

// runLog tracks one training command: the store, the run, and the data set
// version it trained on. Every train and automl command logs a run without
// being asked; a store that cannot be opened is a warning, unless the user
// asked to register the model.
type runLog struct {
	app    *App
	st     *backend
	run    runLogger
	data   *dataset.Version
	source string
	trials int
}

// startRunLog opens the store, versions the training file (plain files only)
// and starts the run.
func startRunLog(ctx context.Context, app *App, source, command string, params map[string]string, mustWork bool) (*runLog, error) {
	rl := &runLog{app: app, source: source}
	st, err := app.openBackend(ctx)
	if err != nil {
		if mustWork {
			return nil, err
		}
		app.warnf("not tracking this run: %v", err)
		return rl, nil
	}
	rl.st = st
	if fi, err := os.Stat(source); err == nil && !fi.IsDir() {
		res, err := st.Data.Version(ctx, source, datasetName(source))
		if err != nil {
			app.warnf("not versioning %s: %v", source, err)
		} else {
			rl.data = res.Version
		}
	}
	// The source as recorded: a URL's credentials removed.
	tags := map[string]string{"gyre.command": command, "gyre.source": ingest.Redact(source)}
	if rl.data != nil {
		tags["gyre.dataset"] = rl.data.Ref()
	}
	experiment := datasetName(ingest.Redact(source))
	if rl.data != nil {
		experiment = rl.data.Name
	}
	run, err := st.StartRun(ctx, track.RunOptions{Experiment: experiment, Name: command, Params: params, Tags: tags})
	if err != nil {
		st.Close()
		rl.st = nil
		if mustWork {
			return nil, failed(err)
		}
		app.warnf("not tracking this run: %v", err)
		return rl, nil
	}
	rl.run = run
	if rl.data != nil {
		if err := run.LogDataset(ctx, rl.data.Name, rl.data.Version, "train"); err != nil {
			app.warnf("run %s: %v", run.ID(), err)
		}
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

// datasetName derives a data set name from a file name: its base name
// without extensions, with characters outside [A-Za-z0-9._-] replaced.
func datasetName(source string) string {
	base := filepath.Base(source)
	for _, ext := range []string{".gz", ".csv", ".tsv", ".txt", ".parquet", ".jsonl", ".ndjson", ".json"} {
		base = strings.TrimSuffix(base, ext)
	}
	name := safeName(base)
	if name == "" || dataset.CheckName(name) != nil {
		return "data"
	}
	return name
}

// warnf prints a note on stderr unless output is JSON or quiet.
func (a *App) warnf(format string, args ...any) {
	if !a.JSON && !a.Quiet {
		fmt.Fprintf(a.Stderr, "gyre: note: "+format+"\n", args...)
	}
}

// RecordTrial implements automl.Recorder: one child run per trial.
func (rl *runLog) RecordTrial(ctx context.Context, t automl.Trial) error {
	if rl.run == nil {
		return nil
	}
	params := map[string]string{"learner": t.Learner}
	for k, v := range t.Config {
		params[k] = v
	}
	child, err := rl.st.StartRun(ctx, track.RunOptions{ParentID: rl.run.ID(), Name: fmt.Sprintf("trial %d", t.ID), Params: params,
		Tags: map[string]string{"gyre.trial": fmt.Sprint(t.ID)}})
	if err != nil {
		return err
	}
	pts := []track.Metric{{Key: "fit_seconds", Value: t.FitTime.Seconds()}, {Key: "sample_rows", Value: float64(t.Sample)}}
	if !math.IsInf(t.Loss, 0) {
		pts = append(pts, track.Metric{Key: "loss", Value: t.Loss})
	}
	if err := child.LogMetrics(ctx, pts); err != nil {
		return err
	}
	status := track.StatusFinished
	if t.Err != "" {
		status = track.StatusFailed
		_ = child.SetTag(ctx, "gyre.error", t.Err)
	}
	rl.trials++
	return child.End(ctx, status)
}

// recorder returns the AutoML recorder, or nil when not tracking.
func (rl *runLog) recorder() automl.Recorder {
	if rl.run == nil {
		return nil
	}
	return rl
}

// finish stamps the bundle's lineage, saves it to out, logs metrics and the
// bundle to the run, registers it when asked, and ends the run.
func (rl *runLog) finish(ctx context.Context, b *bundle.Bundle, out, registerAs string, res *trainResult) error {
	b.Manifest.GyreVersion = Version
	if rl.run != nil {
		b.Manifest.RunID = rl.run.ID()
	}
	if rl.data != nil {
		b.Manifest.DatasetVersion = rl.data.Ref()
	}
	if wd, err := os.Getwd(); err == nil {
		b.Manifest.GitCommit = track.GitCommit(wd)
	}
	if err := b.Save(out); err != nil {
		rl.fail(ctx)
		return failed(err)
	}
	if rl.run == nil {
		return nil
	}
	defer rl.st.Close()
	res.RunID = rl.run.ID()
	var pts []track.Metric
	splits := make([]string, 0, len(b.Manifest.Metrics))
	for s := range b.Manifest.Metrics {
		splits = append(splits, s)
	}
	sort.Strings(splits)
	for _, s := range splits {
		for k, v := range b.Manifest.Metrics[s] {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				pts = append(pts, track.Metric{Key: s + "_" + k, Value: v})
			}
		}
	}
	if err := rl.run.LogMetrics(ctx, pts); err != nil {
		rl.fail(ctx)
		return failed(err)
	}
	f, err := os.Open(out)
	if err != nil {
		rl.fail(ctx)
		return failed(err)
	}
	ref, err := rl.run.LogArtifact(ctx, "model.gyre", f)
	f.Close()
	if err != nil {
		rl.fail(ctx)
		return failed(err)
	}
	if registerAs != "" {
		var ds []registry.DatasetVersion
		if rl.data != nil {
			ds = append(ds, registry.DatasetVersion{Name: rl.data.Name, Version: rl.data.Version})
		}
		v, err := rl.st.Models.Register(ctx, registerAs, registry.RegisterOptions{BundleRef: ref, RunID: rl.run.ID(), Datasets: ds})
		if err != nil {
			rl.fail(ctx)
			return storeError(err)
		}
		res.Registered = v.Ref()
	}
	if err := rl.run.End(ctx, track.StatusFinished); err != nil {
		return failed(err)
	}
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
	if rl.run == nil {
		return
	}
	_ = rl.run.End(context.WithoutCancel(ctx), track.StatusFailed)
	rl.st.Close()
	rl.run = nil
}
