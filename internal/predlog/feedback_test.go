package predlog

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/sqlstore"
)

// TestFeedbackLastGivenWins relabels rows across calls: the label given
// last replaces the earlier ones whatever order the calls store them in,
// among equal times the one stored last wins, and storing the same labels
// again changes nothing.
func TestFeedbackLastGivenWins(t *testing.T) {
	for name, l := range testLogs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			model := fmt.Sprintf("m-%d", time.Now().UnixNano())
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			if err := l.LogPredictions(ctx, rowBatch(model, t0, 0, 30)); err != nil {
				t.Fatal(err)
			}
			fb := func(id string, row int, label string, at time.Duration) Feedback {
				return Feedback{Model: model, RequestID: id, Row: row, Label: label, Time: t0.Add(at)}
			}
			calls := [][]Feedback{
				{fb("r0", 0, "old", time.Hour), fb("r0", 1, "first", time.Hour), fb("r1", 0, "kept", time.Hour)},
				{fb("r0", 0, "new", 2*time.Hour), fb("r0", 1, "second", time.Hour)},
				// given before what is stored already, stored after it
				{fb("r0", 0, "late", 90*time.Minute)},
				// the first call again (a replayed write-ahead segment)
				{fb("r0", 0, "old", time.Hour), fb("r0", 1, "first", time.Hour), fb("r1", 0, "kept", time.Hour)},
				// another model's label for the same request id
				{{Model: model + "-other", RequestID: "r2", Row: 0, Label: "elsewhere", Time: t0.Add(time.Hour)}},
			}
			for _, c := range calls {
				if err := l.LogFeedback(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			got, err := l.Read(ctx, Query{Model: model}, xcSchema, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := map[int]string{0: "new", 1: "second", 10: "kept"}
			for i := range got.Len() {
				if got.Labels[i] != want[i] {
					t.Errorf("row %d (%s/%d): label %q, want %q", i, got.RequestID[i], got.Row[i], got.Labels[i], want[i])
				}
			}
			if got.Labeled != 3 {
				t.Errorf("%d labelled, want 3", got.Labeled)
			}
			var files int
			if err := l.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM feedback_log WHERE model = ?", model).Scan(&files); err != nil || files != 3 {
				t.Errorf("%d feedback files (%v), want 3: the replayed call stored once", files, err)
			}
		})
	}
}

// TestUpgradeFeedbackTable carries the labels of table feedback (how
// migration 0005's log kept them) into feedback files when a log is first
// used, each once when two logs upgrade the same store, and they join as
// before, a label given since the upgrade replacing an old one.
func TestUpgradeFeedbackTable(t *testing.T) {
	for name, l := range testLogs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			model := fmt.Sprintf("m-%d", time.Now().UnixNano())
			t0 := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
			if err := l.LogPredictions(ctx, rowBatch(model, t0, 0, 40)); err != nil {
				t.Fatal(err)
			}
			// rows as the old code stored them, after this log upgraded
			err := l.db.Write(ctx, func(tx *sqlstore.Tx) error {
				for i := range 40 {
					if i%4 == 3 {
						continue
					}
					_, err := tx.ExecContext(ctx, "INSERT INTO feedback (model, request_id, row_index, label, time_ms) VALUES (?, ?, ?, ?, ?)",
						model, fmt.Sprintf("r%d", i/10), i%10, fmt.Sprint(i), t0.Add(time.Duration(i)*time.Minute+time.Hour).UnixMilli())
					if err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			a, b := New(l.db, l.blobs), New(l.db, l.blobs)
			errs := make(chan error, 2)
			for _, x := range []*Log{a, b} {
				go func() { errs <- x.Upgrade(ctx) }()
			}
			for range 2 {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			var left, files, labels int
			if err := l.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM feedback WHERE model = ?", model).Scan(&left); err != nil || left != 0 {
				t.Errorf("%d rows left in table feedback (%v)", left, err)
			}
			if err := l.db.QueryRowContext(ctx, "SELECT COUNT(*), COALESCE(SUM(n), 0) FROM feedback_log WHERE model = ?", model).Scan(&files, &labels); err != nil || files != 1 || labels != 30 {
				t.Errorf("%d feedback files of %d labels (%v), want 1 of 30", files, labels, err)
			}
			if err := a.LogFeedback(ctx, []Feedback{{Model: model, RequestID: "r0", Row: 0, Label: "relabelled", Time: t0.Add(3 * time.Hour)}}); err != nil {
				t.Fatal(err)
			}
			got, err := b.Read(ctx, Query{Model: model}, xcSchema, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got.Len() != 40 || got.Labeled != 30 {
				t.Fatalf("%d rows, %d labelled; want 40 and 30", got.Len(), got.Labeled)
			}
			for i := range 40 {
				want := fmt.Sprint(i)
				switch {
				case i == 0:
					want = "relabelled"
				case i%4 == 3:
					want = ""
				}
				if got.Labels[i] != want {
					t.Errorf("row %d: label %q, want %q", i, got.Labels[i], want)
				}
			}
		})
	}
}
