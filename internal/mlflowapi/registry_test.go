package mlflowapi_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
	"github.com/gyre-ml/gyre/internal/track"
)

// TestRegistryFixtures drives the model registry routes with requests
// shaped as model_registry.proto's messages (the Node client has no
// registry calls) and checks the answers' shapes and the rows behind them.
func TestRegistryFixtures(t *testing.T) {
	for _, b := range sqlstoretest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()
			rm := api + "registered-models/"
			mv := api + "model-versions/"
			out := e.ok(t, "POST", rm+"create", map[string]any{"name": "churn", "description": "churn model",
				"tags": []map[string]string{{"key": "team", "value": "risk"}}})
			if get(out, "registered_model", "name") != "churn" || get(out, "registered_model", "description") != "churn model" {
				t.Errorf("create: %v", out)
			}
			if st, out := e.do(t, "POST", rm+"create", map[string]any{"name": "churn"}); st != 400 || out["error_code"] != "RESOURCE_ALREADY_EXISTS" {
				t.Errorf("duplicate: %d %v", st, out)
			}
			// A run logged through the API with a Gyre bundle as artifact.
			run := e.ok(t, "POST", api+"runs/create", map[string]any{"experiment_id": "0"})
			runID := get(run, "run", "info", "run_id").(string)
			bundle := "/api/2.0/mlflow-artifacts/artifacts/0/" + runID + "/artifacts/model.gyre"
			if st, out := e.do(t, "PUT", bundle, "pretend bundle bytes"); st != 200 {
				t.Fatalf("upload: %d %v", st, out)
			}
			v1 := e.ok(t, "POST", mv+"create", map[string]any{"name": "churn", "source": "runs:/" + runID + "/model.gyre", "run_id": runID,
				"tags": []map[string]string{{"key": "validated", "value": "no"}}, "description": "first"})
			if get(v1, "model_version", "version") != "1" || get(v1, "model_version", "status") != "READY" ||
				get(v1, "model_version", "current_stage") != "None" || get(v1, "model_version", "run_id") != runID {
				t.Errorf("version 1: %v", v1)
			}
			// An MLflow-format model directory: recorded as given.
			v2 := e.ok(t, "POST", mv+"create", map[string]any{"name": "churn", "source": "mlflow-artifacts:/0/" + runID + "/artifacts/model"})
			if get(v2, "model_version", "version") != "2" {
				t.Errorf("version 2: %v", v2)
			}
			if st, out := e.do(t, "POST", mv+"create", map[string]any{"name": "nope", "source": "s3://x"}); st != 404 || out["error_code"] != "RESOURCE_DOES_NOT_EXIST" {
				t.Errorf("version of a missing model: %d %v", st, out)
			}
			// Gyre sees the same rows: version 1 is servable (linked to the
			// uploaded bundle), version 2 is not.
			gv1, err := e.reg.Version(ctx, "churn", 1)
			if err != nil {
				t.Fatal(err)
			}
			rc, err := e.reg.OpenBundle(ctx, gv1)
			if err != nil {
				t.Fatalf("bundle of a version registered over the API: %v", err)
			}
			rc.Close()
			if gv1.CreatedBy != "tester-admin" || gv1.Tags["validated"] != "no" {
				t.Errorf("version through registry: %+v", gv1)
			}
			// A version registered by Gyre is found by an MLflow client, with
			// its run artifact as source.
			gv3, err := e.reg.Register(ctx, "churn", registry.RegisterOptions{BundleRef: gv1.Bundle, RunID: runID})
			if err != nil {
				t.Fatal(err)
			}
			got := e.ok(t, "GET", mv+"get?name=churn&version="+strconv.FormatInt(gv3.Version, 10), nil)
			if get(got, "model_version", "source") != "mlflow-artifacts:/0/"+runID+"/artifacts/model.gyre" {
				t.Errorf("Gyre version's source: %v", got)
			}

			e.ok(t, "POST", rm+"alias", map[string]any{"name": "churn", "alias": "champion", "version": "1"})
			al := e.ok(t, "GET", rm+"alias?name=churn&alias=champion", nil)
			if get(al, "model_version", "version") != "1" {
				t.Errorf("by alias: %v", al)
			}
			for _, bad := range []string{"latest", "v3", "a b"} {
				if st, out := e.do(t, "POST", rm+"alias", map[string]any{"name": "churn", "alias": bad, "version": "1"}); st != 400 {
					t.Errorf("alias %q: %d %v", bad, st, out)
				}
			}
			e.ok(t, "POST", mv+"transition-stage", map[string]any{"name": "churn", "version": "1", "stage": "Production"})
			e.ok(t, "POST", mv+"transition-stage", map[string]any{"name": "churn", "version": "2", "stage": "production", "archive_existing_versions": true})
			lv := e.ok(t, "POST", rm+"get-latest-versions", map[string]any{"name": "churn", "stages": []string{"Production", "Archived"}})
			var stages []string
			for _, v := range lv["model_versions"].([]any) {
				stages = append(stages, get(v, "current_stage").(string)+"="+get(v, "version").(string))
			}
			if strings.Join(stages, " ") != "Production=2 Archived=1" {
				t.Errorf("latest versions: %v", stages)
			}
			e.ok(t, "PATCH", mv+"update", map[string]any{"name": "churn", "version": "2", "description": "second"})
			e.ok(t, "POST", mv+"set-tag", map[string]any{"name": "churn", "version": "2", "key": "k", "value": "v"})
			e.ok(t, "DELETE", mv+"delete-tag", map[string]any{"name": "churn", "version": "2", "key": "k"})
			e.ok(t, "PATCH", rm+"update", map[string]any{"name": "churn", "description": "updated"})
			e.ok(t, "POST", rm+"set-tag", map[string]any{"name": "churn", "key": "owner", "value": "ops"})
			sv := e.ok(t, "GET", mv+"search?filter="+urlq("name = 'churn' and version_number >= 2")+"&order_by=version_number+ASC", nil)
			var vers []string
			for _, v := range sv["model_versions"].([]any) {
				vers = append(vers, get(v, "version").(string))
			}
			if strings.Join(vers, ",") != "2,3" {
				t.Errorf("version search: %v", sv)
			}
			sm := e.ok(t, "GET", rm+"search?filter="+urlq("tags.owner = 'ops'"), nil)
			if ms := sm["registered_models"].([]any); len(ms) != 1 || get(ms[0], "description") != "updated" || len(get(ms[0], "latest_versions").([]any)) == 0 {
				t.Errorf("model search: %v", sm)
			}
			du := e.ok(t, "GET", mv+"get-download-uri?name=churn&version=2", nil)
			if du["artifact_uri"] != "mlflow-artifacts:/0/"+runID+"/artifacts/model" {
				t.Errorf("download uri: %v", du)
			}
			e.ok(t, "POST", rm+"rename", map[string]any{"name": "churn", "new_name": "churn-v2"})
			if v, err := e.reg.Resolve(ctx, "churn-v2@champion"); err != nil || v.Version != 1 {
				t.Errorf("alias after rename: %v %v", v, err)
			}
			e.ok(t, "DELETE", rm+"alias", map[string]any{"name": "churn-v2", "alias": "champion"})
			e.ok(t, "DELETE", mv+"delete", map[string]any{"name": "churn-v2", "version": "3"})
			e.ok(t, "DELETE", rm+"delete-tag", map[string]any{"name": "churn-v2", "key": "owner"})
			e.ok(t, "DELETE", rm+"delete", map[string]any{"name": "churn-v2"})
			if st, _ := e.do(t, "GET", rm+"get?name=churn-v2", nil); st != 404 {
				t.Errorf("deleted model: %d", st)
			}
		})
	}
}

// TestConcurrentWriters runs 8 clients × 100 writes each against one run
// and one model: nothing is lost and version numbers stay contiguous.
func TestConcurrentWriters(t *testing.T) {
	for _, b := range sqlstoretest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			run := e.ok(t, "POST", api+"runs/create", map[string]any{"experiment_id": "0"})
			runID := get(run, "run", "info", "run_id").(string)
			e.ok(t, "POST", api+"registered-models/create", map[string]any{"name": "busy"})
			var wg sync.WaitGroup
			errs := make(chan error, 1600)
			for c := 0; c < 8; c++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 100; i++ {
						if st, out := e.do(t, "POST", api+"runs/log-metric", map[string]any{"run_id": runID, "key": "m", "value": c*1000 + i,
							"timestamp": 1, "step": c*100 + i}); st != http.StatusOK {
							errs <- fmt.Errorf("log-metric: %d %v", st, out)
						}
						if st, out := e.do(t, "POST", api+"model-versions/create", map[string]any{"name": "busy", "source": fmt.Sprintf("s3://b/%d/%d", c, i)}); st != http.StatusOK {
							errs <- fmt.Errorf("create version: %d %v", st, out)
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			pts, err := e.tr.MetricHistory(context.Background(), runID, "m")
			if err != nil || len(pts) != 800 {
				t.Fatalf("metric points: %d, %v; want 800", len(pts), err)
			}
			vs, err := e.reg.Versions(context.Background(), "busy")
			if err != nil {
				t.Fatal(err)
			}
			nums := make([]int, len(vs))
			sources := map[string]bool{}
			for i, v := range vs {
				nums[i] = int(v.Version)
				sources[v.Source] = true
			}
			sort.Ints(nums)
			if len(nums) != 800 || nums[0] != 1 || nums[799] != 800 || len(sources) != 800 {
				t.Fatalf("versions: %d (first %v, last %v), %d sources; want 1..800 each once", len(nums), nums[:1], nums[len(nums)-1:], len(sources))
			}
			_ = track.DefaultExperimentID
		})
	}
}
