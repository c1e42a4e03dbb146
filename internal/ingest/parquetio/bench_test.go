package parquetio

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
)

// benchFrame is a 1,000,000 × 20 mixed frame (9 float, 6 int, 3 categorical,
// 1 bool, 1 time) with about 2% missing values, from a fixed seed.
func benchFrame(n int) *frame.Frame {
	rng := rand.New(rand.NewPCG(1, 2))
	var cols []frame.Column
	valid := func() frame.Validity {
		v := frame.NewValidity(n)
		for i := range n {
			if rng.IntN(50) == 0 {
				v.SetNull(i)
			}
		}
		return v
	}
	for j := range 9 {
		c := &frame.Float{ColName: fmt.Sprintf("f%d", j), Values: make([]float64, n), Valid: valid()}
		for i := range c.Values {
			c.Values[i] = rng.NormFloat64() * 100
		}
		cols = append(cols, c)
	}
	for j := range 6 {
		c := &frame.Int{ColName: fmt.Sprintf("i%d", j), Values: make([]int64, n), Valid: valid()}
		for i := range c.Values {
			c.Values[i] = rng.Int64N(100000)
		}
		cols = append(cols, c)
	}
	for j := range 3 {
		vals, miss := make([]string, n), make([]bool, n)
		for i := range vals {
			vals[i] = fmt.Sprintf("level-%d", rng.IntN(20*(j+1)))
			miss[i] = rng.IntN(50) == 0
		}
		cols = append(cols, frame.NewCategorical(fmt.Sprintf("c%d", j), vals, miss))
	}
	b := &frame.Bool{ColName: "b", Values: make([]bool, n), Valid: valid()}
	t := &frame.Time{ColName: "t", Values: make([]int64, n), Valid: valid()}
	for i := range n {
		b.Values[i] = rng.IntN(2) == 0
		t.Values[i] = 1_600_000_000_000_000_000 + rng.Int64N(1e17)
	}
	return frame.MustNew(append(cols, b, t)...)
}

func BenchmarkWrite1Mx20(b *testing.B) {
	f := benchFrame(1_000_000)
	path := filepath.Join(b.TempDir(), "bench.parquet")
	b.ResetTimer()
	for b.Loop() {
		if err := WriteFile(path, f); err != nil {
			b.Fatal(err)
		}
	}
	st, _ := os.Stat(path)
	b.ReportMetric(float64(st.Size())/1e6, "MB")
}

func BenchmarkRead1Mx20(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.parquet")
	if err := WriteFile(path, benchFrame(1_000_000)); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := ReadFile(path); err != nil {
			b.Fatal(err)
		}
	}
}
