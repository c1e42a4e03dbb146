package automl

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/parallel"
)

// LossFunc scores predictions against targets; lower is better. pred holds
// regression values or class indices; proba, for classifiers, row-major n×k
// probabilities.
type LossFunc func(y, pred, proba []float64, k int) float64

// Problem is what the search works on.
type Problem struct {
	Task    learn.Task
	Classes []string
	// Data maps a learner family ("trees", "linear", ...) to the training set
	// encoded for that family. All share rows, targets and order.
	Data map[string]*learn.Dataset
	// Valid optionally maps families to a user-given validation set; when
	// set, trials are scored on it instead of holdout or cross-validation.
	Valid map[string]*learn.Dataset
	// Loss scores predictions (lower is better).
	Loss LossFunc
}

// Options configure a search.
type Options struct {
	// Trials caps the number of trials (0: no cap). The time budget is the
	// deadline of Run's context: with one, no trial starts that is not
	// expected to finish before it with time left for the refit and
	// PostCost; without one, Trials > 0 selects the deterministic
	// trial-count mode.
	Trials int
	// PostCost estimates what the caller spends on the final models after
	// Run returns and before the context's deadline (saving, scoring,
	// logging), so the search leaves that time free: PostCost(Output{}) is
	// the part that does not depend on the model, and is kept from the
	// start. Nil: nothing is kept.
	PostCost func(Output) time.Duration
	// Spaces are the learners' search spaces (default: DefaultSpaces for the
	// task, restricted to registered learners).
	Spaces []Space
	// Seed makes the search reproducible.
	Seed uint64
	// Eval is "auto", "cv" or "holdout".
	Eval string
	// Search is the per-learner search method: "cfo" (default: FLOW2
	// cost-frugal local search with default seeds), "random", "grid" or
	// "tpe". Only cfo uses the spaces' default configurations and sample
	// growth.
	Search string
	// Folds for cross-validation (default 5).
	Folds int
	// Repeats is how many times cross-validation is repeated with fresh
	// folds, the out-of-fold predictions averaged (0: automatic, 3 for
	// small data sets whose fits are cheap, else 1).
	Repeats int
	// Workers is the number of fits run at once (default GOMAXPROCS):
	// cross-validation folds and ensemble members' refits.
	Workers int
	// HoldoutFraction for holdout evaluation (default 0.1).
	HoldoutFraction float64
	// Ensemble enables greedy ensemble selection.
	Ensemble bool
	// Calibrate fits a temperature to a classifier's final probabilities on
	// its out-of-fold (or validation) predictions (Result.Temperature).
	Calibrate bool
	// CalibrateTrials fits a temperature to every classifier trial's
	// probabilities and scores the calibrated ones (Trial.Temperature), so
	// that selection and ensembling compare calibrated models: for
	// probability metrics such as log loss, where an accurate but
	// underconfident forest would otherwise lose to a worse booster.
	CalibrateTrials bool
	// MaxLatency discards configurations predicting slower than this per row
	// (0: no limit).
	MaxLatency time.Duration
	// MaxModelBytes discards models larger than this (0: no limit).
	MaxModelBytes int
	// Recorder receives every trial (optional).
	Recorder Recorder
	// OnTrial is called after every trial (optional), e.g. for progress.
	OnTrial func(t Trial, best Trial)
	// Batch is how many trials are proposed at once and evaluated together
	// (default 1: every proposal sees every earlier result). A batch's
	// proposals see the results of the batches before it only, so results
	// depend on Batch, but never on the Executor or its number of workers.
	Batch int
	// Executor evaluates the trials (optional; default: on this process's
	// goroutines, see Options.Workers). A distributed executor runs each
	// batch's trials side by side on other machines.
	Executor Executor
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// Simple is the simple model scored beside the dummy as a baseline
	// (Result.Baselines) with its default hyperparameters, before the
	// search; its Family's data must be in Problem.Data. Zero: the dummy
	// only.
	Simple Space
	// NoBaselines skips the baselines.
	NoBaselines bool
	// NoBag refits the final model(s) on all training rows instead of
	// keeping the fold models of cross-validation (see bagging).
	NoBag bool
}

// Output describes a candidate final model to Options.PostCost: the
// sums over its members, estimated for the refit on all training rows.
type Output struct {
	// ModelBytes is the encoded size, scaled from each trial's training
	// rows to all of them.
	ModelBytes int64
	// PredictPerRow is the measured prediction time per row.
	PredictPerRow time.Duration
}

// Recorder logs trials; track's runs satisfy it through a small adapter.
type Recorder interface {
	RecordTrial(ctx context.Context, t Trial) error
}

// Trial is one evaluated configuration.
type Trial struct {
	ID      int           `json:"id"`
	Learner string        `json:"learner"`
	Family  string        `json:"family"`
	Config  Config        `json:"config"`
	Loss    float64       `json:"loss"`
	Sample  int           `json:"sample_rows"`
	FitTime time.Duration `json:"fit_time"`
	// PredictPerRow is the measured prediction time per row.
	PredictPerRow time.Duration `json:"predict_time_per_row"`
	ModelBytes    int           `json:"model_bytes"`
	// Elapsed is the time since the search started when the trial ended.
	Elapsed time.Duration `json:"elapsed"`
	Err     string        `json:"error,omitempty"`
	// Cost is the trial's cost in search units (seconds in budget mode,
	// model-based units in trial-count mode).
	Cost float64 `json:"cost"`
	// Temperature calibrates the trial's probabilities (Options.
	// CalibrateTrials; learn.ScaleProba): its loss and out-of-fold
	// predictions are the calibrated ones. 0: none.
	Temperature float64 `json:"temperature,omitempty"`
	// Smoothing is added to every class probability before the
	// temperature (learn.CalibrateProba; 0: none).
	Smoothing float64 `json:"smoothing,omitempty"`

	oof []float64 // out-of-fold predictions (proba for classifiers)
	// model fitted on the training part (holdout mode only), a fallback
	// when no time is left to refit.
	model learn.Model
}

// Member is one model of the result: a single model, or an ensemble member
// with its weight.
type Member struct {
	Learner string  `json:"learner"`
	Family  string  `json:"family"`
	Config  Config  `json:"config"`
	Weight  float64 `json:"weight"`
	// Temperature calibrates the member's own probabilities before they
	// are weighted (its trial's Temperature; 0: none).
	Temperature float64     `json:"temperature,omitempty"`
	Smoothing   float64     `json:"smoothing,omitempty"`
	Model       learn.Model `json:"-"`
}

// Result is the outcome of a search.
type Result struct {
	// Trials in the order they ran.
	Trials []Trial
	// Best is the single trial chosen as the final model, or compared with
	// the ensemble: the lowest out-of-fold loss plus half its standard
	// error over the evaluation groups (see selectionSE), so a trial whose
	// score swings from fold to fold gives way to a steadier one of about
	// the same mean.
	Best Trial
	// Members are the refitted final model(s); one unless an ensemble won.
	Members []Member
	// ValidLoss is the validation (out-of-fold) loss of the final model.
	ValidLoss float64
	// Ensembled reports whether an ensemble beat the best single model.
	Ensembled bool
	// CrossEnsembleLoss and CrossSingleLoss are the cross-fitted losses
	// the ensemble was kept or dropped on (see crossCheck): each
	// evaluation group predicted by the ensemble, or the single model,
	// chosen on the other groups' out-of-fold rows; CrossSE the standard
	// error of their per-group difference. 0 when the check was not made.
	CrossEnsembleLoss, CrossSingleLoss, CrossSE float64
	// Temperature scales the final classifier's probabilities (see
	// learn.ScaleProba); 0 when no calibration was fitted or it did not help.
	// UncalibratedLogLoss and CalibratedLogLoss are the out-of-fold log
	// losses before and after it, the latter cross-fitted (each of five row
	// groups scaled by a temperature fitted on the others; see
	// crossCalibrate), 0 when Temperature is 0.
	Temperature                            float64
	UncalibratedLogLoss, CalibratedLogLoss float64
	// Eval is the evaluation method used ("cv", "holdout" or "valid").
	Eval string
	// Folds and Repeats describe cross-validation (Eval "cv"): Folds
	// folds, repeated Repeats times with fresh folds.
	Folds, Repeats int
	// Refitted reports whether the final models were refitted on all rows
	// (false only when the budget ran out and the holdout-trained model was
	// kept), or are bags of fold models that together saw every row
	// (Bagged).
	Refitted bool
	// Bagged reports that the final models are k-fold bags (learn.Bag):
	// each member the first repeat's fold models of its trial, whose
	// out-of-fold predictions selected it (see bagging).
	Bagged  bool
	Elapsed time.Duration
	// Baselines are the dummy and the simple model scored on the same
	// evaluation split (see Options.Simple).
	Baselines []Baseline
	// GroupLosses are the final model's losses on the evaluation groups:
	// the first repeat's folds with cross-validation, else evalGroups
	// systematic groups of the holdout or validation rows (before the
	// final calibration). Baselines' GroupLosses are on the same groups.
	GroupLosses []float64
}

// ErrNoTrial is returned when not even one trial could finish before the
// context's deadline.
var ErrNoTrial = errors.New("no trial finished within the budget")

// learnerState is the per-learner search state.
type learnerState struct {
	space      Space
	data       *learn.Dataset
	valid      *learn.Dataset
	search     proposer
	rng        *rand.Rand
	trials     int
	best       *Trial
	bestTime   float64 // learner cost spent when its best was found
	prevBest   float64 // previous best loss
	prevTime   float64 // learner cost spent when its previous best was found
	lastCost   float64 // cost of the last trial
	minCost    float64
	used       float64 // cost spent on this learner
	bestCost   float64 // cost of the trial that found the best
	sample     int
	seen       map[string]bool
	failedAll  bool
	seeds      [][]float64 // default configurations still to try
	useSeed    bool        // the next trial runs seeds[0] (set by choose)
	exhausted  bool        // the proposer has no more points (grid)
	lastConfig Config
	costs      []costPoint // observed trial costs, for predictCost
	// Convergence bookkeeping at the full sample: the local search's
	// convergence count last seen, the learner's best loss then, and how
	// many convergences in a row brought no improvement.
	convSeen  int
	convBest  float64
	staleConv int
	// threaded reports a learner with its own parallelism (a threads or
	// n_jobs hyperparameter).
	threaded bool
	// inflight counts the learner's proposals not yet recorded (a batch).
	inflight int
}

// staleAfter is how many local-search convergences in a row without a better
// model retire a learner: a small space (logistic regression's one
// parameter) is searched out in a few dozen cheap trials, and the time its
// endless restarts would take goes to the other learners.
const staleAfter = 2

// retired reports whether the learner's search has converged staleAfter
// times in a row at the full sample without improving.
func (st *learnerState) retired() bool { return st.staleConv >= staleAfter }

// Run searches for the best model.
func Run(ctx context.Context, p Problem, o Options) (*Result, error) {
	s, err := newSearcher(p, o)
	if err != nil {
		return nil, err
	}
	return s.run(ctx)
}

type searcher struct {
	p      Problem
	o      Options
	states []*learnerState
	n      int
	y      []float64
	split  evalSplit
	rng    *rand.Rand
	start  time.Time
	// timed reports the time-budget mode: the context has a deadline;
	// budget is the time from start to it less the caller's fixed
	// PostCost.
	timed  bool
	budget time.Duration
	used   float64 // search cost used (seconds or units)
	// lossTotal and lossCount measure evaluations of the loss, to reserve
	// time for ensemble selection.
	lossTotal time.Duration
	lossCount int
	results   []Trial
	best      *Trial
	baselines []Baseline
}

func newSearcher(p Problem, o Options) (*searcher, error) {
	if p.Loss == nil {
		return nil, errors.New("automl: no loss function")
	}
	if o.Folds == 0 {
		o.Folds = 5
	}
	if o.HoldoutFraction == 0 {
		o.HoldoutFraction = 0.1
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Eval == "" {
		o.Eval = "auto"
	}
	switch o.Search {
	case "", SearchCFO, SearchRandom, SearchGrid, SearchTPE:
	default:
		return nil, fmt.Errorf("automl: unknown search method %q (want cfo, random, grid or tpe)", o.Search)
	}
	if o.Spaces == nil {
		o.Spaces = DefaultSpaces(p.Task)
	}
	data := make(map[string]*learn.Dataset, len(p.Data))
	for k, v := range p.Data {
		data[k] = v
	}
	p.Data = data // ours to annotate with shared state
	s := &searcher{p: p, o: o, rng: rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15))}
	for i, sp := range o.Spaces {
		if err := sp.validate(); err != nil {
			return nil, err
		}
		d, ok := p.Data[sp.Family]
		if !ok {
			return nil, fmt.Errorf("automl: no %s data prepared for learner %s", sp.Family, sp.Learner)
		}
		if _, err := learn.Lookup(sp.Learner); err != nil {
			return nil, fmt.Errorf("automl: %w", err)
		}
		if d.Shared == nil {
			// Let learners reuse per-matrix work (e.g. bins) across trials.
			dd := *d
			dd.Shared = learn.NewShared()
			d = &dd
			p.Data[sp.Family] = d
		}
		st := &learnerState{space: sp, data: d, seen: map[string]bool{},
			rng: rand.New(rand.NewPCG(o.Seed, uint64(i)+1)), prevBest: math.Inf(1), minCost: math.Inf(1)}
		if p.Valid != nil {
			st.valid = p.Valid[sp.Family]
		}
		st.search = newProposer(o.Search, sp, st.rng)
		if l, err := learn.New(sp.Learner); err == nil {
			for _, prm := range learn.Params(l) {
				st.threaded = st.threaded || prm.Name == "threads" || prm.Name == "n_jobs"
			}
		}
		if o.Search == "" || o.Search == SearchCFO {
			for _, c := range sp.Defaults {
				if c["max_features"] == SqrtFeatures {
					c = maps.Clone(c)
					p := float64(max(1, d.X.Cols))
					c["max_features"] = math.Sqrt(p) / p
				}
				st.seeds = append(st.seeds, sp.pointOf(c))
			}
		}
		s.states = append(s.states, st)
		s.n = d.N()
		s.y = d.Y
	}
	if len(s.states) == 0 {
		return nil, errors.New("automl: no learners to search")
	}
	return s, nil
}

// cfo reports whether the default cost-frugal search runs.
func (s *searcher) cfo() bool { return s.o.Search == "" || s.o.Search == SearchCFO }

// deterministic reports the trial-count mode.
func (s *searcher) deterministic() bool { return !s.timed }

func (s *searcher) elapsed() time.Duration { return s.o.Now().Sub(s.start) }

func (s *searcher) run(ctx context.Context) (*Result, error) {
	s.start = s.o.Now()
	deadline, timed := ctx.Deadline()
	if !timed && s.o.Trials <= 0 {
		return nil, errors.New("automl: set a deadline on the context (a time budget) or a trial count")
	}
	if timed {
		s.timed = true
		s.budget = deadline.Sub(s.start)
		if s.o.PostCost != nil {
			s.budget -= s.o.PostCost(Output{})
		}
		if s.budget <= 0 {
			return nil, fmt.Errorf("automl: %w (the deadline leaves %v, the caller keeps %v)", ErrNoTrial, deadline.Sub(s.start).Round(time.Millisecond), (deadline.Sub(s.start) - s.budget).Round(time.Millisecond))
		}
	}
	s.split = s.makeSplit()
	s.scoreBaselines(ctx)
	if pr, ok := s.o.Executor.(Preparer); ok {
		if err := pr.Prepare(ctx, s.p, s.plan()); err != nil {
			return nil, fmt.Errorf("automl: prepare trials: %w", err)
		}
	}
	searchCtx := ctx
	var cancel context.CancelFunc = func() {}
	if !s.deterministic() {
		searchCtx, cancel = context.WithDeadline(ctx, s.start.Add(s.budget))
	}
	defer cancel()
	for id := 0; s.o.Trials == 0 || id < s.o.Trials; {
		if ctx.Err() != nil {
			break
		}
		// Propose a batch (one trial unless Options.Batch says otherwise):
		// every proposal sees the results of the batches before it, none
		// of its own batch's.
		n := max(1, s.o.Batch)
		if s.o.Trials > 0 {
			n = min(n, s.o.Trials-id)
		}
		var batch []*proposal
		for len(batch) < n {
			st := s.choose()
			if st == nil {
				break
			}
			// nil: a finished grid (st is now exhausted), choose again.
			if p := s.propose(id+len(batch), st); p != nil {
				batch = append(batch, p)
			}
		}
		if len(batch) == 0 {
			break
		}
		// A trial may not run into the time kept for the final refit: one
		// that overruns its estimate is cut (and does not count) rather
		// than leave the refit without time, which would keep a model
		// fitted on part of the rows.
		trialCtx, cancelTrial := searchCtx, context.CancelFunc(func() {})
		if !s.deterministic() {
			reserve := time.Duration(s.refitReserve() * float64(time.Second))
			trialCtx, cancelTrial = context.WithDeadline(searchCtx, s.start.Add(s.budget-reserve))
		}
		outs, err := s.execute(trialCtx, batch)
		cancelTrial()
		if err != nil {
			return nil, fmt.Errorf("automl: run trials %d-%d: %w", id, id+len(batch)-1, err)
		}
		cut := false
		for i, p := range batch {
			t := s.record(trialCtx, p, outs[i])
			if t == nil {
				cut = true // out of time: the trial does not count
				continue
			}
			t.ID = id
			id++
			s.results = append(s.results, *t)
			if s.o.Recorder != nil {
				if err := s.o.Recorder.RecordTrial(ctx, *t); err != nil {
					return nil, fmt.Errorf("automl: record trial %d: %w", t.ID, err)
				}
			}
			if s.o.OnTrial != nil && s.best != nil {
				s.o.OnTrial(*t, *s.best)
			}
		}
		if cut {
			break
		}
	}
	if s.best == nil {
		// The budget's end is the context's deadline: only a cancellation
		// is the caller's error.
		if err := ctx.Err(); err != nil && !(s.timed && errors.Is(err, context.DeadlineExceeded)) {
			return nil, fmt.Errorf("automl: %w", err)
		}
		return nil, fmt.Errorf("automl: %w (%v)", ErrNoTrial, s.budget.Round(time.Millisecond))
	}
	return s.finish(ctx)
}

// choose picks the learner for the next trial, or nil when no learner fits
// in the remaining budget. Untried learners come first, cheapest first (by
// their relative cost); then a learner is sampled with probability
// proportional to 1/ECI, its estimated cost for improvement, computed as
// FLAML does from the learner's own time (or cost units): the larger of the
// time between its last two improvements and the time since its last
// improvement, capped by the cost of re-evaluating its best on a ×4 sample
// while the sample is still growing, and raised to 2·gap/speed when it trails
// the best learner (gap: its loss gap; speed: its last rate of improvement).
func (s *searcher) choose() *learnerState {
	cheapest := math.Inf(1)
	for _, st := range s.states {
		if st.trials > 0 {
			cheapest = math.Min(cheapest, st.minCost/st.space.CostFactor)
		}
	}
	var first *learnerState
	for _, st := range s.states {
		if st.trials+st.inflight == 0 && !st.failedAll && !st.exhausted && s.fits(st) {
			if first == nil || st.space.CostFactor < first.space.CostFactor {
				first = st
			}
		}
	}
	if first != nil {
		return first
	}
	// Then the default configurations (seeds), cheapest learner first, each
	// only when it fits in a quarter of the time left: one expensive default
	// must not eat the budget. A seed that does not fit now stays for later:
	// the cost model learns from every trial and may admit it.
	for _, st := range sortedByCost(s.states) {
		if st.failedAll {
			continue
		}
		for i, x := range st.seeds {
			if s.seedAffordable(st, st.space.configAt(x)) {
				st.seeds[0], st.seeds[i] = st.seeds[i], st.seeds[0]
				st.useSeed = true
				return st
			}
		}
	}
	var cands []*learnerState
	var inv []float64
	total := 0.0
	active := 0
	for _, st := range s.states {
		if !st.failedAll && !st.exhausted && !st.retired() {
			active++
		}
	}
	for _, st := range s.states {
		if st.failedAll || st.exhausted || !s.fits(st) || (st.retired() && active > 0) {
			continue
		}
		eci := st.lastCost * 2
		if st.best != nil {
			eci = math.Max(st.bestTime-st.prevTime, st.used-st.bestTime)
			if full := s.split.trainRows(); st.sample > 0 && st.sample < full {
				eci = math.Min(eci, st.bestCost*math.Min(4, float64(full)/float64(st.sample)))
			}
			if gap := st.best.Loss - s.best.Loss; gap > 0 {
				dLoss := st.prevBest - st.best.Loss
				if math.IsInf(dLoss, 0) || dLoss <= 0 {
					dLoss = math.Abs(st.best.Loss)
				}
				dTime := st.used - st.prevTime
				if dTime <= 0 {
					dTime = 1e-10
				}
				if speed := dLoss / dTime; speed > 0 {
					eci = math.Max(eci, 2*gap/speed)
				}
			}
		}
		if eci <= 0 || math.IsNaN(eci) || math.IsInf(eci, 0) {
			eci = 1e-9
		}
		cands = append(cands, st)
		inv = append(inv, 1/eci)
		total += 1 / eci
	}
	if len(cands) == 0 {
		return nil
	}
	r := s.rng.Float64() * total
	for i, v := range inv {
		r -= v
		if r <= 0 {
			return cands[i]
		}
	}
	return cands[len(cands)-1]
}

// fits reports whether a trial of st is expected to finish with time left to
// refit the current best (always true in trial-count mode).
func (s *searcher) fits(st *learnerState) bool {
	if s.deterministic() {
		return true
	}
	est := s.estimate(st)
	reserve := s.refitReserve()
	left := s.budget.Seconds() - s.elapsed().Seconds()
	return est+reserve <= left
}

// costPoint is one observed trial cost at a configuration's relative cost.
type costPoint struct{ rel, cost float64 }

// predictCost extrapolates the wall cost of cfg from the learner's observed
// trials with a power law cost = a·rel^b in the configurations' relative
// cost: fitted by least squares in log-log space once trials span a range
// of relative costs, else with b = 0.9: a small trial's cost is partly fixed
// overhead, so cost grows slower than the model's relative cost, but
// underestimating is the costlier error (an expensive default started too
// late is cut by the budget and wasted).
func (st *learnerState) predictCost(cfg Config) float64 {
	if len(st.costs) == 0 {
		return 0
	}
	b := 0.9
	var mx, my float64
	for _, c := range st.costs {
		mx += math.Log(c.rel)
		my += math.Log(c.cost)
	}
	n := float64(len(st.costs))
	mx, my = mx/n, my/n
	var sxx, sxy float64
	for _, c := range st.costs {
		dx := math.Log(c.rel) - mx
		sxx += dx * dx
		sxy += dx * (math.Log(c.cost) - my)
	}
	if len(st.costs) >= 3 && sxx > 1 {
		b = math.Max(0.3, math.Min(1.2, sxy/sxx))
	}
	return math.Exp(my + b*(math.Log(st.space.relCost(cfg))-mx))
}

// sortedByCost returns the learners ordered by their relative cost.
func sortedByCost(states []*learnerState) []*learnerState {
	out := slices.Clone(states)
	sort.SliceStable(out, func(i, j int) bool { return out[i].space.CostFactor < out[j].space.CostFactor })
	return out
}

// seedAffordable reports whether a default configuration is predicted to
// take at most a quarter of the time left (always true in trial-count mode).
func (s *searcher) seedAffordable(st *learnerState, cfg Config) bool {
	if s.deterministic() {
		return true
	}
	left := s.budget.Seconds() - s.elapsed().Seconds()
	return st.predictCost(cfg) <= left/4 && s.affordable(st, cfg)
}

// affordable reports whether a trial of cfg is expected to finish with the
// refit reserve left (always true in trial-count mode): the learner's last
// measured cost scaled by the configurations' relative costs.
func (s *searcher) affordable(st *learnerState, cfg Config) bool {
	if s.deterministic() || st.trials == 0 {
		return true
	}
	left := s.budget.Seconds() - s.elapsed().Seconds()
	return st.predictCost(cfg)*1.2+s.refitReserve() <= left
}

// estimate predicts the wall cost in seconds of the next trial of st.
func (s *searcher) estimate(st *learnerState) float64 {
	if st.trials > 0 {
		return st.lastCost * 1.5
	}
	cheapest := math.Inf(1)
	for _, o := range s.states {
		if o.trials > 0 {
			cheapest = math.Min(cheapest, o.minCost/o.space.CostFactor)
		}
	}
	if math.IsInf(cheapest, 1) {
		return 0
	}
	return cheapest * st.space.CostFactor
}

// refitReserveSingle is the time to keep for refitting the current best on
// all rows, without ensemble selection.
func (s *searcher) refitReserveSingle() float64 {
	if s.best == nil {
		return 0
	}
	return s.soloRefitCost(s.best)*1.3 + s.outputCost(s.best) + 0.02*s.budget.Seconds()
}

// outputCost is the seconds the caller spends after Run on final models
// made from trials ts beyond its fixed part (Options.PostCost): a large
// forest can take longer to save and score than to fit.
func (s *searcher) outputCost(ts ...*Trial) float64 {
	if s.o.PostCost == nil {
		return 0
	}
	var out Output
	for _, t := range ts {
		out.ModelBytes += int64(float64(t.ModelBytes) * s.outputScale(t))
		if s.bagging() {
			out.PredictPerRow += t.PredictPerRow * time.Duration(s.bagSize())
		} else {
			out.PredictPerRow += t.PredictPerRow
		}
	}
	return max(0, (s.o.PostCost(out) - s.o.PostCost(Output{})).Seconds())
}

// refitReserve is the time to keep for ensemble selection and refitting the
// current best on all rows.
func (s *searcher) refitReserve() float64 {
	if s.best == nil {
		return 0
	}
	single := s.refitReserveSingle()
	if !s.o.Ensemble {
		return single
	}
	// Only trials on the full sample can be members (see ensemble). With
	// none yet, the next trial alone cannot make an ensemble of two: keep
	// time for the single model only (on a large data set the search may
	// still be growing its sample late in the budget).
	full := s.split.trainRows()
	bestFull := map[string]*Trial{}
	for i := range s.results {
		t := &s.results[i]
		if t.oof == nil || t.Sample != full || math.IsInf(t.Loss, 0) {
			continue
		}
		if b := bestFull[t.Learner]; b == nil || t.Loss < b.Loss {
			bestFull[t.Learner] = t
		}
	}
	if len(bestFull) == 0 {
		return single
	}
	// An ensemble's members are mostly the learners' best trials: keep time
	// to refit those too (side by side, one thread each), or the ensemble
	// is dropped at the end for lack of time.
	costs := []float64{s.trialRefitCost(s.best) * 1.3}
	members := []*Trial{s.best}
	for _, st := range s.states {
		if b := bestFull[st.space.Learner]; b != nil && b.Learner != s.best.Learner {
			costs = append(costs, s.trialRefitCost(b))
			members = append(members, b)
		}
	}
	return math.Max(single, s.makespan(costs)+s.outputCost(members...)+s.ensembleCost().Seconds()+0.02*s.budget.Seconds())
}

// proposal is a trial proposed and not yet evaluated.
type proposal struct {
	st   *learnerState
	x    []float64 // the point in st's unit cube
	spec TrialSpec
}

// maxRepeatTries bounds the proposals tried for an unseen configuration
// before a repeated one is accepted; restartAfterRepeats repeated proposals
// in a row restart a local search (see propose).
const (
	maxRepeatTries      = 60
	restartAfterRepeats = 12
)

// propose picks the next configuration of st. It returns nil when st's
// proposer is exhausted (a finished grid).
func (s *searcher) propose(id int, st *learnerState) *proposal {
	var x []float64
	var cfg Config
	for tries := 0; ; tries++ {
		switch {
		case st.trials+st.inflight == 0 && tries == 0 && s.cfo():
			x = st.space.initPoint()
		case st.useSeed && len(st.seeds) > 0:
			x, st.seeds = st.seeds[0], st.seeds[1:]
			st.useSeed = false
			if f, ok := st.search.(*flow2); ok {
				f.pending = nil
			}
		default:
			x = st.search.propose()
			if x == nil {
				st.exhausted = true // a finished grid
				return nil
			}
		}
		cfg = st.space.configAt(x)
		if !st.seen[cfg.key()+fmt.Sprint(st.sampleSize(s))] || tries >= maxRepeatTries {
			break
		}
		// A repeated configuration: count it as a failure and move on. A
		// local search whose neighbourhood is all evaluated (a small
		// integer space such as k-NN's k around its best) would otherwise
		// spend its trial re-running a seen configuration, whose result is
		// already known: it restarts from a point near its incumbent.
		st.search.report(x, math.Inf(1))
		if f, ok := st.search.(*flow2); ok && tries%restartAfterRepeats == restartAfterRepeats-1 {
			f.restart()
		}
	}
	sample := st.sampleSize(s)
	st.seen[cfg.key()+fmt.Sprint(sample)] = true
	st.inflight++
	return &proposal{st: st, x: x, spec: TrialSpec{ID: id, Learner: st.space.Learner, Family: st.space.Family, Config: cfg, Sample: sample}}
}

// execute evaluates a batch of proposals: on the search's own goroutines
// without an Executor, else through it.
func (s *searcher) execute(ctx context.Context, batch []*proposal) ([]TrialResult, error) {
	if s.o.Executor == nil {
		outs := make([]TrialResult, len(batch))
		for i, p := range batch {
			outs[i] = s.evaluateSpec(ctx, p.st, p.spec)
		}
		return outs, nil
	}
	specs := make([]TrialSpec, len(batch))
	for i, p := range batch {
		specs[i] = p.spec
	}
	outs, err := s.o.Executor.RunTrials(ctx, s.plan(), specs)
	if err == nil && len(outs) != len(specs) {
		err = fmt.Errorf("executor returned %d results for %d trials", len(outs), len(specs))
	}
	return outs, err
}

// record scores an evaluated proposal and updates the search state. It
// returns nil when the trial was cut by the budget.
func (s *searcher) record(ctx context.Context, p *proposal, r TrialResult) *Trial {
	st, x, cfg, sample := p.st, p.x, p.spec.Config, p.spec.Sample
	st.inflight--
	t := &Trial{ID: p.spec.ID, Learner: st.space.Learner, Family: st.space.Family, Config: cfg, Sample: sample}
	oof, runs, model, perRow, size, err, wall := r.OOF, r.Runs, r.Model, r.PredictPerRow, r.ModelBytes, r.Err, r.Wall
	t.FitTime, t.PredictPerRow, t.ModelBytes = r.FitTime, perRow, size
	if err != nil && ctx.Err() != nil && !s.deterministic() {
		return nil // cut by the budget: the trial does not count
	}
	if s.deterministic() {
		t.Cost = s.unitCost(st, cfg, sample)
	} else {
		t.Cost = wall.Seconds()
	}
	s.used += t.Cost
	t.Elapsed = s.elapsed()
	st.trials++
	st.used += t.Cost
	st.lastCost = t.Cost
	if t.Cost > 0 {
		st.costs = append(st.costs, costPoint{rel: math.Max(st.space.relCost(cfg), 1e-9), cost: t.Cost})
	}
	st.lastConfig = cfg
	st.minCost = math.Min(st.minCost, t.Cost)
	if err != nil {
		t.Err = err.Error()
		t.Loss = math.Inf(1)
		st.search.report(x, math.Inf(1))
		if st.best == nil && st.trials >= 3 {
			st.failedAll = true
		}
		return t
	}
	if s.o.CalibrateTrials && s.p.Task.Classification() {
		t.Temperature, t.Smoothing = s.calibrateTrial(oof, runs)
	}
	// Only the loss itself is timed: the time per loss evaluation prices
	// ensemble selection (ensembleCost), which does not calibrate.
	lossStart := s.o.Now()
	t.Loss = s.p.Loss(s.split.yValid(s), predFromOOF(oof, s.p.Task, len(s.p.Classes)), oof, len(s.p.Classes))
	s.lossTotal += s.o.Now().Sub(lossStart)
	s.lossCount++
	if math.IsNaN(t.Loss) {
		t.Loss = math.Inf(1)
	}
	if (s.o.MaxLatency > 0 && perRow > s.o.MaxLatency) || (s.o.MaxModelBytes > 0 && size > s.o.MaxModelBytes) {
		t.Err = "violates a constraint (latency or size)"
		st.search.report(x, math.Inf(1))
		return t
	}
	t.oof = oof
	improved := st.search.report(x, t.Loss)
	if improved && (st.best == nil || t.Loss < st.best.Loss) {
		if st.best != nil {
			st.prevBest, st.prevTime = st.best.Loss, st.bestTime
		}
		tc := *t
		st.best = &tc
		st.bestTime = st.used
		st.bestCost = t.Cost
	}
	if s.best == nil || t.Loss < s.best.Loss {
		tc := *t
		tc.model = model // only the best trial keeps its model
		s.best = &tc
	}
	// Grow the training sample ×4 when the search at this size converged.
	if f, ok := st.search.(*flow2); ok && f.converged > 0 && st.sample > 0 && st.sample < s.split.trainRows() {
		st.sample = min(st.sample*4, s.split.trainRows())
		f.converged = 0
		f.bestLoss = math.Inf(1)
	} else if ok && f.converged > st.convSeen && st.best != nil {
		// A convergence at the full sample: count it as stale unless the
		// learner's best improved since the previous one.
		if st.convSeen > 0 && !(st.best.Loss < st.convBest) {
			st.staleConv++
		} else {
			st.staleConv = 0
		}
		st.convSeen, st.convBest = f.converged, st.best.Loss
	}
	return t
}

// sampleSize is the number of training rows the next trial of st uses.
func (st *learnerState) sampleSize(s *searcher) int {
	full := s.split.trainRows()
	if s.split.method != "holdout" || full <= 10000 {
		return full
	}
	if st.sample == 0 {
		st.sample = 10000
	}
	return st.sample
}

// unitCost is the deterministic cost model of trial-count mode: the learner's
// relative cost, scaled by sample size and by cost-related hyperparameters.
func (s *searcher) unitCost(st *learnerState, cfg Config, sample int) float64 {
	return st.space.CostFactor * float64(sample) / 10000 * st.space.relCost(cfg)
}

// evaluate fits cfg on the evaluation split and returns out-of-fold
// predictions (probabilities for classifiers) for the validation rows.
//
// Cross-validation folds are fitted concurrently, one single-threaded fit
// per core: on the small data sets cross-validation is chosen for, a learner
// gains little from its own threads, while independent folds scale with the
// cores. A single fold (holdout, validation set) keeps the learner's own
// parallelism. Each fold's result lands in its own slots, so the outcome
// does not depend on scheduling.
//
// With repeated cross-validation and CalibrateTrials, runs holds each
// repeat's out-of-fold predictions one after another (the average of which
// is oof); else it is nil.
func (s *searcher) evaluate(ctx context.Context, st *learnerState, cfg Config, sample int) (oof, runs []float64, model learn.Model, fit, perRow time.Duration, size int, err error) {
	k := len(s.p.Classes)
	width := 1
	if s.p.Task.Classification() {
		width = k
	}
	folds := s.split.folds
	nValid := len(s.split.validRows())
	oof = make([]float64, nValid*width)
	workers := min(s.workers(), len(folds))
	type foldOut struct {
		fit, pred time.Duration
		rows      int
		out       []float64
		model     learn.Model
		err       error
	}
	outs := make([]foldOut, len(folds))
	// Validation matrices are cached lazily; build them before fanning out.
	xs := make([]*frame.Matrix, len(folds))
	for f := range folds {
		xs[f] = s.split.validX(st, f)
	}
	// A configuration that fails on one fold fails the trial: the folds
	// not yet started are skipped.
	var failed atomic.Bool
	run := func(f int) {
		o := &outs[f]
		if failed.Load() {
			return
		}
		defer func() {
			if o.err != nil {
				failed.Store(true)
			}
		}()
		if o.err = ctx.Err(); o.err != nil {
			return
		}
		l, err := s.learner(st, cfg)
		if err != nil {
			o.err = err
			return
		}
		if workers > 1 {
			if err := setThreads(l, 1); err != nil {
				o.err = err
				return
			}
		}
		trainRows := folds[f].train
		if sample < len(trainRows) {
			trainRows = trainRows[:sample]
		}
		d := st.data.Subset(trainRows)
		t0 := s.o.Now()
		m, err := l.Fit(ctx, d)
		o.fit = s.o.Now().Sub(t0)
		if err != nil {
			o.err = fmt.Errorf("fit: %w", err)
			return
		}
		t1 := s.o.Now()
		out, err := predictOut(m, xs[f], s.p.Task, k)
		o.pred = s.o.Now().Sub(t1)
		o.rows = xs[f].Rows
		if err != nil {
			o.err = fmt.Errorf("predict: %w", err)
			return
		}
		// Repeated cross-validation predicts every row once per repeat;
		// the out-of-fold vector holds their average. Each fold adds only
		// to its own rows, and a repeat's folds are disjoint, so repeats
		// are accumulated one after another (see below).
		o.out = out
		if f == len(folds)-1 {
			o.model = m
		}
	}
	parallel.For(len(folds), max(workers, 1), run)
	var predTime time.Duration
	var predRows int
	repeats := s.split.repeats
	scale := 1 / float64(repeats)
	if repeats > 1 && s.o.CalibrateTrials && s.p.Task.Classification() {
		runs = make([]float64, repeats*len(oof))
	}
	for f := range outs {
		if outs[f].err != nil {
			return nil, nil, nil, 0, 0, 0, outs[f].err
		}
		if outs[f].out == nil { // skipped after another fold failed
			continue
		}
		out := outs[f].out
		for i, pos := range folds[f].validPos {
			dst := oof[pos*width : (pos+1)*width]
			for j := range dst {
				dst[j] += scale * out[i*width+j]
			}
		}
		if runs != nil {
			// Folds are laid out repeat after repeat (see makeSplit).
			r := f / (len(folds) / repeats)
			run := runs[r*len(oof) : (r+1)*len(oof)]
			for i, pos := range folds[f].validPos {
				copy(run[pos*width:(pos+1)*width], out[i*width:(i+1)*width])
			}
		}
		fit += outs[f].fit
		predTime += outs[f].pred
		predRows += outs[f].rows
	}
	// The last fold's model is the best trial's fallback when no time is
	// left to refit.
	model = outs[len(outs)-1].model
	b, err := model.MarshalBinary()
	if err != nil {
		return nil, nil, nil, 0, 0, 0, fmt.Errorf("marshal model: %w", err)
	}
	size = len(b)
	if predRows > 0 {
		perRow = predTime / time.Duration(predRows)
	}
	return oof, runs, model, fit, perRow, size, nil
}

// workers is the number of fits run at once: one per core.
func (s *searcher) workers() int {
	if s.o.Workers > 0 {
		return s.o.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// setThreads limits a learner's own parallelism (gbdt's threads, the
// forests' n_jobs) when fits run side by side; learners without such a
// parameter are single-threaded already.
func setThreads(l learn.Learner, n int) error {
	for _, p := range []string{"threads", "n_jobs"} {
		if err := learn.SetParam(l, p, fmt.Sprint(n)); err == nil {
			return nil
		} else if !errors.Is(err, learn.ErrUnknownParam) {
			return err
		}
	}
	return nil
}

// learner builds the learner for a configuration.
func (s *searcher) learner(st *learnerState, cfg Config) (learn.Learner, error) {
	l, err := learn.New(st.space.Learner)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := learn.SetParam(l, k, cfg[k]); err != nil {
			return nil, err
		}
	}
	if err := learn.SetParam(l, "seed", fmt.Sprint(s.o.Seed)); err != nil && !errors.Is(err, learn.ErrUnknownParam) {
		return nil, err
	}
	return l, nil
}

// predictOut returns probabilities (n×k) for classifiers, values otherwise.
func predictOut(m learn.Model, X *frame.Matrix, task learn.Task, k int) ([]float64, error) {
	if task.Classification() {
		p, ok := m.(learn.Prober)
		if !ok {
			return nil, fmt.Errorf("model %s gives no probabilities", m.Kind())
		}
		return p.PredictProba(X)
	}
	return m.Predict(X)
}

// predFromOOF turns out-of-fold outputs into point predictions.
func predFromOOF(out []float64, task learn.Task, k int) []float64 {
	if !task.Classification() {
		return out
	}
	n := len(out) / k
	pred := make([]float64, n)
	for i := 0; i < n; i++ {
		best := 0
		for c := 1; c < k; c++ {
			if out[i*k+c] > out[i*k+best] {
				best = c
			}
		}
		pred[i] = float64(best)
	}
	return pred
}
