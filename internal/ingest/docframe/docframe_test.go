package docframe

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
)

func TestSampleWidensThenFixes(t *testing.T) {
	b := New(0)
	// Document 1: n int, x int, s text; document 2 lacks s, x becomes float,
	// mixed becomes text (int then text).
	b.StartRow()
	must(t, b.Int([]byte("n"), 1))
	must(t, b.Int([]byte("x"), 2))
	must(t, b.String([]byte("s"), []byte("a")))
	must(t, b.Int([]byte("mixed"), 7))
	b.StartRow()
	must(t, b.Int([]byte("n"), 2))
	must(t, b.Float([]byte("x"), 2.5))
	must(t, b.String([]byte("mixed"), []byte("seven")))
	b.Fix()
	b.StartRow()
	must(t, b.Int([]byte("n"), 3))
	must(t, b.Int([]byte("x"), 4)) // an int into a float column: accepted
	must(t, b.String([]byte("s"), []byte("b")))
	f, err := b.Frame()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]frame.Kind{"n": frame.KindInt, "x": frame.KindFloat, "s": frame.KindCategorical, "mixed": frame.KindCategorical}
	for name, k := range want {
		if got := f.Col(f.Index(name)).Kind(); got != k {
			t.Errorf("column %s: got %s, want %s", name, got, k)
		}
	}
	if got := fmt.Sprintf("%s %s", f.Col(f.Index("x")).Format(0), f.Col(f.Index("x")).Format(2)); got != "2 4" {
		t.Errorf("x: got %s, want 2 4", got)
	}
	if got := f.Col(f.Index("mixed")).Format(0); got != "7" {
		t.Errorf("mixed[0]: got %q, want the int as text", got)
	}
	if !f.Col(f.Index("s")).IsNull(1) || !f.Col(f.Index("mixed")).IsNull(2) {
		t.Error("a field a document lacks is not missing")
	}
}

func TestFixedKindRefusesOtherTypes(t *testing.T) {
	b := New(0)
	b.StartRow()
	must(t, b.Int([]byte("reading"), 5))
	b.Fix()
	b.StartRow()
	err := b.String([]byte("reading"), []byte("ninety"))
	var te *TypeError
	if !errors.As(err, &te) {
		t.Fatalf("got %v, want a *TypeError", err)
	}
	if te.Column != "reading" || te.Want != frame.KindInt || te.Got != "text" || te.Value != `"ninety"` || te.Declared {
		t.Errorf("got %+v", te)
	}
	// A float into an inferred int column is refused too (not truncated).
	if err := b.Float([]byte("reading"), 1.5); !errors.As(err, &te) {
		t.Errorf("float into int: got %v, want a *TypeError", err)
	}
}

func TestDeclaredKindsConvertLosslessly(t *testing.T) {
	b := New(0)
	b.Declare("n", frame.KindInt)
	b.Declare("when", frame.KindTime)
	b.Declare("code", frame.KindString)
	b.StartRow()
	must(t, b.Float([]byte("n"), 3))
	must(t, b.String([]byte("when"), []byte("2024-05-01T10:00:00Z")))
	must(t, b.Int([]byte("code"), 42))
	b.StartRow()
	var te *TypeError
	if err := b.Float([]byte("n"), 3.5); !errors.As(err, &te) || !te.Declared {
		t.Errorf("3.5 into a declared int: got %v, want a declared *TypeError", err)
	}
	f, err := b.Frame()
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Col(f.Index("when")).Format(0); got != "2024-05-01T10:00:00Z" {
		t.Errorf("when: got %q", got)
	}
	if c := f.Col(f.Index("code")); c.Kind() != frame.KindString || c.Format(0) != "42" {
		t.Errorf("code: got %s %q, want string 42", c.Kind(), c.Format(0))
	}
}

func TestLateFieldSkippedOnceAndRepeatsKeepFirst(t *testing.T) {
	b := New(0)
	var skipped []string
	b.Skipped = func(f string) { skipped = append(skipped, f) }
	b.StartRow()
	must(t, b.Int([]byte("a"), 1))
	must(t, b.Int([]byte("a"), 2)) // a repeated field: the first wins
	b.Fix()
	for range 3 {
		b.StartRow()
		must(t, b.Int([]byte("late"), 1))
	}
	f, err := b.Frame()
	if err != nil {
		t.Fatal(err)
	}
	if f.NumCols() != 1 || f.NumRows() != 4 || f.Col(0).Format(0) != "1" {
		t.Errorf("got %d cols × %d rows, a[0]=%s", f.NumCols(), f.NumRows(), f.Col(0).Format(0))
	}
	if len(skipped) != 1 || skipped[0] != "late" {
		t.Errorf("skipped: got %v, want [late] once", skipped)
	}
}

func TestLikeKeepsKindsAcrossChunks(t *testing.T) {
	b := New(0)
	b.StartRow()
	must(t, b.String([]byte("s"), []byte("x")))
	b.Null([]byte("empty"))
	b.Fix()
	if _, err := b.Frame(); err != nil {
		t.Fatal(err)
	}
	nb := b.Like()
	nb.StartRow()
	must(t, nb.String([]byte("s"), []byte("y")))
	must(t, nb.Float([]byte("empty"), 1.5))
	f, err := nb.Frame()
	if err != nil {
		t.Fatal(err)
	}
	if f.Col(0).Kind() != frame.KindCategorical || f.Col(1).Kind() != frame.KindFloat || f.Col(1).Format(0) != "1.5" {
		t.Errorf("second chunk: %s %s %q", f.Col(0).Kind(), f.Col(1).Kind(), f.Col(1).Format(0))
	}
}

func TestManyLevelsBecomeText(t *testing.T) {
	b := New(10)
	for i := range 50 {
		b.StartRow()
		must(t, b.String([]byte("id"), fmt.Appendf(nil, "u%03d", i)))
	}
	f, err := b.Frame()
	if err != nil {
		t.Fatal(err)
	}
	if c := f.Col(0); c.Kind() != frame.KindString || c.Format(49) != "u049" {
		t.Errorf("got %s %q, want string u049", c.Kind(), c.Format(49))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestAddJSON(t *testing.T) {
	b := New(0)
	msgs := []string{
		`{"a":{"b":1,"c":"x\"y\u00e9\ud83d\ude00"},"arr":[1,{"k":[2]}],"f":-1.5e2,"t":true,"z":null}`,
		`{"a":{"b":2},"arr":[],"f":3}`,
		`{"a":{"b":3}, "f": 1,}`,    // malformed: dropped
		`{"a":{"b":"three"},"f":1}`, // b becomes text during the sample
	}
	var bad int
	for _, m := range msgs {
		if err := b.AddJSON([]byte(m), false); err != nil {
			if !errors.Is(err, ErrJSON) {
				t.Errorf("%s: got %v, want ErrJSON", m, err)
			}
			bad++
		}
	}
	f, err := b.Frame()
	if err != nil {
		t.Fatal(err)
	}
	if bad != 1 || f.NumRows() != 3 {
		t.Fatalf("got %d bad, %d rows; want 1 and 3", bad, f.NumRows())
	}
	check := map[string][3]string{
		"a.b": {"1", "2", "three"},
		"a.c": {`x"yé😀`, "", ""},
		"arr": {`[1,{"k":[2]}]`, "[]", ""},
		"f":   {"-150", "3", "1"},
		"t":   {"true", "", ""},
	}
	for name, want := range check {
		c := f.Col(f.Index(name))
		for i, w := range want {
			if got := c.Format(i); got != w {
				t.Errorf("%s[%d]: got %q, want %q", name, i, got, w)
			}
		}
	}
	e := New(0)
	if err := e.AddJSON([]byte(`{"tags":["a","b"]}`), true); err != nil || e.Kind("tags.1") != frame.KindCategorical {
		t.Errorf("explode: %v, kinds %v", err, e.Names())
	}
}
