package ingest

import (
	"errors"
	"os"
	"strings"
	"testing"
	"unicode/utf16"
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
