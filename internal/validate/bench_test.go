package validate

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/profile"
)

func benchFrame(n int, seed uint64, shift float64) *frame.Frame {
	rng := rand.New(rand.NewPCG(seed, 1))
	var cols []frame.Column
	for j := 0; j < 10; j++ {
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.NormFloat64()*float64(j+1) + float64(j) + shift
		}
		cols = append(cols, frame.NewFloat(fmt.Sprintf("f%d", j), v))
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

// storedReference profiles a 1M-row reference and round-trips it through
// JSON, as a bundle stores it.
func storedReference(b *testing.B) *profile.Profile {
	p, err := profile.Compute(context.Background(), benchFrame(1_000_000, 1, 0), profile.Options{Target: "c0"})
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		b.Fatal(err)
	}
	ref, err := profile.Read(&buf)
	if err != nil {
		b.Fatal(err)
	}
	return ref
}

// BenchmarkDrift1M: drift tests of 1M × 20 current rows against a stored
// 1M-row reference profile.
func BenchmarkDrift1M(b *testing.B) {
	ref := storedReference(b)
	cur := benchFrame(1_000_000, 2, 0.05)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Drift(ref, cur, DriftOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidate1M: the full validation (current profile, schema,
// out-of-distribution counts, drift, correlations) of 1M × 20 rows against
// a stored reference profile.
func BenchmarkValidate1M(b *testing.B) {
	ref := storedReference(b)
	cur := benchFrame(1_000_000, 2, 0.05)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Against(context.Background(), ref, cur, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
