package parquetio

import (
	"bytes"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/frame/frametest"
)

// TestWriterStreamRoundTrip writes adult through Writer in chunks with small
// row groups and streams it back group by group.
func TestWriterStreamRoundTrip(t *testing.T) {
	want := frametest.LoadAdult(t, frametest.Example(t, "adult", "adult.train.csv"))
	var buf bytes.Buffer
	w, err := NewWriter(&buf, want)
	if err != nil {
		t.Fatal(err)
	}
	w.group = 1000 // many row groups
	n := want.NumRows()
	for lo := 0; lo < n; lo += 777 {
		if err := w.Write(want.Slice(lo, min(lo+777, n))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	whole, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "mem")
	if err != nil {
		t.Fatal(err)
	}
	frametest.AssertEqual(t, whole, want)
	row, groups := 0, 0
	err = Stream(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "mem", []string{"education", "age"}, func(f *frame.Frame, total int64) error {
		if total != int64(n) {
			t.Errorf("total %d, want %d", total, n)
		}
		sub, err := want.Slice(row, row+f.NumRows()).Select("education", "age")
		if err != nil {
			return err
		}
		frametest.AssertEqual(t, f, sub)
		row += f.NumRows()
		groups++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if row != n || groups < n/1000 {
		t.Errorf("streamed %d rows in %d groups", row, groups)
	}
}
