package parquetio

import (
	"math"
	"strconv"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
)

// allKinds returns a frame with one column of every kind, with missing values.
func allKinds(t testing.TB) *frame.Frame {
	t.Helper()
	n := 300
	fl := &frame.Float{ColName: "f", Values: make([]float64, n), Valid: frame.NewValidity(n)}
	in := &frame.Int{ColName: "i", Values: make([]int64, n), Valid: frame.NewValidity(n)}
	bo := &frame.Bool{ColName: "b", Values: make([]bool, n), Valid: frame.NewValidity(n)}
	st := &frame.String{ColName: "s", Values: make([]string, n), Valid: frame.NewValidity(n)}
	tm := &frame.Time{ColName: "t", Values: make([]int64, n), Valid: frame.NewValidity(n)}
	vals, miss := make([]string, n), make([]bool, n)
	for i := range n {
		fl.Values[i] = float64(i)*1.5 - 100
		in.Values[i] = int64(i*i) - 7 + math.MaxInt64/2
		bo.Values[i] = i%3 == 0
		st.Values[i] = "row ✓ " + strconv.Itoa(i%7)
		tm.Values[i] = 1_700_000_000_123_456_789 + int64(i)*3_600_000_000_001
		vals[i] = []string{"red", "green", "blue", ""}[i%4]
		miss[i] = i%5 == 0
		if i%7 == 0 {
			fl.Valid.SetNull(i)
			in.Valid.SetNull(i)
			bo.Valid.SetNull(i)
			st.Valid.SetNull(i)
			tm.Valid.SetNull(i)
		}
	}
	fl.Values[1] = math.NaN()
	fl.Values[2] = math.Inf(-1)
	st.Values[3] = ""
	cat := frame.NewCategorical("c", vals, miss)
	cat.Levels = append(cat.Levels, "unused level")
	f := frame.MustNew(fl, in, bo, st, cat, tm)
	if err := f.SetRole("c", frame.RoleTarget); err != nil {
		t.Fatal(err)
	}
	if err := f.SetRole("t", frame.RoleTime); err != nil {
		t.Fatal(err)
	}
	return f
}

func itoa(v int64) string   { return strconv.FormatInt(v, 10) }
func ftoa(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
