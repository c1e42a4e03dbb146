package frame

import (
	"errors"
	"math"
	"testing"
)

func sample(t *testing.T) *Frame {
	t.Helper()
	fv := &Float{ColName: "x", Values: []float64{1.5, 0, math.NaN(), 4}, Valid: NewValidity(4)}
	fv.Valid.SetNull(1)
	f, err := New(
		fv,
		NewInt("n", []int64{1, 2, 3, 4}),
		NewCategorical("c", []string{"a", "b", "", "a"}, []bool{false, false, true, false}),
		NewString("s", []string{"p", "q", "r", "s"}),
		NewBool("b", []bool{true, false, true, false}),
		NewTime("t", []int64{0, 1e9, 2e9, 3e9}),
	)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestValidityNullCount(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 65, 200} {
		v := NewValidity(n)
		if got := v.NullCount(n); got != 0 {
			t.Errorf("n=%d: NullCount of fresh bitmap = %d, want 0", n, got)
		}
		for i := 0; i < n; i += 3 {
			v.SetNull(i)
		}
		want := (n + 2) / 3
		if got := v.NullCount(n); got != want {
			t.Errorf("n=%d: NullCount = %d, want %d", n, got, want)
		}
	}
	var none Validity
	if !none.Valid(10) || none.NullCount(10) != 0 {
		t.Error("nil validity should mean all present")
	}
}

func TestFrameBasics(t *testing.T) {
	f := sample(t)
	if f.NumRows() != 4 || f.NumCols() != 6 {
		t.Fatalf("shape = %d×%d, want 4×6", f.NumRows(), f.NumCols())
	}
	x, _ := f.Column("x")
	if x.NullCount() != 1 || !x.IsNull(1) || x.IsNull(2) {
		t.Errorf("x missing tracking wrong: count %d", x.NullCount())
	}
	c, _ := f.Column("c")
	if c.NullCount() != 1 || c.Format(3) != "a" || c.Format(2) != "" {
		t.Errorf("categorical wrong: %d %q", c.NullCount(), c.Format(3))
	}
	if _, err := f.Column("nope"); !errors.Is(err, ErrNoColumn) {
		t.Errorf("missing column error = %v, want ErrNoColumn", err)
	}
	if _, err := New(NewInt("a", []int64{1}), NewInt("a", []int64{2})); err == nil {
		t.Error("duplicate names accepted")
	}
	if _, err := New(NewInt("a", []int64{1}), NewInt("b", []int64{1, 2})); err == nil {
		t.Error("unequal lengths accepted")
	}
}

func TestTakeKeepsMissing(t *testing.T) {
	f := sample(t)
	g := f.Take([]int{3, 1, 2})
	x, _ := g.Column("x")
	if x.IsNull(0) || !x.IsNull(1) || x.Format(0) != "4" {
		t.Errorf("take lost missing tracking: %v", x.(*Float).Values)
	}
	c, _ := g.Column("c")
	if c.Format(0) != "a" || !c.IsNull(2) {
		t.Errorf("take broke categorical: %q", c.Format(0))
	}
	if f.NumRows() != 4 {
		t.Error("take modified the parent")
	}
	v := f.Rows([]int{0, 2})
	if v.NumRows() != 2 || v.Frame().NumRows() != 2 {
		t.Error("view size wrong")
	}
}

func TestSelectDropWithRoles(t *testing.T) {
	f := sample(t)
	if err := f.SetRole("n", RoleTarget); err != nil {
		t.Fatal(err)
	}
	s, err := f.Select("n", "x")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Names(); got[0] != "n" || got[1] != "x" || s.Role(0) != RoleTarget {
		t.Errorf("select = %v roles %v", got, s.Schema())
	}
	d, err := f.Drop("s", "t")
	if err != nil || d.NumCols() != 4 {
		t.Fatalf("drop: %v, %d cols", err, d.NumCols())
	}
	w, err := f.With(NewInt("n", []int64{9, 9, 9, 9}))
	if err != nil || w.NumCols() != 6 || w.Role(1) != RoleTarget {
		t.Fatalf("with replace: %v", err)
	}
	if orig, _ := f.Column("n"); orig.Format(0) != "1" {
		t.Error("With modified the original frame")
	}
	if _, err := f.With(NewInt("z", []int64{1})); err == nil {
		t.Error("With accepted a column of the wrong length")
	}
}

func TestParseKindRole(t *testing.T) {
	for _, s := range []string{"float", "int64", "Boolean", "text", "category", "datetime"} {
		if _, err := ParseKind(s); err != nil {
			t.Errorf("ParseKind(%q): %v", s, err)
		}
	}
	if _, err := ParseKind("decimal"); err == nil {
		t.Error("ParseKind accepted decimal")
	}
	if r, err := ParseRole("Target"); err != nil || r != RoleTarget {
		t.Errorf("ParseRole = %v, %v", r, err)
	}
}

func TestMatrix(t *testing.T) {
	m, err := FromRows([][]float64{{1, 2}, {3, 4}, {5, 6}})
	if err != nil {
		t.Fatal(err)
	}
	if m.At(2, 1) != 6 || m.Col(0)[1] != 3 {
		t.Errorf("matrix layout wrong: %v", m.Data)
	}
	tk := m.Take([]int{2, 0})
	if got := tk.Row(0, nil); got[0] != 5 || got[1] != 6 {
		t.Errorf("take row = %v", got)
	}
	if _, err := FromRows([][]float64{{1}, {1, 2}}); err == nil {
		t.Error("ragged rows accepted")
	}
}
