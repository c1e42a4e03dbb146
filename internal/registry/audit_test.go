package registry_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
)

func TestRegistryWritesAreAudited(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, db *sqlstore.DB) {
		reg := newRegistry(t, db)
		bob := audit.WithActor(context.Background(), audit.Actor{Name: "bob", Kind: audit.KindService})
		v1, err := reg.Register(bob, "churn", registry.RegisterOptions{Bundle: strings.NewReader("one")})
		if err != nil {
			t.Fatal(err)
		}
		if v1.CreatedBy != "bob" {
			t.Errorf("created_by: got %q, want the server actor bob", v1.CreatedBy)
		}
		if _, err := reg.Register(bob, "churn", registry.RegisterOptions{Source: "runs:/abc/model", RunID: "abc", Tags: map[string]string{"k": "v"}}); err != nil {
			t.Fatal(err)
		}
		steps := []func() error{
			func() error { return reg.SetAlias(bob, "churn", "production", 1) },
			func() error { return reg.SetAlias(bob, "churn", "production", 2) },
			func() error { return reg.SetDescription(bob, "churn", "churn model") },
			func() error { return reg.SetTag(bob, "churn", "team", "risk") },
			func() error { return reg.SetVersionTag(bob, "churn", 2, "validated", "yes") },
			func() error { return reg.TransitionStage(bob, "churn", 2, "production", true) },
			func() error { return reg.DeleteAlias(bob, "churn", "production") },
			func() error { return reg.DeleteVersion(bob, "churn", 1) },
			func() error { return reg.RenameModel(bob, "churn", "churn2") },
			func() error { return reg.DeleteModel(bob, "churn2") },
		}
		for i, f := range steps {
			if err := f(); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		var got []string
		for _, name := range []string{"churn", "churn2"} {
			es, _, err := audit.List(context.Background(), db, audit.Query{ResourceKind: "model", Resource: name})
			if err != nil {
				t.Fatal(err)
			}
			for i := len(es) - 1; i >= 0; i-- {
				if es[i].Actor.Name != "bob" {
					t.Errorf("%s: actor %+v", es[i].Action, es[i].Actor)
				}
				got = append(got, es[i].Action)
			}
		}
		want := "model.create model.version.create model.version.create model.alias.set model.alias.set model.update model.tag.set " +
			"model.version.tag.set model.version.stage model.alias.delete model.version.delete model.rename model.delete"
		// Entries of one millisecond have no order among themselves
		// (audit ids are a millisecond and random bits): compare as sets.
		slices.Sort(got)
		wantList := strings.Fields(want)
		slices.Sort(wantList)
		if strings.Join(got, " ") != strings.Join(wantList, " ") {
			t.Errorf("actions:\n got %s\nwant %s", strings.Join(got, " "), want)
		}
		es, _, _ := audit.List(context.Background(), db, audit.Query{ActionPrefix: "model.alias.set"})
		moves := map[string]string{}
		for _, e := range es {
			moves[string(e.Before)] = string(e.After)
		}
		if len(es) != 2 || moves[""] != `{"production":1}` || moves[`{"production":1}`] != `{"production":2}` {
			t.Errorf("alias moves (before → after): %v", moves)
		}
		// The alias history still lists the moves (under the new name).
		h, err := reg.AliasHistory(context.Background(), "churn2")
		if err != nil || len(h) != 3 || h[0].User != "bob" {
			t.Errorf("alias history: %+v, %v", h, err)
		}
	})
}

func TestMLflowRegistryOperations(t *testing.T) {
	ctx := context.Background()
	sqlstoretest.Run(t, func(t *testing.T, db *sqlstore.DB) {
		reg := newRegistry(t, db)
		if _, err := reg.CreateModel(ctx, "fraud", "detects fraud", map[string]string{"team": "risk"}); err != nil {
			t.Fatal(err)
		}
		if _, err := reg.CreateModel(ctx, "fraud", "", nil); !errors.Is(err, registry.ErrExists) {
			t.Fatalf("second create: got %v, want ErrExists", err)
		}
		for i := 0; i < 3; i++ {
			if _, err := reg.Register(ctx, "fraud", registry.RegisterOptions{Source: "runs:/r" + string(rune('0'+i)) + "/model", RunID: "r" + string(rune('0'+i))}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := reg.Register(ctx, "spam", registry.RegisterOptions{Bundle: strings.NewReader("spam bundle")}); err != nil {
			t.Fatal(err)
		}
		if err := reg.TransitionStage(ctx, "fraud", 1, "Production", false); err != nil {
			t.Fatal(err)
		}
		if err := reg.TransitionStage(ctx, "fraud", 2, "Production", true); err != nil {
			t.Fatal(err)
		}
		if err := reg.TransitionStage(ctx, "fraud", 3, "Limbo", false); !errors.Is(err, registry.ErrInvalid) {
			t.Errorf("bad stage: %v", err)
		}
		v1, _ := reg.Version(ctx, "fraud", 1)
		if v1.Stage != registry.StageArchived {
			t.Errorf("v1 stage %q, want Archived after archive_existing_versions", v1.Stage)
		}
		latest, err := reg.LatestVersions(ctx, "fraud", nil)
		if err != nil {
			t.Fatal(err)
		}
		var lv []string
		for _, v := range latest {
			lv = append(lv, v.Stage+"="+v.Ref())
		}
		if strings.Join(lv, " ") != "None=fraud/3 Production=fraud/2 Archived=fraud/1" {
			t.Errorf("latest versions: %v", lv)
		}
		if _, err := reg.OpenBundle(ctx, v1); !errors.Is(err, registry.ErrNoBundle) {
			t.Errorf("external version bundle: %v", err)
		}
		for _, c := range []struct {
			filter string
			order  []string
			want   string
		}{
			{"name = 'fraud'", []string{"version_number ASC"}, "fraud/1 fraud/2 fraud/3"},
			{"run_id IN ('r0', 'r2')", []string{"version_number DESC"}, "fraud/3 fraud/1"},
			{"name LIKE 'sp%'", nil, "spam/1"},
			{"version_number >= 2 AND name = 'fraud'", []string{"version_number"}, "fraud/2 fraud/3"},
			{"source_path = 'runs:/r1/model'", nil, "fraud/2"},
		} {
			vs, _, err := reg.SearchVersions(ctx, registry.Search{Filter: c.filter, OrderBy: c.order})
			if err != nil {
				t.Fatalf("%s: %v", c.filter, err)
			}
			var refs []string
			for _, v := range vs {
				refs = append(refs, v.Ref())
			}
			if strings.Join(refs, " ") != c.want {
				t.Errorf("versions %q: got %v, want %s", c.filter, refs, c.want)
			}
		}
		ms, next, err := reg.SearchModels(ctx, registry.Search{Filter: "tags.team = 'risk'"})
		if err != nil || len(ms) != 1 || ms[0].Name != "fraud" || next != "" {
			t.Errorf("models by tag: %+v %q %v", ms, next, err)
		}
		page1, next, err := reg.SearchModels(ctx, registry.Search{Limit: 1})
		if err != nil || len(page1) != 1 || page1[0].Name != "fraud" || next == "" {
			t.Fatalf("page 1: %+v %q %v", page1, next, err)
		}
		page2, next2, err := reg.SearchModels(ctx, registry.Search{Limit: 1, PageToken: next})
		if err != nil || len(page2) != 1 || page2[0].Name != "spam" || next2 != "" {
			t.Errorf("page 2: %+v %q %v", page2, next2, err)
		}
		for _, bad := range []string{"name = fraud", "nmae = 'x'", "name < 'x'", "version_number = 'x'", "name = 'x' OR name = 'y'", "name IN ('a'"} {
			if _, _, err := reg.SearchVersions(ctx, registry.Search{Filter: bad}); !errors.Is(err, registry.ErrInvalid) {
				t.Errorf("filter %q: got %v, want ErrInvalid", bad, err)
			}
		}
		if err := reg.SetAlias(ctx, "fraud", "champion", 3); err != nil {
			t.Fatal(err)
		}
		if err := reg.RenameModel(ctx, "fraud", "fraud-v2"); err != nil {
			t.Fatal(err)
		}
		v, err := reg.Resolve(ctx, "fraud-v2@champion")
		if err != nil || v.Version != 3 || v.Source != "runs:/r2/model" {
			t.Errorf("renamed alias: %+v %v", v, err)
		}
		if _, err := reg.Model(ctx, "fraud"); !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("old name: %v", err)
		}
		if err := reg.RenameModel(ctx, "fraud-v2", "spam"); !errors.Is(err, registry.ErrExists) {
			t.Errorf("rename onto a taken name: %v", err)
		}
	})
}
