package apiclient_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/apiclient"
	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/dataset"
	_ "github.com/gyre-ml/gyre/internal/learn/all"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
	"github.com/gyre-ml/gyre/internal/track"
	"github.com/gyre-ml/gyre/internal/train"
	"github.com/gyre-ml/gyre/internal/train/traintest"
	"github.com/gyre-ml/gyre/internal/web"
)

const titanic = "../../examples/data/titanic/titanic.train.csv"

type failure interface{ Failure() bool }

// titanicBundle is a real bundle: a decision tree fitted on titanic.
func titanicBundle(t *testing.T) []byte {
	t.Helper()
	data, err := traintest.Fit(t, titanic, "Survived", train.Options{Learner: "decision_tree"}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// server starts a team server on a SQLite store and returns a client with
// an editor's token and the server's own tracker.
func server(t *testing.T) (*apiclient.Client, *track.Tracker) {
	t.Helper()
	ctx := context.Background()
	db := sqlstoretest.Open(t, sqlstoretest.Backends(t)[0])
	bs, err := blob.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	acc := access.New(db)
	tr := track.New(db, bs)
	srv, err := web.New(web.Options{DB: db, Blobs: bs, Access: acc, Tracker: tr})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	if _, err := acc.CreateAccount(ctx, "ed", access.AccountOptions{Role: access.Editor}); err != nil {
		t.Fatal(err)
	}
	tok, _, err := acc.CreateToken(ctx, "ed", access.TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := apiclient.New(ts.URL+"/", tok)
	if err != nil {
		t.Fatal(err)
	}
	return c, tr
}

// TestRunLoggedThroughServer logs a run with more params and metric points
// than one request carries, an artifact and a data set version, registers
// the artifact by digest, and reads it all back from the server's store.
func TestRunLoggedThroughServer(t *testing.T) {
	ctx := context.Background()
	c, tr := server(t)
	params := map[string]string{}
	for i := range 150 {
		params[fmt.Sprintf("p%03d", i)] = fmt.Sprint(i)
	}
	run, err := c.Tracker().Start(ctx, track.RunOptions{Experiment: "exp", Name: "n", Params: params, Tags: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	var pts []track.Metric
	for i := range 2500 {
		pts = append(pts, track.Metric{Key: "loss", Value: float64(i), Step: int64(i)})
	}
	pts = append(pts, track.Metric{Key: "nan", Value: math.NaN()})
	if err := run.LogMetrics(ctx, pts); err != nil {
		t.Fatal(err)
	}
	if err := run.LogMetrics(ctx, []track.Metric{{Key: "inf", Value: math.Inf(1)}}); err == nil || !strings.Contains(err.Error(), `"inf"`) {
		t.Fatalf("an infinite metric: %v", err)
	}
	res, err := c.Datasets().Version(ctx, titanic, "titanic")
	if err != nil || !res.Created || res.Version.Version != 1 {
		t.Fatalf("data set version: %+v, %v", res, err)
	}
	again, err := c.Datasets().Version(ctx, titanic, "titanic")
	if err != nil || again.Created || again.Version.Version != 1 {
		t.Fatalf("the same content again: %+v, %v", again, err)
	}
	if err := run.LogDataset(ctx, "titanic", 1, "train"); err != nil {
		t.Fatal(err)
	}
	ref, err := run.LogArtifact(ctx, "dir/model.gyre", bytes.NewReader(titanicBundle(t)))
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.Registry().Register(ctx, "titanic", registry.RegisterOptions{RunID: run.ID(), BundleRef: ref, Datasets: []registry.DatasetVersion{{Name: "titanic", Version: 1}}})
	if err != nil || v.Bundle.Digest != ref.Digest || v.RunID != run.ID() {
		t.Fatalf("register the artifact: %+v, %v", v, err)
	}
	if err := run.End(ctx, track.StatusFinished); err != nil {
		t.Fatal(err)
	}
	info, err := tr.Get(ctx, run.ID())
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Params) != 150 || info.Metrics["loss"] != 2499 || info.Status != track.StatusFinished || len(info.Artifacts) != 1 || len(info.Datasets) != 1 {
		t.Fatalf("the server's run: %d params, loss %v, %s, %d artifacts, %d data sets", len(info.Params), info.Metrics["loss"], info.Status, len(info.Artifacts), len(info.Datasets))
	}
	// A NaN metric is null on the wire and NaN again in the client.
	if got, err := c.Tracker().Get(ctx, run.ID()); err != nil || !math.IsNaN(got.Metrics["nan"]) || got.Metrics["loss"] != 2499 {
		t.Fatalf("the run through the client: %+v, %v", got, err)
	}
	hist, err := tr.MetricHistory(ctx, run.ID(), "loss")
	if err != nil || len(hist) != 2500 {
		t.Fatalf("loss history: %d points, %v", len(hist), err)
	}
}

// TestErrorsAndDownloads: a 404 is the stores' not-found; a run artifact
// that is not a bundle is not registered; a data set downloads with its
// digest checked.
func TestErrorsAndDownloads(t *testing.T) {
	ctx := context.Background()
	c, _ := server(t)
	_, err := c.Tracker().Get(ctx, "0123456789ab")
	var se *apiclient.Error
	if !errors.Is(err, track.ErrNotFound) || !errors.As(err, &se) || se.Status != 404 || se.Failure() {
		t.Fatalf("unknown run: %v", err)
	}
	if _, err := c.Registry().Resolve(ctx, "nope@production"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("unknown model: %v", err)
	}
	run, err := c.Tracker().Start(ctx, track.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := run.LogArtifact(ctx, "notes.txt", strings.NewReader("not a bundle"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Registry().Register(ctx, "m", registry.RegisterOptions{RunID: run.ID(), BundleRef: ref}); !errors.As(err, &se) || se.Env.Field != "bundle_digest" {
		t.Fatalf("register a text artifact: %v", err)
	}
	if _, err := c.Registry().Register(ctx, "m", registry.RegisterOptions{}); !errors.Is(err, apiclient.ErrNoBundle) {
		t.Fatalf("register nothing: %v", err)
	}
	if _, err := c.Datasets().Version(ctx, titanic, "titanic"); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "copy.csv")
	v, err := c.Datasets().Export(ctx, "titanic", out)
	if err != nil || v.Version != 1 {
		t.Fatalf("export: %+v, %v", v, err)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(titanic)
	if string(a) != string(b) {
		t.Fatal("exported bytes differ")
	}
	if _, err := c.Datasets().Get(ctx, "absent"); !errors.Is(err, dataset.ErrNotFound) {
		t.Fatalf("unknown data set: %v", err)
	}
	if _, err := apiclient.New("ftp://x", ""); !errors.Is(err, apiclient.ErrBadURL) {
		t.Fatalf("ftp URL: %v", err)
	}
	down, _ := apiclient.New("http://127.0.0.1:1", "")
	if _, err := down.Tracker().Get(ctx, "x"); err == nil {
		t.Fatal("no server: no error")
	} else if f := failure(nil); !errors.As(err, &f) || !f.Failure() {
		t.Fatalf("no server: %v is not a failure", err)
	}
}
