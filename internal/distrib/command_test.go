package distrib

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/pipeline"
)

// TestProjectTriggers resolves a project's triggers with the command's
// overrides: the flag's cron over the file's, a watcher for new-data or
// alert triggers, the poll's default, and the two refusals.
func TestProjectTriggers(t *testing.T) {
	p := &pipeline.Project{Name: "bike"}
	if _, err := ProjectTriggers(p, "", 0); !errors.Is(err, ErrNoTrigger) {
		t.Errorf("no trigger: %v; want ErrNoTrigger", err)
	}
	var ce *CronError
	if _, err := ProjectTriggers(p, "61 * * * *", 0); !errors.As(err, &ce) {
		t.Errorf("bad cron: %v; want a *CronError", err)
	}
	p.Trigger = pipeline.Triggers{Schedule: "@daily", OnAlert: true, Poll: 5 * time.Minute}
	got, err := ProjectTriggers(p, "", 0)
	if want := (Triggers{Spec: "@daily", Watch: true, Poll: 5 * time.Minute}); err != nil || got != want {
		t.Errorf("the file's triggers: %+v, %v; want %+v", got, err, want)
	}
	got, err = ProjectTriggers(p, "@every 6h", time.Minute)
	if want := (Triggers{Spec: "@every 6h", Watch: true, Poll: time.Minute}); err != nil || got != want {
		t.Errorf("the flags': %+v, %v; want %+v", got, err, want)
	}
	var b bytes.Buffer
	eng, _ := WorkerEngine("127.0.0.1:7233")
	EngineSchedule{Schedule: "gyre-pipeline-bike", Spec: "@daily"}.WriteText(&b, "bike", eng)
	if !strings.Contains(b.String(), "scheduled pipeline bike on temporal://127.0.0.1:7233") || strings.Contains(b.String(), "watching") {
		t.Errorf("schedule text: %q", b.String())
	}
}

// TestWorkerEngine takes a bare HOST:PORT or an engine URL.
func TestWorkerEngine(t *testing.T) {
	for _, in := range []string{"127.0.0.1:7233", "temporal://127.0.0.1:7233?namespace=ml"} {
		e, err := WorkerEngine(in)
		if err != nil || e.HostPort != "127.0.0.1:7233" {
			t.Errorf("WorkerEngine(%q) = %+v, %v", in, e, err)
		}
	}
	if e, _ := WorkerEngine("temporal://127.0.0.1:7233?namespace=ml"); e.Namespace != "ml" {
		t.Errorf("namespace %q; want ml", e.Namespace)
	}
	if _, err := WorkerEngine("http://x:1"); err == nil {
		t.Error("an http URL is not an engine")
	}
}
