package cli

import (
	"bytes"
	"encoding/json"
	"github.com/gyre-ml/gyre/internal/trainrun"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/automl"
	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
)

const titanicTrain = "../../examples/data/titanic/titanic.train.csv"
const titanicTest = "../../examples/data/titanic/titanic.test.csv"

// run executes the CLI and returns exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// isolate points the default store at a temporary directory.
func isolate(t *testing.T) string {
	dir := t.TempDir()
	t.Setenv("GYRE_HOME", filepath.Join(dir, ".gyre"))
	return dir
}

func TestTrainPredictEvaluate(t *testing.T) {
	dir := isolate(t)
	model := filepath.Join(dir, "t.gyre")
	code, out, errs := runCLI(t, "train", titanicTrain, "--target", "Survived", "--learner", "gbdt", "--test", titanicTest, "--out", model, "--json")
	if code != 0 {
		t.Fatalf("train exit %d: %s %s", code, out, errs)
	}
	var res trainResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("train --json is not JSON: %v\n%s", err, out)
	}
	if res.Task != "binary" || res.Rows != 713 || res.Metrics["test"]["roc_auc"] < 0.8 {
		t.Errorf("train result: task %s rows %d test roc_auc %v", res.Task, res.Rows, res.Metrics["test"]["roc_auc"])
	}

	preds := filepath.Join(dir, "p.csv")
	if code, _, errs := runCLI(t, "predict", model, titanicTest, "--out", preds); code != 0 {
		t.Fatalf("predict exit %d: %s", code, errs)
	}
	f, err := ingest.Read(t.Context(), preds, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.NumRows() != 178 || strings.Join(f.Names(), ",") != "prediction,proba_0,proba_1" {
		t.Errorf("predictions: %d rows, columns %v", f.NumRows(), f.Names())
	}

	code, out, errs = runCLI(t, "evaluate", model, titanicTest, "--json")
	if code != 0 {
		t.Fatalf("evaluate exit %d: %s", code, errs)
	}
	var ev trainrun.Evaluation
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Rows != 178 || ev.Metrics["roc_auc"] != res.Metrics["test"]["roc_auc"] || len(ev.Confusion) != 2 {
		t.Errorf("evaluate disagrees with train's test score: %v vs %v", ev.Metrics["roc_auc"], res.Metrics["test"]["roc_auc"])
	}
}

func TestTrainBadInput(t *testing.T) {
	isolate(t)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no target", []string{"train", titanicTrain}, "--target"},
		{"unknown target", []string{"train", titanicTrain, "--target", "survived"}, "Survived"},
		{"unknown learner", []string{"train", titanicTrain, "--target", "Survived", "--learner", "xgboost"}, "gbdt"},
		{"unknown param", []string{"train", titanicTrain, "--target", "Survived", "--set", "trees=3"}, "n_estimators"},
		{"bad param value", []string{"train", titanicTrain, "--target", "Survived", "--set", "n_estimators=-3"}, "n_estimators"},
		{"missing file", []string{"train", "nope.csv", "--target", "y"}, "nope.csv"},
		{"bad task", []string{"train", titanicTrain, "--target", "Survived", "--task", "ranking"}, "task"},
		{"unknown metric", []string{"automl", titanicTrain, "--target", "Survived", "--metric", "rmse", "--trials", "2"}, "roc_auc"},
		{"tiny budget", []string{"automl", titanicTrain, "--target", "Survived", "--budget", "1ms"}, "budget"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := runCLI(t, c.args...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d (stderr %q)", code, ExitUsage, errs)
			}
			if !strings.Contains(errs, c.want) || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
				t.Errorf("stderr %q: want one line mentioning %q", errs, c.want)
			}
		})
	}
}

func TestAutoMLTrialsAreReproducible(t *testing.T) {
	dir := isolate(t)
	var probs [2][]float64
	var boards [2]string
	for i := range probs {
		model := filepath.Join(dir, "m"+string(rune('0'+i))+".gyre")
		code, out, errs := runCLI(t, "automl", titanicTrain, "--target", "Survived", "--trials", "14", "--seed", "5", "--out", model, "--json")
		if code != 0 {
			t.Fatalf("automl exit %d: %s", code, errs)
		}
		var r automlResult
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if r.Trials != 14 {
			t.Errorf("ran %d trials, want 14", r.Trials)
		}
		lb, _ := json.Marshal(stripTimes(r.Leaderboard))
		boards[i] = string(lb)
		b, err := bundle.Load(model)
		if err != nil {
			t.Fatal(err)
		}
		f, err := ingest.Read(t.Context(), titanicTest, ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := b.Predict(f)
		if err != nil {
			t.Fatal(err)
		}
		probs[i] = p.Proba
	}
	if boards[0] != boards[1] {
		t.Errorf("leaderboards differ:\n%s\n%s", boards[0], boards[1])
	}
	for i := range probs[0] {
		if probs[0][i] != probs[1][i] {
			t.Fatalf("predictions differ at %d: %v vs %v", i, probs[0][i], probs[1][i])
		}
	}
}

// stripTimes keeps the deterministic fields of a leaderboard.
func stripTimes(ts []automl.Trial) []map[string]any {
	var out []map[string]any
	for _, t := range ts {
		out = append(out, map[string]any{"learner": t.Learner, "config": t.Config, "loss": t.Loss, "sample": t.Sample})
	}
	return out
}

func TestTrainIsTrackedAndRegistered(t *testing.T) {
	dir := isolate(t)
	model := filepath.Join(dir, "t.gyre")
	code, out, errs := runCLI(t, "train", titanicTrain, "--target", "Survived", "--learner", "decision_tree", "--set", "max_depth=4", "--out", model, "--register", "titanic", "--json")
	if code != 0 {
		t.Fatalf("train exit %d: %s %s", code, out, errs)
	}
	var res trainResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.RunID == "" || res.Registered != "titanic/1" {
		t.Fatalf("run %q registered %q", res.RunID, res.Registered)
	}
	b, err := bundle.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	if b.Manifest.RunID != res.RunID || b.Manifest.DatasetVersion != "titanic.train@1" {
		t.Errorf("bundle lineage: run %q dataset %q", b.Manifest.RunID, b.Manifest.DatasetVersion)
	}
	// The registered model predicts like the file.
	code, out, errs = runCLI(t, "evaluate", "titanic@latest", titanicTest, "--json")
	if code == 0 {
		t.Errorf("evaluate of an alias that was never set succeeded: %s", out)
	}
	code, out, errs = runCLI(t, "evaluate", "models:/titanic/1", titanicTest, "--json")
	if code != 0 {
		t.Fatalf("evaluate registry ref: %d %s", code, errs)
	}
	var ev trainrun.Evaluation
	json.Unmarshal([]byte(out), &ev)
	code, out2, _ := runCLI(t, "evaluate", model, titanicTest, "--json")
	var ev2 trainrun.Evaluation
	json.Unmarshal([]byte(out2), &ev2)
	if code != 0 || ev.Metrics["roc_auc"] != ev2.Metrics["roc_auc"] {
		t.Errorf("registry and file disagree: %v vs %v", ev.Metrics["roc_auc"], ev2.Metrics["roc_auc"])
	}
	// An AutoML search logs a parent run with one child per trial.
	code, out, errs = runCLI(t, "automl", titanicTrain, "--target", "Survived", "--trials", "5", "--out", filepath.Join(dir, "a.gyre"), "--json")
	if code != 0 {
		t.Fatalf("automl: %d %s", code, errs)
	}
	var ar automlResult
	json.Unmarshal([]byte(out), &ar)
	code, out, errs = runCLI(t, "runs", "list", "--json", "--filter", "tags.`gyre.trial` = '3'")
	if code != 0 {
		t.Logf("runs list with a tag filter: %d %s", code, errs)
	}
}

func TestExplainContributionsSumToMargin(t *testing.T) {
	dir := isolate(t)
	model := filepath.Join(dir, "g.gyre")
	if code, _, errs := runCLI(t, "train", titanicTrain, "--target", "Survived", "--learner", "gbdt", "--out", model); code != 0 {
		t.Fatalf("train: %s", errs)
	}
	out := filepath.Join(dir, "shap.csv")
	code, js, errs := runCLI(t, "explain", model, titanicTest, "--out", out, "--json")
	if code != 0 {
		t.Fatalf("explain: %d %s", code, errs)
	}
	var ex bundle.ExplainSummary
	if err := json.Unmarshal([]byte(js), &ex); err != nil || ex.Rows != 178 || len(ex.Summary) == 0 {
		t.Fatalf("explain json: %v %+v", err, ex)
	}
	shap, err := ingest.Read(t.Context(), out, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := bundle.Load(model)
	test, _ := ingest.Read(t.Context(), titanicTest, ingest.Options{})
	pred, _ := b.Predict(test)
	for i := 0; i < shap.NumRows(); i++ {
		sum := 0.0
		for _, c := range shap.Columns() {
			v, _ := frame.Value(c, i)
			sum += v
		}
		p := 1 / (1 + math.Exp(-sum))
		if math.Abs(p-pred.Proba[2*i+1]) > 1e-9 {
			t.Fatalf("row %d: contributions give p=%v, model says %v", i, p, pred.Proba[2*i+1])
		}
	}
	if code, _, _ := runCLI(t, "explain", model, titanicTest, "--class", "nope"); code != ExitUsage {
		t.Errorf("bad --class: exit %d", code)
	}
}
