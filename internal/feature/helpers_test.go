package feature

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
)

// mixedFrame builds a seeded frame of n rows with numeric, bool, text and
// time columns (some with missing values) and a binary target "y".
func mixedFrame(n int, seed uint64) *frame.Frame {
	r := rand.New(rand.NewPCG(seed, 1))
	age := make([]float64, n)
	ageValid := frame.NewValidity(n)
	count := make([]int64, n)
	flag := make([]bool, n)
	city := make([]string, n)
	cityMissing := make([]bool, n)
	note := make([]string, n)
	ts := make([]int64, n)
	y := make([]int64, n)
	cities := []string{"Paris", "paris ", "Berlin", "Rome", "Oslo", "Lima"}
	for i := 0; i < n; i++ {
		age[i] = math.Round(r.NormFloat64()*15+40) + 0.5
		if r.IntN(10) == 0 {
			ageValid.SetNull(i)
			age[i] = 0
		}
		count[i] = int64(r.IntN(100))
		flag[i] = r.IntN(2) == 0
		city[i] = cities[r.IntN(len(cities))]
		cityMissing[i] = r.IntN(20) == 0
		note[i] = fmt.Sprintf("w%d w%d", r.IntN(5), r.IntN(5))
		ts[i] = int64(1.6e18) + int64(r.IntN(1e6))*1e9
		p := 0.2
		if flag[i] {
			p += 0.4
		}
		if r.Float64() < p {
			y[i] = 1
		}
	}
	return frame.MustNew(
		&frame.Float{ColName: "age", Values: age, Valid: ageValid},
		frame.NewInt("count", count),
		frame.NewBool("flag", flag),
		frame.NewCategorical("city", city, cityMissing),
		frame.NewString("note", note),
		frame.NewTime("ts", ts),
		frame.NewInt("y", y),
	)
}

// equalFrames fails unless a and b have the same columns, kinds and
// bit-identical values.
func equalFrames(t *testing.T, a, b *frame.Frame) {
	t.Helper()
	if fmt.Sprint(a.Schema()) != fmt.Sprint(b.Schema()) {
		t.Fatalf("schemas differ:\n got %v\nwant %v", a.Schema(), b.Schema())
	}
	if a.NumRows() != b.NumRows() {
		t.Fatalf("rows: got %d, want %d", a.NumRows(), b.NumRows())
	}
	for j := 0; j < a.NumCols(); j++ {
		ca, cb := a.Col(j), b.Col(j)
		for i := 0; i < a.NumRows(); i++ {
			if ca.IsNull(i) != cb.IsNull(i) {
				t.Fatalf("column %q row %d: missing %v vs %v", ca.Name(), i, ca.IsNull(i), cb.IsNull(i))
			}
			va, oka := frame.Value(ca, i)
			vb, okb := frame.Value(cb, i)
			if oka != okb || math.Float64bits(va) != math.Float64bits(vb) || ca.Format(i) != cb.Format(i) {
				t.Fatalf("column %q row %d: %v vs %v", ca.Name(), i, ca.Format(i), cb.Format(i))
			}
		}
	}
}
