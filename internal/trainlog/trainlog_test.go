package trainlog_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/automl"
	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
	"github.com/gyre-ml/gyre/internal/track"
	"github.com/gyre-ml/gyre/internal/trainlog"
)

// TestLogToLocalStore logs a search with two trials and a registration to
// the local store's services and reads back the run, its child runs, the
// data set version and the registered version's lineage.
func TestLogToLocalStore(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		bs, err := blob.Open(ctx, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		tr, reg, ds := track.New(db, bs), registry.New(db, bs), dataset.New(db, bs)
		ds.Summarize = nil
		st := &trainlog.Stores{StartRun: func(ctx context.Context, o track.RunOptions) (trainlog.Run, error) { return tr.Start(ctx, o) }, Datasets: ds, Models: reg}
		src := "../../examples/data/titanic/titanic.train.csv"
		var warned []string
		l, err := trainlog.Start(ctx, st, trainlog.Options{Source: src, Command: "automl", Params: map[string]string{"learner": "automl"}, GyreVersion: "v9",
			Warn: func(f string, a ...any) { warned = append(warned, f) }})
		if err != nil {
			t.Fatal(err)
		}
		rec := l.Recorder()
		for i, loss := range []float64{0.4, 0.3} {
			if err := rec.RecordTrial(ctx, automl.Trial{ID: i, Learner: "gbdt", Loss: loss, FitTime: time.Second, Sample: 100, Config: map[string]string{"max_leaves": "15"}}); err != nil {
				t.Fatal(err)
			}
		}
		// A failed trial counts, and leaves the best loss as it was.
		if err := rec.RecordTrial(ctx, automl.Trial{ID: 2, Learner: "knn", Loss: math.Inf(1), Err: "fit: boom"}); err != nil {
			t.Fatal(err)
		}
		// While the search runs, the parent shows its progress.
		live, err := tr.Get(ctx, l.RunID())
		if err != nil {
			t.Fatal(err)
		}
		if live.Status != track.StatusRunning || live.Metrics["search_trials"] != 3 || live.Metrics["search_best_loss"] != 0.3 {
			t.Fatalf("running search's parent: status %s, metrics %v", live.Status, live.Metrics)
		}
		b := &bundle.Bundle{Manifest: bundle.Manifest{Metrics: map[string]map[string]float64{"train": {"accuracy": 0.8}}}}
		l.Stamp(b)
		if b.Manifest.RunID != l.RunID() || b.Manifest.DatasetVersion != "titanic.train@1" || b.Manifest.GyreVersion != "v9" {
			t.Fatalf("stamped manifest %+v", b.Manifest)
		}
		path := filepath.Join(t.TempDir(), "m.gyre")
		if err := os.WriteFile(path, []byte("bundle bytes"), 0o600); err != nil {
			t.Fatal(err)
		}
		ref, err := l.Finish(ctx, b, path, "titanic")
		if err != nil || ref != "titanic/1" {
			t.Fatalf("finish: %q, %v", ref, err)
		}
		run, err := tr.Get(ctx, l.RunID())
		if err != nil {
			t.Fatal(err)
		}
		if run.Status != track.StatusFinished || run.Metrics["train_accuracy"] != 0.8 || len(run.Artifacts) != 1 || run.Artifacts[0].Name != "model.gyre" ||
			len(run.Datasets) != 1 || run.Tags["gyre.dataset"] != "titanic.train@1" || run.Experiment != "titanic.train" {
			t.Fatalf("run %+v", run)
		}
		kids, err := tr.Children(ctx, run.ID)
		if err != nil || len(kids) != 3 || l.Trials() != 3 {
			t.Fatalf("child runs %v, %v; trials %d", kids, err, l.Trials())
		}
		v, err := reg.Resolve(ctx, "titanic/1")
		if err != nil || v.RunID != run.ID || v.Bundle.Digest != run.Artifacts[0].Digest || len(v.Datasets) != 1 {
			t.Fatalf("registered %+v, %v", v, err)
		}
		if len(warned) != 0 {
			t.Fatalf("warnings: %v", warned)
		}
	})
}

// TestNilLog: a command whose store could not be opened logs nothing and
// still stamps the git commit.
func TestNilLog(t *testing.T) {
	var l *trainlog.Log
	b := &bundle.Bundle{}
	l.Stamp(b)
	if ref, err := l.Finish(context.Background(), b, "nowhere", "x"); ref != "" || err != nil || l.RunID() != "" || l.Recorder() != nil {
		t.Fatalf("nil log: %q %v", ref, err)
	}
	l.Fail(context.Background())
}

func TestDatasetName(t *testing.T) {
	for in, want := range map[string]string{"a/b/adult.train.csv.gz": "adult.train", "x y.parquet": "x_y", "/": "data", "s3://b/k/iris.csv": "iris"} {
		if got := trainlog.DatasetName(in); got != want {
			t.Errorf("DatasetName(%q) = %q, want %q", in, got, want)
		}
	}
}
