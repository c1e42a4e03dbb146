package automl

import (
	"context"
	"strings"
	"testing"
)

const goodSpace = `learners:
  - learner: toy
    params:
      n_estimators: {low: 1, high: 100, log: true, int: true}
      learning_rate: {choices: ["0.05", "0.5", "2"]}
    fixed:
      sleep: 0s
`

func TestParseSpaces(t *testing.T) {
	sp, err := ParseSpaces([]byte(goodSpace), "space.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(sp) != 1 || len(sp[0].Domains) != 2 || sp[0].Domains[0].Param != "learning_rate" || sp[0].Fixed["sleep"] != "0s" {
		t.Fatalf("parsed %+v", sp)
	}
	bad := []struct{ name, doc, want string }{
		{"unknown learner", "learners:\n  - learner: nope\n    params: {x: {low: 1, high: 2}}\n", "space.yaml:2: learner"},
		{"unknown param", "learners:\n  - learner: toy\n    params:\n      n_estimator: {low: 1, high: 2}\n", "space.yaml:4: n_estimator: unknown hyperparameter"},
		{"bad range", "learners:\n  - learner: toy\n    params:\n      n_estimators: {low: 5, high: 2}\n", "space.yaml:4: n_estimators: low 5 must be below high 2"},
		{"unknown key", "learners:\n  - learner: toy\n    params:\n      n_estimators: {lo: 5, high: 9}\n", `unknown key "lo"`},
		{"typo at top", "learner:\n  - learner: toy\n", "space.yaml:1"},
	}
	for _, c := range bad {
		_, err := ParseSpaces([]byte(c.doc), "space.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
}

func TestAlternativeSearches(t *testing.T) {
	sp, err := ParseSpaces([]byte(goodSpace), "space.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sp[0].Family = "trees"
	for _, method := range []string{SearchRandom, SearchGrid, SearchTPE} {
		r, err := Run(context.Background(), toyProblem(), Options{Trials: 20, Seed: 3, Spaces: sp, Search: method})
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if method == SearchGrid {
			// 5 integer points × 3 choices = 15 configurations, then done.
			if len(r.Trials) != 15 {
				t.Errorf("grid ran %d trials, want 15", len(r.Trials))
			}
		} else if len(r.Trials) != 20 {
			t.Errorf("%s ran %d trials, want 20", method, len(r.Trials))
		}
		if !(r.Best.Loss < r.Trials[0].Loss) && method != SearchGrid {
			t.Logf("%s: best %v first %v", method, r.Best.Loss, r.Trials[0].Loss)
		}
	}
	if _, err := Run(context.Background(), toyProblem(), Options{Trials: 2, Spaces: sp, Search: "bayes"}); err == nil {
		t.Error("unknown search method accepted")
	}
}

func TestTPEConcentratesOnGoodRegion(t *testing.T) {
	tp := &tpe{dim: 1, rng: newRand(9), best: 1e300}
	for i := 0; i < 80; i++ {
		x := tp.propose()
		tp.report(x, (x[0]-0.8)*(x[0]-0.8))
	}
	near := 0
	for _, o := range tp.obs[40:] {
		if o.x[0] > 0.6 && o.x[0] < 1 {
			near++
		}
	}
	if near < 25 {
		t.Errorf("only %d of the last 40 TPE points near the optimum", near)
	}
}
