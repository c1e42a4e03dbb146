package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/retention"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
	"github.com/gyre-ml/gyre/internal/web"
)

// TestGC: POST /api/v1/gc is for server-wide admins; it deletes an old
// unreferenced run with its artifact, keeps the aliased model's run, and
// the audit names the admin.
func TestGC(t *testing.T) {
	for _, b := range sqlstoretest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			h := newHarness(t, b, web.Options{})
			h.seed()
			var old struct {
				ID string `json:"run_id"`
			}
			h.must(201, "POST", "/api/v1/runs", "editor", map[string]any{"experiment": "exp1"}, &old)
			h.must(201, "PUT", "/api/v1/runs/"+old.ID+"/artifacts/notes.txt", "editor", []byte("old notes"), nil)
			h.must(200, "POST", "/api/v1/runs/"+old.ID+"/end", "editor", web.EndRunRequest{Status: "FINISHED"}, nil)
			h.must(200, "POST", "/api/v1/runs/"+h.ids["run"]+"/end", "editor", web.EndRunRequest{Status: "FINISHED"}, nil)
			ctx := context.Background()
			past := time.Now().Add(-100 * 24 * time.Hour).UnixMilli()
			if err := h.db.Write(ctx, func(tx *sqlstore.Tx) error {
				_, err := tx.ExecContext(ctx, "UPDATE runs SET start_ms = ?, end_ms = ?", past, past+1000)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			body := web.GCRequest{OlderThan: "90d", KeepAliased: true}
			for _, who := range []string{"editor", "modeleditor"} {
				h.must(403, "POST", "/api/v1/gc", who, body, nil)
			}
			h.must(400, "POST", "/api/v1/gc", "admin", web.GCRequest{OlderThan: "soon"}, nil)
			var dry retention.Report
			h.must(200, "POST", "/api/v1/gc", "admin", web.GCRequest{OlderThan: "90d", KeepAliased: true, DryRun: true}, &dry)
			if !dry.DryRun || len(dry.Runs) != 1 || dry.Runs[0].ID != old.ID {
				t.Fatalf("dry run: %+v; want run %s only", dry, old.ID)
			}
			var rep retention.Report
			h.must(200, "POST", "/api/v1/gc", "admin", body, &rep)
			if len(rep.Runs) != 1 || rep.Runs[0].ID != old.ID || len(rep.Blobs) != 1 || len(rep.Versions) != 0 {
				t.Fatalf("gc: %+v; want run %s and its artifact", rep, old.ID)
			}
			h.must(404, "GET", "/api/v1/runs/"+old.ID, "viewer", nil, nil)
			h.must(200, "GET", "/api/v1/runs/"+h.ids["run"], "viewer", nil, nil)
			es, _, err := audit.List(ctx, h.db, audit.Query{ActionPrefix: "run.purge"})
			if err != nil || len(es) != 1 || es[0].Resource != old.ID || es[0].Actor.Name != "admin" {
				t.Fatalf("audit: %+v %v; want one run.purge of %s by admin", es, err, old.ID)
			}
		})
	}
}
