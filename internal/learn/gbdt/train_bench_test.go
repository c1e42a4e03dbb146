package gbdt

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkFitShared times the default learner (100 rounds, 31 leaves) on
// the training split of shared data sets, as AutoML trials fit them:
//
//	GBDT_DATASETS=/work/shared/datasets go test ./internal/learn/gbdt -run '^$' -bench FitShared -benchtime 3x
//
// GBDT_BENCH_SETS (comma-separated) picks the data sets (default
// weight_lifting, wine_quality_white, adult); GBDT_BENCH_THREADS the
// learner's threads (default 2).
func BenchmarkFitShared(b *testing.B) {
	root := os.Getenv("GBDT_DATASETS")
	if root == "" {
		root = "/work/shared/datasets"
	}
	sets := []string{"weight_lifting", "wine_quality_white", "adult"}
	if s := os.Getenv("GBDT_BENCH_SETS"); s != "" {
		sets = splitComma(s)
	}
	threads := 2
	if s := os.Getenv("GBDT_BENCH_THREADS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("GBDT_BENCH_THREADS is %q, want an integer", s)
		}
		threads = v
	}
	for _, name := range sets {
		dir := filepath.Join(root, name)
		if _, err := os.Stat(dir); err != nil {
			b.Logf("skip %s: %v", name, err)
			continue
		}
		d, _, _, err := loadSplit(dir)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				l := New()
				l.Seed = 1
				l.Threads = threads
				if _, err := l.FitModel(context.Background(), d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}
