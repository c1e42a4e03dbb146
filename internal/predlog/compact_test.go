package predlog

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestCompactKeepsJoin stores a model's labels as many small feedback files
// around one large file, relabelling rows later and at equal times across
// files (where the order the files were stored in decides), then compacts:
// the small runs on either side of the large file become one file each,
// the merges are audited, the joined read is identical before and after,
// and compacting again changes nothing.
func TestCompactKeepsJoin(t *testing.T) {
	for name, l := range testLogs(t) {
		t.Run(name, func(t *testing.T) {
			l.CompactAfter = -1
			ctx := context.Background()
			model := fmt.Sprintf("m-%d", time.Now().UnixNano())
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			if err := l.LogPredictions(ctx, rowBatch(model, t0, 0, 300)); err != nil {
				t.Fatal(err)
			}
			fb := func(i int, label string, at time.Duration) Feedback {
				return Feedback{Model: model, RequestID: "r" + strconv.Itoa(i/10), Row: i % 10, Label: label, Time: t0.Add(at)}
			}
			store := func(fbs []Feedback) {
				t.Helper()
				if err := l.LogFeedback(ctx, fbs); err != nil {
					t.Fatal(err)
				}
				time.Sleep(2 * time.Millisecond) // files stored apart in logged_ms
			}
			// 12 small files: row i labelled in call i%12, rows 0-9 again
			// in every call at one time (the last call's label wins)
			for c := range 12 {
				var fbs []Feedback
				for i := c; i < 300; i += 12 {
					fbs = append(fbs, fb(i, "a"+strconv.Itoa(c), time.Duration(i)*time.Minute+time.Hour))
				}
				for i := range 10 {
					fbs = append(fbs, fb(i, "tie"+strconv.Itoa(c), 10*time.Hour))
				}
				store(fbs)
			}
			// one large file: other requests' labels, and rows 0-4 at the
			// tie's time (it wins over the earlier small files)
			big := make([]Feedback, 0, CompactRows)
			for i := range 5 {
				big = append(big, fb(i, "big", 10*time.Hour))
			}
			for i := len(big); i < CompactRows; i++ {
				big = append(big, Feedback{Model: model, RequestID: "other" + strconv.Itoa(i), Label: "x", Time: t0.Add(time.Hour)})
			}
			store(big)
			// 5 small files after it: rows 0-2 tie again, row 50 relabelled
			// earlier than its label above (that one stays), row 60 later
			for c := range 5 {
				store([]Feedback{fb(c%3, "late"+strconv.Itoa(c), 10*time.Hour), fb(50, "earlier", 0), fb(60, "later"+strconv.Itoa(c), 20*time.Hour)})
			}
			q := Query{Model: model, Since: t0}
			before, err := l.Read(ctx, q, xcSchema, nil)
			if err != nil {
				t.Fatal(err)
			}
			if before.Labeled != 300 || before.Labels[0] != "late3" || before.Labels[3] != "big" || before.Labels[7] != "tie11" || before.Labels[60] != "later4" {
				t.Fatalf("before: %d labelled, %q", before.Labeled, before.Labels[:10])
			}

			planned, err := l.Compact(ctx, model, true)
			if err != nil || len(planned) != 2 || len(planned[0].From) != 12 || len(planned[1].From) != 5 || planned[0].Into.Digest != "" {
				t.Fatalf("dry run: %v, %+v", err, planned)
			}
			if n := countRows(t, l, "SELECT COUNT(*) FROM feedback_log WHERE model = ?", model); n != 18 {
				t.Fatalf("dry run left %d files, want 18", n)
			}
			done, err := l.Compact(ctx, model, false)
			if err != nil || len(done) != 2 {
				t.Fatalf("compact: %v, %+v", err, done)
			}
			if n := countRows(t, l, "SELECT COUNT(*) FROM feedback_log WHERE model = ?", model); n != 3 {
				t.Errorf("%d feedback files after compaction, want 3", n)
			}
			for _, c := range done {
				want := int64(0)
				for _, f := range c.From {
					want += f.Labels
				}
				if c.Into.Labels != want || c.Into.Digest == "" {
					t.Errorf("merged %+v", c)
				}
				if n := countRows(t, l, "SELECT COUNT(*) FROM audit_log WHERE action = 'prediction_log.feedback.compact' AND resource = ? AND after_json LIKE ?", model, "%"+c.Into.Digest+"%"); n != 1 {
					t.Errorf("%d audit entries for merge into %s, want 1", n, c.Into.Digest)
				}
			}
			after, err := l.Read(ctx, q, xcSchema, nil)
			if err != nil {
				t.Fatal(err)
			}
			if after.Labeled != before.Labeled || !slices.Equal(after.Labels, before.Labels) {
				for i := range before.Labels {
					if before.Labels[i] != after.Labels[i] {
						t.Errorf("row %d: label %q after compaction, %q before", i, after.Labels[i], before.Labels[i])
					}
				}
			}
			if again, err := l.Compact(ctx, model, false); err != nil || len(again) != 0 {
				t.Errorf("second compaction: %v, %+v", err, again)
			}
		})
	}
}

// TestCompactAtWrite has a log compact a model's feedback after every
// CompactAfter files it writes, leaving the labels read the same.
func TestCompactAtWrite(t *testing.T) {
	l := testLogs(t)["sqlite"]
	l.CompactAfter = 4
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := l.LogPredictions(ctx, rowBatch("w", t0, 0, 20)); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := l.LogFeedback(ctx, []Feedback{{Model: "w", RequestID: "r" + strconv.Itoa(i/10), Row: i % 10, Label: strconv.Itoa(i), Time: t0.Add(time.Hour)}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	// after the 4th file: 1 merged; after the 8th: the merged one and 4 more merged
	if n := countRows(t, l, "SELECT COUNT(*) FROM feedback_log WHERE model = ?", "w"); n != 3 {
		t.Errorf("%d feedback files, want 3 (one merged, two since)", n)
	}
	lg, err := l.Read(ctx, Query{Model: "w", Since: t0}, xcSchema, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lg.Labeled != 10 || lg.Labels[9] != "9" || lg.Labels[0] != "0" {
		t.Errorf("%d labelled: %q", lg.Labeled, lg.Labels)
	}
}

func countRows(t *testing.T, l *Log, q string, args ...any) int {
	t.Helper()
	var n int
	if err := l.db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
