package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/learn"
)

// TestLearners lists every learner with its hyperparameters, one learner
// by name, and refuses an unknown name as an input error.
func TestLearners(t *testing.T) {
	code, out, errOut := runCLI(t, "learners")
	if code != 0 {
		t.Fatalf("learners: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"gbdt  (", "random_forest", "learning_rate", "default"} {
		if !strings.Contains(out, want) {
			t.Errorf("learners lacks %q:\n%s", want, out)
		}
	}
	code, out, errOut = runCLI(t, "--json", "learners", "gbdt")
	var ds []learn.Description
	if code != 0 || json.Unmarshal([]byte(out), &ds) != nil || len(ds) != 1 || ds[0].Name != "gbdt" || len(ds[0].Params) == 0 || len(ds[0].Tasks) == 0 {
		t.Fatalf("learners gbdt --json: exit %d %s: %s", code, errOut, out)
	}
	if code, _, errOut := runCLI(t, "learners", "nope"); code != 2 || !strings.Contains(errOut, `"nope"`) {
		t.Errorf("learners nope: exit %d, %s; want 2 naming it", code, errOut)
	}
}
