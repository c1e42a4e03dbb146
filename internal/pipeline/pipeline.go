package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/feature"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/metric"
	"github.com/gyre-ml/gyre/internal/profile"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/report"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/track"
	"github.com/gyre-ml/gyre/internal/train"
	"github.com/gyre-ml/gyre/internal/validate"
)

// InputError marks a run that failed on its input (the project's data or
// settings), not on the work: the command line exits 2 for it.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *InputError) Unwrap() error { return e.Err }

// InputError marks the error as the input's fault.
func (e *InputError) InputError() bool { return true }

// Steps are the pipeline's steps, in order.
var Steps = []string{"ingest", "validate", "prepare", "train", "evaluate", "gate", "register", "promote"}

// Env is what a pipeline runs against: the metadata and artifact stores and
// the services on them.
type Env struct {
	DB       *sqlstore.DB
	Blobs    blob.Store
	Tracker  *track.Tracker
	Registry *registry.Registry
	Datasets *dataset.Catalog
	// Progress, when set, is called as each step finishes.
	Progress func(StepResult)
	// GyreVersion is stamped into bundles.
	GyreVersion string
}

// Options configure one run.
type Options struct {
	// Trigger says why the pipeline runs ("manual", "schedule", "new data
	// version", "alert: ...").
	Trigger string
	// ID continues the recorded pipeline run with this id (created when
	// new) instead of starting one; ParentRunID, its tracked run. A run
	// driven one step at a time by a workflow engine passes them on from
	// step to step (Result.ID, Result.RunID).
	ID, ParentRunID string
	// Through stops the run after this step (one of Steps; "" runs them
	// all): the steps before it are cache hits when an earlier call ran
	// them. A run stopped early stays "running" unless it ended (a
	// rejection at the gate ends it).
	Through string
}

// StepResult is what one step did.
type StepResult struct {
	Step string `json:"step"`
	// Status is done, cached (the output of an earlier run with the same
	// inputs and configuration was reused) or skipped.
	Status  string  `json:"status"`
	Key     string  `json:"key,omitempty"`
	RunID   string  `json:"run_id,omitempty"`
	Seconds float64 `json:"seconds"`
	Summary string  `json:"summary,omitempty"`
}

// Result is the outcome of Run.
type Result struct {
	ID       string       `json:"id"`
	Pipeline string       `json:"pipeline"`
	Trigger  string       `json:"trigger"`
	RunID    string       `json:"run_id,omitempty"`
	Steps    []StepResult `json:"steps"`
	// Status is promoted, rejected (the gate said no), unchanged (every
	// step cached) or failed.
	Status string `json:"status"`
	// Version is the registered version (0 when none).
	Version int64       `json:"version,omitempty"`
	Gate    *GateResult `json:"gate,omitempty"`
	Seconds float64     `json:"seconds"`
}

// GateResult is the promotion decision.
type GateResult struct {
	Passed bool   `json:"passed"`
	Metric string `json:"metric"`
	// Candidate and Production score the two models on the same holdout.
	Candidate         float64  `json:"candidate"`
	Production        *float64 `json:"production,omitempty"`
	ProductionVersion int64    `json:"production_version,omitempty"`
	// Gain is the candidate's improvement (oriented: positive is better).
	Gain    *float64     `json:"gain,omitempty"`
	MinGain float64      `json:"min_gain"`
	Goals   []GoalResult `json:"goals,omitempty"`
	Reasons []string     `json:"reasons,omitempty"`
}

// GoalResult is one goal checked by the gate.
type GoalResult struct {
	Goal  string  `json:"goal"`
	Value float64 `json:"value"`
	Met   bool    `json:"met"`
}

// step outputs (cached as JSON)
type ingestOut struct {
	Dataset string `json:"dataset"`
	Version int64  `json:"version"`
	Digest  string `json:"digest"`
}

type validateOut struct {
	ContractErrors int     `json:"contract_errors"`
	DriftShare     float64 `json:"drift_share"`
	Drifted        int     `json:"drifted"`
	Against        string  `json:"against,omitempty"`
}

type prepareOut struct {
	TrainRows   int `json:"train_rows"`
	HoldoutRows int `json:"holdout_rows"`
}

type trainOut struct {
	Bundle  blob.Ref `json:"bundle"`
	RunID   string   `json:"run_id"`
	Learner string   `json:"learner"`
}

type evaluateOut struct {
	Bundle  blob.Ref           `json:"bundle"`
	Metrics map[string]float64 `json:"metrics"`
	P99Ms   float64            `json:"p99_ms"`
	Size    int64              `json:"size"`
}

type registerOut struct {
	Version int64 `json:"version"`
}

type promoteOut struct {
	Alias    string `json:"alias"`
	Version  int64  `json:"version"`
	Previous int64  `json:"previous,omitempty"`
}

// runner holds one run's state.
type runner struct {
	env     *Env
	p       *Project
	res     *Result
	parent  *track.Run
	trigger string
	through string // stop after this step ("" for none)
	// lazily loaded data
	loaded          bool
	full, tr, holdo *frame.Frame
	ingest          ingestOut
}

// Run runs the pipeline of project p: each step whose inputs and
// configuration are unchanged since an earlier run reuses that run's output.
// Only one run per pipeline proceeds at a time: a concurrent call fails fast
// with a *BusyError (errors.Is ErrBusy). A failing step fails the run; a
// later run resumes from the last completed step.
func Run(ctx context.Context, env *Env, p *Project, o Options) (*Result, error) {
	start := time.Now()
	p = p.withDefaults()
	if o.Trigger == "" {
		o.Trigger = "manual"
	}
	if o.Through != "" && !slices.Contains(Steps, o.Through) {
		return nil, fmt.Errorf("pipeline %s: no step %q (steps: %s)", p.Name, o.Through, strings.Join(Steps, ", "))
	}
	lk, err := acquire(ctx, env.DB, p.Name, o.Trigger)
	if err != nil {
		return nil, err
	}
	defer lk.release()
	id := o.ID
	if id == "" {
		id = track.NewID()
	}
	r := &runner{env: env, p: p, trigger: o.Trigger, through: o.Through, res: &Result{ID: id, Pipeline: p.Name, Trigger: o.Trigger, Steps: []StepResult{}}}
	if o.ParentRunID != "" {
		if r.parent, err = env.Tracker.Resume(ctx, o.ParentRunID); err != nil {
			return nil, fmt.Errorf("pipeline %s: run %s: %w", p.Name, o.ParentRunID, err)
		}
		r.res.RunID = o.ParentRunID
	}
	if err := env.DB.Write(ctx, func(tx *sqlstore.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO pipeline_runs (id, pipeline, trigger_by, status, start_ms) VALUES (?, ?, ?, 'running', ?) ON CONFLICT (id) DO NOTHING",
			r.res.ID, p.Name, o.Trigger, start.UnixMilli())
		return err
	}); err != nil {
		return nil, fmt.Errorf("pipeline %s: %w", p.Name, err)
	}
	err = r.run(ctx)
	if err == nil && r.res.Status == "" {
		// Stopped early (Options.Through): the run goes on in a later call.
		r.res.Seconds = time.Since(start).Seconds()
		return r.res, nil
	}
	r.res.Seconds = time.Since(start).Seconds()
	detail := ""
	if err != nil {
		r.res.Status = "failed"
		detail = err.Error()
	}
	if r.parent != nil {
		st := track.StatusFinished
		if err != nil {
			st = track.StatusFailed
			_ = r.parent.SetTag(context.WithoutCancel(ctx), "gyre.error", detail)
		}
		_ = r.parent.SetTag(context.WithoutCancel(ctx), "gyre.pipeline.status", r.res.Status)
		_ = r.parent.End(context.WithoutCancel(ctx), st)
	}
	uctx := context.WithoutCancel(ctx) // record the outcome even when cancelled
	_ = env.DB.Write(uctx, func(tx *sqlstore.Tx) error {
		_, err := tx.ExecContext(uctx, "UPDATE pipeline_runs SET status = ?, detail = ?, end_ms = ? WHERE id = ?",
			r.res.Status, detail, time.Now().UnixMilli(), r.res.ID)
		return err
	})
	if err != nil {
		return r.res, fmt.Errorf("pipeline %s: %w", p.Name, err)
	}
	return r.res, nil
}

func (r *runner) run(ctx context.Context) error {
	p := r.p
	ingestKey, err := r.ingestStep(ctx)
	if err != nil || r.through == "ingest" {
		return err
	}

	// validate: contract and drift against the production model's training data
	contractHash := ""
	if p.Data.Contract != "" {
		b, err := os.ReadFile(p.Resolve(p.Data.Contract))
		if err != nil {
			return fmt.Errorf("step validate: contract: %w", err)
		}
		contractHash = digestBytes(b)
	}
	prodRef := p.Name + "@" + p.Gate.Alias
	prodVersion := int64(0)
	if v, err := r.env.Registry.Resolve(ctx, prodRef); err == nil {
		prodVersion = v.Version
	} else if !errors.Is(err, registry.ErrNotFound) {
		return fmt.Errorf("step validate: resolve %s: %w", prodRef, err)
	}
	var vout validateOut
	validateKey := hashKey("validate", ingestKey, contractHash)
	if err := r.step(ctx, "validate", validateKey, nil, &vout, func(run *track.Run) (string, error) {
		return r.validate(ctx, run, prodVersion, &vout)
	}); err != nil {
		return err
	}
	if r.through == "validate" {
		return nil
	}

	// prepare: the train/holdout split
	var pout prepareOut
	splitKey := p.Data.Split
	if splitKey == "random" {
		// The random split is feature.Split's shuffle (since it replaced
		// the pipeline's own): steps cached under the old one are not reused.
		splitKey = "random/feature.Split"
	}
	prepareKey := hashKey("prepare", validateKey, splitKey, fmt.Sprint(p.Data.Holdout), fmt.Sprint(p.Data.Seed), p.Problem.Target)
	if err := r.step(ctx, "prepare", prepareKey, map[string]string{"holdout": fmt.Sprint(p.Data.Holdout), "split": p.Data.Split}, &pout, func(*track.Run) (string, error) {
		if err := r.load(ctx); err != nil {
			return "", err
		}
		pout = prepareOut{TrainRows: r.tr.NumRows(), HoldoutRows: r.holdo.NumRows()}
		return fmt.Sprintf("%d training rows, %d holdout rows (%s)", pout.TrainRows, pout.HoldoutRows, p.Data.Split), nil
	}); err != nil {
		return err
	}
	if r.through == "prepare" {
		return nil
	}

	// train
	tcfg, _ := json.Marshal(p.Train)
	var tout trainOut
	recipeHash := ""
	if p.Recipe != "" {
		b, err := os.ReadFile(p.Resolve(p.Recipe))
		if err != nil {
			return fmt.Errorf("step train: recipe: %w", err)
		}
		recipeHash = digestBytes(b)
	}
	trainParts := []string{"train", prepareKey, string(tcfg), p.Problem.Task}
	if recipeHash != "" {
		trainParts = append(trainParts, "recipe", recipeHash) // keys without a recipe stay as they were
	}
	trainKey := hashKey(trainParts...)
	if err := r.step(ctx, "train", trainKey, trainParams(p), &tout, func(run *track.Run) (string, error) {
		return r.train(ctx, run, &tout)
	}); err != nil {
		return err
	}
	if r.through == "train" {
		return nil
	}

	// evaluate on the holdout
	var eout evaluateOut
	evalKey := hashKey("evaluate", trainKey, tout.Bundle.Digest)
	if err := r.step(ctx, "evaluate", evalKey, nil, &eout, func(run *track.Run) (string, error) {
		return r.evaluate(ctx, run, tout, &eout)
	}); err != nil {
		return err
	}
	if r.through == "evaluate" {
		return nil
	}

	// gate: goals and the minimum gain over production on the same holdout
	gcfg, _ := json.Marshal(struct {
		G Gate
		Goals
		M string
	}{p.Gate, p.Goals, p.Train.Metric})
	var gout GateResult
	gateKey := hashKey("gate", evalKey, string(gcfg))
	if err := r.step(ctx, "gate", gateKey, map[string]string{"min_gain": fmt.Sprint(p.Gate.MinGain), "alias": p.Gate.Alias}, &gout, func(run *track.Run) (string, error) {
		return r.gate(ctx, run, prodRef, eout, &gout)
	}); err != nil {
		return err
	}
	r.res.Gate = &gout
	if !gout.Passed {
		r.add(StepResult{Step: "register", Status: "skipped", Summary: "the gate rejected the candidate"})
		r.add(StepResult{Step: "promote", Status: "skipped", Summary: "the gate rejected the candidate"})
		r.res.Status = "rejected"
		return nil
	}
	if r.through == "gate" {
		return nil
	}

	// register (idempotent: a bundle already registered is reused)
	var rout registerOut
	regKey := hashKey("register", gateKey)
	if err := r.step(ctx, "register", regKey, nil, &rout, func(run *track.Run) (string, error) {
		return r.register(ctx, tout, eout, &rout)
	}); err != nil {
		return err
	}
	r.res.Version = rout.Version
	if r.through == "register" {
		return nil
	}

	// promote: move the alias to the registered version
	var mout promoteOut
	promKey := hashKey("promote", regKey, p.Gate.Alias)
	if err := r.step(ctx, "promote", promKey, map[string]string{"alias": p.Gate.Alias}, &mout, func(run *track.Run) (string, error) {
		return r.promote(ctx, rout.Version, &mout)
	}); err != nil {
		return err
	}
	r.res.Status = "promoted"
	allCached := true
	for _, s := range r.res.Steps {
		if s.Status == "done" {
			allCached = false
		}
	}
	if allCached {
		r.res.Status = "unchanged"
	}
	return nil
}

// ingestStep versions the source (a stat when unchanged) and returns the
// step's cache key.
func (r *runner) ingestStep(ctx context.Context) (string, error) {
	t0 := time.Now()
	var ver *dataset.Result
	var summary string
	var err error
	if pulledSource(r.p.Data.Source) {
		ver, summary, err = r.pulledIngest(ctx)
	} else {
		ver, err = r.env.Datasets.Version(ctx, r.p.Resolve(r.p.Data.Source), r.p.Data.Dataset)
		if err == nil {
			summary = fmt.Sprintf("%s (%d rows)", ver.Version.Ref(), ver.Summary.Rows)
		}
	}
	if err != nil {
		return "", fmt.Errorf("step ingest: %w", err)
	}
	r.ingest = ingestOut{Dataset: ver.Name, Version: ver.Version.Version, Digest: ver.Blob.Digest}
	key := hashKey("ingest", ver.Blob.Digest)
	status := "cached"
	if ver.Created {
		status = "done"
	}
	r.add(StepResult{Step: "ingest", Status: status, Key: key, Seconds: time.Since(t0).Seconds(), Summary: summary})
	return key, nil
}

func (r *runner) add(s StepResult) {
	r.res.Steps = append(r.res.Steps, s)
	if r.env.Progress != nil {
		r.env.Progress(s)
	}
}

// step runs fn unless the cache holds the step's output for key; out is
// filled from the cache or by fn and then cached.
func (r *runner) step(ctx context.Context, name, key string, params map[string]string, out any, fn func(run *track.Run) (string, error)) error {
	t0 := time.Now()
	var cached, summary, runID string
	err := r.env.DB.QueryRowContext(ctx, "SELECT output, run_id FROM pipeline_steps WHERE pipeline = ? AND step = ? AND cache_key = ?",
		r.p.Name, name, key).Scan(&cached, &runID)
	switch {
	case err == nil:
		var env struct {
			Out     json.RawMessage `json:"out"`
			Summary string          `json:"summary"`
		}
		if err := json.Unmarshal([]byte(cached), &env); err == nil && json.Unmarshal(env.Out, out) == nil {
			r.add(StepResult{Step: name, Status: "cached", Key: key, RunID: runID, Seconds: time.Since(t0).Seconds(), Summary: env.Summary})
			return nil
		}
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("step %s: read cache: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("step %s: %w", name, err)
	}
	if r.parent == nil {
		parent, err := r.env.Tracker.Start(ctx, track.RunOptions{Experiment: "pipeline-" + r.p.Name, Name: "pipeline " + r.p.Name,
			Tags: r.p.runTags(r.trigger, r.res.ID)})
		if err != nil {
			return fmt.Errorf("step %s: track: %w", name, err)
		}
		r.parent = parent
		r.res.RunID = parent.ID()
	}
	run, err := r.env.Tracker.Start(ctx, track.RunOptions{ParentID: r.parent.ID(), Name: name, Params: params,
		Tags: map[string]string{"gyre.pipeline": r.p.Name, "gyre.step": name, "gyre.cache_key": key}})
	if err != nil {
		return fmt.Errorf("step %s: track: %w", name, err)
	}
	if r.ingest.Digest != "" {
		role := "input"
		if name == "train" {
			role = "train"
		}
		_ = run.LogDataset(ctx, r.ingest.Dataset, r.ingest.Version, role)
	}
	summary, err = fn(run)
	if err != nil {
		_ = run.SetTag(context.WithoutCancel(ctx), "gyre.error", err.Error())
		_ = run.End(context.WithoutCancel(ctx), track.StatusFailed)
		return fmt.Errorf("step %s: %w", name, err)
	}
	body, err := json.Marshal(struct {
		Out     any    `json:"out"`
		Summary string `json:"summary"`
	}{out, summary})
	if err != nil {
		return fmt.Errorf("step %s: %w", name, err)
	}
	if err := r.env.DB.Write(ctx, func(tx *sqlstore.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO pipeline_steps (pipeline, step, cache_key, output, run_id, created_ms) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (pipeline, step, cache_key) DO UPDATE SET output = excluded.output, run_id = excluded.run_id`,
			r.p.Name, name, key, string(body), run.ID(), time.Now().UnixMilli())
		return err
	}); err != nil {
		_ = run.End(context.WithoutCancel(ctx), track.StatusFailed)
		return fmt.Errorf("step %s: save output: %w", name, err)
	}
	_ = run.SetTag(ctx, "gyre.summary", summary)
	if err := run.End(ctx, track.StatusFinished); err != nil {
		return fmt.Errorf("step %s: %w", name, err)
	}
	r.add(StepResult{Step: name, Status: "done", Key: key, RunID: run.ID(), Seconds: time.Since(t0).Seconds(), Summary: summary})
	return nil
}

// runTags are a pipeline run's tags: the pipeline, why it ran, its id,
// and the project's triggers as they were when it ran (gyre.triggers.*:
// schedule, on_new_data, on_alert, poll), so the store shows a pipeline's
// schedule beside its runs.
func (p *Project) runTags(trigger, id string) map[string]string {
	tags := map[string]string{"gyre.pipeline": p.Name, "gyre.trigger": trigger, "gyre.pipeline.run": id}
	t := p.Trigger
	if t.Schedule != "" {
		tags["gyre.triggers.schedule"] = t.Schedule
	}
	if t.OnNewData {
		tags["gyre.triggers.on_new_data"] = "true"
	}
	if t.OnAlert {
		tags["gyre.triggers.on_alert"] = "true"
	}
	if t.Poll > 0 && (t.OnNewData || t.OnAlert) {
		tags["gyre.triggers.poll"] = t.Poll.String()
	}
	return tags
}

// load reads the source and splits it (once per run).
func (r *runner) load(ctx context.Context) error {
	if r.loaded {
		return nil
	}
	var f *frame.Frame
	var err error
	if pulledSource(r.p.Data.Source) {
		f, err = r.loadSnapshot(ctx)
	} else {
		f, err = ingest.Read(ctx, r.p.Resolve(r.p.Data.Source), ingest.Options{})
	}
	if err != nil {
		return err
	}
	if f.Index(r.p.Problem.Target) < 0 {
		return &InputError{Err: fmt.Errorf("data %s: no target column %q (columns: %v)", ingest.Redact(r.p.Data.Source), r.p.Problem.Target, f.Names())}
	}
	if r.tr, r.holdo, err = holdoutSplit(f, r.p.Data); err != nil {
		return fmt.Errorf("data %s: %w", r.p.Data.Source, err)
	}
	r.full, r.loaded = f, true
	return nil
}

// holdoutSplit cuts the holdout share d.Holdout from f with feature.Split:
// the newest rows (the last ones) unless d.Split is "random", then a
// shuffle seeded by d.Seed. Both parts keep the source's row order.
func holdoutSplit(f *frame.Frame, d Data) (train, holdout *frame.Frame, err error) {
	n := f.NumRows()
	if nh := int(math.Round(float64(n) * d.Holdout)); nh < 1 || n-nh < 2 {
		return nil, nil, fmt.Errorf("%d rows are too few to hold out %.0f%%", n, 100*d.Holdout)
	}
	opt := feature.SplitOptions{Train: 1 - d.Holdout, Test: d.Holdout, Seed: d.Seed}
	if d.Split != "random" {
		opt.Times = make([]float64, n)
		for i := range opt.Times {
			opt.Times[i] = float64(i)
		}
	}
	part, err := feature.Split(n, opt)
	if err != nil {
		return nil, nil, err
	}
	if opt.Times != nil {
		// The parts are the two ends of the source: views, not copies.
		return f.Slice(0, len(part.Train)), f.Slice(len(part.Train), n), nil
	}
	return f.Take(part.Train), f.Take(part.Test), nil
}

// ValidationArtifact is the validate step run's artifact: what the step
// checked (Validation as JSON), for the web UI and anyone reading the run.
const ValidationArtifact = "validation.json"

// Validation is what a validate step found: the contract's findings on
// the source data and the drift of the data against the production
// model's training profile.
type Validation struct {
	Dataset string `json:"dataset"`
	Version int64  `json:"version"`
	// Contract is the contract file ("" when the project has none) and
	// ContractReport its findings.
	Contract       string           `json:"contract,omitempty"`
	ContractReport *validate.Report `json:"contract_report,omitempty"`
	// Against is the production model the drift is measured against.
	Against string                `json:"against,omitempty"`
	Drift   *validate.DriftReport `json:"drift,omitempty"`
	// Note says why a check was not made.
	Note string `json:"note,omitempty"`
}

// logValidation stores v with the step's run (best effort: the step's
// outcome does not depend on it).
func logValidation(ctx context.Context, run *track.Run, v *Validation) {
	if run == nil {
		return
	}
	if body, err := json.Marshal(v); err == nil {
		_, _ = run.LogArtifact(context.WithoutCancel(ctx), ValidationArtifact, bytes.NewReader(body))
	}
}

func (r *runner) validate(ctx context.Context, run *track.Run, prodVersion int64, out *validateOut) (string, error) {
	if err := r.load(ctx); err != nil {
		return "", err
	}
	v := &Validation{Dataset: r.ingest.Dataset, Version: r.ingest.Version, Contract: r.p.Data.Contract}
	defer logValidation(ctx, run, v)
	summary := ""
	if r.p.Data.Contract != "" {
		c, err := validate.LoadContract(r.p.Resolve(r.p.Data.Contract))
		if err != nil {
			return "", err
		}
		rep := validate.CheckAgainstContract(c, r.full)
		rep.Source = r.p.Data.Source
		v.ContractReport = rep
		out.ContractErrors = rep.Errors
		if !rep.Passed {
			var msgs []string
			for _, f := range rep.Findings {
				if f.Severity == profile.Error {
					msgs = append(msgs, f.Message)
				}
			}
			return "", fmt.Errorf("data %s breaks contract %s: %v", r.p.Data.Source, r.p.Data.Contract, msgs)
		}
		summary = "contract passed; "
	}
	if prodVersion == 0 {
		v.Note = "no production model to compare with"
		return summary + v.Note, nil
	}
	b, err := r.loadRegistered(ctx, prodVersion)
	if err != nil {
		return "", err
	}
	against := fmt.Sprintf("%s/%d", r.p.Name, prodVersion)
	v.Against = against
	if len(b.Profile) == 0 {
		v.Note = "production model " + against + " has no drift reference"
		return summary + v.Note, nil
	}
	// A reference that does not decode or a drift test that fails is an
	// error, not a missing model.
	var ref profile.Profile
	if err := json.Unmarshal(b.Profile, &ref); err != nil {
		return "", fmt.Errorf("validate: drift reference of %s: %w", against, err)
	}
	feats := r.full
	if f, err := r.full.Drop(r.p.Problem.Target); err == nil {
		feats = f
	}
	d, err := validate.Drift(&ref, feats, validate.DriftOptions{})
	if err != nil {
		return "", fmt.Errorf("validate: drift against %s: %w", against, err)
	}
	out.DriftShare, out.Drifted, out.Against = d.Share, d.Drifted, against
	v.Drift = d
	return summary + fmt.Sprintf("drift against the training data of %s: %d of %d features", against, d.Drifted, d.Tested), nil
}

func trainParams(p *Project) map[string]string {
	m := map[string]string{"target": p.Problem.Target, "seed": fmt.Sprint(p.Train.Seed)}
	if p.Train.Learner != "" {
		m["learner"] = p.Train.Learner
	} else {
		m["learner"] = "automl"
		m["trials"] = fmt.Sprint(p.Train.Trials)
		if p.Train.Budget > 0 {
			m["budget"] = p.Train.Budget.String()
		}
	}
	return m
}

func (r *runner) task() (learn.Task, error) {
	if r.p.Problem.Task == "" || r.p.Problem.Task == "classification" {
		return 0, nil // detected from the target column
	}
	return learn.ParseTask(r.p.Problem.Task)
}

func (r *runner) train(ctx context.Context, run *track.Run, out *trainOut) (string, error) {
	if err := r.load(ctx); err != nil {
		return "", err
	}
	task, err := r.task()
	if err != nil {
		return "", err
	}
	var po train.ProblemOptions
	if r.p.Recipe != "" {
		rc, err := feature.LoadRecipe(r.p.Resolve(r.p.Recipe))
		if err != nil {
			return "", err
		}
		po.Recipe = &rc
	}
	prob, err := train.NewProblemWith(r.tr, r.p.Problem.Target, task, po)
	if err != nil {
		return "", err
	}
	var b *bundle.Bundle
	t := r.p.Train
	if t.Learner != "" {
		b, err = train.Fit(ctx, prob, train.Options{Learner: t.Learner, Params: t.Params, Seed: t.Seed})
		out.Learner = t.Learner
	} else {
		sctx, cancel := ctx, context.CancelFunc(func() {})
		if t.Budget > 0 {
			sctx, cancel = context.WithTimeout(ctx, t.Budget)
		}
		// The step scores the training rows and saves the bundle after the
		// search, inside the budget.
		b, _, err = train.Search(sctx, prob, train.SearchOptions{Trials: t.Trials, PostCost: train.SaveAndScoreCost(prob.Frame.NumRows(), 0),
			Metric: t.Metric, Learners: t.Learners, Seed: t.Seed, Eval: "auto", NoEnsemble: !t.Ensemble})
		cancel()
		out.Learner = "automl"
	}
	if err != nil {
		return "", err
	}
	if b.Manifest.Metrics == nil {
		b.Manifest.Metrics = map[string]map[string]float64{}
	}
	s, _, _, err := train.Score(b, prob.Input())
	if err != nil {
		return "", fmt.Errorf("score training data: %w", err)
	}
	b.Manifest.Metrics["train"] = s
	if b.Profile, err = referenceProfile(ctx, prob.Input(), r.p.Problem.Target); err != nil {
		return "", err
	}
	b.Manifest.RunID = run.ID()
	b.Manifest.DatasetVersion = fmt.Sprintf("%s@%d", r.ingest.Dataset, r.ingest.Version)
	b.Manifest.GyreVersion = r.env.GyreVersion
	data, err := b.Encode()
	if err != nil {
		return "", err
	}
	ref, err := run.LogArtifact(ctx, "model.gyre", bytes.NewReader(data))
	if err != nil {
		return "", err
	}
	out.Bundle, out.RunID = ref, run.ID()
	members := ""
	for i, m := range b.Members {
		if i > 0 {
			members += "+"
		}
		members += m.Info.Learner
	}
	return fmt.Sprintf("%s on %d rows (%s)", members, prob.Frame.NumRows(), prob.Task), nil
}

// referenceProfile is the drift reference stored in bundles (the same as
// monitor.ReferenceProfile).
func referenceProfile(ctx context.Context, f *frame.Frame, target string) (json.RawMessage, error) {
	p, err := profile.Compute(ctx, f, profile.Options{Target: target, NoRelations: true, Seed: 1, Source: "training data"})
	if err != nil {
		return nil, fmt.Errorf("reference profile: %w", err)
	}
	return json.Marshal(p)
}

func (r *runner) loadBlob(ctx context.Context, ref blob.Ref) (*bundle.Bundle, []byte, error) {
	rc, err := r.env.Blobs.Get(ctx, ref.Digest)
	if err != nil {
		return nil, nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, nil, err
	}
	b, err := bundle.Decode(data)
	return b, data, err
}

func (r *runner) loadRegistered(ctx context.Context, version int64) (*bundle.Bundle, error) {
	v, err := r.env.Registry.Version(ctx, r.p.Name, version)
	if err != nil {
		return nil, err
	}
	b, _, err := r.loadBlob(ctx, v.Bundle)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", v.Ref(), err)
	}
	return b, nil
}

func (r *runner) evaluate(ctx context.Context, run *track.Run, tout trainOut, out *evaluateOut) (string, error) {
	if err := r.load(ctx); err != nil {
		return "", err
	}
	b, _, err := r.loadBlob(ctx, tout.Bundle)
	if err != nil {
		return "", fmt.Errorf("candidate bundle: %w", err)
	}
	s, pred, y, err := train.Score(b, r.holdo)
	if err != nil {
		return "", fmt.Errorf("score holdout: %w", err)
	}
	b.Manifest.Metrics["test"] = s
	r.logPlots(ctx, tout.RunID, report.EvaluationOf(b, r.p.Name, "holdout of "+r.p.Data.Source, s, y, pred))
	out.P99Ms = latencyP99(b, r.holdo)
	data, err := b.Encode()
	if err != nil {
		return "", err
	}
	ref, err := run.LogArtifact(ctx, "model.gyre", bytes.NewReader(data))
	if err != nil {
		return "", err
	}
	out.Bundle, out.Metrics, out.Size = ref, s, ref.Size
	var pts []track.Metric
	for k, v := range s {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			pts = append(pts, track.Metric{Key: "holdout_" + k, Value: v})
		}
	}
	pts = append(pts, track.Metric{Key: "p99_latency_ms", Value: out.P99Ms}, track.Metric{Key: "model_size_bytes", Value: float64(out.Size)})
	if err := run.LogMetrics(ctx, pts); err != nil {
		return "", err
	}
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	sum := ""
	for _, k := range keys {
		sum += fmt.Sprintf("%s=%.4g ", k, s[k])
	}
	return sum + fmt.Sprintf("p99=%.2fms size=%dB", out.P99Ms, out.Size), nil
}

// logPlots stores the candidate's evaluation plots on the holdout with
// the train step's run, the run its registered version links to (the web
// UI's version page draws them). Best effort: the gate does not depend
// on them.
func (r *runner) logPlots(ctx context.Context, trainRun string, e *report.Evaluation) {
	if trainRun == "" {
		return
	}
	body, err := json.Marshal(report.PlotsOf(e))
	if err != nil {
		return
	}
	if run, err := r.env.Tracker.Resume(ctx, trainRun); err == nil {
		_, _ = run.LogArtifact(ctx, report.PlotsArtifact, bytes.NewReader(body))
	}
}

// latencyP99 times single-row predictions on up to 200 holdout rows.
func latencyP99(b *bundle.Bundle, f *frame.Frame) float64 {
	n := min(200, f.NumRows())
	if n == 0 {
		return 0
	}
	d := make([]float64, 0, n)
	for i := 0; i < n; i++ {
		row := f.Slice(i, i+1)
		t := time.Now()
		if _, err := b.Predict(row); err != nil {
			return math.Inf(1)
		}
		d = append(d, float64(time.Since(t).Microseconds())/1000)
	}
	sort.Float64s(d)
	return profile.QuantileSorted(d, 0.99)
}

func (r *runner) gate(ctx context.Context, run *track.Run, prodRef string, ev evaluateOut, out *GateResult) (string, error) {
	task, err := r.task()
	if err != nil {
		return "", err
	}
	cand, _, err := r.loadBlob(ctx, ev.Bundle)
	if err != nil {
		return "", fmt.Errorf("candidate bundle: %w", err)
	}
	if task == 0 {
		task = cand.Manifest.Task
	}
	mt, err := train.ResolveMetric(task, r.p.Train.Metric)
	if err != nil {
		return "", err
	}
	*out = GateResult{Metric: mt.Name, Candidate: ev.Metrics[mt.Name], MinGain: r.p.Gate.MinGain, Passed: true}
	for _, g := range r.p.Goals {
		var v float64
		var ok bool
		switch g.Metric {
		case metric.GoalLatency:
			v, ok = ev.P99Ms, true
		case metric.GoalSize:
			v, ok = float64(ev.Size), true
		default:
			v, ok = ev.Metrics[g.Metric]
		}
		if !ok {
			out.Passed = false
			out.Reasons = append(out.Reasons, fmt.Sprintf("goal %s: the candidate has no %s on the holdout", g, g.Metric))
			continue
		}
		met, err := g.Met(v)
		if err != nil {
			return "", fmt.Errorf("gate: %w", err)
		}
		out.Goals = append(out.Goals, GoalResult{Goal: g.String(), Value: v, Met: met})
		if !met {
			out.Passed = false
			out.Reasons = append(out.Reasons, fmt.Sprintf("goal %s missed: %.4g", g, v))
		}
	}
	v, err := r.env.Registry.Resolve(ctx, prodRef)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		out.Reasons = append(out.Reasons, "no production model yet: nothing to beat")
	case err != nil:
		return "", err
	default:
		if err := r.load(ctx); err != nil {
			return "", err
		}
		prod, err := r.loadRegistered(ctx, v.Version)
		if err != nil {
			return "", err
		}
		ps, _, _, err := train.Score(prod, r.holdo)
		if err != nil {
			return "", fmt.Errorf("score production model %s on the holdout: %w", v.Ref(), err)
		}
		pv := ps[mt.Name]
		gain := out.Candidate - pv
		if !mt.HigherIsBetter {
			gain = -gain
		}
		out.Production, out.ProductionVersion, out.Gain = &pv, v.Version, &gain
		if math.IsNaN(gain) || gain < r.p.Gate.MinGain {
			out.Passed = false
			out.Reasons = append(out.Reasons, fmt.Sprintf("%s %.4g vs production %s %.4g: gain %.4g below the minimum %.4g", mt.Name, out.Candidate, v.Ref(), pv, gain, r.p.Gate.MinGain))
		}
	}
	pts := []track.Metric{{Key: "candidate_" + mt.Name, Value: out.Candidate}}
	if out.Production != nil && !math.IsNaN(*out.Production) {
		pts = append(pts, track.Metric{Key: "production_" + mt.Name, Value: *out.Production})
	}
	_ = run.LogMetrics(ctx, pts)
	_ = run.SetTag(ctx, "gyre.gate.passed", strconv.FormatBool(out.Passed))
	verdict := "passed"
	if !out.Passed {
		verdict = "rejected"
	}
	s := fmt.Sprintf("%s: %s %.4g", verdict, mt.Name, out.Candidate)
	if out.Production != nil {
		s += fmt.Sprintf(" vs production v%d %.4g (gain %.4g, minimum %.4g)", out.ProductionVersion, *out.Production, *out.Gain, out.MinGain)
	}
	return s, nil
}

func (r *runner) register(ctx context.Context, tout trainOut, ev evaluateOut, out *registerOut) (string, error) {
	// a run killed after registering but before caching must not register
	// the same bundle twice
	if vs, err := r.env.Registry.Versions(ctx, r.p.Name); err == nil {
		for _, v := range vs {
			if v.Bundle.Digest == ev.Bundle.Digest {
				out.Version = v.Version
				return fmt.Sprintf("already registered as %s", v.Ref()), nil
			}
		}
	}
	v, err := r.env.Registry.Register(ctx, r.p.Name, registry.RegisterOptions{BundleRef: ev.Bundle, RunID: tout.RunID,
		Datasets:    []registry.DatasetVersion{{Name: r.ingest.Dataset, Version: r.ingest.Version}},
		Description: fmt.Sprintf("pipeline %s (%s)", r.p.Name, r.trigger), ModelDescription: r.p.Problem.Purpose})
	if err != nil {
		return "", err
	}
	out.Version = v.Version
	return "registered " + v.Ref(), nil
}

func (r *runner) promote(ctx context.Context, version int64, out *promoteOut) (string, error) {
	alias := r.p.Gate.Alias
	// never point an alias at a version whose bundle is missing
	v, err := r.env.Registry.Version(ctx, r.p.Name, version)
	if err != nil {
		return "", err
	}
	if _, err := r.env.Blobs.Stat(ctx, v.Bundle.Digest); err != nil {
		return "", fmt.Errorf("model %s: bundle missing from the artifact store: %w", v.Ref(), err)
	}
	if prev, err := r.env.Registry.Resolve(ctx, r.p.Name+"@"+alias); err == nil {
		out.Previous = prev.Version
	}
	if err := r.env.Registry.SetAlias(ctx, r.p.Name, alias, version); err != nil {
		return "", err
	}
	out.Alias, out.Version = alias, version
	if out.Previous > 0 {
		return fmt.Sprintf("%s@%s: version %d → %d", r.p.Name, alias, out.Previous, version), nil
	}
	return fmt.Sprintf("%s@%s → version %d", r.p.Name, alias, version), nil
}

func hashKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

func digestBytes(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

var readFile = os.ReadFile

// RunInfo is a recorded pipeline run.
type RunInfo struct {
	ID      string    `json:"id"`
	Trigger string    `json:"trigger"`
	Status  string    `json:"status"`
	Detail  string    `json:"detail,omitempty"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end,omitzero"`
}

// Runs lists a pipeline's most recent runs, newest first.
func Runs(ctx context.Context, db *sqlstore.DB, name string, limit int) ([]RunInfo, error) {
	if limit <= 0 {
		limit = 20
	}
	rows, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT id, trigger_by, status, detail, start_ms, end_ms FROM pipeline_runs
		WHERE pipeline = ? ORDER BY start_ms DESC LIMIT %d`, limit), name)
	if err != nil {
		return nil, fmt.Errorf("pipeline %s: runs: %w", name, err)
	}
	defer rows.Close()
	var out []RunInfo
	for rows.Next() {
		var r RunInfo
		var start int64
		var end sql.NullInt64
		if err := rows.Scan(&r.ID, &r.Trigger, &r.Status, &r.Detail, &start, &end); err != nil {
			return nil, fmt.Errorf("pipeline %s: runs: %w", name, err)
		}
		r.Start = time.UnixMilli(start).UTC()
		if end.Valid {
			r.End = time.UnixMilli(end.Int64).UTC()
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
