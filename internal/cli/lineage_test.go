package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
	"github.com/gyre-ml/gyre/internal/track"
)

// mlops runs the CLI with the given store flags and decodes --json output.
func mlops(t *testing.T, flags []string, out any, args ...string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	all := append(append(append([]string{}, args...), flags...), "--json")
	if code := Main(all, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("gyre %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
	}
	if out != nil {
		if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
			t.Fatalf("gyre %s: bad json %q: %v", strings.Join(args, " "), stdout.String(), err)
		}
	}
}

// TestTrainCompareRegisterTrace is the "done when": train twice,
// compare, register the better run's model, alias it production, version the
// data, and trace production back to the data version and params — on
// SQLite + local files and on PostgreSQL + S3 (MinIO) when configured.
func TestTrainCompareRegisterTrace(t *testing.T) {
	ctx := context.Background()
	data, err := filepath.Abs("../../examples/data/titanic/titanic.train.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(data); err != nil {
		t.Skip("example data missing")
	}
	for _, b := range sqlstoretest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			artifacts := t.TempDir()
			if s3 := os.Getenv("GYRE_TEST_S3"); s3 != "" && b.Name == "postgres" {
				var rb [6]byte
				rand.Read(rb[:])
				base, q, _ := strings.Cut(s3, "?")
				artifacts = strings.TrimRight(base, "/") + "/e2e-" + hex.EncodeToString(rb[:]) + "?" + q
			}
			flags := []string{"--store", b.URL, "--artifacts", artifacts}
			t.Setenv("GYRE_USER", "alice")

			var dv struct {
				Name    string `json:"name"`
				Version int64  `json:"version"`
				Created bool   `json:"created"`
			}
			mlops(t, flags, &dv, "data", "version", data, "--name", "titanic")
			if dv.Version != 1 || !dv.Created {
				t.Fatalf("data version = %+v", dv)
			}

			// Two training runs, logged through the track API as train does.
			app := &App{Store: b.URL, Artifacts: artifacts}
			st, err := app.openStores(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]string{}
			for _, tr := range []struct {
				learner string
				auc     float64
			}{{"linear", 0.81}, {"gbdt", 0.87}} {
				run, err := st.Tracker.Start(ctx, track.RunOptions{Experiment: "titanic", Command: "gyre train titanic.csv --learner " + tr.learner,
					Params: map[string]string{"learner": tr.learner, "seed": "1"}})
				if err != nil {
					t.Fatal(err)
				}
				run.LogDataset(ctx, "titanic", dv.Version, "train")
				run.LogMetric(ctx, "roc_auc", tr.auc, 0)
				if _, err := run.LogArtifact(ctx, "model.gyre", strings.NewReader("bundle of "+tr.learner)); err != nil {
					t.Fatal(err)
				}
				run.End(ctx, track.StatusFinished)
				ids[tr.learner] = run.ID()
			}
			st.Close()

			var page track.Page
			mlops(t, flags, &page, "runs", "list", "--filter", "metrics.roc_auc > 0.5 and status = 'FINISHED'", "--order-by", "metrics.roc_auc")
			if len(page.Runs) != 2 || page.Runs[0].ID != ids["gbdt"] {
				t.Fatalf("runs list = %+v; want gbdt first", page.Runs)
			}
			var cmp track.Comparison
			mlops(t, flags, &cmp, "runs", "compare", ids["linear"], ids["gbdt"])
			if len(cmp.Metrics) != 1 || cmp.Metrics[0].Best != 1 {
				t.Fatalf("compare = %+v; want the gbdt run best", cmp)
			}

			bundle := tinyBundle(t)
			var mv struct {
				Version int64 `json:"version"`
			}
			mlops(t, flags, &mv, "models", "register", "titanic-survival", bundle, "--run", ids["gbdt"][:10])
			mlops(t, flags, nil, "models", "alias", "titanic-survival", "1", "production")

			var lin struct {
				Model struct {
					Version int64  `json:"version"`
					RunID   string `json:"run_id"`
				} `json:"model_version"`
				Run struct {
					Params      map[string]string `json:"params"`
					GyreVersion string            `json:"gyre_version"`
				} `json:"run"`
				Datasets []struct {
					Name    string `json:"name"`
					Version int64  `json:"version"`
					Blob    struct {
						Digest string `json:"digest"`
					} `json:"blob"`
				} `json:"datasets"`
			}
			mlops(t, flags, &lin, "lineage", "titanic-survival@production")
			if lin.Model.Version != 1 || lin.Model.RunID != ids["gbdt"] || lin.Run.Params["learner"] != "gbdt" || lin.Run.GyreVersion != Version {
				t.Fatalf("lineage = %+v", lin)
			}
			if len(lin.Datasets) != 1 || lin.Datasets[0].Name != "titanic" || lin.Datasets[0].Version != 1 {
				t.Fatalf("lineage data sets = %+v; want titanic@1", lin.Datasets)
			}
			// The traced data version gives back the exact training bytes.
			out := filepath.Join(t.TempDir(), "back.csv")
			mlops(t, flags, nil, "data", "get", "titanic@1", out)
			got, _ := os.ReadFile(out)
			want, _ := os.ReadFile(data)
			if !bytes.Equal(got, want) {
				t.Fatal("data get returned different bytes")
			}
			// Human output works too.
			var stdout, stderr bytes.Buffer
			if code := Main(append([]string{"lineage", "models:/titanic-survival@production"}, flags...), nil, &stdout, &stderr); code != 0 ||
				!strings.Contains(stdout.String(), "learner = gbdt") || !strings.Contains(stdout.String(), "titanic@1") {
				t.Fatalf("lineage text: exit %d\n%s%s", code, stdout.String(), stderr.String())
			}
			// Errors: unknown model is an input error (exit 2), path traversal rejected.
			for _, args := range [][]string{{"lineage", "nope"}, {"models", "register", "../evil", bundle}, {"data", "version", data, "--name", "../x"}} {
				stdout.Reset()
				stderr.Reset()
				if code := Main(append(args, flags...), nil, &stdout, &stderr); code != 2 {
					t.Errorf("gyre %v: exit %d (%s); want 2", args, code, stderr.String())
				}
			}
		})
	}
}
