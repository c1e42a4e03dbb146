package predlog

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest/parquetio"
)

// allKinds is a schema with one field of each kind.
var allKinds = frame.Schema{Fields: []frame.Field{
	{Name: "f", Kind: frame.KindFloat}, {Name: "i", Kind: frame.KindInt}, {Name: "b", Kind: frame.KindBool},
	{Name: "s", Kind: frame.KindString}, {Name: "c", Kind: frame.KindCategorical}, {Name: "t", Kind: frame.KindTime},
}}

// sink records what a replay stores.
type sink struct {
	batches  []*Batch
	feedback []Feedback
}

func (s *sink) LogPredictions(_ context.Context, b *Batch) error {
	s.batches = append(s.batches, b)
	return nil
}

func (s *sink) LogFeedback(_ context.Context, fb []Feedback) error {
	s.feedback = append(s.feedback, fb...)
	return nil
}

// parquetBytes is a batch's stored file.
func parquetBytes(t *testing.T, b *Batch) []byte {
	t.Helper()
	f, err := toFrame(b)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := parquetio.Write(&buf, f); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// addRequests adds the same requests to a WAL and to builders: frames with
// missing values of every kind, one-row requests, two model versions.
func addRequests(w *WAL, builders map[string]*Builder, t0 time.Time) {
	in := frame.MustNew(
		&frame.Float{ColName: "f", Values: []float64{1.5, 0, -2}, Valid: frame.Validity{0b101}},
		&frame.Int{ColName: "i", Values: []int64{1 << 60, 0, -7}, Valid: frame.Validity{0b011}},
		frame.NewBool("b", []bool{true, false, true}),
		&frame.String{ColName: "s", Values: []string{"a\x00b", "", "ü"}, Valid: frame.Validity{0b110}},
		frame.NewCategorical("c", []string{"x", "", "y"}, []bool{false, true, false}),
		frame.NewTime("t", []int64{t0.UnixNano(), -1, 42}),
	)
	classes := []string{"no", "yes"}
	for r := range 5 {
		at := t0.Add(time.Duration(r) * time.Second)
		p := &bundle.Prediction{Values: []float64{0, 1, 1}, Proba: []float64{0.9, 0.1, 0.2, 0.8, 0.3, 0.7}, Classes: classes}
		id := "req-" + string(rune('a'+r))
		lat := time.Duration(r+1) * 1500 * time.Microsecond
		w.AddFrame("m", "1", allKinds, id, at, lat, in, p)
		builders["1"].AddTimedFrame(id, at, lat, in, p)
		num := []float64{3.25, 9, 1, 0, 0, 0}
		text := []string{"", "", "", "text", "lvl", "2026-01-01T00:00:00Z"}
		present := []bool{true, true, true, true, true, r%2 == 0}
		rp := &bundle.Prediction{Values: []float64{4.5}}
		rowLat := time.Duration(-1) // unknown for some rows
		if r%2 == 1 {
			rowLat = time.Duration(r) * time.Millisecond
		}
		w.AddRow("m", "2", allKinds, id+"-row", at, rowLat, num, text, present, rp)
		builders["2"].AddTimedRow(id+"-row", at, rowLat, num, text, present, rp)
	}
	w.AddFeedback([]Feedback{{Model: "m", RequestID: "req-a", Row: 2, Label: "yes", Time: t0.UTC()}})
}

func newBuilders() map[string]*Builder {
	return map[string]*Builder{
		"1": NewBuilder("m", "1", allKinds, []string{"no", "yes"}),
		"2": NewBuilder("m", "2", allKinds, nil),
	}
}

// crash drops a WAL as a killed process would: nothing flushed or
// removed, its lock released.
func crash(w *WAL) {
	w.f.Close()
	w.lock.Close()
}

// reopen opens the WAL in dir again (after a crash); the test's end closes
// it.
func reopen(t *testing.T, dir string) *WAL {
	t.Helper()
	w, err := OpenWAL(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// replay reopens the WAL in dir and replays it into a sink: the WAL, what
// the sink received and the replay's counts.
func replay(t *testing.T, dir string) (*WAL, *sink, Replayed) {
	t.Helper()
	w := reopen(t, dir)
	var got sink
	rep, err := w.Replay(context.Background(), &got)
	if err != nil {
		t.Fatal(err)
	}
	return w, &got, rep
}

// TestWALReplay stores, after a crash, exactly the batches the server's
// builders held: the same Parquet bytes, and the feedback.
func TestWALReplay(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wal")
	w, err := OpenWAL(dir)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	want := newBuilders()
	addRequests(w, want, t0)
	if w.Rows() != 20 || w.Feedback() != 1 {
		t.Fatalf("added %d rows and %d labels, want 20 and 1", w.Rows(), w.Feedback())
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	crash(w)

	w2, got, rep := replay(t, dir)
	if rep != (Replayed{Segments: 1, Rows: 20, Feedback: 1}) {
		t.Errorf("replay: %+v", rep)
	}
	if len(got.batches) != 2 || len(got.feedback) != 1 || got.feedback[0] != (Feedback{Model: "m", RequestID: "req-a", Row: 2, Label: "yes", Time: t0}) {
		t.Fatalf("replayed %d batches, feedback %+v", len(got.batches), got.feedback)
	}
	for _, b := range got.batches {
		if !bytes.Equal(parquetBytes(t, b), parquetBytes(t, want[b.Version].Batch())) {
			t.Errorf("version %s: the replayed batch differs from the builder's", b.Version)
		}
	}
	if segs, _ := segments(dir); len(segs) != 1 || segs[0] != w2.seq {
		t.Errorf("segments after replay: %v, want only the open one %d", segs, w2.seq)
	}
}

// TestWALTornTail drops a record cut short, or corrupt, at a segment's
// end, counts its bytes and keeps the records before it.
func TestWALTornTail(t *testing.T) {
	for _, tc := range []struct {
		name string
		tear func(data []byte) []byte
	}{
		{"cut in the payload", func(d []byte) []byte { return d[:len(d)-3] }},
		{"cut in the header", func(d []byte) []byte { return append(d, 9, 0, 0) }},
		{"bit flipped", func(d []byte) []byte { d[len(d)-1] ^= 1; return d }},
		{"zeros after a crash", func(d []byte) []byte { return append(d, make([]byte, 4096)...) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			w, err := OpenWAL(dir)
			if err != nil {
				t.Fatal(err)
			}
			schema := frame.Schema{Fields: []frame.Field{{Name: "x", Kind: frame.KindFloat}}}
			var keep int64 // the file's size before the last record
			for i := range 10 {
				keep = w.size
				w.AddRow("m", "1", schema, "r", time.Unix(int64(i), 0), time.Millisecond, []float64{float64(i)}, []string{""}, []bool{true}, &bundle.Prediction{Values: []float64{1}})
				if err := w.Sync(); err != nil {
					t.Fatal(err)
				}
			}
			path := w.f.Name()
			crash(w)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			torn := tc.tear(data)
			if err := os.WriteFile(path, torn, 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, rep := replay(t, dir)
			wantRows, dropped := 9, int64(len(torn))-keep
			if len(torn) > len(data) { // garbage after the last whole record
				wantRows, dropped = 10, int64(len(torn)-len(data))
			}
			if rep.Rows != wantRows || rep.TornSegments != 1 || rep.TornBytes != dropped {
				t.Errorf("replay: %+v, want %d rows and %d torn bytes", rep, wantRows, dropped)
			}
		})
	}
}

// TestWALCut hands a cut segment's batches over and removes its file once
// they are stored; a second server cannot open a directory in use.
func TestWALCut(t *testing.T) {
	dir := t.TempDir()
	w, err := OpenWAL(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenWAL(dir); err == nil || !strings.Contains(err.Error(), "another process") {
		t.Errorf("a second open: %v", err)
	}
	if seg, err := w.Cut(); seg != nil || err != nil {
		t.Errorf("cutting an empty segment: %v %v", seg, err)
	}
	want := newBuilders()
	addRequests(w, want, time.Unix(1e9, 0))
	seg, err := w.Cut()
	if err != nil {
		t.Fatal(err)
	}
	if len(seg.Batches) != 2 || len(seg.Feedback) != 1 || w.Rows() != 0 {
		t.Fatalf("cut: %d batches, %d labels; %d rows left", len(seg.Batches), len(seg.Feedback), w.Rows())
	}
	if _, err := os.Stat(seg.path); err != nil {
		t.Fatalf("the cut segment's file before Done: %v", err)
	}
	if err := seg.Done(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if segs, _ := segments(dir); len(segs) != 0 {
		t.Errorf("segments left after Done and Close: %v", segs)
	}
}

// TestWALReplayIntoLog replays a segment whose batches were stored already
// (a crash between storing and removing): the log counts each row once.
func TestWALReplayIntoLog(t *testing.T) {
	ctx := context.Background()
	for name, l := range testLogs(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			w, err := OpenWAL(dir)
			if err != nil {
				t.Fatal(err)
			}
			model := "wal-" + name + "-" + time.Now().Format("150405.000000000")
			schema := frame.Schema{Fields: []frame.Field{{Name: "x", Kind: frame.KindFloat}}}
			for i := range 100 {
				w.AddRow(model, "1", schema, "r", time.Unix(int64(i), 0), time.Millisecond, []float64{float64(i)}, []string{""}, []bool{true}, &bundle.Prediction{Values: []float64{1}})
			}
			seg, err := w.Cut()
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range seg.Batches {
				if err := l.LogPredictions(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
			crash(w) // before seg.Done
			if rep, err := reopen(t, dir).Replay(ctx, l); err != nil || rep.Rows != 100 {
				t.Fatalf("replay: %+v %v", rep, err)
			}
			if n, _, err := l.Count(ctx, model, time.Time{}); err != nil || n != 100 {
				t.Errorf("logged rows after the replay: %d %v, want 100", n, err)
			}
		})
	}
}
