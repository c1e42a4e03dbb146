package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/gyre-ml/gyre/internal/track"
)

// TestTrackingDepth: a training run logs every hyperparameter (defaults
// included), links the validation and test data set versions, and takes a
// note in MLflow's mlflow.note.content tag.
func TestTrackingDepth(t *testing.T) {
	dir := isolate(t)
	// A validation file of its own (the test split's rows), so both links
	// are seen.
	rows, err := os.ReadFile(titanicTest)
	if err != nil {
		t.Fatal(err)
	}
	valid := filepath.Join(dir, "titanic_valid.csv")
	if err := os.WriteFile(valid, rows, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "train", titanicTrain, "--target", "Survived", "--learner", "decision_tree", "--set", "max_depth=4",
		"--valid", valid, "--test", titanicTest, "--cv", "3", "--out", filepath.Join(dir, "t.gyre"), "--json")
	if code != 0 {
		t.Fatalf("train exit %d: %s", code, errs)
	}
	var res trainResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Comparison == nil || res.Comparison.Eval != "valid" || res.CV["roc_auc"] == 0 {
		t.Errorf("comparison %+v, cv %v: --valid replaces the folds", res.Comparison, res.CV)
	}
	code, out, errs = runCLI(t, "runs", "note", res.RunID[:10], "first tree; depth capped at 4")
	if code != 0 {
		t.Fatalf("runs note: %d %s", code, errs)
	}
	code, out, errs = runCLI(t, "runs", "note", res.RunID, "--append", "kept as a baseline")
	if code != 0 {
		t.Fatalf("runs note --append: %d %s", code, errs)
	}
	code, out, errs = runCLI(t, "runs", "show", res.RunID, "--json")
	if code != 0 {
		t.Fatalf("runs show: %d %s", code, errs)
	}
	var r track.RunInfo
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Tags["mlflow.note.content"] != "first tree; depth capped at 4\nkept as a baseline" {
		t.Errorf("note %q", r.Tags["mlflow.note.content"])
	}
	// Defaults are logged beside what was set.
	if r.Params["model.max_depth"] != "4" || r.Params["model.min_samples_leaf"] == "" || r.Params["model.criterion"] == "" {
		t.Errorf("params %v: want every hyperparameter as model.NAME", r.Params)
	}
	roles := map[string]string{}
	for _, d := range r.Datasets {
		roles[d.Role] = d.Name
	}
	if roles["train"] != "titanic.train" || roles["validation"] != "titanic_valid" || roles["test"] != "titanic.test" {
		t.Errorf("data sets %+v: want the training, validation and test versions linked by name", r.Datasets)
	}
	if code, _, _ := runCLI(t, "runs", "note", res.RunID, "  "); code != 2 {
		t.Errorf("empty note: exit %d, want 2", code)
	}
}
