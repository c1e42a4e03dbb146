package arrowipc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
)

const fixtures = "../../../testdata/ingest/arrow"

// expected is the JSON dump beside a fixture: what the library that wrote
// the file reads back from it.
type expected struct {
	Rows    int `json:"rows"`
	Columns []struct {
		Name   string `json:"name"`
		Type   string `json:"type"`
		Values []any  `json:"values"`
	} `json:"columns"`
}

func loadExpected(t *testing.T, file string) expected {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, file+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var e expected
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&e); err != nil {
		t.Fatal(err)
	}
	return e
}

// timeUnit says, per fixture, in what unit the dump gives a time column's
// values (nanoseconds per unit) and how far off a value may be (the
// JavaScript library rounds nanoseconds to float milliseconds).
type timeUnit struct {
	ns  float64
	tol float64
}

func checkAgainst(t *testing.T, f *frame.Frame, e expected, units map[string]timeUnit) {
	t.Helper()
	if f.NumRows() != e.Rows {
		t.Fatalf("%d rows, want %d", f.NumRows(), e.Rows)
	}
	if len(f.Names()) != len(e.Columns) {
		t.Fatalf("columns %v, want %d", f.Names(), len(e.Columns))
	}
	for j, ec := range e.Columns {
		c := f.Col(j)
		if c.Name() != ec.Name {
			t.Fatalf("column %d is %q, want %q", j, c.Name(), ec.Name)
		}
		bad := 0
		for i, want := range ec.Values {
			if err := checkValue(c, i, want, units[ec.Name]); err != nil {
				t.Errorf("column %q (%s read as %s) row %d: %v", ec.Name, ec.Type, c.Kind(), i, err)
				if bad++; bad > 3 {
					break
				}
			}
		}
	}
}

func checkValue(c frame.Column, i int, want any, u timeUnit) error {
	if want == nil {
		if !c.IsNull(i) {
			return fmt.Errorf("got %q, want null", c.Format(i))
		}
		return nil
	}
	if c.IsNull(i) {
		return fmt.Errorf("got null, want %v", want)
	}
	switch col := c.(type) {
	case *frame.Int:
		w, err := strconv.ParseInt(fmt.Sprint(want), 10, 64)
		if err != nil || col.Values[i] != w {
			return fmt.Errorf("got %d, want %v", col.Values[i], want)
		}
	case *frame.Float:
		got := col.Values[i]
		if want == "NaN" {
			if !math.IsNaN(got) {
				return fmt.Errorf("got %v, want NaN", got)
			}
			return nil
		}
		w, err := strconv.ParseFloat(fmt.Sprint(want), 64)
		if err != nil || got != w {
			return fmt.Errorf("got %v, want %v", got, want)
		}
	case *frame.Bool:
		if w, ok := want.(bool); !ok || col.Values[i] != w {
			return fmt.Errorf("got %v, want %v", col.Values[i], want)
		}
	case *frame.Time:
		w, err := strconv.ParseFloat(fmt.Sprint(want), 64)
		if err != nil {
			return err
		}
		if u.ns == 0 {
			return fmt.Errorf("no unit for the time column")
		}
		// Compare exactly in integers when the dump is exact.
		if u.tol == 0 {
			wi, _ := strconv.ParseInt(fmt.Sprint(want), 10, 64)
			if col.Values[i] != wi*int64(u.ns) {
				return fmt.Errorf("got %d ns, want %d x %v", col.Values[i], wi, u.ns)
			}
			return nil
		}
		if got := float64(col.Values[i]) / u.ns; math.Abs(got-w) > u.tol {
			return fmt.Errorf("got %v, want %v", got, w)
		}
	default:
		if got := c.Format(i); got != want {
			return fmt.Errorf("got %q, want %q", got, want)
		}
	}
	return nil
}

var jsUnits = map[string]timeUnit{
	"d32": {1e6, 0}, "d64": {1e6, 0}, "ts_s": {1e6, 0}, "ts_ms": {1e6, 0}, "ts_us": {1e6, 0},
	"ts_ns": {1e6, 1e-3}, "observed": {1e6, 0},
}

var polarsUnits = map[string]timeUnit{"day": {86400e9, 0}, "at_ns": {1, 0}, "at_us": {1e3, 0}}

// Files written by apache-arrow (JavaScript) and Polars (Rust) read as those
// libraries read them back: every integer width, float16/32/64, bool, utf8,
// large_utf8 and utf8_view, dates, timestamps in each unit with zones,
// dictionaries (one per file, replaced per batch in a stream), nulls, and
// LZ4_FRAME and ZSTD compressed bodies, in the file and stream formats.
func TestReadAgainstWriters(t *testing.T) {
	for _, tc := range []struct {
		file  string
		units map[string]timeUnit
	}{
		{"types.arrow", jsUnits},
		{"types.arrows", jsUnits},
		{"lz4.feather", polarsUnits},
		{"zstd.arrow", polarsUnits},
		{"zstd.arrows", polarsUnits},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f, err := ReadFile(filepath.Join(fixtures, tc.file), tc.file, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkAgainst(t, f, loadExpected(t, tc.file), tc.units)
		})
	}
}

// The kinds the reader gives: integers of any width are int, text with
// few distinct values and dictionaries are categorical, the rest by type.
func TestKinds(t *testing.T) {
	f, err := ReadFile(filepath.Join(fixtures, "types.arrow"), "types.arrow", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]frame.Kind{
		"i8": frame.KindInt, "u64": frame.KindInt, "f16": frame.KindFloat, "f32": frame.KindFloat,
		"flag": frame.KindBool, "text": frame.KindCategorical, "large": frame.KindString,
		"d32": frame.KindTime, "ts_ns": frame.KindTime, "colour": frame.KindCategorical,
	}
	for name, k := range want {
		c, err := f.Column(name)
		if err != nil || c.Kind() != k {
			t.Errorf("%s: %v %v, want %s", name, c.Kind(), err, k)
		}
	}
	if c, _ := f.Column("colour"); strings.Join(c.(*frame.Categorical).Levels, ",") != "red,green,violet,blue" {
		t.Errorf("colour levels %v, want the dictionary's", c.(*frame.Categorical).Levels)
	}
}

// Next yields one frame per record batch, with the batch's rows.
func TestNextBatches(t *testing.T) {
	for _, file := range []string{"types.arrow", "types.arrows", "zstd.arrows", "lz4.feather"} {
		r, fh, err := Open(filepath.Join(fixtures, file), file, []string{"colour", "i8", "id", "ok"})
		if err != nil {
			t.Fatal(err)
		}
		var sizes []int
		for {
			f, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if len(f.Names()) != 2 {
				t.Fatalf("%s: columns %v, want the two the file has", file, f.Names())
			}
			sizes = append(sizes, f.NumRows())
		}
		fh.Close()
		total := 0
		for _, n := range sizes {
			total += n
		}
		// Polars's stream writer writes one batch; the others write three.
		if len(sizes) < 3 && file != "zstd.arrows" || (total != 9 && total != 900) {
			t.Errorf("%s: batches of %v rows", file, sizes)
		}
	}
}

// An unsupported type is an error naming the file, the column and the
// Arrow type; leaving the column out reads the others past it.
func TestUnsupported(t *testing.T) {
	path := filepath.Join(fixtures, "unsupported.arrow")
	_, err := ReadFile(path, "unsupported.arrow", nil)
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), `unsupported.arrow: column "tags": Arrow type list<int32>`) {
		t.Errorf("got %v", err)
	}
	_, err = ReadFile(path, "unsupported.arrow", []string{"id", "point"})
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), `column "point": Arrow type struct<int32, int32>`) {
		t.Errorf("got %v", err)
	}
	_, err = ReadFile(path, "unsupported.arrow", []string{"blob"})
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), `column "blob": Arrow type binary`) {
		t.Errorf("got %v", err)
	}
	f, err := ReadFile(path, "unsupported.arrow", []string{"after", "id"})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%v %s %s", f.Names(), f.Col(0).Format(2), f.Col(1).Format(2)); got != "[after id] c 3" {
		t.Errorf("got %s", got)
	}
}

// A uint64 past int64's range is an error naming the column and row.
func TestUint64Overflow(t *testing.T) {
	_, err := ReadFile(filepath.Join(fixtures, "big.arrow"), "big.arrow", nil)
	if err == nil || !strings.Contains(err.Error(), `big.arrow: column "n": row 2: uint64 value 9223372036854775808`) {
		t.Errorf("got %v", err)
	}
}

func TestFeatherV1Refused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.feather")
	os.WriteFile(path, []byte("FEA1\x00\x00\x00\x00rest of an old file FEA1"), 0o600)
	_, err := ReadFile(path, "old.feather", nil)
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "Feather v1") {
		t.Errorf("got %v", err)
	}
}

// Every truncation of a file or stream and random corruption of its bytes
// is an error or a read, never a panic; a file cut anywhere is an error
// (its footer is gone), and so is a stream cut inside a message.
func TestTruncatedAndCorrupt(t *testing.T) {
	for _, file := range []string{"types.arrow", "types.arrows", "zstd.arrows", "lz4.feather"} {
		data, err := os.ReadFile(filepath.Join(fixtures, file))
		if err != nil {
			t.Fatal(err)
		}
		stream := strings.HasSuffix(file, ".arrows")
		step := max(1, len(data)/400)
		for n := 0; n < len(data); n += step {
			r := bytes.NewReader(data[:n])
			rd, err := NewReader(r, int64(n), file, nil)
			if err == nil {
				_, err = rd.ReadAll()
			}
			if err == nil && !stream {
				t.Fatalf("%s cut at %d of %d bytes: no error", file, n, len(data))
			}
		}
		rng := rand.New(rand.NewSource(1))
		for k := 0; k < 300; k++ {
			b := append([]byte(nil), data...)
			for m := 0; m < 1+rng.Intn(4); m++ {
				b[rng.Intn(len(b))] = byte(rng.Intn(256))
			}
			rd, err := NewReader(bytes.NewReader(b), int64(len(b)), file, nil)
			if err == nil {
				rd.ReadAll()
			}
		}
	}
}

// A stream cut at a message boundary (no end-of-stream marker) reads the
// batches before the cut, as Arrow's readers do; cut inside a message it is
// an error naming the byte offset.
func TestStreamEnd(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(fixtures, "types.arrows"))
	if err != nil {
		t.Fatal(err)
	}
	noEOS := data[:len(data)-8]
	rd, err := NewReader(bytes.NewReader(noEOS), int64(len(noEOS)), "s", nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := rd.ReadAll()
	if err != nil || f.NumRows() != 9 {
		t.Fatalf("without EOS: %v", err)
	}
	cut := data[:len(data)-20]
	rd, err = NewReader(bytes.NewReader(cut), int64(len(cut)), "s", nil)
	if err == nil {
		_, err = rd.ReadAll()
	}
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "at byte") {
		t.Errorf("cut: %v", err)
	}
}

func TestDecimal(t *testing.T) {
	le := func(words ...uint64) []byte {
		var b []byte
		for _, w := range words {
			b = append(b, byte(w), byte(w>>8), byte(w>>16), byte(w>>24), byte(w>>32), byte(w>>40), byte(w>>48), byte(w>>56))
		}
		return b
	}
	for _, tc := range []struct {
		b    []byte
		want float64
	}{
		{le(12345, 0), 12345},
		{le(^uint64(0), ^uint64(0)), -1},
		{le(0, 1), 18446744073709551616},
		{le(^uint64(122), ^uint64(0), ^uint64(0), ^uint64(0)), -123},
		{[]byte{0xff, 0xff, 0xff, 0xff}, -1},
	} {
		if got := decimal(tc.b); got != tc.want {
			t.Errorf("%x: %v, want %v", tc.b, got, tc.want)
		}
	}
}
