package gbdt

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
)

// benchModel fits the batch-scoring benchmark's model shape (100 trees of
// depth 6, 20 numeric columns, 2% missing; with deflt, 100 trees of the
// default shape instead: 31 leaves, no depth limit) and returns it with n
// rows to score.
func benchModel(b *testing.B, n int, deflt bool) (*Model, *frame.Matrix) {
	b.Helper()
	const p = 20
	rng := rand.New(rand.NewPCG(3, 4))
	gen := func(rows int) *frame.Matrix {
		X := frame.NewMatrix(rows, p)
		for i := range X.Data {
			X.Data[i] = rng.NormFloat64()
			if rng.IntN(50) == 0 {
				X.Data[i] = math.NaN()
			}
		}
		return X
	}
	d := &learn.Dataset{Task: learn.Binary, Classes: []string{"0", "1"}, X: gen(20000)}
	for j := range p {
		d.Features = append(d.Features, learn.Feature{Name: "x" + string(rune('a'+j))})
	}
	d.Y = make([]float64, d.X.Rows)
	for i := range d.Y {
		s := d.X.At(i, 0) + d.X.At(i, 1)*d.X.At(i, 2) - d.X.At(i, 3) + 0.5*rng.NormFloat64()
		if s > 0 {
			d.Y[i] = 1
		}
	}
	l := New()
	l.NumTrees, l.MaxDepth, l.MaxLeaves, l.Seed = 100, 6, 64, 1
	if deflt {
		l.MaxDepth, l.MaxLeaves = New().MaxDepth, New().MaxLeaves
	}
	m, err := l.FitModel(context.Background(), d)
	if err != nil {
		b.Fatal(err)
	}
	return m, gen(n)
}

// BenchmarkPredictBatch scores 65,536 rows (100 trees, depth 6, 20 numeric
// columns) and reports ns per tree per row of CPU time on all cores and
// rows/s. Run with -cpu 1 for one core:
//
//	go test ./internal/learn/gbdt -run '^$' -bench PredictBatch -cpu 1,2
func BenchmarkPredictBatch(b *testing.B) {
	benchBatch(b, false)
}

// BenchmarkPredictBatchDefault is BenchmarkPredictBatch with trees of the
// default shape (31 leaves, no depth limit: deeper, unbalanced trees).
func BenchmarkPredictBatchDefault(b *testing.B) {
	benchBatch(b, true)
}

func benchBatch(b *testing.B, deflt bool) {
	m, X := benchModel(b, 65536, deflt)
	out := make([]float64, X.Rows)
	var c0 float64
	for b.Loop() {
		if c0 == 0 {
			c0 = cpuSeconds()
		}
		m.raw(X, out)
	}
	rows := float64(X.Rows) * float64(b.N)
	b.ReportMetric(rows/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric((cpuSeconds()-c0)*1e9/rows/float64(m.NumTrees()), "cpu-ns/tree/row")
}

// BenchmarkPredictBatchAdult scores adult's test set (9,768 rows) in one
// batch with 100 default trees: deep trees (depth 7-19) with categorical
// splits, the general walk rather than the perfect-tree one.
func BenchmarkPredictBatchAdult(b *testing.B) {
	m, test := adultModel(b)
	out := make([]float64, test.X.Rows)
	var c0 float64
	for b.Loop() {
		if c0 == 0 {
			c0 = cpuSeconds()
		}
		m.raw(test.X, out)
	}
	rows := float64(test.X.Rows) * float64(b.N)
	b.ReportMetric(rows/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric((cpuSeconds()-c0)*1e9/rows/float64(m.NumTrees()), "cpu-ns/tree/row")
}

// adultModel fits 100 default trees on adult's training set.
func adultModel(b *testing.B) (*Model, *learn.Dataset) {
	b.Helper()
	return fitShared(b, "adult", 100, 31)
}

// fitShared fits trees rounds of at most leaves leaves on a shared data
// set's training split and returns the model and the test split.
func fitShared(b *testing.B, name string, trees, leaves int) (*Model, *learn.Dataset) {
	b.Helper()
	train, test, _, err := loadSplit(filepath.Join(sharedRoot(), name))
	if err != nil {
		b.Skip(err)
	}
	l := New()
	l.NumTrees, l.MaxLeaves, l.Seed = trees, leaves, 1
	m, err := l.FitModel(context.Background(), train)
	if err != nil {
		b.Fatal(err)
	}
	return m, test
}

// BenchmarkPredictRow scores one test row at a time through Raw (the path
// gyre serve takes) with QuickScorer and with the layout's four-trees walk,
// on models of several shapes, e.g.
//
//	go test ./internal/learn/gbdt -run '^$' -bench 'PredictRow/adult-300'
//
// cpu-ns/tree is CPU time per tree per row (steadier than wall time on a
// shared machine); chosen is 1 for the way quickScorerPays picks for that
// model. These are the measurements behind qsWalkRatio.
func BenchmarkPredictRow(b *testing.B) {
	for _, c := range []struct {
		data          string
		trees, leaves int
	}{
		{"adult", 100, 31}, {"adult", 300, 31}, {"adult", 100, 63},
		{"diamonds", 100, 31}, {"diamonds", 100, 63}, {"spambase", 100, 31}, {"spambase", 100, 63},
		{"bike_sharing", 100, 31}, {"california_housing", 100, 31}, {"letter", 100, 31},
	} {
		b.Run(fmt.Sprintf("%s-%d-%d", c.data, c.trees, c.leaves), func(b *testing.B) {
			m, test := fitShared(b, c.data, c.trees, c.leaves)
			rows := make([]*frame.Matrix, 256)
			for i := range rows {
				rows[i] = test.X.Take([]int{i % test.X.Rows})
			}
			qs := *m
			qs.qs = buildQuickScorer(m.trees, len(m.features), m.k)
			walk := *m
			walk.qs = nil
			for _, v := range []struct {
				name   string
				m      *Model
				chosen bool
			}{{"quickscorer", &qs, m.qs != nil}, {"walk", &walk, m.qs == nil}} {
				b.Run(v.name, func(b *testing.B) {
					if v.m == &qs && qs.qs == nil {
						b.Skip("no QuickScorer form (trees over 64 leaves)")
					}
					i := 0
					var c0 float64
					for b.Loop() {
						if c0 == 0 {
							c0 = cpuSeconds()
						}
						if _, err := v.m.Raw(rows[i%len(rows)]); err != nil {
							b.Fatal(err)
						}
						i++
					}
					b.ReportMetric((cpuSeconds()-c0)*1e9/float64(b.N)/float64(len(m.trees)), "cpu-ns/tree")
					chosen := 0.0
					if v.chosen {
						chosen = 1
					}
					b.ReportMetric(chosen, "chosen")
				})
			}
		})
	}
}

// cpuSeconds returns the process's user and system CPU time: on a shared
// machine it is steadier than wall time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
