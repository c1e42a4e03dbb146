package predlog

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest/parquetio"
)

// classBatch is a classifier's batch of n rows: inputs x (a number), c (a
// category) and __odd (a name of the log's own kind), classes no and yes.
func classBatch(model string, t0 time.Time, n int) *Batch {
	schema := frame.Schema{Fields: []frame.Field{{Name: "x", Kind: frame.KindFloat}, {Name: "c", Kind: frame.KindCategorical}, {Name: "__odd", Kind: frame.KindInt}}}
	b := NewBuilder(model, "3", schema, []string{"no", "yes"})
	for i := range n {
		f := frame.MustNew(frame.NewFloat("x", []float64{float64(i)}), frame.NewCategorical("c", []string{fmt.Sprint("k", i%3)}, nil),
			frame.NewInt("__odd", []int64{int64(i)}))
		p := float64(i%10) / 10
		b.AddFrame(fmt.Sprint("r", i), t0.Add(time.Duration(i)*time.Second), f, &bundle.Prediction{Values: []float64{float64(i % 2)}, Proba: []float64{1 - p, p}, Classes: []string{"no", "yes"}})
	}
	return b.Batch()
}

// TestWireRoundTrip: a batch sent as WriteBatch writes it reads back the
// same (ReadBatch), and a read sent as WriteLogged writes it reads back
// the same rows, predictions and labels (ReadLogged).
func TestWireRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	in := classBatch("churn", t0, 50)
	var buf bytes.Buffer
	if err := WriteBatch(&buf, in); err != nil {
		t.Fatal(err)
	}
	got, err := ReadBatch(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got.Model != "churn" || got.Version != "3" || got.Len() != 50 || got.RequestID[7] != "r7" || got.Time[49] != in.Time[49] ||
		got.Pred.Values[3] != 1 || math.Abs(got.Pred.Proba[2*9+1]-0.9) > 1e-12 || len(got.Pred.Classes) != 2 || got.Pred.Classes[1] != "yes" {
		t.Fatalf("batch read back: %s/%s %d rows %v %v", got.Model, got.Version, got.Len(), got.Pred.Values[:4], got.Pred.Classes)
	}
	if s := got.Input.Schema().Names(); fmt.Sprint(s) != "[x c __odd]" {
		t.Fatalf("inputs read back: %v", s)
	}

	l := sqliteLog(t, t.TempDir())
	ctx := context.Background()
	if err := l.LogPredictions(ctx, got); err != nil {
		t.Fatal(err)
	}
	if err := l.LogFeedback(ctx, []Feedback{{Model: "churn", RequestID: "r4", Row: 0, Label: "yes", Time: t0.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	schema := frame.Schema{Fields: []frame.Field{{Name: "c", Kind: frame.KindString}, {Name: "x", Kind: frame.KindFloat}, {Name: "missing", Kind: frame.KindFloat}}}
	lg, err := l.Read(ctx, Query{Model: "churn", Since: t0.Add(2 * time.Second)}, schema, []string{"yes", "no"})
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := WriteLogged(&buf, lg); err != nil {
		t.Fatal(err)
	}
	back, err := ReadLogged(buf.Bytes(), schema, []string{"yes", "no"})
	if err != nil {
		t.Fatal(err)
	}
	if back.Len() != 48 || back.Labeled != 1 || back.Labels[2] != "yes" || back.Labels[3] != "" || back.RequestID[0] != "r2" ||
		back.Pred.Values[1] != 0 || back.Pred.Proba[1*2] != lg.Pred.Proba[1*2] {
		t.Fatalf("read back: %d rows, %d labelled, labels %q, predictions %v", back.Len(), back.Labeled, back.Labels[:4], back.Pred.Values[:2])
	}
	c, _ := back.Input.Column("c")
	m, _ := back.Input.Column("missing")
	if c.Kind() != frame.KindString || c.Format(0) != "k2" || m.NullCount() != 48 {
		t.Fatalf("inputs read back: c %v %q, missing %d nulls", c.Kind(), c.Format(0), m.NullCount())
	}
	// An empty read travels too.
	buf.Reset()
	none, _ := l.Read(ctx, Query{Model: "other"}, schema, nil)
	if err := WriteLogged(&buf, none); err != nil {
		t.Fatal(err)
	}
	if e, err := ReadLogged(buf.Bytes(), schema, nil); err != nil || e.Len() != 0 || e.Input.NumCols() != 3 {
		t.Fatalf("empty read back: %v %+v", err, e)
	}
}

// TestReadBatchRefuses: files that are no batch say what is wrong.
func TestReadBatchRefuses(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	mixed := classBatch("churn", t0, 4)
	f, _ := toFrame(mixed)
	cols := append([]frame.Column(nil), f.Columns()...)
	cols[1] = &frame.Categorical{ColName: ColModel, Codes: []int32{0, 0, 1, 0}, Levels: []string{"churn", "other"}}
	for name, fr := range map[string]*frame.Frame{
		"one model version":        frame.MustNew(cols...),
		`"__time": no such column`: frame.MustNew(f.Columns()[1:]...),
		"unknown column __other":   frame.MustNew(append(append([]frame.Column(nil), f.Columns()...), frame.NewFloat("__other", make([]float64, 4)))...),
	} {
		var buf bytes.Buffer
		if err := parquetio.Write(&buf, fr); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadBatch(buf.Bytes()); err == nil || !bytes.Contains([]byte(err.Error()), []byte(name)) {
			t.Errorf("%s: got %v", name, err)
		}
	}
	if _, err := ReadBatch([]byte("not parquet")); err == nil {
		t.Error("not parquet: no error")
	}
}

// FuzzReadBatch: ReadBatch never panics, and what it reads writes and
// reads back the same.
func FuzzReadBatch(f *testing.F) {
	var buf bytes.Buffer
	if err := WriteBatch(&buf, classBatch("m", time.Unix(0, 0), 5)); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ReadBatch(data)
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := WriteBatch(&out, b); err != nil {
			t.Fatalf("a batch read cannot be written: %v", err)
		}
		again, err := ReadBatch(out.Bytes())
		if err != nil || again.Len() != b.Len() || again.Model != b.Model || again.Version != b.Version {
			t.Fatalf("round trip: %v", err)
		}
	})
}
