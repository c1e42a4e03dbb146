package dataset_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
)

func TestVersionsAreAudited(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, db *sqlstore.DB) {
		bs, err := blob.OpenDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		cat := dataset.New(db, bs)
		cat.Summarize = nil
		carol := audit.WithActor(context.Background(), audit.Actor{Name: "carol", Kind: audit.KindUser})
		path := filepath.Join(t.TempDir(), "d.csv")
		for i, content := range []string{"a,b\n1,2\n", "a,b\n1,2\n", "a,b\n1,3\n"} {
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(path, time.Now().Add(time.Duration(i)*time.Minute), time.Now().Add(time.Duration(i)*time.Minute))
			if _, err := cat.Version(carol, path, "d"); err != nil {
				t.Fatal(err)
			}
		}
		v, err := cat.Get(carol, "d")
		if err != nil || v.Version != 2 || v.CreatedBy != "carol" {
			t.Fatalf("latest: %+v %v", v, err)
		}
		es, _, err := audit.List(context.Background(), db, audit.Query{ResourceKind: "dataset", Resource: "d"})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range es {
			actions = append(actions, e.Action)
			if e.Actor.Name != "carol" {
				t.Errorf("%s by %+v", e.Action, e.Actor)
			}
		}
		// The unchanged second snapshot writes nothing, so it records nothing.
		if got := strings.Join(actions, " "); strings.Count(got, "dataset.version.create") != 2 || strings.Count(got, "dataset.create") != 1 || len(es) != 3 {
			t.Errorf("actions: %s", got)
		}
	})
}
