package track_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
	"github.com/gyre-ml/gyre/internal/track"
)

func newTracker(t *testing.T, db *sqlstore.DB) *track.Tracker {
	t.Helper()
	bs, err := blob.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tr := track.New(db, bs)
	tr.Version = "test-1.0"
	return tr
}

func TestRunLifecycle(t *testing.T) {
	ctx := context.Background()
	sqlstoretest.Run(t, func(t *testing.T, db *sqlstore.DB) {
		tr := newTracker(t, db)
		run, err := tr.Start(ctx, track.RunOptions{Experiment: "adult", Name: "first", Command: "gyre train adult.csv",
			Params: map[string]string{"learner": "gbdt", "trees": "100"}, Tags: map[string]string{"team": "a"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := run.LogParam(ctx, "trees", "100"); err != nil {
			t.Errorf("re-logging an identical param: %v", err)
		}
		if err := run.LogParam(ctx, "trees", "200"); !errors.Is(err, track.ErrParamChanged) {
			t.Errorf("re-logging a param with another value: err = %v; want ErrParamChanged", err)
		}
		if err := run.LogMetrics(ctx, []track.Metric{{Key: "loss", Value: 0.9, Step: 0}, {Key: "loss", Value: 0.5, Step: 5}, {Key: "loss", Value: 0.7, Step: 2}}); err != nil {
			t.Fatal(err)
		}
		if err := run.LogMetric(ctx, "loss", 0.8, 3); err != nil { // an older step: latest stays at step 5
			t.Fatal(err)
		}
		if err := run.LogMetric(ctx, "nan", math.NaN(), 0); err != nil {
			t.Fatal(err)
		}
		if err := run.SetTag(ctx, "team", "b"); err != nil {
			t.Fatal(err)
		}
		ref, err := run.LogArtifact(ctx, "model.gyre", strings.NewReader("model bytes"))
		if err != nil {
			t.Fatal(err)
		}
		if err := run.LogDataset(ctx, "adult", 2, "train"); err != nil {
			t.Fatal(err)
		}
		if err := run.End(ctx, track.StatusFinished); err != nil {
			t.Fatal(err)
		}
		got, err := tr.Get(ctx, run.ID()[:8])
		if err != nil {
			t.Fatal(err)
		}
		if got.Experiment != "adult" || got.Name != "first" || got.Status != track.StatusFinished || got.End == nil ||
			got.Command != "gyre train adult.csv" || got.GyreVersion != "test-1.0" {
			t.Errorf("run = %+v", got)
		}
		if got.Params["learner"] != "gbdt" || got.Params["trees"] != "100" || got.Tags["team"] != "b" {
			t.Errorf("params %v tags %v", got.Params, got.Tags)
		}
		if got.Metrics["loss"] != 0.5 || !math.IsNaN(got.Metrics["nan"]) {
			t.Errorf("latest metrics = %v; want loss 0.5 (step 5) and nan NaN", got.Metrics)
		}
		if len(got.Artifacts) != 1 || got.Artifacts[0].Ref != ref || got.Artifacts[0].Name != "model.gyre" {
			t.Errorf("artifacts = %+v; want model.gyre %+v", got.Artifacts, ref)
		}
		if len(got.Datasets) != 1 || got.Datasets[0] != (track.DatasetInput{Name: "adult", Version: 2, Role: "train"}) {
			t.Errorf("datasets = %+v", got.Datasets)
		}
		hist, err := tr.MetricHistory(ctx, run.ID(), "loss")
		if err != nil || len(hist) != 4 {
			t.Fatalf("history = %v, %v; want 4 points", hist, err)
		}
		for i, want := range []int64{0, 2, 3, 5} {
			if hist[i].Step != want {
				t.Errorf("history[%d].Step = %d; want %d", i, hist[i].Step, want)
			}
		}
		if err := run.End(ctx, "DONE"); err == nil {
			t.Error("End with an unknown status succeeded")
		}
		if _, err := tr.Get(ctx, "ffffffff"); !errors.Is(err, track.ErrNotFound) {
			t.Errorf("Get(unknown) err = %v; want ErrNotFound", err)
		}
	})
}

func TestParentChildAndDelete(t *testing.T) {
	ctx := context.Background()
	sqlstoretest.Run(t, func(t *testing.T, db *sqlstore.DB) {
		tr := newTracker(t, db)
		parent, err := tr.StartRun(ctx, "automl", "", map[string]string{"budget": "1m"})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			child, err := tr.StartRun(ctx, "", parent.ID(), map[string]string{"trial": string(rune('0' + i))})
			if err != nil {
				t.Fatal(err)
			}
			if err := child.End(ctx, track.StatusFinished); err != nil {
				t.Fatal(err)
			}
		}
		kids, err := tr.Children(ctx, parent.ID())
		if err != nil || len(kids) != 3 {
			t.Fatalf("children = %v, %v", kids, err)
		}
		k, _ := tr.Get(ctx, kids[0])
		if k.Experiment != "automl" || k.ParentID != parent.ID() {
			t.Errorf("child = %+v; want experiment automl, parent %s", k, parent.ID())
		}
		if _, err := tr.StartRun(ctx, "", track.NewID(), nil); !errors.Is(err, track.ErrNotFound) {
			t.Errorf("start under a missing parent: %v; want ErrNotFound", err)
		}
		if err := tr.Delete(ctx, parent.ID()); err != nil {
			t.Fatal(err)
		}
		page, err := tr.Search(ctx, track.SearchOptions{})
		if err != nil || len(page.Runs) != 0 {
			t.Fatalf("after delete: %d runs, %v; want 0", len(page.Runs), err)
		}
	})
}

func TestGitCommit(t *testing.T) {
	dir := t.TempDir()
	sha := strings.Repeat("ab", 20)
	os.MkdirAll(filepath.Join(dir, ".git", "refs", "heads"), 0o755)
	os.WriteFile(filepath.Join(dir, ".git", "HEAD"), []byte("ref: refs/heads/main\n"), 0o644)
	os.WriteFile(filepath.Join(dir, ".git", "refs", "heads", "main"), []byte(sha+"\n"), 0o644)
	sub := filepath.Join(dir, "a", "b")
	os.MkdirAll(sub, 0o755)
	if got := track.GitCommit(sub); got != sha {
		t.Errorf("GitCommit = %q; want %q", got, sha)
	}
	os.Remove(filepath.Join(dir, ".git", "refs", "heads", "main"))
	os.WriteFile(filepath.Join(dir, ".git", "packed-refs"), []byte("# pack-refs\n"+sha+" refs/heads/main\n"), 0o644)
	if got := track.GitCommit(sub); got != sha {
		t.Errorf("GitCommit (packed) = %q; want %q", got, sha)
	}
	if got := track.GitCommit(t.TempDir()); got != "" {
		t.Errorf("GitCommit outside a work tree = %q; want empty", got)
	}
}

func TestQuoteArgs(t *testing.T) {
	got := track.QuoteArgs([]string{"gyre", "runs", "list", "--filter", "metrics.auc > 0.9", "it's"})
	want := `gyre runs list --filter 'metrics.auc > 0.9' 'it'\''s'`
	if got != want {
		t.Errorf("QuoteArgs = %s; want %s", got, want)
	}
}

var _ = time.Second
