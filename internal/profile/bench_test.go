package profile

import (
	"context"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame/frametest"
)

// BenchmarkProfile1M profiles 1,000,000 rows × 20 mixed columns with a
// target (target: c0).
func BenchmarkProfile1M(b *testing.B) {
	f := frametest.Mixed(1_000_000, 1, 0, true)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Compute(context.Background(), f, Options{Target: "c0"}); err != nil {
			b.Fatal(err)
		}
	}
}
