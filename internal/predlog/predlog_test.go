package predlog

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/sqlstore"
)

// testLogs opens a fresh SQLite store, and the PostgreSQL store of
// GYRE_TEST_POSTGRES when set, each with a local artifact store.
func testLogs(t *testing.T) map[string]*Log {
	t.Helper()
	l := sqliteLog(t, t.TempDir())
	out := map[string]*Log{"sqlite": l}
	if url := os.Getenv("GYRE_TEST_POSTGRES"); url != "" {
		pg, err := sqlstore.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pg.Close() })
		out["postgres"] = New(pg, l.blobs)
	}
	return out
}

// sqliteLog opens a log on a fresh SQLite store dir/gyre.db with its
// artifact store in dir/artifacts.
func sqliteLog(t *testing.T, dir string) *Log {
	t.Helper()
	blobs, err := blob.OpenDir(filepath.Join(dir, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlstore.Open(context.Background(), filepath.Join(dir, "gyre.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return New(db, blobs)
}

// xcSchema is a two-input schema: a number and a category.
var xcSchema = frame.Schema{Fields: []frame.Field{{Name: "x", Kind: frame.KindFloat}, {Name: "c", Kind: frame.KindCategorical}}}

// rowBatch builds a regression batch of rows lo..hi: request r<i/10>, row
// i%10, one minute apart from t0, x = i, prediction 2i.
func rowBatch(model string, t0 time.Time, lo, hi int) *Batch {
	b := NewBuilder(model, "1", xcSchema, nil)
	for i := lo; i < hi; i++ {
		f := frame.MustNew(frame.NewFloat("x", []float64{float64(i)}), frame.NewCategorical("c", []string{"a"}, nil))
		b.AddFrame("r"+strconv.Itoa(i/10), t0.Add(time.Duration(i)*time.Minute), f, &bundle.Prediction{Values: []float64{2 * float64(i)}})
	}
	out := b.Batch()
	for i := range out.Row { // AddFrame numbers rows within one call
		out.Row[i] = int32((lo + i) % 10)
	}
	return out
}

func TestLogRoundTrip(t *testing.T) {
	for name, l := range testLogs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			model := fmt.Sprintf("m-%d", time.Now().UnixNano()) // PostgreSQL stores outlive a test
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			if err := l.LogPredictions(ctx, rowBatch(model, t0, 0, 450)); err != nil {
				t.Fatal(err)
			}
			// a retried write, and an overlapping one with other boundaries,
			// count once
			if err := l.LogPredictions(ctx, rowBatch(model, t0, 0, 450)); err != nil {
				t.Fatal(err)
			}
			if err := l.LogPredictions(ctx, rowBatch(model, t0, 0, 5)); err != nil {
				t.Fatal(err)
			}
			fb := []Feedback{{Model: model, RequestID: "r0", Row: 1, Label: "5", Time: t0}, {Model: model, RequestID: "r0", Row: 1, Label: "7", Time: t0}}
			if err := l.LogFeedback(ctx, fb); err != nil {
				t.Fatal(err)
			}
			if err := l.LogFeedback(ctx, []Feedback{{Model: model, RequestID: "r0", Row: 2, Label: "9", Time: t0}}); err != nil {
				t.Fatal(err)
			}
			got, err := l.Read(ctx, Query{Model: model, Since: t0.Add(time.Minute), Until: t0.Add(101 * time.Minute)}, xcSchema, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got.Len() != 100 || got.Row[0] != 1 || got.Labels[0] != "7" || got.Labels[1] != "9" || got.Labeled != 2 ||
				got.Time[99] != t0.Add(100*time.Minute).UnixNano() || got.Pred.Values[99] != 200 || got.RequestID[99] != "r10" {
				t.Fatalf("window: %d rows, first row %d label %q, labelled %d", got.Len(), got.Row[0], got.Labels[0], got.Labeled)
			}
			x, _ := got.Input.Column("x")
			if v, _ := frame.Value(x, 99); v != 100 {
				t.Errorf("x of the last row: %v", v)
			}
			preds, labelled, err := l.Count(ctx, model, time.Time{})
			if err != nil || preds != 450 || labelled != 2 {
				t.Errorf("count: %d %d %v", preds, labelled, err)
			}
			// the newest rows when limited, and versions apart
			lim, err := l.Read(ctx, Query{Model: model, Limit: 3}, xcSchema, nil)
			if err != nil || lim.Len() != 3 || lim.Pred.Values[2] != 898 {
				t.Errorf("limit: %v %+v", err, lim)
			}
			if other, err := l.Read(ctx, Query{Model: model, Version: "2"}, xcSchema, nil); err != nil || other.Len() != 0 {
				t.Errorf("version 2: %v %d rows", err, other.Len())
			}
		})
	}
}

// TestFeedbackAnyText joins labels whose request ids and texts hold the
// characters an encoding might split on, spread over a long time range and
// several feedback files.
func TestFeedbackAnyText(t *testing.T) {
	for name, l := range testLogs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			model := fmt.Sprintf("m-%d", time.Now().UnixNano())
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			const n = 50_000
			schema := frame.Schema{Fields: []frame.Field{{Name: "x", Kind: frame.KindFloat}}}
			b := NewBuilder(model, "1", schema, []string{"a\tb", "c,1,2,"})
			fbs := make([]Feedback, n)
			labels := []string{"a\tb", "c,1,2,", "ü\n", ""}
			for i := range n {
				id := "r\t" + strconv.Itoa(i) + ",9,"
				at := t0.Add(time.Duration(i) * time.Minute)
				b.AddRow(id, at, []float64{1}, []string{""}, []bool{true}, &bundle.Prediction{Values: []float64{float64(i % 2)}, Proba: []float64{0.5, 0.5}})
				fbs[i] = Feedback{Model: model, RequestID: id, Label: labels[i%len(labels)], Time: at}
			}
			if err := l.LogPredictions(ctx, b.Batch()); err != nil {
				t.Fatal(err)
			}
			for _, part := range [][]Feedback{fbs[:7], fbs[7 : n/2], fbs[n/2:]} {
				if err := l.LogFeedback(ctx, part); err != nil {
					t.Fatal(err)
				}
			}
			got, err := l.Read(ctx, Query{Model: model}, schema, []string{"a\tb", "c,1,2,"})
			if err != nil {
				t.Fatal(err)
			}
			if got.Len() != n || got.Labeled != n-n/len(labels) {
				t.Fatalf("%d rows, %d labelled, want %d and %d", got.Len(), got.Labeled, n, n-n/len(labels))
			}
			for i := range n {
				if got.Labels[i] != labels[i%len(labels)] {
					t.Fatalf("row %d (%q): label %q, want %q", i, got.RequestID[i], got.Labels[i], labels[i%len(labels)])
				}
			}
		})
	}
}

// TestReadConverts reads a classifier's batch with a schema of other kinds,
// as monitoring a version whose inputs changed does.
func TestReadConverts(t *testing.T) {
	ctx := context.Background()
	l := testLogs(t)["sqlite"]
	schema := frame.Schema{Fields: []frame.Field{
		{Name: "n", Kind: frame.KindInt}, {Name: "s", Kind: frame.KindCategorical}, {Name: "b", Kind: frame.KindBool},
		{Name: "when", Kind: frame.KindTime}, {Name: "__odd", Kind: frame.KindFloat}}}
	bld := NewBuilder("conv", "3", schema, []string{"no", "yes"})
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	in := frame.MustNew(
		&frame.Int{ColName: "n", Values: []int64{1, 2, 3}, Valid: validity(3, 1)},
		frame.NewCategorical("s", []string{"4.5", "x", "7"}, nil),
		frame.NewBool("b", []bool{true, false, true}),
		frame.NewTime("when", []int64{t0.UnixNano(), t0.Add(time.Hour).UnixNano(), 0}),
		frame.NewFloat("__odd", []float64{0.5, math.NaN(), 2}))
	bld.AddFrame("q", t0, in, &bundle.Prediction{Values: []float64{1, 0, 1}, Classes: []string{"no", "yes"}, Proba: []float64{.2, .8, .6, .4, .1, .9}})
	bld.AddRow("p", t0.Add(time.Second), []float64{9, 0, 0, 0, 4}, []string{"", "z", "", "", ""}, []bool{true, true, true, false, true},
		&bundle.Prediction{Values: []float64{0}, Classes: []string{"no", "yes"}, Proba: []float64{.7, .3}})
	if bld.Len() != 4 {
		t.Fatalf("builder holds %d rows", bld.Len())
	}
	if err := l.LogPredictions(ctx, bld.Batch()); err != nil {
		t.Fatal(err)
	}
	// read as another model version would: numbers and text swapped, a
	// class the reader lacks, a missing column
	other := frame.Schema{Fields: []frame.Field{
		{Name: "n", Kind: frame.KindCategorical}, {Name: "s", Kind: frame.KindFloat}, {Name: "b", Kind: frame.KindFloat},
		{Name: "when", Kind: frame.KindString}, {Name: "__odd", Kind: frame.KindInt}, {Name: "gone", Kind: frame.KindFloat}}}
	got, err := l.Read(ctx, Query{Model: "conv"}, other, []string{"yes", "maybe"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"n":     {"1", "", "3", "9"},
		"s":     {"4.5", "", "7", ""},
		"b":     {"1", "0", "1", "0"},
		"when":  {t0.Format(time.RFC3339Nano), t0.Add(time.Hour).Format(time.RFC3339Nano), time.Unix(0, 0).UTC().Format(time.RFC3339Nano), ""},
		"__odd": {"0", "", "2", "4"},
		"gone":  {"", "", "", ""},
	}
	for name, w := range want {
		c, err := got.Input.Column(name)
		if err != nil {
			t.Fatal(err)
		}
		for i, wv := range w {
			if c.Format(i) != wv || c.IsNull(i) != (wv == "") {
				t.Errorf("%s row %d: got %q (missing %v), want %q", name, i, c.Format(i), c.IsNull(i), wv)
			}
		}
	}
	if fmt.Sprint(got.Pred.Values) != "[0 -1 0 -1]" || got.Pred.Proba[0] != 0.8 || got.Pred.Proba[1] != 0 || got.Pred.Proba[6] != 0.3 {
		t.Errorf("predictions %v, probabilities %v", got.Pred.Values, got.Pred.Proba)
	}
	if got.RequestID[3] != "p" || got.Row[3] != 0 || got.Row[2] != 2 {
		t.Errorf("request ids %v rows %v", got.RequestID, got.Row)
	}
}

func validity(n int, null ...int) frame.Validity {
	v := frame.NewValidity(n)
	for _, i := range null {
		v.SetNull(i)
	}
	return v
}
