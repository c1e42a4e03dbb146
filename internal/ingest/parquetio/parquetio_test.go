package parquetio

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/frame/frametest"
)

func TestRoundTripAllKinds(t *testing.T) {
	path := roundTrip(t, allKinds(t), "all.parquet")
	// No temporary files are left behind.
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries, want only the parquet file", len(ents))
	}
}

func TestRoundTripAdult(t *testing.T) {
	want := frametest.LoadAdult(t, frametest.Example(t, "adult", "adult.train.csv"))
	if want.NumRows() != 39074 {
		t.Fatalf("adult: %d rows, want 39074", want.NumRows())
	}
	roundTrip(t, want, "adult.parquet")
}

// roundTrip writes want to a file name in a temporary directory, reads it
// back, checks it is unchanged and returns the file's path.
func roundTrip(t *testing.T, want *frame.Frame, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := WriteFile(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	frametest.AssertEqual(t, got, want)
	return path
}

func TestRoundTripEdgeShapes(t *testing.T) {
	tests := []struct {
		name string
		f    *frame.Frame
	}{
		{"zero rows", frame.MustNew(frame.NewFloat("x", []float64{}), frame.NewCategorical("c", []string{}, nil))},
		{"all missing", frame.MustNew(&frame.Int{ColName: "x", Values: make([]int64, 3), Valid: frame.Validity{0}},
			frame.NewCategorical("c", []string{"", "", ""}, []bool{true, true, true}))},
		{"weird names", frame.MustNew(frame.NewInt("a b", []int64{1}), frame.NewInt("é.x", []int64{2}), frame.NewInt("Z", []int64{3}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tt.f); err != nil {
				t.Fatal(err)
			}
			got, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()), tt.name)
			if err != nil {
				t.Fatal(err)
			}
			frametest.AssertEqual(t, got, tt.f)
		})
	}
}

func TestWriteFileReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.parquet")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, allKinds(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(filepath.Join(dir, "missing-dir", "x.parquet"), allKinds(t)); err == nil {
		t.Fatal("write into a missing directory: want error")
	}
}

// foreignRow uses physical and logical types Gyre never writes itself.
type foreignRow struct {
	I32  int32     `parquet:"i32"`
	U32  uint32    `parquet:"u32"`
	F32  float32   `parquet:"f32"`
	Req  string    `parquet:"req"`
	Opt  *string   `parquet:"opt,optional"`
	Day  int32     `parquet:"day,date"` // days since 1970-01-01
	Ms   time.Time `parquet:"ms,timestamp(millisecond)"`
	Us   *int64    `parquet:"us,optional,timestamp(microsecond)"`
	Dec  int64     `parquet:"dec,decimal(2:18)"`
	OptI *int32    `parquet:"opt_i,optional"`
	Bin  []byte    `parquet:"bin"`
}

func TestReadForeignTypes(t *testing.T) {
	var rows []foreignRow
	base := time.Date(2024, 2, 29, 13, 14, 15, 678_000_000, time.UTC)
	for i := range 5000 {
		r := foreignRow{
			I32: int32(i - 2500), U32: uint32(4_000_000_000 + i), F32: float32(i) / 4,
			Req: []string{"a", "b", "c"}[i%3],
			Day: int32(base.AddDate(0, 0, i).Unix() / 86400),
			Ms:  base.Add(time.Duration(i) * time.Second),
			Dec: int64(i*100 + 25), Bin: []byte{byte(i), 'x', byte(i >> 8)},
		}
		if i%4 != 0 {
			s := "free text " + strings.Repeat("z", i%50) + itoa(int64(i))
			r.Opt = &s
			us := base.Add(time.Duration(i) * time.Microsecond).UnixMicro()
			r.Us = &us
			v := int32(i)
			r.OptI = &v
		}
		rows = append(rows, r)
	}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[foreignRow](&buf, parquet.MaxRowsPerRowGroup(700), parquet.Compression(&parquet.Snappy))
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "foreign")
	if err != nil {
		t.Fatal(err)
	}
	wantKinds := map[string]frame.Kind{"i32": frame.KindInt, "u32": frame.KindInt, "f32": frame.KindFloat, "req": frame.KindCategorical,
		"opt": frame.KindString, "day": frame.KindTime, "ms": frame.KindTime, "us": frame.KindTime, "dec": frame.KindFloat,
		"opt_i": frame.KindInt, "bin": frame.KindString}
	if f.NumRows() != len(rows) || f.NumCols() != len(wantKinds) {
		t.Fatalf("got %d×%d, want %d×%d", f.NumRows(), f.NumCols(), len(rows), len(wantKinds))
	}
	for name, k := range wantKinds {
		c, err := f.Column(name)
		if err != nil {
			t.Fatal(err)
		}
		if c.Kind() != k {
			t.Errorf("column %s: got kind %s, want %s", name, c.Kind(), k)
		}
	}
	col := func(name string) frame.Column { c, _ := f.Column(name); return c }
	for _, i := range []int{0, 1, 699, 700, 701, 2222, 4999} {
		r := rows[i]
		checks := []struct{ name, got, want string }{
			{"i32", col("i32").Format(i), itoa(int64(r.I32))},
			{"u32", col("u32").Format(i), itoa(int64(r.U32))},
			{"f32", col("f32").Format(i), ftoa(float64(r.F32))},
			{"req", col("req").Format(i), r.Req},
			{"day", col("day").Format(i), time.Unix(int64(r.Day)*86400, 0).UTC().Format(time.RFC3339Nano)},
			{"ms", col("ms").Format(i), r.Ms.Format(time.RFC3339Nano)},
			{"dec", col("dec").Format(i), ftoa(float64(r.Dec) / 100)},
			{"bin", col("bin").Format(i), string(r.Bin)},
		}
		if r.Opt != nil {
			checks = append(checks,
				struct{ name, got, want string }{"opt", col("opt").Format(i), *r.Opt},
				struct{ name, got, want string }{"us", col("us").Format(i), time.UnixMicro(*r.Us).UTC().Format(time.RFC3339Nano)},
				struct{ name, got, want string }{"opt_i", col("opt_i").Format(i), itoa(int64(*r.OptI))})
		} else {
			for _, n := range []string{"opt", "us", "opt_i"} {
				if !col(n).IsNull(i) {
					t.Errorf("row %d column %s: want missing", i, n)
				}
			}
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("row %d column %s: got %q, want %q", i, c.name, c.got, c.want)
			}
		}
	}
}

func TestReadErrors(t *testing.T) {
	var good bytes.Buffer
	if err := Write(&good, allKinds(t)); err != nil {
		t.Fatal(err)
	}
	type nested struct {
		ID   int64    `parquet:"id"`
		Tags []string `parquet:"tags,list"`
	}
	var rep bytes.Buffer
	nw := parquet.NewGenericWriter[nested](&rep)
	if _, err := nw.Write([]nested{{1, []string{"a"}}}); err != nil {
		t.Fatal(err)
	}
	if err := nw.Close(); err != nil {
		t.Fatal(err)
	}
	corrupt := append([]byte(nil), good.Bytes()...)
	for i := 100; i < len(corrupt)/2; i += 7 {
		corrupt[i] ^= 0x5a
	}
	tests := []struct {
		name string
		data []byte
		want []string
	}{
		{"empty", nil, []string{"empty.parquet"}},
		{"garbage", []byte(strings.Repeat("not parquet at all ", 50)), []string{"garbage.parquet"}},
		{"truncated", good.Bytes()[:good.Len()/2], []string{"truncated.parquet"}},
		{"truncated footer", good.Bytes()[:good.Len()-10], []string{"truncated footer.parquet"}},
		{"corrupt pages", corrupt, []string{"corrupt pages.parquet"}},
		{"repeated", rep.Bytes(), []string{"repeated.parquet", `"tags"`, "not supported"}},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".parquet")
			if err := os.WriteFile(path, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadFile(path)
			if err == nil {
				t.Fatal("got nil error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := ReadFile(filepath.Join(dir, "nope.parquet")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v, want os.ErrNotExist", err)
	}
}

func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	small := frame.MustNew(frame.NewInt("i", []int64{1, 2, 3}), frame.NewCategorical("c", []string{"a", "b", "a"}, nil),
		&frame.String{ColName: "s", Values: []string{"x", "", "z"}, Valid: frame.Validity{0b101}})
	if err := Write(&buf, small); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:buf.Len()-20])
	f.Add([]byte("PAR1PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := Read(bytes.NewReader(data), int64(len(data)), "fuzz")
		if err != nil {
			return
		}
		// Whatever was read must write and read back identically.
		var out bytes.Buffer
		if err := Write(&out, fr); err != nil {
			if fr.NumCols() == 0 {
				return
			}
			t.Fatalf("rewrite: %v", err)
		}
		again, err := Read(bytes.NewReader(out.Bytes()), int64(out.Len()), "rewrite")
		if err != nil {
			t.Fatalf("reread: %v", err)
		}
		frametest.AssertEqual(t, again, fr)
	})
}
