// Package trainlog logs a training command (gyre train, gyre automl) to
// the stores: the training file as a data set version, a run with the
// command's params and tags, a child run per AutoML trial, the bundle's
// lineage stamped in its manifest, its metrics, the bundle itself as the
// run's artifact, and its registration. The stores are the interfaces
// below, declared here where they are used: the local store's services
// (track, dataset, registry) satisfy them, and so does a team server's
// client (apiclient), so the same log goes to either.
package trainlog

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gyre-ml/gyre/internal/automl"
	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/track"
)

// Run is a started run (*track.Run, *apiclient.Run).
type Run interface {
	ID() string
	LogMetrics(ctx context.Context, points []track.Metric) error
	LogParams(ctx context.Context, params map[string]string) error
	SetTag(ctx context.Context, key, value string) error
	LogDataset(ctx context.Context, name string, version int64, role string) error
	LogArtifact(ctx context.Context, name string, rd io.Reader) (blob.Ref, error)
	End(ctx context.Context, status track.Status) error
}

// Stores are where the log goes.
type Stores struct {
	// StartRun starts a run.
	StartRun func(ctx context.Context, o track.RunOptions) (Run, error)
	// Datasets versions the training file.
	Datasets interface {
		Version(ctx context.Context, path, name string) (*dataset.Result, error)
	}
	// Models registers the bundle.
	Models interface {
		Register(ctx context.Context, name string, o registry.RegisterOptions) (*registry.Version, error)
	}
}

// Options say what is logged.
type Options struct {
	// Source is the training data as given; a plain file is versioned.
	// Display is the source as recorded (a URL's credentials removed).
	Source, Display string
	// Command names the command (train, automl): the run's name.
	Command string
	Params  map[string]string
	// GyreVersion is stamped in the bundle's manifest.
	GyreVersion string
	// Warn reports what could not be logged without failing the command.
	Warn func(format string, args ...any)
}

// Log is one training command's log. A nil *Log logs nothing (the store
// could not be opened and tracking was not required).
type Log struct {
	st     *Stores
	o      Options
	run    Run
	data   *dataset.Version
	trials int
	// best is the lowest loss of the trials recorded so far (+Inf before
	// the first that scored).
	best float64
}

// Start versions the training file (plain files only) and starts the run.
func Start(ctx context.Context, st *Stores, o Options) (*Log, error) {
	if o.Warn == nil {
		o.Warn = func(string, ...any) {}
	}
	if o.Display == "" {
		o.Display = o.Source
	}
	l := &Log{st: st, o: o, best: math.Inf(1)}
	if fi, err := os.Stat(o.Source); err == nil && !fi.IsDir() {
		res, err := st.Datasets.Version(ctx, o.Source, DatasetName(o.Source))
		if err != nil {
			o.Warn("not versioning %s: %v", o.Source, err)
		} else {
			l.data = res.Version
		}
	}
	tags := map[string]string{"gyre.command": o.Command, "gyre.source": o.Display}
	experiment := DatasetName(o.Display)
	if l.data != nil {
		tags["gyre.dataset"] = l.data.Ref()
		experiment = l.data.Name
	}
	run, err := st.StartRun(ctx, track.RunOptions{Experiment: experiment, Name: o.Command, Params: o.Params, Tags: tags})
	if err != nil {
		return nil, err
	}
	l.run = run
	if l.data != nil {
		if err := run.LogDataset(ctx, l.data.Name, l.data.Version, "train"); err != nil {
			o.Warn("run %s: %v", run.ID(), err)
		}
	}
	return l, nil
}

// LinkDataset versions another file the run used (plain files only: a
// validation or test set) and links it to the run with its role.
func (l *Log) LinkDataset(ctx context.Context, path, role string) {
	if l == nil || l.run == nil || path == "" {
		return
	}
	if fi, err := os.Stat(path); err != nil || fi.IsDir() {
		return
	}
	res, err := l.st.Datasets.Version(ctx, path, DatasetName(path))
	if err != nil {
		l.o.Warn("not versioning %s: %v", path, err)
		return
	}
	if err := l.run.LogDataset(ctx, res.Version.Name, res.Version.Version, role); err != nil {
		l.o.Warn("run %s: %v", l.run.ID(), err)
	}
}

// ModelParams are every hyperparameter of the bundle's members, defaults
// included: "model.NAME" for a single model, "mI.NAME" (and "mI.learner",
// "mI.weight") for ensemble member I.
func ModelParams(b *bundle.Bundle) map[string]string {
	out := map[string]string{}
	for i, m := range b.Members {
		prefix := "model."
		if len(b.Members) > 1 {
			prefix = fmt.Sprintf("m%d.", i)
			out[prefix+"learner"] = m.Info.Learner
			out[prefix+"weight"] = fmt.Sprintf("%.6g", m.Info.Weight)
		}
		for k, v := range m.Info.Params {
			out[prefix+k] = v
		}
	}
	return out
}

// DatasetName derives a data set name from a file name: its base name
// without extensions, with characters outside [A-Za-z0-9._-] replaced.
func DatasetName(source string) string {
	base := filepath.Base(source)
	for _, ext := range []string{".gz", ".csv", ".tsv", ".txt", ".parquet", ".jsonl", ".ndjson", ".json"} {
		base = strings.TrimSuffix(base, ext)
	}
	name := SafeName(base)
	if name == "" || dataset.CheckName(name) != nil {
		return "data"
	}
	return name
}

// SafeName turns a name into a file-name fragment: characters outside
// [A-Za-z0-9._-] become '_'.
func SafeName(s string) string {
	out := []rune{}
	for _, r := range s {
		if r == '-' || r == '_' || r == '.' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			out = append(out, r)
		} else {
			out = append(out, '_')
		}
	}
	return string(out)
}

// RunID is the run's id ("" when not tracking).
func (l *Log) RunID() string {
	if l == nil || l.run == nil {
		return ""
	}
	return l.run.ID()
}

// Trials is the number of trials logged as child runs.
func (l *Log) Trials() int {
	if l == nil {
		return 0
	}
	return l.trials
}

// Recorder returns the AutoML recorder: one child run per trial (nil when
// not tracking).
func (l *Log) Recorder() automl.Recorder {
	if l == nil || l.run == nil {
		return nil
	}
	return l
}

// RecordTrial implements automl.Recorder: one child run per trial.
func (l *Log) RecordTrial(ctx context.Context, t automl.Trial) error {
	params := map[string]string{"learner": t.Learner}
	for k, v := range t.Config {
		params[k] = v
	}
	child, err := l.st.StartRun(ctx, track.RunOptions{ParentID: l.run.ID(), Name: fmt.Sprintf("trial %d", t.ID), Params: params,
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
	l.trials++
	if err := child.End(ctx, status); err != nil {
		return err
	}
	return l.logProgress(ctx, t.Loss)
}

// logProgress records the search's progress on the parent run while it
// runs, at step = trials recorded: search_trials, and search_best_loss
// once a trial has scored, so `gyre runs list` and the UI show how far a
// search (local or on an engine) has come and the best loss so far.
func (l *Log) logProgress(ctx context.Context, loss float64) error {
	if !math.IsInf(loss, 0) && !math.IsNaN(loss) {
		l.best = math.Min(l.best, loss)
	}
	step := int64(l.trials)
	pts := []track.Metric{{Key: "search_trials", Value: float64(l.trials), Step: step}}
	if !math.IsInf(l.best, 0) {
		pts = append(pts, track.Metric{Key: "search_best_loss", Value: l.best, Step: step})
	}
	if err := l.run.LogMetrics(ctx, pts); err != nil {
		return fmt.Errorf("log search progress: %w", err)
	}
	return nil
}

// Stamp records the bundle's lineage in its manifest: the Gyre version,
// the run, the data set version and the git commit of the working
// directory (only the commit on a nil Log).
func (l *Log) Stamp(b *bundle.Bundle) {
	if l != nil {
		b.Manifest.GyreVersion = l.o.GyreVersion
		b.Manifest.RunID = l.RunID()
		if l.data != nil {
			b.Manifest.DatasetVersion = l.data.Ref()
		}
	}
	if wd, err := os.Getwd(); err == nil {
		b.Manifest.GitCommit = track.GitCommit(wd)
	}
}

// Finish logs the saved bundle at path: its metrics, the file as the run's
// model.gyre artifact, its registration as registerAs (when given, the
// version's reference is returned), and ends the run. On error the run is
// ended as failed.
func (l *Log) Finish(ctx context.Context, b *bundle.Bundle, path, registerAs string) (string, error) {
	if l == nil || l.run == nil {
		return "", nil
	}
	ref, err := l.logBundle(ctx, b, path)
	if err != nil {
		l.Fail(ctx)
		return "", err
	}
	if err := l.run.LogParams(ctx, ModelParams(b)); err != nil {
		l.Fail(ctx)
		return "", err
	}
	registered := ""
	if registerAs != "" {
		var ds []registry.DatasetVersion
		if l.data != nil {
			ds = append(ds, registry.DatasetVersion{Name: l.data.Name, Version: l.data.Version})
		}
		v, err := l.st.Models.Register(ctx, registerAs, registry.RegisterOptions{BundleRef: ref, RunID: l.run.ID(), Datasets: ds})
		if err != nil {
			l.Fail(ctx)
			return "", err
		}
		registered = v.Ref()
	}
	if err := l.run.End(ctx, track.StatusFinished); err != nil {
		return "", err
	}
	return registered, nil
}

// logBundle logs the manifest's finite metrics as SPLIT_METRIC and the
// file as the run's artifact.
func (l *Log) logBundle(ctx context.Context, b *bundle.Bundle, path string) (blob.Ref, error) {
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
	if err := l.run.LogMetrics(ctx, pts); err != nil {
		return blob.Ref{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return blob.Ref{}, err
	}
	defer f.Close()
	return l.run.LogArtifact(ctx, "model.gyre", f)
}

// LogArtifact stores a file with the run (under name); it does nothing
// when the run is not tracked.
func (l *Log) LogArtifact(ctx context.Context, name string, rd io.Reader) error {
	if l == nil || l.run == nil {
		return nil
	}
	_, err := l.run.LogArtifact(ctx, name, rd)
	return err
}

// Fail ends the run as failed (best effort); the log logs nothing more.
func (l *Log) Fail(ctx context.Context) {
	if l == nil || l.run == nil {
		return
	}
	_ = l.run.End(context.WithoutCancel(ctx), track.StatusFailed)
	l.run = nil
}
