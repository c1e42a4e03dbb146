package validate

import (
	"bytes"
	"context"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame/frametest"
	"github.com/gyre-ml/gyre/internal/profile"
)

// storedReference profiles a 1M-row reference and round-trips it through
// JSON, as a bundle stores it.
func storedReference(b *testing.B) *profile.Profile {
	p, err := profile.Compute(context.Background(), frametest.Mixed(1_000_000, 1, 0, false), profile.Options{Target: "c0"})
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
	cur := frametest.Mixed(1_000_000, 2, 0.05, false)
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
	cur := frametest.Mixed(1_000_000, 2, 0.05, false)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Against(context.Background(), ref, cur, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
