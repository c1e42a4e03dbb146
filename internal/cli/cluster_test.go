package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestKMeansTrainsAndPredicts: kmeans trains without a target, reports its
// silhouette, and its bundle predicts cluster numbers for new rows; with a
// target it says to drop it.
func TestKMeansTrainsAndPredicts(t *testing.T) {
	dir := isolate(t)
	model := filepath.Join(dir, "km.gyre")
	code, out, errs := runCLI(t, "train", titanicTrain, "--learner", "kmeans", "--set", "n_clusters=3", "--out", model, "--json")
	if code != 0 {
		t.Fatalf("train exit %d: %s", code, errs)
	}
	var res trainResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	s := res.Metrics["train"]
	if res.Task != "clustering" || s["clusters"] != 3 || !(s["silhouette"] > 0) || !slices.Contains(res.Ignored, "Name") {
		t.Errorf("result %+v", res)
	}
	pred := filepath.Join(dir, "p.csv")
	if code, _, errs := runCLI(t, "predict", model, titanicTest, "--out", pred); code != 0 {
		t.Fatalf("predict exit %d: %s", code, errs)
	}
	data, err := os.ReadFile(pred)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	seen := map[string]bool{}
	for _, l := range lines[1:] {
		seen[l] = true
	}
	if len(lines) != 179 || len(seen) < 2 || len(seen) > 3 {
		t.Errorf("%d prediction lines, clusters %v", len(lines), seen)
	}
	if code, _, errs := runCLI(t, "train", titanicTrain, "--learner", "kmeans", "--target", "Survived"); code != 2 || !strings.Contains(errs, "without a target") {
		t.Errorf("kmeans with a target: exit %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "train", titanicTrain, "--learner", "gbdt"); code != 2 || !strings.Contains(errs, "--target is required") {
		t.Errorf("gbdt without a target: exit %d %s", code, errs)
	}
}
