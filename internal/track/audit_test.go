package track_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
	"github.com/gyre-ml/gyre/internal/track"
)

func auditActions(t *testing.T, db *sqlstore.DB, kind, resource string) []audit.Entry {
	t.Helper()
	es, _, err := audit.List(context.Background(), db, audit.Query{ResourceKind: kind, Resource: resource, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	// Oldest first reads more naturally in assertions.
	for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
		es[i], es[j] = es[j], es[i]
	}
	return es
}

func TestWritesAreAudited(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, db *sqlstore.DB) {
		tr := newTracker(t, db)
		tr.User = "local-tester"
		alice := audit.WithActor(context.Background(), audit.Actor{Name: "alice", Kind: audit.KindUser, Remote: "10.0.0.7:5123"})
		run, err := tr.Start(alice, track.RunOptions{Experiment: "churn", Params: map[string]string{"lr": "0.1"}})
		if err != nil {
			t.Fatal(err)
		}
		pts := make([]track.Metric, 500)
		for i := range pts {
			pts[i] = track.Metric{Key: []string{"loss", "auc"}[i%2], Value: float64(i), Step: int64(i / 2)}
		}
		if err := run.LogMetrics(alice, pts); err != nil {
			t.Fatal(err)
		}
		if err := run.SetTag(alice, "team", "a"); err != nil {
			t.Fatal(err)
		}
		if err := run.SetTag(alice, "team", "b"); err != nil {
			t.Fatal(err)
		}
		if err := run.LogParam(alice, "lr", "0.1"); err != nil { // unchanged: no entry
			t.Fatal(err)
		}
		if err := run.LogParam(alice, "lr", "0.2"); !errors.Is(err, track.ErrParamChanged) { // refused: no entry
			t.Fatalf("changed param: %v", err)
		}
		if _, err := run.LogArtifact(alice, "notes.txt", strings.NewReader("hello")); err != nil {
			t.Fatal(err)
		}
		if err := run.End(context.Background(), track.StatusFinished); err != nil { // a local command
			t.Fatal(err)
		}
		info, err := tr.Get(alice, run.ID())
		if err != nil {
			t.Fatal(err)
		}
		if info.User != "alice" {
			t.Errorf("run user: got %q, want the server actor alice", info.User)
		}
		es := auditActions(t, db, "run", run.ID())
		var got []string
		for _, e := range es {
			got = append(got, e.Action)
		}
		want := []string{"run.create", "run.log", "run.log", "run.log", "run.artifact.log", "run.update"}
		// Entries of one millisecond have no order among themselves
		// (audit ids are a millisecond and random bits): compare as sets,
		// and find entries by action below.
		slices.Sort(got)
		slices.Sort(want)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("actions: got %v, want %v", got, want)
		}
		find := func(action string, ok func(e audit.Entry) bool) audit.Entry {
			for _, e := range es {
				if e.Action == action && ok(e) {
					return e
				}
			}
			t.Fatalf("no %s entry matching in %+v", action, es)
			return audit.Entry{}
		}
		anyEntry := func(audit.Entry) bool { return true }
		batchEntry := find("run.log", func(e audit.Entry) bool { return strings.Contains(string(e.After), `"metrics"`) })
		var batch struct {
			Metrics    int      `json:"metrics"`
			MetricKeys []string `json:"metric_keys"`
		}
		if err := json.Unmarshal(batchEntry.After, &batch); err != nil || batch.Metrics != 500 || strings.Join(batch.MetricKeys, ",") != "auc,loss" {
			t.Errorf("metric batch entry: got %s (%v), want 500 points of auc and loss", batchEntry.After, err)
		}
		tagChange := find("run.log", func(e audit.Entry) bool { return len(e.Before) > 0 })
		if string(tagChange.Before) != `{"tags":{"team":"a"}}` || string(tagChange.After) != `{"tags":{"team":"b"}}` {
			t.Errorf("tag change: before %s after %s", tagChange.Before, tagChange.After)
		}
		if c := find("run.create", anyEntry); c.Actor.Name != "alice" || c.Actor.Remote != "10.0.0.7:5123" {
			t.Errorf("create actor: %+v", c.Actor)
		}
		end := find("run.update", anyEntry)
		if a := end.Actor; a.Kind != audit.KindLocal || a.Name != audit.LocalUser() {
			t.Errorf("local end: actor %+v", a)
		}
		if !strings.Contains(string(end.Before), `"RUNNING"`) || !strings.Contains(string(end.After), `"FINISHED"`) {
			t.Errorf("end: before %s after %s", end.Before, end.After)
		}
		if exp := auditActions(t, db, "experiment", info.ExperimentID); len(exp) != 1 || exp[0].Action != "experiment.create" {
			t.Errorf("experiment entries: %+v", exp)
		}

		// Soft delete, restore and purge are audited too.
		if err := tr.SetLifecycle(alice, run.ID(), track.LifecycleDeleted); err != nil {
			t.Fatal(err)
		}
		if err := tr.SetLifecycle(alice, run.ID(), track.LifecycleActive); err != nil {
			t.Fatal(err)
		}
		if err := tr.Delete(alice, run.ID()); err != nil {
			t.Fatal(err)
		}
		es = auditActions(t, db, "run", run.ID())
		if len(es) != 9 {
			t.Fatalf("entries after delete, restore, purge: %d, want 9", len(es))
		}
		for _, a := range []string{"run.delete", "run.restore", "run.purge"} {
			find(a, anyEntry)
		}
	})
}

func TestLocalUserAttribution(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, db *sqlstore.DB) {
		tr := track.New(db, nil)
		if tr.User != audit.LocalUser() {
			t.Fatalf("default user %q, want audit.LocalUser %q", tr.User, audit.LocalUser())
		}
		run, err := tr.Start(context.Background(), track.RunOptions{User: "from-client"})
		if err != nil {
			t.Fatal(err)
		}
		info, _ := tr.Get(context.Background(), run.ID())
		if info.User != "from-client" || info.ExperimentID != track.DefaultExperimentID || info.Experiment != track.DefaultExperiment {
			t.Errorf("run: user %q experiment %q (%s)", info.User, info.ExperimentID, info.Experiment)
		}
	})
}
