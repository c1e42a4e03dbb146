package knn

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
)

func TestConformance(t *testing.T) {
	for _, c := range []struct {
		name string
		mk   func() *KNN
	}{
		{"default", New},
		{"distance_manhattan_brute", func() *KNN { l := New(); l.Weights, l.Metric, l.Index = "distance", "manhattan", "brute"; return l }},
	} {
		t.Run(c.name, func(t *testing.T) {
			learntest.Run(t, learntest.Options{New: func() learn.Learner { return c.mk() }, SkipCancel: false})
		})
	}
}

// cloud returns n points in p dims rounded to a grid (many exact ties).
func cloud(n, p int, seed uint64) *frame.Matrix {
	r := rand.New(rand.NewPCG(seed, 1))
	X := frame.NewMatrix(n, p)
	for i := range X.Data {
		X.Data[i] = math.Round(r.NormFloat64()*4) / 4
	}
	return X
}

// TestTreeEqualsBrute: the k-d tree returns exactly the brute-force
// neighbours, ties included, for both metrics.
func TestTreeEqualsBrute(t *testing.T) {
	for _, metric := range []string{"euclidean", "manhattan"} {
		X := cloud(3000, 3, 1)
		y := make([]float64, X.Rows)
		for i := range y {
			y[i] = X.At(i, 0) + X.At(i, 1)
		}
		d := &learn.Dataset{X: X, Y: y, Task: learn.Regression, Features: []learn.Feature{{Name: "a"}, {Name: "b"}, {Name: "c"}}}
		fit := func(index string) *Model {
			l := New()
			l.K, l.Metric, l.Index = 7, metric, index
			m, err := l.Fit(context.Background(), d)
			if err != nil {
				t.Fatal(err)
			}
			return m.(*Model)
		}
		tree, brute := fit("kdtree"), fit("brute")
		if tree.kd == nil || brute.kd != nil {
			t.Fatal("index choice not honoured")
		}
		Q := cloud(500, 3, 2)
		ti, td, _ := tree.Neighbours(Q)
		bi, bd, _ := brute.Neighbours(Q)
		for i := range ti {
			if !slices.Equal(ti[i], bi[i]) || !slices.Equal(td[i], bd[i]) {
				t.Fatalf("%s row %d: tree %v %v, brute %v %v", metric, i, ti[i], td[i], bi[i], bd[i])
			}
		}
	}
}

func TestDistanceWeightsExactMatch(t *testing.T) {
	X, _ := frame.FromRows([][]float64{{0}, {1}, {2}, {3}})
	d := &learn.Dataset{X: X, Y: []float64{0, 1, 1, 1}, Classes: []string{"a", "b"}, Task: learn.Binary, Features: []learn.Feature{{Name: "x"}}}
	l := New()
	l.K, l.Weights, l.Standardize = 3, "distance", false
	m, err := l.Fit(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	q, _ := frame.FromRows([][]float64{{0}, {0.5}})
	p, _ := m.(learn.Prober).PredictProba(q)
	// Row 0 matches a training point exactly: only it votes.
	if p[0] != 1 || p[1] != 0 {
		t.Errorf("exact match proba %v, want [1 0]", p[:2])
	}
	// Row 1: neighbours 0 and 1 at 0.5, 2 at 1.5 → weights 2, 2, 2/3.
	if want := 2 / (2 + 2 + 2.0/3); math.Abs(p[2]-want) > 1e-12 {
		t.Errorf("proba %v, want %v", p[2], want)
	}
}

func TestBadHyperparameters(t *testing.T) {
	d := learntest.Toy(learn.Binary, 30, 1)
	for _, c := range []struct {
		set  func(*KNN)
		want string
	}{
		{func(l *KNN) { l.K = 0 }, "k is 0, want ≥ 1"},
		{func(l *KNN) { l.Weights = "x" }, "want uniform or distance"},
		{func(l *KNN) { l.Metric = "cosine" }, "want euclidean or manhattan"},
		{func(l *KNN) { l.Index = "ball" }, "want auto, kdtree or brute"},
	} {
		l := New()
		c.set(l)
		if _, err := l.Fit(context.Background(), d); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one containing %q", err, c.want)
		}
	}
}

// BenchmarkIndex measures k-d tree against brute force by dimension
// (go test -bench Index ./internal/learn/knn).
func BenchmarkIndex(b *testing.B) {
	for _, p := range []int{2, 5, 10, 20} {
		X := cloud(20000, p, 3)
		for i := range X.Data {
			X.Data[i] += float64(i%7) * 1e-3 // break the grid
		}
		feats := make([]learn.Feature, p)
		for j := range feats {
			feats[j].Name = string(rune('a' + j))
		}
		d := &learn.Dataset{X: X, Y: make([]float64, X.Rows), Task: learn.Regression, Features: feats}
		Q := cloud(2000, p, 4)
		for _, index := range []string{"kdtree", "brute"} {
			l := New()
			l.Index = index
			m, _ := l.Fit(context.Background(), d)
			b.Run(index+"/p="+string(rune('0'+p/10))+string(rune('0'+p%10)), func(b *testing.B) {
				for b.Loop() {
					_, _ = m.Predict(Q)
				}
			})
		}
	}
}
