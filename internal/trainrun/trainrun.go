// Package trainrun runs a training command end to end (gyre train, gyre
// automl): the data read, the problem made, the validation and test files
// read, the run logged beside the fit (trainlog), the fit or the search
// (train), the splits scored, the training profile stored as the drift
// reference (monitor), the bundle saved, logged and registered, and for a
// search its trials handed to an engine (distrib) and its HTML report.
// The command line gives the options and prints the result.
package trainrun

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/monitor"
	"github.com/gyre-ml/gyre/internal/profile"
	"github.com/gyre-ml/gyre/internal/report"
	"github.com/gyre-ml/gyre/internal/train"
	"github.com/gyre-ml/gyre/internal/trainlog"
)

// Backend is where a run is logged: the stores of trainlog, the local
// artifact store when there is one (nil through a team server), and the
// function that closes them.
type Backend struct {
	Stores *trainlog.Stores
	Blobs  blob.Store
	Close  func() error
}

// Bar is a progress indicator (the command line's bar; its methods do
// nothing when there is none).
type Bar interface {
	Add(n int)
	Set(n int)
	Describe(label string)
	Done()
}

// Common are the options train and automl share.
type Common struct {
	// Source is the training data; Valid and Test, optional, are scored
	// after training (Valid also selects the model).
	Source, Valid, Test string
	// Target is the column to predict; Task the task ("" detects it).
	Target string
	Task   learn.Task
	// Problem says which columns are kept or dropped and the recipe;
	// RecipePath is the recipe's file, recorded with the run.
	Problem    train.ProblemOptions
	RecipePath string
	Seed       uint64
	// Out is the bundle's path ("" for the default name); Register, the
	// registered model's name ("": not registered).
	Out, Register string
	// Load reads a source into a frame.
	Load func(ctx context.Context, source string) (*frame.Frame, error)
	// Open opens the backend the run is logged to. Unless Register is
	// set, a backend that cannot be opened is a warning, not an error.
	Open func(ctx context.Context) (*Backend, error)
	// GyreVersion is stamped in the bundle and the run.
	GyreVersion string
	// OnProblem, when set, is called once the problem is made, before
	// anything is fitted; its error ends the run.
	OnProblem func(p *train.Problem) error
	// Progress, when set, starts a progress bar (total < 0: a spinner).
	Progress func(total int64, label string) Bar
	// Warnf reports what could not be done without failing the run;
	// Infof, progress lines.
	Warnf, Infof func(format string, args ...any)
}

func (o *Common) defaults() {
	if o.Warnf == nil {
		o.Warnf = func(string, ...any) {}
	}
	if o.Infof == nil {
		o.Infof = func(string, ...any) {}
	}
	if o.Progress == nil {
		o.Progress = func(int64, string) Bar { return noBar{} }
	}
	if o.OnProblem == nil {
		o.OnProblem = func(*train.Problem) error { return nil }
	}
}

type noBar struct{}

func (noBar) Add(int)         {}
func (noBar) Set(int)         {}
func (noBar) Describe(string) {}
func (noBar) Done()           {}

// Result is what a training command reports (its --json output).
type Result struct {
	Model      string                        `json:"model"`
	Registered string                        `json:"registered,omitempty"`
	RunID      string                        `json:"run_id,omitempty"`
	Task       string                        `json:"task"`
	Target     string                        `json:"target"`
	Classes    []string                      `json:"classes,omitempty"`
	Rows       int                           `json:"rows"`
	Dropped    int                           `json:"dropped_rows,omitempty"`
	Ignored    []string                      `json:"ignored_columns,omitempty"`
	Excluded   []train.Exclusion             `json:"excluded_columns,omitempty"`
	Warnings   []string                      `json:"warnings,omitempty"`
	Learner    string                        `json:"learner"`
	Params     map[string]string             `json:"params,omitempty"`
	FitSeconds float64                       `json:"fit_seconds"`
	Metrics    map[string]map[string]float64 `json:"metrics"`
	// Comparison is the model next to the dummy and the simple model on
	// one evaluation split.
	Comparison *train.Comparison `json:"comparison,omitempty"`
	// CV are every metric of the learner's cross-validated (or validation)
	// predictions (train only).
	CV train.Scores `json:"cv,omitempty"`
}

// resultOf fills the problem's part of a result.
func resultOf(p *train.Problem, out string) Result {
	return Result{Model: out, Task: p.Task.String(), Target: p.Target, Classes: p.Classes, Rows: p.Frame.NumRows(),
		Dropped: p.Dropped, Ignored: p.Ignored, Excluded: p.Excluded, Warnings: p.Warnings}
}

// Errors a run returns, for the caller to word and classify. Errors not
// of these types are the input's (a bad file, column or value).
type (
	// ProblemError is a problem that cannot be made from the data (the
	// target missing, a binary task with three classes: train.ErrNotBinary).
	ProblemError struct{ Err error }
	// BudgetSpentError says reading the data took the search's budget.
	BudgetSpentError struct{ Read, Budget time.Duration }
	// SearchError is a search that failed (automl.ErrNoTrial: no trial
	// finished in the budget; train.ErrNoSpace: a learner has no space).
	SearchError struct{ Err error }
	// StoreError is a failure to log the run, its bundle or its
	// registration to the backend.
	StoreError struct{ Err error }
	// failure is an error that is not the input's fault.
	failure struct{ err error }
)

func (e *ProblemError) Error() string { return e.Err.Error() }
func (e *ProblemError) Unwrap() error { return e.Err }
func (e *BudgetSpentError) Error() string {
	return fmt.Sprintf("reading the data took %v of the %v budget", e.Read.Round(time.Millisecond), e.Budget)
}
func (e *SearchError) Error() string { return "automl: " + e.Err.Error() }
func (e *SearchError) Unwrap() error { return e.Err }
func (e *SearchError) Failure() bool { return true }
func (e *StoreError) Error() string  { return e.Err.Error() }
func (e *StoreError) Unwrap() error  { return e.Err }
func (e failure) Error() string      { return e.err.Error() }
func (e failure) Unwrap() error      { return e.err }
func (e failure) Failure() bool      { return true }
func failed(err error) error         { return failure{err} }

// split is a data set scored after training: its source and frame (nil:
// not given).
type split struct {
	src string
	f   *frame.Frame
	// scored is the model's scoring of f (scoreHeldOut), kept for the
	// run's evaluation plots; nil until scored.
	scored *scoredSplit
}

// scoredSplit is what train.Score gave for a split.
type scoredSplit struct {
	scores train.Scores
	pred   *bundle.Prediction
	y      []float64
}

// prepared is a run's data and problem, and src the frame read from the
// source.
type prepared struct {
	p           *train.Problem
	valid, test split
	src         *frame.Frame
	// ref profiles the rows of the drift reference once (see
	// referenceOf); refIsSrc reports that they are src's, so versioning
	// summarises that profile too.
	ref      func() (*profile.Profile, error)
	refIsSrc bool
}

// prepare reads the source and makes the problem (a clustering problem
// when clustering), then reads the validation and test files.
func prepare(ctx context.Context, o *Common, command string, clustering bool) (*prepared, error) {
	f, err := o.Load(ctx, o.Source)
	if err != nil {
		return nil, err
	}
	var p *train.Problem
	if clustering {
		p, err = train.NewClustering(f, o.Problem)
	} else {
		p, err = train.NewProblemWith(f, o.Target, o.Task, o.Problem)
	}
	if err != nil {
		return nil, &ProblemError{fmt.Errorf("%s %s: %w", command, o.Source, err)}
	}
	if err := o.OnProblem(p); err != nil {
		return nil, err
	}
	r := &prepared{p: p, src: f, ref: referenceOf(ctx, p), refIsSrc: p.Input() == f}
	for _, s := range []struct {
		src string
		to  *split
	}{{o.Valid, &r.valid}, {o.Test, &r.test}} {
		if s.src == "" {
			continue
		}
		f, err := o.Load(ctx, s.src)
		if err != nil {
			return nil, err
		}
		*s.to = split{src: s.src, f: f}
	}
	return r, nil
}

// params are the run's parameters common to both commands, with the
// columns left out and the recipe.
func (o *Common) params(learner string, p *train.Problem, extra map[string]string) map[string]string {
	params := map[string]string{"learner": learner, "target": o.Target, "task": p.Task.String(), "seed": fmt.Sprint(o.Seed)}
	maps.Copy(params, extra)
	if o.RecipePath != "" {
		params["recipe"] = o.RecipePath
	}
	if len(p.Ignored) > 0 {
		params["excluded_columns"] = strings.Join(p.Ignored, ",")
	}
	return params
}

// scoreSplits fills the bundle's train/valid/test metrics (train: see
// train.ScoreTraining).
func scoreSplits(b *bundle.Bundle, p *train.Problem, valid, test *split) error {
	if err := scoreTraining(b, p); err != nil {
		return err
	}
	return scoreHeldOut(b, valid, test)
}

// scoreTraining fills the bundle's train metrics (see train.ScoreTraining).
func scoreTraining(b *bundle.Bundle, p *train.Problem) error {
	if b.Manifest.Metrics == nil {
		b.Manifest.Metrics = map[string]map[string]float64{}
	}
	s, err := train.ScoreTraining(b, p)
	if err != nil {
		return failed(fmt.Errorf("score training data: %w", err))
	}
	b.Manifest.Metrics["train"] = s
	return nil
}

// scoreHeldOut fills the bundle's valid and test metrics, keeping a
// search's validation metrics as search_*, and each split's scoring.
func scoreHeldOut(b *bundle.Bundle, valid, test *split) error {
	if b.Manifest.Metrics == nil {
		b.Manifest.Metrics = map[string]map[string]float64{}
	}
	for _, split := range []struct {
		name string
		*split
	}{{"valid", valid}, {"test", test}} {
		if split.f == nil {
			continue
		}
		s, pred, y, err := train.Score(b, split.f)
		if err != nil {
			return fmt.Errorf("score %s data %s: %w", split.name, split.src, err)
		}
		split.scored = &scoredSplit{scores: maps.Clone(s), pred: pred, y: y}
		if old := b.Manifest.Metrics[split.name]; old != nil && split.name == "valid" {
			for k, v := range old {
				s["search_"+k] = v
			}
		}
		b.Manifest.Metrics[split.name] = s
	}
	return nil
}

// referenceOf returns the function that profiles the rows the model's
// drift reference describes (the raw rows with a recipe, else the
// problem's frame) on its first call and returns that profile on every
// call: the bundle's reference and, when they are the rows read, the
// versioning summary of the training file (beside the fit) share one
// profile instead of computing two.
func referenceOf(ctx context.Context, p *train.Problem) func() (*profile.Profile, error) {
	f, target := p.Input(), p.Target
	return sync.OnceValues(func() (*profile.Profile, error) { return monitor.Reference(ctx, f, target) })
}

// attachReference stores the training data's profile (ref's) in the
// bundle: the reference 'gyre monitor' and 'gyre serve' compare production
// data with, so monitoring never needs the training data.
func attachReference(o *Common, b *bundle.Bundle, ref func() (*profile.Profile, error)) {
	p, err := ref()
	if err == nil {
		b.Profile, err = monitor.EncodeReference(p)
	}
	if err != nil {
		b.Profile = nil
		o.Warnf("the model has no drift reference: %v", err)
	}
}

// runLog is a run logged through trainlog on a backend (both nil when
// the run is not tracked).
type runLog struct {
	o   *Common
	be  *Backend
	log *trainlog.Log
}

// startRunLog opens the backend, versions the training file and starts
// the run. Every run is logged without being asked; a backend that cannot
// be opened is a warning, unless the model is to be registered.
func startRunLog(ctx context.Context, o *Common, command string, params map[string]string, d *prepared) (*runLog, error) {
	// Versioning summarises the frame read already instead of the file
	// read again: the drift reference's profile, when it is of those rows.
	if d.refIsSrc {
		ctx = dataset.WithReadProfile(ctx, o.Source, d.src, d.ref)
	} else {
		ctx = dataset.WithRead(ctx, o.Source, d.src)
	}
	rl := &runLog{o: o}
	be, err := o.Open(ctx)
	if err == nil {
		rl.be = be
		rl.log, err = trainlog.Start(ctx, be.Stores, trainlog.Options{Source: o.Source, Display: ingest.Redact(o.Source),
			Command: command, Params: params, GyreVersion: o.GyreVersion, Warn: o.Warnf})
		if err != nil {
			be.Close()
			rl.be = nil
			err = failed(err)
		}
	}
	if err != nil {
		if o.Register != "" {
			return nil, err
		}
		o.Warnf("not tracking this run: %v", err)
	}
	return rl, nil
}

// startRunLogAsync runs startRunLog on its own goroutine and returns the
// function that waits for its result.
func startRunLogAsync(ctx context.Context, o *Common, command string, params map[string]string, d *prepared) func() (*runLog, error) {
	type result struct {
		rl  *runLog
		err error
	}
	ch := make(chan result, 1)
	go func() {
		rl, err := startRunLog(ctx, o, command, params, d)
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

// finish links the validation and test files, stamps the bundle's
// lineage, saves it to out, logs metrics and the bundle to the run,
// registers it when asked, and ends the run.
func (rl *runLog) finish(ctx context.Context, b *bundle.Bundle, out string, valid, test split, res *Result) error {
	// Versioning summarises the frames read already.
	rl.log.LinkDataset(dataset.WithRead(ctx, valid.src, valid.f), valid.src, "validation")
	rl.log.LinkDataset(dataset.WithRead(ctx, test.src, test.f), test.src, "test")
	b.Manifest.GyreVersion = rl.o.GyreVersion
	rl.log.Stamp(b)
	if err := b.Save(out); err != nil {
		rl.fail(ctx)
		return failed(err)
	}
	if rl.be == nil {
		return nil
	}
	defer rl.be.Close()
	res.RunID = rl.log.RunID()
	rl.logPlots(ctx, b, valid, test)
	reg, err := rl.log.Finish(ctx, b, out, rl.o.Register)
	if err != nil {
		return &StoreError{err}
	}
	res.Registered = reg
	return nil
}

// PlotsArtifact is the run artifact holding the model's evaluation plots
// on held-out rows (report.Plots as JSON), which the web UI draws on a
// model version's page.
const PlotsArtifact = report.PlotsArtifact

// logPlots scores the model on the test rows (else the validation rows)
// and logs the evaluation's plots with the run. Without held-out rows
// there is nothing honest to plot and nothing is logged; a failure is a
// warning, since the model and its metrics are already saved.
func (rl *runLog) logPlots(ctx context.Context, b *bundle.Bundle, valid, test split) {
	held := test
	if held.f == nil {
		held = valid
	}
	if held.f == nil {
		return
	}
	var err error
	sc := held.scored
	if sc == nil {
		sc = &scoredSplit{}
		sc.scores, sc.pred, sc.y, err = train.Score(b, held.f)
	}
	if err == nil {
		scores, pred, y := sc.scores, sc.pred, sc.y
		var body []byte
		e := report.EvaluationOf(b, b.Manifest.Target, ingest.Redact(held.src), scores, y, pred)
		if body, err = json.Marshal(report.PlotsOf(e)); err == nil {
			err = rl.log.LogArtifact(ctx, PlotsArtifact, bytes.NewReader(body))
		}
	}
	if err != nil {
		rl.o.Warnf("run %s: no evaluation plots: %v", rl.log.RunID(), err)
	}
}

// fail ends the run as failed (best effort) and closes the backend.
func (rl *runLog) fail(ctx context.Context) {
	rl.log.Fail(ctx)
	if rl.be != nil {
		rl.be.Close()
		rl.be = nil
	}
}
