package mlflowapi_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
	"github.com/gyre-ml/gyre/internal/track"
)

// nodeModules finds the npm MLflow client: GYRE_NODE_MODULES, else the
// repository's .cache/node/node_modules (where .ci/run installs it).
func nodeModules(t *testing.T) string {
	dirs := []string{os.Getenv("GYRE_NODE_MODULES"), filepath.Join("..", "..", ".cache", "node", "node_modules")}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "mlflow", "package.json")); err == nil {
			abs, _ := filepath.Abs(d)
			return abs
		}
	}
	if os.Getenv("GYRE_TEST_NODE_REQUIRED") != "" {
		t.Fatal("GYRE_TEST_NODE_REQUIRED is set but the npm package mlflow is not installed in .cache/node")
	}
	t.Skip("npm package mlflow not installed (npm install --prefix .cache/node mlflow@2.0.7, or set GYRE_NODE_MODULES)")
	return ""
}

// TestNodeMLflowClient runs a session of a real MLflow client (the npm
// package) against the API and reads everything back through Gyre's
// packages, on every backend.
func TestNodeMLflowClient(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil && os.Getenv("GYRE_TEST_NODE_REQUIRED") != "" {
		t.Fatal("GYRE_TEST_NODE_REQUIRED is set but node is not installed")
	}
	if err != nil {
		t.Skip("node not installed")
	}
	mods := nodeModules(t)
	script, _ := filepath.Abs(filepath.Join("testdata", "mlflow_client_session.js"))
	for _, b := range sqlstoretest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			cmd := exec.Command(node, script, e.srv.URL)
			cmd.Env = append(os.Environ(), "NODE_PATH="+mods)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("node session: %v\n%s", err, out)
			}
			var res struct {
				ExperimentID string `json:"experiment_id"`
				RunID        string `json:"run_id"`
				Version      string `json:"version"`
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			last := lines[len(lines)-1]
			if err := json.Unmarshal([]byte(strings.TrimPrefix(last, "RESULT ")), &res); err != nil {
				t.Fatalf("session result %q: %v", last, err)
			}
			ctx := context.Background()
			page, err := e.tr.Search(ctx, track.SearchOptions{Experiments: []string{"node-session"}})
			if err != nil || len(page.Runs) != 1 {
				t.Fatalf("runs list: %+v %v", page, err)
			}
			ri := page.Runs[0]
			if ri.ID != res.RunID || ri.Name != "node-run" || ri.Status != track.StatusFinished || ri.Params["learning_rate"] != "0.05" ||
				ri.Params["max_depth"] != "6" || ri.Metrics["loss"] != 0.1 || ri.Tags["team"] != "churn" || ri.Tags["note"] != "logged from node" {
				t.Errorf("run read back: %+v", ri)
			}
			if len(ri.Artifacts) != 1 || ri.Artifacts[0].Name != "model/notes.txt" || ri.Artifacts[0].Size != int64(len("hello from node")) {
				t.Errorf("artifacts: %+v", ri.Artifacts)
			}
			hist, err := e.tr.MetricHistory(ctx, ri.ID, "auc")
			if err != nil || len(hist) != 3 || hist[2].Step != 2 {
				t.Errorf("auc history: %+v %v", hist, err)
			}
			v, err := e.reg.Resolve(ctx, "node-model@champion")
			if err != nil || v.RunID != ri.ID || v.Source != "runs:/"+ri.ID+"/model" {
				t.Errorf("model read back: %+v %v", v, err)
			}
		})
	}
}
