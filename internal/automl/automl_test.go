package automl

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/learntest"

	_ "github.com/gyre-ml/gyre/internal/learn/forest"
	_ "github.com/gyre-ml/gyre/internal/learn/gbdt"
)

// toyLearner is logistic regression on the first feature trained by a number
// of gradient steps: more steps cost more and fit better, so the search has
// something to find.
type toyLearner struct {
	Steps int           `param:"n_estimators" help:"gradient steps"`
	Rate  float64       `param:"learning_rate" help:"step size"`
	Sleep time.Duration `param:"sleep" help:"artificial fit time"`
	Seed  uint64        `param:"seed" help:"unused"`
}

type toyModel struct{ W, B float64 }

func (toyLearner) Name() string { return "toy" }

func (l toyLearner) Fit(ctx context.Context, d *learn.Dataset) (learn.Model, error) {
	if l.Sleep > 0 {
		select {
		case <-time.After(l.Sleep):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	m := &toyModel{}
	for s := 0; s < l.Steps; s++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		gw, gb := 0.0, 0.0
		for i := 0; i < d.N(); i++ {
			x := d.X.At(d.Row(i), 0)
			p := 1 / (1 + math.Exp(-(m.W*x + m.B)))
			gw += (p - d.Target(i)) * x
			gb += p - d.Target(i)
		}
		m.W -= l.Rate * gw / float64(d.N())
		m.B -= l.Rate * gb / float64(d.N())
	}
	return m, nil
}

func (m *toyModel) Kind() string { return "toy" }
func (m *toyModel) PredictProba(X *frame.Matrix) ([]float64, error) {
	out := make([]float64, 2*X.Rows)
	for i := 0; i < X.Rows; i++ {
		p := 1 / (1 + math.Exp(-(m.W*X.At(i, 0) + m.B)))
		out[2*i], out[2*i+1] = 1-p, p
	}
	return out, nil
}
func (m *toyModel) Predict(X *frame.Matrix) ([]float64, error) {
	p, _ := m.PredictProba(X)
	return predFromOOF(p, learn.Binary, 2), nil
}
func (m *toyModel) MarshalBinary() ([]byte, error) { return json.Marshal(m) }

func init() {
	learn.Register(learn.Spec{Name: "toy", Tasks: []learn.Task{learn.Binary}, New: func() learn.Learner { return &toyLearner{Steps: 1, Rate: 0.1} },
		Kinds: []string{"toy"}, Decode: func(_ string, b []byte) (learn.Model, error) {
			m := &toyModel{}
			return m, json.Unmarshal(b, m)
		}})
}

func logLoss(y, _, proba []float64, k int) float64 {
	s := 0.0
	for i, c := range y {
		s -= math.Log(math.Max(proba[i*k+int(c)], 1e-15))
	}
	return s / float64(len(y))
}

func toySpace(sleep string) Space {
	return Space{Learner: "toy", Family: "trees", CostFactor: 1, Fixed: map[string]string{"sleep": sleep},
		Domains: []Domain{
			{Param: "n_estimators", Lo: 1, Hi: 200, Log: true, Int: true, Init: 1},
			{Param: "learning_rate", Lo: 0.01, Hi: 5, Log: true, Init: 0.1},
		}}
}

func toyProblem() Problem {
	d := learntest.Toy(learn.Binary, 400, 5)
	return Problem{Task: learn.Binary, Classes: d.Classes, Data: map[string]*learn.Dataset{"trees": d}, Loss: logLoss}
}

func TestTrialModeIsReproducible(t *testing.T) {
	run := func() *Result {
		r, err := Run(context.Background(), toyProblem(), Options{Trials: 30, Seed: 7, Spaces: []Space{toySpace("0s")}, Ensemble: true})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b := run(), run()
	if len(a.Trials) != 30 {
		t.Fatalf("ran %d trials, want 30", len(a.Trials))
	}
	for i := range a.Trials {
		if a.Trials[i].Loss != b.Trials[i].Loss || !reflect.DeepEqual(a.Trials[i].Config, b.Trials[i].Config) {
			t.Fatalf("trial %d differs: %v %v vs %v %v", i, a.Trials[i].Config, a.Trials[i].Loss, b.Trials[i].Config, b.Trials[i].Loss)
		}
	}
	ma, _ := a.Members[0].Model.MarshalBinary()
	mb, _ := b.Members[0].Model.MarshalBinary()
	if string(ma) != string(mb) || a.ValidLoss != b.ValidLoss {
		t.Error("same seed and trial count gave different final models")
	}
	// The search must improve on its low-cost start.
	if !(a.Best.Loss < a.Trials[0].Loss) {
		t.Errorf("best loss %.4f did not improve on the first trial's %.4f", a.Best.Loss, a.Trials[0].Loss)
	}
	if a.Eval != "cv" {
		t.Errorf("small data evaluated by %s, want cv", a.Eval)
	}
}

func TestTimeBudgetHonoured(t *testing.T) {
	budget := 1500 * time.Millisecond
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	r, err := Run(ctx, toyProblem(), Options{Seed: 1, Spaces: []Space{toySpace("40ms")}, Repeats: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Wall-time assertions flake on a busy machine; the bound here is
	// generous and what it guards is that trials stop at all.
	if el := time.Since(start); el > budget+time.Second {
		t.Errorf("search took %v for a %v budget", el, budget)
	}
	if len(r.Trials) < 3 {
		t.Errorf("only %d trials in %v", len(r.Trials), budget)
	}
}

func TestTooSmallBudget(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := Run(ctx, toyProblem(), Options{Seed: 1, Spaces: []Space{toySpace("500ms")}})
	if !errors.Is(err, ErrNoTrial) {
		t.Fatalf("a budget too small for one trial: %v, want ErrNoTrial", err)
	}
	// What the caller keeps for itself comes off the budget first.
	ctx, cancel = context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	post := func(Output) time.Duration { return 2 * time.Second }
	if _, err := Run(ctx, toyProblem(), Options{Seed: 1, Spaces: []Space{toySpace("0s")}, PostCost: post}); !errors.Is(err, ErrNoTrial) {
		t.Fatalf("a PostCost over the deadline: %v, want ErrNoTrial", err)
	}
	if _, err := Run(context.Background(), toyProblem(), Options{Seed: 1, Spaces: []Space{toySpace("0s")}}); err == nil {
		t.Fatal("no deadline and no trial count gave no error")
	}
}

// TestPostCostKeepsTimeFree checks that the search leaves the caller the
// time its PostCost asks for: 1.6 s of a 2 s deadline leaves 0.4 s of
// 40 ms trials. The bound is generous (a busy machine); without PostCost
// the search would run to about 2 s.
func TestPostCostKeepsTimeFree(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var sawModel bool
	post := func(o Output) time.Duration {
		if o.ModelBytes > 0 {
			sawModel = true
		}
		return 1600 * time.Millisecond
	}
	start := time.Now()
	r, err := Run(ctx, toyProblem(), Options{Seed: 1, Spaces: []Space{toySpace("40ms")}, Repeats: 1, PostCost: post})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 1300*time.Millisecond {
		t.Errorf("search took %v of a 2s deadline with 1.6s kept for the caller", el)
	}
	if len(r.Trials) == 0 || !sawModel {
		t.Errorf("%d trials; PostCost saw a model size: %v", len(r.Trials), sawModel)
	}
}

func TestCaruanaPicksComplementaryModels(t *testing.T) {
	y := []float64{0, 1, 2, 3}
	a := []float64{0, 1, 4, 5} // right on the first half
	b := []float64{0, 1, 0, 1}
	c := []float64{9, 9, 9, 9}
	mse := func(avg []float64) float64 {
		s := 0.0
		for i := range y {
			s += (avg[i] - y[i]) * (avg[i] - y[i])
		}
		return s
	}
	w, loss := caruana(context.Background(), [][]float64{a, b, c}, mse, 10, time.Time{}, time.Now)
	if w[2] != 0 || math.Abs(w[0]-0.5) > 1e-9 || math.Abs(w[1]-0.5) > 1e-9 || loss > 1e-9 {
		t.Errorf("weights %v loss %v, want [0.5 0.5 0] and 0", w, loss)
	}
}

func TestFlow2FindsMinimum(t *testing.T) {
	f := newFlow2([]float64{0.9, 0.1}, newRand(3))
	for i := 0; i < 400; i++ {
		x := f.propose()
		f.report(x, (x[0]-0.3)*(x[0]-0.3)+(x[1]-0.6)*(x[1]-0.6))
	}
	if f.bestLoss > 1e-3 {
		t.Errorf("flow2 best loss %.5f at %v, want near (0.3, 0.6)", f.bestLoss, f.best)
	}
}

func TestEnsembleFormsWhenItHelps(t *testing.T) {
	// Two toy spaces on different features cannot each fit the target; their
	// average does better, so the ensemble must win.
	p := toyProblem()
	r, err := Run(context.Background(), p, Options{Trials: 20, Seed: 2, Ensemble: true, Spaces: []Space{toySpace("0s")}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Ensembled {
		if len(r.Members) < 2 || !(r.ValidLoss < r.Best.Loss) {
			t.Errorf("ensemble of %d members with loss %v vs best %v", len(r.Members), r.ValidLoss, r.Best.Loss)
		}
		sum := 0.0
		for _, m := range r.Members {
			sum += m.Weight
			if m.Model == nil {
				t.Error("ensemble member not refitted")
			}
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("member weights sum to %v", sum)
		}
	}
	for _, tr := range r.Trials {
		if tr.oof != nil {
			t.Fatal("result keeps out-of-fold predictions")
		}
	}
}

// TestParallelFoldsDoNotChangeResults runs the same trial-count search with
// the folds fitted one at a time and side by side: real learners (gbdt and
// random forest, single-threaded when side by side) must give the same
// trials and the same final model either way.
func TestParallelFoldsDoNotChangeResults(t *testing.T) {
	d := learntest.Toy(learn.Binary, 300, 6)
	var spaces []Space
	for _, sp := range DefaultSpaces(learn.Binary) {
		if sp.Learner == "gbdt" || sp.Learner == "random_forest" {
			spaces = append(spaces, sp)
		}
	}
	if len(spaces) != 2 {
		t.Fatalf("gbdt and random_forest spaces not found: %v", spaces)
	}
	run := func(workers int) *Result {
		p := Problem{Task: learn.Binary, Classes: d.Classes, Data: map[string]*learn.Dataset{"trees": d}, Loss: logLoss}
		r, err := Run(context.Background(), p, Options{Trials: 8, Seed: 3, Spaces: spaces, Ensemble: true, Workers: workers, Folds: 3, Repeats: 2})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b := run(1), run(2)
	for i := range a.Trials {
		if a.Trials[i].Loss != b.Trials[i].Loss || !reflect.DeepEqual(a.Trials[i].Config, b.Trials[i].Config) {
			t.Fatalf("trial %d differs: %v %v vs %v %v", i, a.Trials[i].Config, a.Trials[i].Loss, b.Trials[i].Config, b.Trials[i].Loss)
		}
	}
	if len(a.Members) != len(b.Members) || a.ValidLoss != b.ValidLoss {
		t.Fatalf("final models differ: %d members (loss %v) vs %d (loss %v)", len(a.Members), a.ValidLoss, len(b.Members), b.ValidLoss)
	}
	for i := range a.Members {
		ma, _ := a.Members[i].Model.MarshalBinary()
		mb, _ := b.Members[i].Model.MarshalBinary()
		if string(ma) != string(mb) {
			t.Errorf("member %d (%s) differs between 1 and 2 workers", i, a.Members[i].Learner)
		}
	}
	if a.Eval != "cv" || len(a.Trials) != 8 {
		t.Errorf("eval %s with %d trials, want cv with 8", a.Eval, len(a.Trials))
	}
}

// toy1dLearner is toyLearner under another name, searched over the learning
// rate alone: a one-dimensional space that local search exhausts quickly.
type toy1dLearner struct {
	Steps int     `param:"n_estimators" help:"gradient steps"`
	Rate  float64 `param:"learning_rate" help:"step size"`
	Seed  uint64  `param:"seed" help:"unused"`
}

func (toy1dLearner) Name() string { return "toy1d" }

func (l toy1dLearner) Fit(ctx context.Context, d *learn.Dataset) (learn.Model, error) {
	return toyLearner{Steps: l.Steps, Rate: l.Rate}.Fit(ctx, d)
}

func init() {
	learn.Register(learn.Spec{Name: "toy1d", Tasks: []learn.Task{learn.Binary}, New: func() learn.Learner { return &toy1dLearner{Steps: 1, Rate: 0.1} },
		Kinds: []string{"toy1d"}, Decode: func(_ string, b []byte) (learn.Model, error) {
			m := &toyModel{}
			return m, json.Unmarshal(b, m)
		}})
}

// TestSearchedOutLearnerRetires checks that a learner whose local search
// converged repeatedly without improving gets no trials while another
// learner still searches, and is used again when every learner is retired.
func TestSearchedOutLearnerRetires(t *testing.T) {
	small := Space{Learner: "toy1d", Family: "trees", CostFactor: 0.2, Fixed: map[string]string{"n_estimators": "200"},
		Domains: []Domain{{Param: "learning_rate", Lo: 0.01, Hi: 5, Log: true, Init: 0.1}}}
	r, err := Run(context.Background(), toyProblem(), Options{Trials: 400, Seed: 4, Repeats: 1, Spaces: []Space{small, toySpace("0s")}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tr := range r.Trials {
		if tr.Learner == "toy1d" {
			n++
		}
	}
	// The one-dimensional space converges within a few dozen trials; with
	// retirement it cannot take most of the 400.
	if n < 20 || n > 200 {
		t.Errorf("toy1d ran %d of %d trials, want 20..200", n, len(r.Trials))
	}

	s, err := newSearcher(toyProblem(), Options{Trials: 10, Seed: 1, Spaces: []Space{small, toySpace("0s")}})
	if err != nil {
		t.Fatal(err)
	}
	s.split = s.makeSplit()
	for _, st := range s.states {
		st.trials, st.lastCost, st.used = 5, 1, 5
		st.best = &Trial{Loss: 0.5}
	}
	s.best = &Trial{Loss: 0.5}
	s.states[0].staleConv = staleAfter
	for range 50 {
		if st := s.choose(); st != s.states[1] {
			t.Fatalf("chose %v while it is retired and toy still searches", st.space.Learner)
		}
	}
	s.states[1].staleConv = staleAfter
	seen := map[string]bool{}
	for range 50 {
		seen[s.choose().space.Learner] = true
	}
	if !seen["toy1d"] || !seen["toy"] {
		t.Errorf("with every learner retired, chose only %v", seen)
	}
}

// TestLocalSearchDoesNotRepeatConfigurations checks that a small integer
// space whose neighbourhood around the best is soon all evaluated (as
// k-NN's k is) gets new configurations, not re-runs of seen ones, while
// unseen ones remain.
func TestLocalSearchDoesNotRepeatConfigurations(t *testing.T) {
	small := Space{Learner: "toy1d", Family: "trees", CostFactor: 1,
		Domains: []Domain{{Param: "n_estimators", Lo: 1, Hi: 64, Log: true, Int: true, Init: 5},
			{Param: "learning_rate", Choices: []string{"0.5", "1"}, InitChoice: "0.5"}}}
	r, err := Run(context.Background(), toyProblem(), Options{Trials: 40, Seed: 3, Repeats: 1, Spaces: []Space{small}})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, tr := range r.Trials {
		if prev, dup := seen[tr.Config.key()]; dup {
			t.Errorf("trial %d repeats trial %d's configuration %v", tr.ID, prev, tr.Config)
		}
		seen[tr.Config.key()] = tr.ID
	}
}

// TestSmallDataKeepsFoldModels checks that under cross-validation the final
// model is the bag of the chosen trial's fold models (one per fold of the
// first repeat), reproducibly, and that NoBag refits instead.
func TestSmallDataKeepsFoldModels(t *testing.T) {
	run := func(noBag bool) *Result {
		r, err := Run(context.Background(), toyProblem(), Options{Trials: 8, Seed: 2, Repeats: 2, Spaces: []Space{toySpace("0s")}, NoBag: noBag})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b := run(false), run(false)
	if !a.Bagged || !a.Refitted || len(a.Members) != 1 {
		t.Fatalf("bagged %v, refitted %v, %d members; want one bagged member", a.Bagged, a.Refitted, len(a.Members))
	}
	bag, ok := a.Members[0].Model.(*learn.Bag)
	if !ok || len(bag.Models) != 5 {
		t.Fatalf("final model %T, want a bag of the 5 fold models", a.Members[0].Model)
	}
	ba, _ := a.Members[0].Model.MarshalBinary()
	bb, _ := b.Members[0].Model.MarshalBinary()
	if string(ba) != string(bb) {
		t.Error("same seed and trials gave different bags")
	}
	r := run(true)
	if r.Bagged || r.Members[0].Model.Kind() != "toy" {
		t.Errorf("NoBag: bagged %v, model kind %s; want the refitted toy model", r.Bagged, r.Members[0].Model.Kind())
	}
}
