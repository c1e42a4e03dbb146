package track_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/track"
)

// TestDefaultExperimentRenumbered opens a store made before migration 0009,
// whose Default experiment has a random id, and checks that the migration
// gives it the id "0" MLflow clients expect, runs and all.
func TestDefaultExperimentRenumbered(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := sqlstore.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Version >= 9 {
			break
		}
		for _, q := range []string{m.SQL, m.Dialects[sqlstore.SQLite]} {
			if q == "" {
				continue
			}
			if _, err := raw.Exec(q); err != nil {
				t.Fatalf("migration %d: %v", m.Version, err)
			}
		}
		if _, err := raw.Exec("INSERT INTO schema_migrations VALUES (?, ?, 0)", m.Version, m.Name); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		"INSERT INTO experiments (id, name, created_ms) VALUES ('3f2a', 'Default', 1000)",
		"INSERT INTO experiments (id, name, created_ms) VALUES ('77aa', 'other', 2000)",
		"INSERT INTO runs (id, experiment_id, status, start_ms) VALUES ('r1', '3f2a', 'FINISHED', 1500)",
		"INSERT INTO runs (id, experiment_id, status, start_ms) VALUES ('r2', '77aa', 'FINISHED', 2500)",
		"INSERT INTO params (run_id, key, value) VALUES ('r1', 'lr', '0.1')",
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	db, err := sqlstore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tr := track.New(db, nil)
	r1, err := tr.Get(ctx, "r1")
	if err == nil {
		t.Fatal("a 2-character prefix should not resolve")
	}
	page, err := tr.Search(ctx, track.SearchOptions{ExperimentIDs: []string{track.DefaultExperimentID}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Runs) != 1 {
		t.Fatalf("runs in experiment 0: %d, want 1", len(page.Runs))
	}
	r1 = &page.Runs[0]
	if r1.ID != "r1" || r1.Experiment != track.DefaultExperiment || r1.Params["lr"] != "0.1" || r1.Lifecycle != track.LifecycleActive {
		t.Errorf("moved run: %+v", r1)
	}
	e, err := tr.Experiment(ctx, "0")
	if err != nil || e.Name != "Default" || e.Created.UnixMilli() != 1000 || e.Lifecycle != track.LifecycleActive {
		t.Errorf("Default experiment: %+v, %v", e, err)
	}
	exps, err := tr.Experiments(ctx)
	if err != nil || len(exps) != 2 {
		t.Errorf("experiments: %+v, %v", exps, err)
	}
}
