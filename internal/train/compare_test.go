package train_test

import (
	"bytes"
	"context"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/automl"
	"github.com/gyre-ml/gyre/internal/feature"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/metric"
	"github.com/gyre-ml/gyre/internal/train"
)

// TestCompareRule: a gain is meaningful when positive and larger than the
// spread of the paired per-group gains; otherwise a warning names the
// baseline.
func TestCompareRule(t *testing.T) {
	m, _ := metric.Lookup("roc_auc")
	model := []float64{-0.80, -0.82, -0.78, -0.81, -0.79} // losses: −AUC
	steady := automl.Baseline{Name: "dummy", Loss: -0.5, GroupLosses: []float64{-0.5, -0.5, -0.5, -0.5, -0.5}}
	noisy := automl.Baseline{Name: "logistic_regression", Loss: -0.79, GroupLosses: []float64{-0.85, -0.75, -0.80, -0.77, -0.82}}
	c := train.Compare(m, "gbdt", "cv", -0.80, model, []automl.Baseline{steady, noisy})
	if c.Model.Score != 0.80 || !c.Baselines[0].Meaningful || c.Baselines[1].Meaningful {
		t.Fatalf("comparison %+v", c)
	}
	if math.Abs(c.Baselines[0].Gain-0.30) > 1e-9 {
		t.Errorf("gain over the dummy %v, want 0.30", c.Baselines[0].Gain)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "logistic_regression") {
		t.Errorf("warnings %q, want one naming logistic_regression", c.Warnings)
	}
}

// TestCrossValidateBaselines: on titanic, gradient boosting is scored with
// the dummy and logistic regression on the same folds; the dummy ranks
// nothing (AUC ≈ 0.5) and the learner is clearly above it.
func TestCrossValidateBaselines(t *testing.T) {
	p, err := train.NewProblem(read(t, titanic+".train.csv"), "Survived", 0)
	if err != nil {
		t.Fatal(err)
	}
	c, scores, err := train.CrossValidate(context.Background(), p, train.Options{Learner: "gbdt", Params: map[string]string{"n_estimators": "50"}}, train.CVOptions{Folds: 4, Repeats: 1})
	if err != nil {
		t.Fatal(err)
	}
	if c.Eval != "cv" || c.Folds != 4 || len(c.Baselines) != 2 {
		t.Fatalf("comparison %+v", c)
	}
	dummy, simple := c.Baselines[0], c.Baselines[1]
	if dummy.Name != "dummy" || math.Abs(dummy.Score-0.5) > 0.05 || !dummy.Meaningful {
		t.Errorf("dummy %+v: want AUC ≈ 0.5 and the model meaningfully above it", dummy)
	}
	if simple.Name != "logistic_regression" || simple.Err != "" || simple.Score < 0.75 {
		t.Errorf("simple model %+v: want logistic regression at AUC ≥ 0.75", simple)
	}
	if c.Model.Score < 0.8 || c.Model.Spread <= 0 || math.Abs(scores["roc_auc"]-c.Model.Score) > 1e-12 {
		t.Errorf("model %+v (cv scores %v)", c.Model, scores)
	}
}

// TestSearchBaselines: a search scores the dummy and the simple model on
// its own split, and the comparison reads them against the final model.
func TestSearchBaselines(t *testing.T) {
	p, err := train.NewProblem(read(t, titanic+".train.csv"), "Survived", 0)
	if err != nil {
		t.Fatal(err)
	}
	_, res, err := train.Search(context.Background(), p, train.SearchOptions{Trials: 4, Learners: []string{"gbdt"}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Baselines) != 2 || res.Baselines[1].Name != "logistic_regression" || len(res.GroupLosses) != res.Folds {
		t.Fatalf("baselines %+v, group losses %v (folds %d)", res.Baselines, res.GroupLosses, res.Folds)
	}
	c, err := train.CompareSearch("", p.Task, res)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Baselines[0].Meaningful || c.Model.Score <= c.Baselines[0].Score {
		t.Errorf("comparison %+v: the search should be meaningfully above the dummy", c)
	}
}

// TestExclusionsAndOverrides: on titanic the name and ticket are left out with their reasons; --keep-column brings one back and
// --drop-column removes another.
func TestExclusionsAndOverrides(t *testing.T) {
	p, err := train.NewProblem(read(t, titanic+".train.csv"), "Survived", 0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range p.Excluded {
		got[e.Column] = e.Reason
	}
	for _, c := range []string{"Name", "Ticket"} {
		if got[c] == "" {
			t.Errorf("%s not excluded (excluded: %v)", c, got)
		}
	}
	if !strings.Contains(got["Name"], "all 713 values are distinct") {
		t.Errorf("Name reason %q", got["Name"])
	}
	p, err = train.NewProblemWith(read(t, titanic+".train.csv"), "Survived", 0, train.ProblemOptions{Keep: []string{"Ticket"}, Drop: []string{"Fare"}})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(p.Ignored, "Ticket") || !slices.Contains(p.Ignored, "Fare") || !slices.Contains(p.Ignored, "Name") {
		t.Errorf("ignored %v: want Fare and Name, not Ticket", p.Ignored)
	}
	if _, err := train.NewProblemWith(read(t, titanic+".train.csv"), "Survived", 0, train.ProblemOptions{Drop: []string{"Fare "}}); err == nil || !strings.Contains(err.Error(), "Fare ") {
		t.Errorf("unknown column override: err = %v", err)
	}
}

// TestProblemWarnings: 15 rows, and a numeric target with a few integer
// values, are questioned rather than silently regressed.
func TestProblemWarnings(t *testing.T) {
	f := read(t, titanic+".train.csv")
	rows := make([]int, 15)
	for i := range rows {
		rows[i] = i
	}
	p, err := train.NewProblem(f.Take(rows), "Survived", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) == 0 || !strings.Contains(p.Warnings[0], "only 15 rows") {
		t.Errorf("15 rows: warnings %q", p.Warnings)
	}
	// Pclass (1, 2, 3) over 891 rows is detected as classes; over 40 rows
	// it is below DetectTask's 5 % rule and would be regressed: a question.
	rows = make([]int, 40)
	for i := range rows {
		rows[i] = i
	}
	p, err = train.NewProblem(f.Take(rows), "Pclass", 0)
	if err != nil {
		t.Fatal(err)
	}
	if p.Task != learn.Regression || !slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, "class label") && strings.Contains(w, "1, 2, 3") }) {
		t.Errorf("Pclass on 40 rows: task %v, warnings %q", p.Task, p.Warnings)
	}
}

// TestSearchWithRecipe: AutoML learns on the recipe's output, validates on
// raw rows through it, and the bundle's input is the raw schema.
func TestSearchWithRecipe(t *testing.T) {
	r, err := feature.LoadRecipe("../../examples/recipes/titanic.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := train.NewProblemWith(read(t, titanic+".train.csv"), "Survived", 0, train.ProblemOptions{Recipe: &r})
	if err != nil {
		t.Fatal(err)
	}
	if p.Frame.Index("Sex=male") < 0 && p.Frame.Index("Sex_male") < 0 && p.Frame.Index("Sex") >= 0 {
		t.Errorf("the problem is not learned on the recipe's output: %v", p.Frame.Names())
	}
	test := read(t, titanic+".test.csv")
	b, _, err := train.Search(context.Background(), p, train.SearchOptions{Trials: 3, Learners: []string{"gbdt", "logistic_regression"}, Valid: test})
	if err != nil {
		t.Fatal(err)
	}
	if b.Recipe == nil || b.Manifest.Input.Names()[0] != "Pclass" || slices.Contains(b.Manifest.Input.Names(), "Name") {
		t.Errorf("bundle input %v (recipe %v): want the raw columns the recipe reads", b.Manifest.Input.Names(), b.Recipe != nil)
	}
	s, _, _, err := train.Score(b, test)
	if err != nil || s["roc_auc"] < 0.8 {
		t.Errorf("raw test rows: %v %v", s["roc_auc"], err)
	}
}

// TestSearchBundleBytesReproducible: the same seed and trial count give
// the same bundle bytes (with the same creation time), not only the same
// predictions.
func TestSearchBundleBytesReproducible(t *testing.T) {
	var enc [2][]byte
	for i := range enc {
		p, err := train.NewProblem(read(t, titanic+".train.csv"), "Survived", 0)
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := train.Search(context.Background(), p, train.SearchOptions{Trials: 5, Seed: 3, Learners: []string{"gbdt", "extra_trees", "logistic_regression"}})
		if err != nil {
			t.Fatal(err)
		}
		b.Manifest.Created = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
		if enc[i], err = b.Encode(); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(enc[0], enc[1]) {
		t.Errorf("bundles differ (%d and %d bytes)", len(enc[0]), len(enc[1]))
	}
}

// TestCompareSample checks that CrossValidate given CompareSample's sample
// (what gyre train passes once it is done with the other rows) compares
// exactly as it does sampling itself, reports the sample's size, and that
// the sample is not sampled again; with folds there is no sample.
func TestCompareSample(t *testing.T) {
	defer train.SetCompareMaxRows(5000)()
	p, err := train.NewProblem(read(t, "../../examples/data/adult/adult.train.csv"), "class", learn.TaskInvalid)
	if err != nil {
		t.Fatal(err)
	}
	o := train.Options{Learner: "gbdt", Params: map[string]string{"n_estimators": "20"}, Seed: 3}
	cv := train.CVOptions{}
	c1, s1, err := train.CrossValidate(context.Background(), p, o, cv)
	if err != nil {
		t.Fatal(err)
	}
	q := train.CompareSample(p, cv)
	if q == p || q.Frame.NumRows() != 5000 {
		t.Fatalf("sample of %d rows, want 5000", q.Frame.NumRows())
	}
	if train.CompareSample(q, cv) != q {
		t.Error("a sample was sampled again")
	}
	c2, s2, err := train.CrossValidate(context.Background(), q, o, cv)
	if err != nil {
		t.Fatal(err)
	}
	if c1.SampleRows != 5000 || !reflect.DeepEqual(c1, c2) || !maps.Equal(s1, s2) {
		t.Errorf("on the whole problem %+v %v, on its sample %+v %v", c1, s1, c2, s2)
	}
	if train.CompareSample(p, train.CVOptions{Folds: 3}) != p {
		t.Error("a comparison by folds was given a sample")
	}
}
