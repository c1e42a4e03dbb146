package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/klauspost/compress/zstd"

	"github.com/gyre-ml/gyre/internal/frame"
)

// TestContentChecks: files are read for what they hold, not parsed as
// CSV whatever they are.
func TestContentChecks(t *testing.T) {
	adult, err := os.ReadFile("../../examples/data/adult/adult.test.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(adult), "\n")
	text := strings.Join(lines[:50], "")
	want, err := readString(t, "a.csv", text, Options{})
	if err != nil {
		t.Fatal(err)
	}
	enc := func(s string, be, bom bool) string {
		u := utf16.Encode([]rune(s))
		if bom {
			u = append([]uint16{0xfeff}, u...)
		}
		b := make([]byte, 0, 2*len(u))
		for _, x := range u {
			if be {
				b = append(b, byte(x>>8), byte(x))
			} else {
				b = append(b, byte(x), byte(x>>8))
			}
		}
		return string(b)
	}
	for _, c := range []struct {
		name    string
		be, bom bool
	}{{"utf16le-nobom.csv", false, false}, {"utf16be-bom.csv", true, true}, {"utf16le-bom.csv", false, true}} {
		got, err := readString(t, c.name, enc(text, c.be, c.bom), Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got.NumRows() != want.NumRows() || strings.Join(got.Names(), ",") != strings.Join(want.Names(), ",") || got.Columns()[1].Format(3) != want.Columns()[1].Format(3) {
			t.Errorf("%s: %d rows %v, want %d rows %v", c.name, got.NumRows(), got.Names(), want.NumRows(), want.Names())
		}
	}
	for _, c := range []struct{ name, text, want string }{
		{"nul.csv", "a,b\n1,\x002\n3,4\n", "NUL byte (0x00) at byte 6"},
		{"data.avro", "Obj\x01\x04\x16avro.schema", "Avro"},
		{"data.csv", "Obj\x01\x04\x16avro.schema", "Avro"},
		{"old.xls", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", ".xls"},
		{"dup.csv", "a,b,a\n1,2,3\n", `column "a"`},
	} {
		_, err := readString(t, c.name, c.text, Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%s: %v, want an error naming the file and %q", c.name, err, c.want)
		}
		if c.name != "dup.csv" && !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v is not ErrFormat", c.name, err)
		}
	}
}

// TestCompressedAndJSONArray reads adult's test rows as bzip2 and zstd
// CSV and as a JSON array of objects (pandas' to_json(orient="records")
// form), and compares them with the CSV.
func TestCompressedAndJSONArray(t *testing.T) {
	src := "../../examples/data/adult/adult.test.csv"
	want, err := Read(t.Context(), src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(src)
	dir := t.TempDir()
	var zb bytes.Buffer
	zw, _ := zstd.NewWriter(&zb)
	zw.Write(raw)
	zw.Close()
	os.WriteFile(filepath.Join(dir, "a.csv.zst"), zb.Bytes(), 0o644)
	// bzip2 has no writer in the standard library: the system's bzip2.
	if bz, err := exec.Command("bzip2", "-c", src).Output(); err == nil {
		os.WriteFile(filepath.Join(dir, "a.csv.bz2"), bz, 0o644)
	} else {
		t.Log("no bzip2 command: the bzip2 case is skipped")
	}
	// The JSON array: one object per row, values as their CSV text typed.
	var arr []map[string]any
	for i := 0; i < want.NumRows(); i++ {
		rec := map[string]any{}
		for _, c := range want.Columns() {
			if c.IsNull(i) {
				rec[c.Name()] = nil
			} else if v, ok := frame.Value(c, i); ok && c.Kind() != frame.KindTime {
				rec[c.Name()] = v
			} else {
				rec[c.Name()] = c.Format(i)
			}
		}
		arr = append(arr, rec)
	}
	js, _ := json.Marshal(arr)
	os.WriteFile(filepath.Join(dir, "a.json"), js, 0o644)
	for _, name := range []string{"a.csv.zst", "a.csv.bz2", "a.json"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		got, err := Read(t.Context(), p, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.NumRows() != want.NumRows() || got.NumCols() != want.NumCols() {
			t.Fatalf("%s: %d×%d, want %d×%d", name, got.NumRows(), got.NumCols(), want.NumRows(), want.NumCols())
		}
		for _, c := range want.Columns() {
			g, err := got.Column(c.Name())
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, i := range []int{0, 1, want.NumRows() / 2, want.NumRows() - 1} {
				if g.Format(i) != c.Format(i) {
					t.Errorf("%s: %s row %d = %q, want %q", name, c.Name(), i, g.Format(i), c.Format(i))
				}
			}
		}
	}
	for _, bad := range []string{`[1, 2]`, `[{"a": 1}, 3]`, `[{"a": 1}`} {
		if _, err := readString(t, "bad.json", bad, Options{}); err == nil || !strings.Contains(err.Error(), "bad.json") {
			t.Errorf("%s: %v, want an error naming the file", bad, err)
		}
	}
}
