package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/learn"
	_ "github.com/gyre-ml/gyre/internal/learn/all"
	"github.com/gyre-ml/gyre/internal/serve"
	"github.com/gyre-ml/gyre/internal/train"
)

// manifests decodes every YAML document under kubernetes/.
func manifests(t *testing.T) map[string]map[string]any {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests under kubernetes/: %v", err)
	}
	out := map[string]map[string]any{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		for {
			var doc map[string]any
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: not valid YAML: %v", f, err)
			}
			kind, _ := doc["kind"].(string)
			if kind == "" || doc["apiVersion"] == nil {
				t.Fatalf("%s: a document without kind or apiVersion", f)
			}
			out[kind] = doc
		}
	}
	return out
}

// get walks a decoded manifest by keys (string) and list indexes (int).
func get(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %v: want an object", path)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("at %v: want a list with item %d", path, k)
			}
			v = l[k]
		}
	}
	return v
}

func TestManifests(t *testing.T) {
	m := manifests(t)
	for _, kind := range []string{"Deployment", "Service", "HorizontalPodAutoscaler", "Kustomization"} {
		if m[kind] == nil {
			t.Fatalf("no %s manifest", kind)
		}
	}
	dep := m["Deployment"]
	name := get(t, dep, "metadata", "name")
	c := get(t, dep, "spec", "template", "spec", "containers", 0)
	if get(t, c, "ports", 0, "containerPort") != 8080 {
		t.Errorf("container port %v, want 8080 (the image's --addr)", get(t, c, "ports", 0, "containerPort"))
	}
	for _, probe := range []string{"readinessProbe", "livenessProbe", "startupProbe"} {
		if get(t, c, probe, "httpGet", "path") == nil {
			t.Errorf("%s has no httpGet path", probe)
		}
	}
	if get(t, c, "readinessProbe", "httpGet", "path") != "/v2/health/ready" || get(t, c, "livenessProbe", "httpGet", "path") != "/v2/health/live" {
		t.Errorf("probes: readiness %v, liveness %v", get(t, c, "readinessProbe", "httpGet", "path"), get(t, c, "livenessProbe", "httpGet", "path"))
	}
	sc := get(t, c, "securityContext")
	if get(t, sc, "readOnlyRootFilesystem") != true || get(t, sc, "runAsNonRoot") != true || get(t, sc, "allowPrivilegeEscalation") != false {
		t.Errorf("container securityContext %v: want non-root, read-only root, no privilege escalation", sc)
	}
	if get(t, c, "resources", "requests", "cpu") == nil || get(t, c, "resources", "limits", "memory") == nil {
		t.Error("container has no CPU request or memory limit (the HPA needs the CPU request)")
	}
	sel := get(t, dep, "spec", "selector", "matchLabels").(map[string]any)
	labels := get(t, dep, "spec", "template", "metadata", "labels").(map[string]any)
	svcSel := get(t, m["Service"], "spec", "selector").(map[string]any)
	for k, v := range sel {
		if labels[k] != v || svcSel[k] != v {
			t.Errorf("label %s=%v: pod template has %v, service selects %v", k, v, labels[k], svcSel[k])
		}
	}
	if get(t, m["Service"], "spec", "ports", 0, "targetPort") != get(t, c, "ports", 0, "name") {
		t.Error("service targetPort does not name the container port")
	}
	hpa := m["HorizontalPodAutoscaler"]
	if get(t, hpa, "spec", "scaleTargetRef", "name") != name || get(t, hpa, "spec", "scaleTargetRef", "kind") != "Deployment" {
		t.Errorf("HPA targets %v, want Deployment %v", get(t, hpa, "spec", "scaleTargetRef"), name)
	}
	if get(t, hpa, "spec", "metrics", 0, "resource", "name") != "cpu" {
		t.Error("HPA does not scale on CPU")
	}
	for _, r := range get(t, m["Kustomization"], "resources").([]any) {
		if _, err := os.Stat(filepath.Join("kubernetes", r.(string))); err != nil {
			t.Errorf("kustomization lists %v: %v", r, err)
		}
	}
}

// TestProbesHitServerRoutes serves a small model and checks every probe
// path in the manifests answers 200.
func TestProbesHitServerRoutes(t *testing.T) {
	c := get(t, manifests(t)["Deployment"], "spec", "template", "spec", "containers", 0)
	f, err := ingest.Read(context.Background(), "../examples/data/titanic/titanic.train.csv", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := train.NewProblem(f, "Survived", learn.TaskInvalid)
	if err != nil {
		t.Fatal(err)
	}
	b, err := train.Fit(context.Background(), p, train.Options{Learner: "decision_tree"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := serve.New([]serve.Model{{Name: "titanic", Bundle: b, Version: "1"}}, serve.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	for _, probe := range []string{"readinessProbe", "livenessProbe", "startupProbe"} {
		path := get(t, c, probe, "httpGet", "path").(string)
		resp, err := http.Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s %s: %d, want 200", probe, path, resp.StatusCode)
		}
	}
	// The Prometheus scrape annotation must point at the metrics endpoint.
	ann := get(t, manifests(t)["Deployment"], "spec", "template", "metadata", "annotations", "prometheus.io/path").(string)
	resp, err := http.Get(hs.URL + ann)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "gyre_") {
		t.Errorf("scrape path %s: %d", ann, resp.StatusCode)
	}
}

// TestDockerfile checks the image is built the way docs/deploy.md says:
// static, trimmed, non-root, serving on 8080.
func TestDockerfile(t *testing.T) {
	raw, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(raw)
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-s -w", "internal/cli.Version=", "distroless/static", "USER 65532", "EXPOSE 8080",
		`ENTRYPOINT ["/usr/local/bin/gyre", "serve", "--addr", "0.0.0.0:8080"]`, "ARG MODEL", "/models/model.gyre"} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if _, err := os.Stat("../.dockerignore"); err != nil {
		t.Error("no .dockerignore")
	}
}

// TestWorkerManifests checks the Temporal worker Deployment runs `gyre
// worker` against a frontend, and its autoscaler targets it on CPU.
func TestWorkerManifests(t *testing.T) {
	docs := map[string]map[string]any{}
	for _, f := range []string{"deployment.yaml", "hpa.yaml", "kustomization.yaml"} {
		raw, err := os.ReadFile(filepath.Join("worker", f))
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("worker/%s: %v", f, err)
		}
		docs[doc["kind"].(string)] = doc
	}
	c := get(t, docs["Deployment"], "spec", "template", "spec", "containers", 0)
	cmd, _ := get(t, c, "command").([]any)
	if len(cmd) != 2 || cmd[1] != "worker" {
		t.Errorf("worker container command %v, want gyre worker", cmd)
	}
	args := fmt.Sprint(get(t, c, "args"))
	if !strings.Contains(args, "--temporal=") {
		t.Errorf("worker args %s name no --temporal frontend", args)
	}
	if get(t, c, "resources", "requests", "cpu") == nil {
		t.Error("worker has no CPU request (the HPA needs it)")
	}
	hpa := docs["HorizontalPodAutoscaler"]
	if get(t, hpa, "spec", "scaleTargetRef", "name") != get(t, docs["Deployment"], "metadata", "name") {
		t.Errorf("HPA targets %v", get(t, hpa, "spec", "scaleTargetRef"))
	}
}
