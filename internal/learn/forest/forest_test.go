package forest_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/forest"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
)

func small(extra bool) func() learn.Learner {
	return func() learn.Learner {
		l := forest.NewRandomForest()
		if extra {
			l = forest.NewExtraTrees()
		}
		l.NEstimators = 20
		l.Seed = 5
		return l
	}
}

func TestConformanceRandomForest(t *testing.T) {
	learntest.Run(t, learntest.Options{New: small(false)})
}
func TestConformanceExtraTrees(t *testing.T) { learntest.Run(t, learntest.Options{New: small(true)}) }

func TestOOBAndImportance(t *testing.T) {
	for _, task := range []learn.Task{learn.Binary, learn.Regression} {
		d := learntest.Toy(task, 600, 2)
		l := forest.NewRandomForest()
		l.NEstimators = 50
		l.OOBScore = true
		l.ClassWeight = "none"
		m, err := l.Fit(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		fm := forest.Fitted(m)
		if !(fm.OOBScore > 0.6) {
			t.Errorf("%s: OOB %s = %v, want > 0.6", task, fm.OOBMetric, fm.OOBScore)
		}
		imp := fm.Importance()
		// Feature 0 (a) drives the target; 4 (noise) does not.
		if !(imp[0] > imp[4]) {
			t.Errorf("%s: importance %v: feature a should beat noise", task, imp)
		}
		mean, _, err := forest.PermutationImportance(context.Background(), m, d, forest.PermutationOptions{Repeats: 2})
		if err != nil {
			t.Fatal(err)
		}
		if !(mean[0] > mean[4]) {
			t.Errorf("%s: permutation importance %v: feature a should beat noise", task, mean)
		}
	}
}

func TestWorkersDeterministic(t *testing.T) {
	d := learntest.Toy(learn.Multiclass, 400, 4)
	var enc []string
	for _, jobs := range []int{1, 3} {
		l := forest.NewRandomForest()
		l.NEstimators = 10
		l.NJobs = jobs
		l.ClassWeight = "balanced_subsample"
		m, err := l.Fit(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := m.MarshalBinary()
		enc = append(enc, string(b))
	}
	if enc[0] != enc[1] {
		t.Error("n_jobs changed the fitted model")
	}
}

func TestBadParams(t *testing.T) {
	d := learntest.Toy(learn.Binary, 50, 1)
	learntest.Refuses(t, func() learn.Learner { return forest.NewRandomForest() }, d, [][2]string{{"n_estimators", "0"}, {"max_samples", "-0.5"}, {"max_samples", "51"}, {"class_weight", "x"}, {"max_features", "0"}, {"n_jobs", "-1"}})
	l := forest.NewExtraTrees()
	l.OOBScore = true
	if _, err := l.Fit(context.Background(), d); err == nil {
		t.Error("oob_score without bootstrap: fit succeeded")
	}
}

func ExampleForest() {
	d := learntest.Toy(learn.Binary, 500, 1)
	l := forest.NewRandomForest()
	l.NEstimators = 50
	l.OOBScore = true
	m, err := l.Fit(context.Background(), d)
	if err != nil {
		fmt.Println(err)
		return
	}
	fm := forest.Fitted(m)
	fmt.Printf("%d trees, OOB %s above 0.8: %v\n", len(fm.Trees), fm.OOBMetric, fm.OOBScore > 0.8 && !math.IsNaN(fm.OOBScore))
	// Output: 50 trees, OOB accuracy above 0.8: true
}
