package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/trainlog"
)

func TestDraftParsesWithTaskGoals(t *testing.T) {
	for _, c := range []struct {
		task         learn.Task
		goal, metric string
	}{
		{learn.Regression, "r2 >= 0.5", "rmse"},
		{learn.Binary, "roc_auc >= 0.8", "roc_auc"},
		{learn.Multiclass, "accuracy >= 0.7", "log_loss"},
	} {
		data, err := Draft{Name: "bike", Task: c.task, Target: "cnt: total", Source: "data/bike.csv", Rows: 10, Cols: 3}.Write("gyre.yaml")
		if err != nil {
			t.Fatalf("%v: %v", c.task, err)
		}
		p, err := Parse(data, "gyre.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != "bike" || p.Problem.Target != "cnt: total" || p.Train.Metric != c.metric {
			t.Errorf("%v: project %+v, want name bike, target %q and metric %s", c.task, p, "cnt: total", c.metric)
		}
		if !strings.Contains(string(data), "- "+c.goal+"\n") {
			t.Errorf("%v: no goal %q in\n%s", c.task, c.goal, data)
		}
	}
}

// TestInit drafts the bike-sharing project into a new directory: the task
// detected, the name from the file, the source relative to the project
// file, which loads as a project; a bad name and a missing target are
// refused without writing anything.
func TestInit(t *testing.T) {
	source := filepath.Join("..", "..", "examples", "data", "bike_sharing", "bike_sharing.train.csv")
	f, err := ingest.Read(context.Background(), source, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "projects", "bike", "gyre.yaml")
	r, err := Init(InitOptions{Frame: f, Source: source, Target: "cnt", Out: out})
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != trainlog.DatasetName(source) || r.Task != "regression" || r.Rows != f.NumRows() || r.Project != out {
		t.Errorf("Init = %+v", r)
	}
	p, err := Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if abs, _ := filepath.Abs(source); filepath.Join(filepath.Dir(out), p.Data.Source) != abs || p.Problem.Target != "cnt" || p.Name != r.Name {
		t.Errorf("project: source %q (want %s relative to %s), target %q, name %q", p.Data.Source, abs, filepath.Dir(out), p.Problem.Target, p.Name)
	}
	bad := filepath.Join(t.TempDir(), "gyre.yaml")
	var ne *NameError
	if _, err := Init(InitOptions{Frame: f, Source: source, Target: "cnt", Name: "no spaces allowed", Out: bad}); !errors.As(err, &ne) {
		t.Errorf("bad name: %v, want a *NameError", err)
	}
	if _, err := Init(InitOptions{Frame: f, Source: source, Target: "nope", Out: bad}); err == nil || errors.As(err, &ne) || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing target: %v, want an error naming it", err)
	}
	if _, err := os.Stat(bad); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused init wrote %s: %v", bad, err)
	}
}
