package gbdt

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
)

// benchHistData is a 1M-row, 20-feature binned matrix with random bins,
// gradient pairs and a random half of the rows (sorted) as a leaf.
func benchHistData() (bins []uint8, gp []int64, rows []int32) {
	const n, p = 1 << 20, 20
	r := rand.New(rand.NewPCG(1, 2))
	bins = make([]uint8, n*p)
	for i := range bins {
		bins[i] = uint8(r.IntN(255))
	}
	gp = make([]int64, n)
	for i := range gp {
		gp[i] = int64(r.IntN(4001)-2000)<<32 + int64(r.IntN(4000))
	}
	for i := range n {
		if r.IntN(2) == 0 {
			rows = append(rows, int32(i))
		}
	}
	return bins, gp, rows
}

// BenchmarkHistogramSeq builds the 20 feature histograms of a 1M-row root
// leaf (gradients read in place).
func BenchmarkHistogramSeq(b *testing.B) {
	bins, gp, _ := benchHistData()
	n := len(gp)
	hist := make([]hbin, 20*histBins)
	b.SetBytes(int64(len(bins)))
	for b.Loop() {
		histGroups(hist, bins, n, nil, gp)
	}
}

// BenchmarkHistogramLeaf builds the 20 feature histograms of a leaf holding
// a random half of 1M rows (ordered gradients, row index list).
func BenchmarkHistogramLeaf(b *testing.B) {
	bins, gp, rows := benchHistData()
	n := len(gp)
	og := make([]int64, len(rows))
	for k, r := range rows {
		og[k] = gp[r]
	}
	hist := make([]hbin, 20*histBins)
	b.SetBytes(int64(len(rows) * 20))
	for b.Loop() {
		histGroups(hist, bins, n, rows, og)
	}
}

// BenchmarkFindSplit finds the best split of a leaf over 20 features of
// 255 bins each.
func BenchmarkFindSplit(b *testing.B) {
	bins, gp, _ := benchHistData()
	n := len(gp)
	bd := &Binned{Rows: n, Cols: 20, MaxBins: 255, NumBins: make([]int, 20), Bounds: make([][]float64, 20), Categorical: make([]bool, 20), Lumped: make([]bool, 20)}
	for j := range 20 {
		bd.NumBins[j] = 255
		bd.Bounds[j] = make([]float64, 255)
		for k := range bd.Bounds[j] {
			bd.Bounds[j][k] = float64(k)
		}
	}
	g := newGrower(growParams{maxLeaves: 31, minData: 20, minHess: 1e-3, lr: 0.1, maxCatThr: 32, catSmooth: 10, threads: 1}, bd)
	g.gs, g.hs = 1e-3, 1e-3
	g.feats = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}
	hist := make([]hbin, 20*histBins)
	histGroups(hist, bins, n, nil, gp)
	l := &leafState{count: n, hist: hist}
	for _, e := range hist[:histBins] {
		l.q += e
	}
	l.g, l.h = g.deq(l.q)
	l.lo, l.hi = math.Inf(-1), math.Inf(1)
	b.ResetTimer()
	for b.Loop() {
		g.findBest(l)
	}
}

// BenchmarkPredict scores 100k rows with a 100-tree, 31-leaf binary model.
func BenchmarkPredict(b *testing.B) {
	d := benchModelData(100_000)
	l := New()
	l.Threads = 1
	m, err := l.FitModel(context.Background(), d)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(d.X.Rows))
	for b.Loop() {
		if _, err := m.Raw(d.X); err != nil {
			b.Fatal(err)
		}
	}
}

func benchModelData(n int) *learn.Dataset {
	r := rand.New(rand.NewPCG(4, 5))
	X := frame.NewMatrix(n, 20)
	y := make([]float64, n)
	for i := range n {
		s := 0.0
		for j := range 20 {
			v := 2*r.Float64() - 1
			X.Set(i, j, v)
			if j < 10 {
				s += v * float64(j%3)
			}
		}
		if s+0.3*r.NormFloat64() > 0 {
			y[i] = 1
		}
	}
	feats := make([]learn.Feature, 20)
	for j := range feats {
		feats[j].Name = fmt.Sprint("x", j)
	}
	return &learn.Dataset{X: X, Features: feats, Task: learn.Binary, Y: y, Classes: []string{"0", "1"}}
}

// histGroups builds the 20 histograms single-threaded, four features per
// pass, as one grower thread does.
func histGroups(hist []hbin, bins []uint8, n int, rows []int32, og []int64) {
	feats := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}
	for g := 0; g < 20; g += 4 {
		histFeatures(hist, bins, n, feats[g:g+4], rows, og)
	}
}
