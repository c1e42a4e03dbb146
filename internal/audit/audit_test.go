package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
)

func TestRecordAndList(t *testing.T) {
	for _, b := range sqlstoretest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db, err := sqlstore.Open(ctx, b.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			alice := audit.WithActor(ctx, audit.Actor{Name: "alice", Kind: audit.KindUser, Remote: "127.0.0.1:5555"})
			t0 := time.UnixMilli(1_700_000_000_000)
			for i := 0; i < 5; i++ {
				err := db.Write(alice, func(tx *sqlstore.Tx) error {
					return audit.RecordEntry(alice, tx, audit.Entry{Time: t0.Add(time.Duration(i) * time.Second),
						Action: "model.alias.set", ResourceKind: "model", Resource: "adult",
						Before: json.RawMessage(`{"production":1}`), After: json.RawMessage(`{"production":2}`)})
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			// A write that rolls back leaves no audit row.
			boom := errors.New("boom")
			err = db.Write(ctx, func(tx *sqlstore.Tx) error {
				if err := audit.Record(ctx, tx, "run.delete", "run", "r1", map[string]string{"status": "FINISHED"}, nil); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("rolled-back write: got %v, want boom", err)
			}
			if err := db.Write(ctx, func(tx *sqlstore.Tx) error {
				return audit.Record(ctx, tx, "dataset.create", "dataset", "adult", nil, map[string]int{"version": 1})
			}); err != nil {
				t.Fatal(err)
			}

			page1, next, err := audit.List(ctx, db, audit.Query{ResourceKind: "model", Resource: "adult", Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			if len(page1) != 3 || next == "" {
				t.Fatalf("page 1: got %d entries, next %q; want 3 and a token", len(page1), next)
			}
			if got := page1[0]; got.Actor.Name != "alice" || got.Actor.Remote != "127.0.0.1:5555" || !got.Time.Equal(t0.Add(4*time.Second)) {
				t.Fatalf("newest entry: got %+v", got)
			}
			page2, next2, err := audit.List(ctx, db, audit.Query{ResourceKind: "model", Resource: "adult", Limit: 3, PageToken: next})
			if err != nil {
				t.Fatal(err)
			}
			if len(page2) != 2 || next2 != "" {
				t.Fatalf("page 2: got %d entries, next %q; want 2 and none", len(page2), next2)
			}
			if string(page2[1].Before) != `{"production":1}` {
				t.Fatalf("before: got %s", page2[1].Before)
			}
			local, _, err := audit.List(ctx, db, audit.Query{ActionPrefix: "dataset."})
			if err != nil {
				t.Fatal(err)
			}
			if len(local) != 1 || local[0].Actor.Kind != audit.KindLocal || local[0].Actor.Name != audit.LocalUser() {
				t.Fatalf("local write: got %+v", local)
			}
			if all, _, _ := audit.List(ctx, db, audit.Query{}); len(all) != 6 {
				t.Fatalf("all entries: got %d, want 6 (the rolled-back one absent)", len(all))
			}
			if _, _, err := audit.List(ctx, db, audit.Query{PageToken: "nope"}); !errors.Is(err, audit.ErrBadPageToken) {
				t.Fatalf("bad token: got %v", err)
			}

			// The database refuses to change or remove audit rows.
			for _, q := range []string{"UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"} {
				err := db.Write(ctx, func(tx *sqlstore.Tx) error { _, err := tx.ExecContext(ctx, q); return err })
				if err == nil || !strings.Contains(err.Error(), "append-only") {
					t.Errorf("%s: got %v, want the append-only refusal", q, err)
				}
			}
		})
	}
}
