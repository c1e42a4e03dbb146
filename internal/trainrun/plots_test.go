package trainrun

import (
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"testing"

	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/report"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
	"github.com/gyre-ml/gyre/internal/track"
	"github.com/gyre-ml/gyre/internal/trainlog"
)

// TestTrainLogsPlots: a tracked run with a test file logs the model's
// evaluation plots on the test rows: a ROC curve ending at (1, 1) and a
// confusion matrix counting every test row.
func TestTrainLogsPlots(t *testing.T) {
	ctx := context.Background()
	db := sqlstoretest.Open(t, sqlstoretest.Backends(t)[0])
	bs, err := blob.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tr, reg, ds := track.New(db, bs), registry.New(db, bs), dataset.New(db, bs)
	var warned []string
	c := untracked(t, filepath.Join(t.TempDir(), "titanic.gyre"), &warned)
	c.Open = func(context.Context) (*Backend, error) {
		return &Backend{Stores: &trainlog.Stores{StartRun: func(ctx context.Context, o track.RunOptions) (trainlog.Run, error) { return tr.Start(ctx, o) },
			Datasets: ds, Models: reg}, Blobs: bs, Close: func() error { return nil }}, nil
	}
	res, err := Train(ctx, TrainOptions{Common: c, Learner: "gbdt", Params: map[string]string{"n_estimators": "20"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.RunID == "" || len(warned) != 0 {
		t.Fatalf("run %q, warnings %q: want a tracked run and no warning", res.RunID, warned)
	}
	run, err := tr.Get(ctx, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	var ref blob.Ref
	for _, a := range run.Artifacts {
		if a.Name == PlotsArtifact {
			ref = a.Ref
		}
	}
	if ref.Digest == "" {
		t.Fatalf("artifacts %+v: no %s", run.Artifacts, PlotsArtifact)
	}
	rd, err := bs.Get(ctx, ref.Digest)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	body, _ := io.ReadAll(rd)
	var p report.Plots
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	f, err := load(ctx, titanic+".test.csv")
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, row := range p.Confusion {
		for _, v := range row {
			total += v
		}
	}
	if p.Task != "binary" || p.Rows != f.NumRows() || int(total) != f.NumRows() || len(p.Confusion) != 2 {
		t.Errorf("plots task %s, %d rows, confusion %v: want binary over the %d test rows", p.Task, p.Rows, p.Confusion, f.NumRows())
	}
	if len(p.ROC) != 1 || len(p.ROC[0].Points) < 10 || p.ROC[0].Points[len(p.ROC[0].Points)-1] != [2]float64{1, 1} {
		t.Errorf("ROC curves %+v: want one curve ending at (1, 1)", p.ROC)
	}
	if p.Metrics["roc_auc"] != res.Metrics["test"]["roc_auc"] {
		t.Errorf("plots roc_auc %v, test roc_auc %v: want the same", p.Metrics["roc_auc"], res.Metrics["test"]["roc_auc"])
	}
	if len(body) > 100<<10 {
		t.Errorf("the plots take %d bytes, want under 100 kB", len(body))
	}
}
