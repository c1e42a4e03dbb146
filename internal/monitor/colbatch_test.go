package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/sqlstore"
)

func TestBatchRoundTrip(t *testing.T) {
	objs := []string{
		`{"x": 1.5, "c": "a", "mixed": 3, "b": true, "nested": {"p": 0.25, "q": "z"}, "arr": [1, 2]}`,
		`{"x": null, "c": "b\"q\u00e9", "mixed": "three", "nested": {"p": 0.75}}`,
		`{}`,
		`{"x": -2e300, "c": "a", "b": false, "new": 7}`,
		`{"a<b": 1, "x": 4}`, // json.Marshal escapes < in keys: the slow path
	}
	bb := newBatchBuilder(len(objs))
	for i, o := range objs {
		r := bb.row(int64(1000 + i*7))
		if err := bb.addObject(r, inPrefix, []byte(o)); err != nil {
			t.Fatalf("object %d: %v", i, err)
		}
	}
	enc := appendBatch(nil, bb.finish())
	b, err := decodeBatch(enc)
	if err != nil {
		t.Fatal(err)
	}
	if b.n != len(objs) || b.times[3] != 1021 {
		t.Fatalf("n %d, times %v", b.n, b.times)
	}
	layout := objectLayout(b, inPrefix)
	tests := []struct {
		row  int
		want map[string]any
	}{
		{0, map[string]any{"x": 1.5, "c": "a", "mixed": 3.0, "b": true, "nested": map[string]any{"p": 0.25, "q": "z"}, "arr": []any{1.0, 2.0}}},
		{1, map[string]any{"c": "b\"qé", "mixed": "three", "nested": map[string]any{"p": 0.75}}},
		{2, map[string]any{}},
		{3, map[string]any{"x": -2e300, "c": "a", "b": false, "new": 7.0}},
		{4, map[string]any{"a<b": 1.0, "x": 4.0}},
	}
	for _, tt := range tests {
		raw := appendObject(nil, layout, tt.row)
		var got map[string]any
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("row %d: %s: %v", tt.row, raw, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("row %d: got %v, want %v", tt.row, got, tt.want)
		}
	}
	if c := b.index["ix"]; !c.num || c.present(1) || c.present(2) || c.f(3) != -2e300 {
		t.Errorf("x column: %+v", c)
	}
	if c := b.index["imixed"]; c.num {
		t.Errorf("mixed column should be a dictionary")
	}
	// every truncation is an error, never a panic
	for cut := 0; cut < len(enc); cut++ {
		if _, err := decodeBatch(enc[:cut]); !errors.Is(err, errBatch) {
			t.Fatalf("truncated at %d of %d: %v", cut, len(enc), err)
		}
	}
	// corrupt bytes decode to an error or to a batch that reads safely
	rng := rand.New(rand.NewPCG(7, 7))
	for k := 0; k < 2000; k++ {
		bad := slices.Clone(enc)
		for range 1 + rng.IntN(3) {
			bad[len(batchMagic)+rng.IntN(len(bad)-len(batchMagic))] = byte(rng.IntN(256))
		}
		cb, err := decodeBatch(bad)
		if err != nil {
			continue
		}
		for _, prefix := range []byte{inPrefix, outPrefix} {
			for i := 0; i < cb.n; i++ {
				appendObject(nil, objectLayout(cb, prefix), i)
			}
		}
	}
}

// TestCurrentMatchesRecords checks that reading typed columns from the log
// gives the frame that decoding the rows' JSON gives, on real data.
func TestCurrentMatchesRecords(t *testing.T) {
	b, te := titanicModel(t)
	for name, db := range testStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			l := NewLog(db)
			model := fmt.Sprintf("t-%d", time.Now().UnixNano())
			t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
			var recs []Record
			var fbs []Feedback
			for i := 0; i < te.NumRows(); i++ {
				in := map[string]any{}
				for _, c := range te.Columns() {
					if c.Name() == "Survived" {
						continue
					}
					if c.IsNull(i) {
						in[c.Name()] = nil
					} else if v, ok := frame.Value(c, i); ok && c.Kind().Numeric() {
						in[c.Name()] = v
					} else {
						in[c.Name()] = c.Format(i)
					}
				}
				inJ, _ := json.Marshal(in)
				id := fmt.Sprintf("q%d", i/3)
				recs = append(recs, Record{Model: model, Version: "2", RequestID: id, Row: i % 3, Time: t0.Add(time.Duration(i) * time.Second), Input: inJ,
					Output: json.RawMessage(fmt.Sprintf(`{"prediction": "%d", "probabilities": {"0": %g, "1": %g}}`, i%2, 1-float64(i%5)/5, float64(i%5)/5))})
				if i%4 != 0 {
					sv, _ := te.Column("Survived")
					fbs = append(fbs, Feedback{Model: model, RequestID: id, Row: i % 3, Label: json.RawMessage(fmt.Sprintf("%q", sv.Format(i))), Time: t0})
				}
			}
			// serve batches logged out of order, one retried; the small one
			// keeps numbers as float64 arrays, the others (few distinct
			// values) as dictionaries
			half := len(recs) / 2
			for _, part := range [][]Record{recs[half:], recs[40:half], recs[:40], recs[:10]} {
				if err := l.LogPredictions(ctx, part); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.LogFeedback(ctx, fbs); err != nil {
				t.Fatal(err)
			}
			logged, err := l.Predictions(ctx, Query{Model: model})
			if err != nil {
				t.Fatal(err)
			}
			want, err := Records(b, logged)
			if err != nil {
				t.Fatal(err)
			}
			got, err := l.Current(ctx, b, Query{Model: model})
			if err != nil {
				t.Fatal(err)
			}
			if got.Frame.NumRows() != te.NumRows() || want.Frame.NumRows() != te.NumRows() {
				t.Fatalf("rows: current %d, records %d, want %d", got.Frame.NumRows(), want.Frame.NumRows(), te.NumRows())
			}
			sameCurrent(t, got, want)
		})
	}
}

func sameCurrent(t *testing.T, got, want *Current) {
	t.Helper()
	for _, wc := range want.Frame.Columns() {
		gc, err := got.Frame.Column(wc.Name())
		if err != nil {
			t.Fatal(err)
		}
		if gc.Kind() != wc.Kind() {
			t.Errorf("%s: kind %v, want %v", wc.Name(), gc.Kind(), wc.Kind())
			continue
		}
		for i := 0; i < wc.Len(); i++ {
			if gc.IsNull(i) != wc.IsNull(i) || !gc.IsNull(i) && gc.Format(i) != wc.Format(i) {
				t.Fatalf("%s row %d: got %q (null %v), want %q (null %v)", wc.Name(), i, gc.Format(i), gc.IsNull(i), wc.Format(i), wc.IsNull(i))
			}
		}
	}
	for i := range want.Times {
		if !got.Times[i].Equal(want.Times[i]) {
			t.Fatalf("time %d: %v, want %v", i, got.Times[i], want.Times[i])
		}
	}
	same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
	for i := range want.Pred.Values {
		if !same(got.Pred.Values[i], want.Pred.Values[i]) {
			t.Fatalf("prediction %d: %v, want %v", i, got.Pred.Values[i], want.Pred.Values[i])
		}
	}
	for i := range want.Pred.Proba {
		if got.Pred.Proba[i] != want.Pred.Proba[i] {
			t.Fatalf("proba %d: %v, want %v", i, got.Pred.Proba[i], want.Pred.Proba[i])
		}
	}
	if (got.Labels == nil) != (want.Labels == nil) {
		t.Fatalf("labels: %v vs %v", got.Labels == nil, want.Labels == nil)
	}
	for i := range want.Labels {
		if !same(got.Labels[i], want.Labels[i]) {
			t.Fatalf("label %d: %v, want %v", i, got.Labels[i], want.Labels[i])
		}
	}
}

// TestLegacyTextBatches reads batches written in migration 0003's text
// format alongside columnar ones.
func TestLegacyTextBatches(t *testing.T) {
	for name, db := range testStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			l := NewLog(db)
			model := fmt.Sprintf("legacy-%d", time.Now().UnixNano())
			t0 := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
			var lines, fb strings.Builder
			for i := 0; i < 20; i++ {
				fmt.Fprintf(&lines, "1\tr%d\t0\t%d\t{\"x\": %d, \"c\": \"k%d\"}\t{\"prediction\": %d}\n", i, t0+int64(i), i, i%3, 2*i)
				fmt.Fprintf(&fb, "r%d\t0\t%d\t%d\n", i, t0+100, 10*i)
			}
			err := db.Write(ctx, func(tx *sqlstore.Tx) error {
				if _, err := tx.ExecContext(ctx, "INSERT INTO prediction_batches (id, model, min_time_ms, max_time_ms, n, records) VALUES (?, ?, ?, ?, ?, ?)",
					model+"-old", model, t0, t0+19, 20, lines.String()); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, "INSERT INTO feedback_batches (id, model, min_time_ms, max_time_ms, n, records) VALUES (?, ?, ?, ?, ?, ?)",
					model+"-oldfb", model, t0+100, t0+100, 20, fb.String())
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			newer := []Record{{Model: model, Version: "2", RequestID: "n0", Time: time.UnixMilli(t0 + 50), Input: json.RawMessage(`{"x": 99, "c": "k9"}`), Output: json.RawMessage(`{"prediction": 1}`)}}
			if err := l.LogPredictions(ctx, newer); err != nil {
				t.Fatal(err)
			}
			got, err := l.Predictions(ctx, Query{Model: model})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 21 || string(got[3].Input) != `{"x":3,"c":"k0"}` || string(got[3].Label) != "30" || got[20].RequestID != "n0" || got[20].Label != nil {
				t.Fatalf("%d rows: %+v / %+v", len(got), got[3], got[len(got)-1])
			}
			preds, labelled, err := l.Count(ctx, model, time.Time{})
			if err != nil || preds != 21 || labelled != 20 {
				t.Errorf("count %d %d %v", preds, labelled, err)
			}
		})
	}
}

func TestRadixSort(t *testing.T) {
	for _, n := range []int{0, 1, 5, 1000, 5000, 100000} {
		rng := rand.New(rand.NewPCG(uint64(n), 3))
		a := make([]keyedRow, n)
		for i := range a {
			h := rng.Uint64()
			if i%7 == 3 && i > 0 {
				h = a[i-1].h // equal keys keep their order
			}
			a[i] = keyedRow{h: h, j: int32(i)}
		}
		got := radixSort(slices.Clone(a))
		want := slices.Clone(a)
		slices.SortStableFunc(want, func(x, y keyedRow) int { return cmpUint64(x.h, y.h) })
		if !slices.Equal(got, want) {
			t.Fatalf("n=%d: radix sort differs from a stable sort", n)
		}
	}
}
