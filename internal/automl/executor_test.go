package automl

import (
	"context"
	"reflect"
	"sync"
	"testing"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
)

// evaluatorExecutor runs every batch through an Evaluator built from a
// copy of the problem it is given by Prepare, trials side by side on
// goroutines: what a distributed executor does on its workers, minus the
// network.
type evaluatorExecutor struct {
	workers int
	mu      sync.Mutex
	ev      *Evaluator
	batches []int
}

func (x *evaluatorExecutor) Prepare(_ context.Context, p Problem, plan Plan) error {
	// The workers' copy: fresh datasets without the search's shared state.
	data := map[string]*learn.Dataset{}
	for f, d := range p.Data {
		dd := *d
		dd.Shared = nil
		data[f] = &dd
	}
	p.Data = data
	ev, err := NewEvaluator(p, plan, x.workers)
	x.ev = ev
	return err
}

func (x *evaluatorExecutor) RunTrials(ctx context.Context, plan Plan, specs []TrialSpec) ([]TrialResult, error) {
	x.mu.Lock()
	x.batches = append(x.batches, len(specs))
	x.mu.Unlock()
	out := make([]TrialResult, len(specs))
	var wg sync.WaitGroup
	for i, sp := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = x.ev.Run(ctx, sp)
			out[i].Model = nil // a remote executor does not carry models back
		}()
	}
	wg.Wait()
	return out, nil
}

// TestExecutorGivesLocalResults checks the executor seam: the same batched
// search run on the local goroutines and through Evaluators (any number of
// fits at once, trials concurrently) gives the same trials and final model,
// and Batch 1 through an executor is the local search.
func TestExecutorGivesLocalResults(t *testing.T) {
	d := learntest.Toy(learn.Binary, 300, 6)
	var spaces []Space
	for _, sp := range DefaultSpaces(learn.Binary) {
		if sp.Learner == "gbdt" || sp.Learner == "random_forest" || sp.Learner == "logistic_regression" {
			spaces = append(spaces, sp)
		}
	}
	problem := func() Problem {
		return Problem{Task: learn.Binary, Classes: d.Classes, Data: map[string]*learn.Dataset{"trees": d, "linear": d}, Loss: logLoss}
	}
	run := func(batch int, x Executor) *Result {
		r, err := Run(context.Background(), problem(), Options{Trials: 14, Seed: 5, Spaces: spaces, Ensemble: true, Batch: batch, Executor: x, Folds: 3, Repeats: 1})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	same := func(name string, a, b *Result) {
		t.Helper()
		if len(a.Trials) != len(b.Trials) {
			t.Fatalf("%s: %d trials vs %d", name, len(a.Trials), len(b.Trials))
		}
		for i := range a.Trials {
			ta, tb := a.Trials[i], b.Trials[i]
			if ta.ID != tb.ID || ta.Learner != tb.Learner || ta.Loss != tb.Loss || !reflect.DeepEqual(ta.Config, tb.Config) {
				t.Fatalf("%s: trial %d differs: %d %s %v %v vs %d %s %v %v", name, i, ta.ID, ta.Learner, ta.Config, ta.Loss, tb.ID, tb.Learner, tb.Config, tb.Loss)
			}
		}
		if len(a.Members) != len(b.Members) || a.ValidLoss != b.ValidLoss {
			t.Fatalf("%s: final models differ: %d members (loss %v) vs %d (loss %v)", name, len(a.Members), a.ValidLoss, len(b.Members), b.ValidLoss)
		}
		for i := range a.Members {
			ma, _ := a.Members[i].Model.MarshalBinary()
			mb, _ := b.Members[i].Model.MarshalBinary()
			if string(ma) != string(mb) {
				t.Errorf("%s: member %d (%s) differs", name, i, a.Members[i].Learner)
			}
		}
	}
	same("batch 1, executor", run(1, nil), run(1, &evaluatorExecutor{workers: 2}))
	local := run(4, nil)
	x1 := &evaluatorExecutor{workers: 1}
	same("batch 4, executor with 1 worker", local, run(4, x1))
	same("batch 4, executor with 3 workers", local, run(4, &evaluatorExecutor{workers: 3}))
	if want := []int{4, 4, 4, 2}; !reflect.DeepEqual(x1.batches, want) {
		t.Errorf("batches of %v trials, want %v", x1.batches, want)
	}
	// A batch brings in several learners at once rather than one learner's
	// low-cost start several times.
	learners := map[string]bool{}
	for _, tr := range local.Trials[:4] {
		learners[tr.Learner] = true
	}
	if len(learners) < 2 {
		t.Errorf("first batch tried only %v", learners)
	}
}

func TestNewEvaluatorRejectsBadPlans(t *testing.T) {
	d := learntest.Toy(learn.Binary, 50, 3)
	p := Problem{Task: learn.Binary, Classes: d.Classes, Data: map[string]*learn.Dataset{"trees": d}}
	for _, plan := range []Plan{
		{Method: "kfold", Folds: 5, Repeats: 1},
		{Method: "cv", Folds: 1, Repeats: 1},
		{Method: "holdout", HoldoutFraction: 1.5},
		{Method: "valid"},
	} {
		if _, err := NewEvaluator(p, plan, 1); err == nil {
			t.Errorf("plan %+v accepted", plan)
		}
	}
	ev, err := NewEvaluator(p, Plan{Method: "cv", Folds: 5, Repeats: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if r := ev.Run(context.Background(), TrialSpec{Learner: "gbdt", Family: "linear", Sample: 10}); r.Err == nil {
		t.Error("a trial of a family without data ran")
	}
	if r := ev.Run(context.Background(), TrialSpec{Learner: "gbdt", Family: "trees", Sample: 1000}); r.Err == nil {
		t.Error("a trial sampling more rows than the folds have ran")
	}
}
