package profile

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
)

// BenchFrame builds n rows × 20 mixed columns: 10 float (some skewed, 5%
// missing in two), 4 int, 6 categorical (2 to 500 levels).
func benchFrame(n int) *frame.Frame {
	rng := rand.New(rand.NewPCG(1, 1))
	var cols []frame.Column
	for j := 0; j < 10; j++ {
		v := make([]float64, n)
		for i := range v {
			if j%3 == 0 {
				v[i] = rng.ExpFloat64() * float64(j+1)
			} else {
				v[i] = rng.NormFloat64()*float64(j+1) + float64(j)
			}
		}
		c := frame.NewFloat(fmt.Sprintf("f%d", j), v)
		if j < 2 {
			c.Valid = frame.NewValidity(n)
			for i := 0; i < n; i += 20 {
				c.Valid.SetNull(i)
			}
		}
		cols = append(cols, c)
	}
	for j := 0; j < 4; j++ {
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(rng.IntN(100 * (j + 1)))
		}
		cols = append(cols, frame.NewInt(fmt.Sprintf("i%d", j), v))
	}
	for j, k := range []int{2, 5, 12, 40, 100, 500} {
		levels := make([]string, k)
		for l := range levels {
			levels[l] = fmt.Sprintf("L%d", l)
		}
		codes := make([]int32, n)
		for i := range codes {
			codes[i] = int32(min(rng.IntN(k), rng.IntN(k)))
		}
		cols = append(cols, &frame.Categorical{ColName: fmt.Sprintf("c%d", j), Codes: codes, Levels: levels})
	}
	return frame.MustNew(cols...)
}

// BenchmarkProfile1M profiles 1,000,000 rows × 20 mixed columns with a
// target (target: c0).
func BenchmarkProfile1M(b *testing.B) {
	f := benchFrame(1_000_000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Compute(context.Background(), f, Options{Target: "c0"}); err != nil {
			b.Fatal(err)
		}
	}
}
