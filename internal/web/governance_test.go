package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
	"github.com/gyre-ml/gyre/internal/web"
)

// TestClassify: admins classify models and data set versions through the
// API (editors may not), bad values are a 400 naming the field, a new data
// set version inherits its predecessor's class, listings and lineage show
// them, renaming keeps them, and the audit has every change.
func TestClassify(t *testing.T) {
	for _, b := range sqlstoretest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			h := newHarness(t, b, web.Options{})
			h.seed()
			ctx := context.Background()
			ds := dataset.New(h.db, h.blobs)
			csv := filepath.Join(t.TempDir(), "customers.csv")
			if err := os.WriteFile(csv, []byte("age,email\n31,ann@example.com\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := ds.Version(ctx, csv, "customers"); err != nil {
				t.Fatal(err)
			}
			pii := web.ClassifyRequest{Classification: "pii"}
			h.must(403, "PUT", "/api/v1/models/adult/classification", "editor", pii, nil)
			h.must(403, "PUT", "/api/v1/datasets/customers/versions/1/classification", "editor", pii, nil)
			code, body := h.do("PUT", "/api/v1/models/adult/classification", h.tokens["admin"], web.ClassifyRequest{Classification: "secret"})
			if code != 400 || !strings.Contains(string(body), `"field":"classification"`) {
				t.Fatalf("bad class: %d %s", code, body)
			}
			var m registry.Model
			h.must(200, "PUT", "/api/v1/models/adult/classification", "admin", web.ClassifyRequest{Classification: "internal"}, &m)
			if m.Classification != "internal" {
				t.Fatalf("model: %+v", m)
			}
			var v dataset.Version
			h.must(200, "PUT", "/api/v1/datasets/customers/versions/1/classification", "admin", pii, &v)
			if v.Classification != "pii" {
				t.Fatalf("data set: %+v", v)
			}
			h.must(404, "PUT", "/api/v1/datasets/customers/versions/9/classification", "admin", pii, nil)
			if err := os.WriteFile(csv, []byte("age,email\n31,ann@example.com\n45,bob@example.com\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			res, err := ds.Version(ctx, csv, "customers")
			if err != nil || res.Version.Version != 2 || res.Version.Classification != "pii" {
				t.Fatalf("new version: %+v %v; want version 2 inheriting pii", res, err)
			}
			var l web.Lineage
			h.must(200, "GET", "/api/v1/lineage?ref=adult", "viewer", nil, &l)
			if l.Classification != "internal" {
				t.Errorf("lineage: classification %q, want internal", l.Classification)
			}
			reg := registry.New(h.db, h.blobs)
			if err := reg.RenameModel(ctx, "adult", "adult2"); err != nil {
				t.Fatal(err)
			}
			if m, err := reg.Model(ctx, "adult2"); err != nil || m.Classification != "internal" {
				t.Errorf("renamed model: %+v %v", m, err)
			}
			es, _, err := audit.List(ctx, h.db, audit.Query{ActionPrefix: "model.classify"})
			if err != nil || len(es) != 1 || es[0].Actor.Name != "admin" {
				t.Errorf("model audit: %+v %v", es, err)
			}
			es, _, err = audit.List(ctx, h.db, audit.Query{ActionPrefix: "dataset.classify"})
			if err != nil || len(es) != 1 || string(es[0].After) != `{"classification":"pii","version":1}` {
				t.Errorf("data set audit: %+v %v", es, err)
			}
		})
	}
}
