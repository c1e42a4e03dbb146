package gbdt

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
)

// referenceRaw is the reference scorer: every tree walked on the training
// layout (tree.leafOf), summed per row in tree order from the base score.
func referenceRaw(m *Model, X *frame.Matrix) []float64 {
	n, k := X.Rows, m.k
	out := make([]float64, n*k)
	for i := range n {
		copy(out[i*k:(i+1)*k], m.base)
		for ti, t := range m.trees {
			out[i*k+ti%k] += t.Value[t.leafOf(func(f int) float64 { return X.Data[f*n+i] })]
		}
	}
	return out
}

// sameBits fails t unless got and want are bit-identical.
func sameBits(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("%s: value %d is %v, reference walk gives %v", what, i, got[i], want[i])
		}
	}
}

// firstRows returns the first n rows of X.
func firstRows(X *frame.Matrix, n int) *frame.Matrix {
	rows := make([]int, n)
	for i := range rows {
		rows[i] = i
	}
	return X.Take(rows)
}

// checkAgainstReference compares Raw, Predict and Probabilities with the
// reference walk on X and on batch sizes around the row-by-row and block
// boundaries.
func checkAgainstReference(t *testing.T, name string, m *Model, X *frame.Matrix) {
	t.Helper()
	want := referenceRaw(m, X)
	got, err := m.Raw(X)
	if err != nil {
		t.Fatal(err)
	}
	sameBits(t, name+" raw", got, want)
	// Every row alone, as gyre serve scores it (QuickScorer when the model
	// has one, else the layout's walk).
	alone := make([]float64, len(want))
	row := make([]float64, X.Cols)
	for i := range X.Rows {
		for j := range row {
			row[j] = X.At(i, j)
		}
		m.rawRow(row, alone[i*m.k:(i+1)*m.k])
	}
	sameBits(t, name+" raw (row by row)", alone, want)
	// QuickScorer on every row even when the model keeps the walk.
	if qs := buildQuickScorer(m.trees, len(m.features), m.k); qs != nil {
		words := make([]uint64, len(m.trees))
		for i := range X.Rows {
			for j := range row {
				row[j] = X.At(i, j)
			}
			out := alone[i*m.k : (i+1)*m.k]
			copy(out, m.base)
			qs.addRow(row, out, words)
		}
		sameBits(t, name+" raw (QuickScorer)", alone, want)
	} else if m.fast != nil && maxLeaves(m) <= qsMaxLeaves {
		t.Errorf("%s: no QuickScorer form for trees of at most %d leaves", name, qsMaxLeaves)
	}
	for _, n := range []int{1, 2, smallBatch, smallBatch + 1, blockRows - 1, blockRows + 3, 2049} {
		if n > X.Rows {
			continue
		}
		sub := firstRows(X, n)
		got, err := m.Raw(sub)
		if err != nil {
			t.Fatal(err)
		}
		sameBits(t, name+" raw (first rows)", got, want[:n*m.k])
	}
	// The link functions only transform the raw scores; check they agree too.
	pred, err := m.Predict(X)
	if err != nil {
		t.Fatal(err)
	}
	if len(pred) != X.Rows {
		t.Fatalf("%s: %d predictions for %d rows", name, len(pred), X.Rows)
	}
	if m.task.Classification() {
		if _, err := m.Probabilities(X); err != nil {
			t.Fatal(err)
		}
	}
}

// maxLeaves is the largest leaf count of m's trees.
func maxLeaves(m *Model) int {
	n := 0
	for _, t := range m.trees {
		n = max(n, len(t.Value))
	}
	return n
}

// The prediction layout scores bit-identically to the reference walk on
// real data with missing values and categorical splits: adult (binary,
// categorical), a regression and a multiclass set.
func TestPredictMatchesReferenceOnRealData(t *testing.T) {
	root := sharedRoot()
	cases := []struct {
		name  string
		trees int
	}{
		{"adult", 60},
		{"bike_sharing", 60},
		{"penguins", 20},
		{"soybean", 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(root, c.name)
			if _, err := os.Stat(dir); err != nil {
				t.Skipf("no data set %s: %v", c.name, err)
			}
			train, test, _, err := loadSplit(dir)
			if err != nil {
				t.Fatal(err)
			}
			l := New()
			l.NumTrees = c.trees
			l.Seed = 7
			m, err := l.FitModel(context.Background(), train)
			if err != nil {
				t.Fatal(err)
			}
			checkAgainstReference(t, c.name, m, test.X)
			// Round trip through the model file: the layout is rebuilt at load.
			b, err := m.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			lm, err := learn.DecodeModel(Kind, b)
			if err != nil {
				t.Fatal(err)
			}
			checkAgainstReference(t, c.name+" decoded", AsModel(lm), test.X)
		})
	}
}

// Hand-built trees cover every split kind the layout rewrites: finite,
// -Inf and +Inf thresholds with either default direction, categorical
// splits with missing, negative and out-of-range codes, and a NaN threshold
// (which keeps the reference walk).
func TestPredictSplitKinds(t *testing.T) {
	inf := math.Inf(1)
	num := func(f int32, thr float64, defLeft bool) *tree {
		var fl uint8
		if defLeft {
			fl = flagDefaultLeft
		}
		return &tree{Feature: []int32{f}, Threshold: []float64{thr}, Left: []int32{^0}, Right: []int32{^1},
			Flags: []uint8{fl}, CatStart: []int32{0}, CatLen: []int32{0}, Gain: []float64{1}, Cover: []float64{1},
			Value: []float64{-1.5, 2.25}, LeafCover: []float64{1, 1}}
	}
	cat := func(f int32, defLeft bool) *tree {
		t := num(f, 0, defLeft)
		t.Flags[0] |= flagCategorical
		t.CatLen[0] = 1
		t.CatBits = []uint32{1<<1 | 1<<3}
		return t
	}
	deep := &tree{ // root on x0 ≤ 0.5; left child on x1 ≤ -Inf; leaves 0,1,2
		Feature: []int32{0, 1}, Threshold: []float64{0.5, -inf}, Left: []int32{1, ^0}, Right: []int32{^2, ^1},
		Flags: []uint8{0, flagDefaultLeft}, CatStart: []int32{0, 0}, CatLen: []int32{0, 0},
		Gain: []float64{1, 1}, Cover: []float64{1, 1}, Value: []float64{0.125, 0.5, 4}, LeafCover: []float64{1, 1, 1},
	}
	// wide has a code past smallCodes in its bitset, so the batch walk
	// keeps the general categorical test (see predict_cat.go).
	wide := cat(2, true)
	wide.CatLen[0], wide.CatBits = 3, []uint32{1 << 5, 1 << 30, 1 << (70 - 64)}
	single := &tree{Value: []float64{0.75}, LeafCover: []float64{1}}
	values := []float64{math.NaN(), -inf, inf, -1, -0.0, 0, 0.5, 1, 1.5, 2, 3, 3.5, 5, 31, 32, 40,
		61, 61.5, 62, 63, 64, 70, 95, 96, 1e300}
	build := func(trees ...*tree) *Model {
		m := &Model{task: learn.Regression, objective: ObjSquared, k: 1, base: []float64{0.1},
			features: []learn.Feature{{Name: "a"}, {Name: "b"}, {Name: "c", Categorical: true}}, trees: trees}
		m.init()
		return m
	}
	X := frame.NewMatrix(len(values)*len(values), 3)
	for i, a := range values {
		for j, b := range values {
			r := i*len(values) + j
			X.Set(r, 0, a)
			X.Set(r, 1, b)
			X.Set(r, 2, b)
		}
	}
	for _, tc := range []struct {
		name  string
		trees []*tree
		fast  bool
	}{
		{"finite", []*tree{num(0, 0.5, true), num(1, 0.5, false)}, true},
		{"minus inf", []*tree{num(0, -inf, true), num(1, -inf, false)}, true},
		{"plus inf left", []*tree{num(0, inf, true)}, true},
		{"plus inf right", []*tree{num(0, inf, false), num(1, 1, true)}, true},
		{"categorical", []*tree{cat(2, true), cat(2, false), num(0, 0, false)}, true},
		{"categorical past 62 codes", []*tree{wide, cat(2, false)}, true},
		{"deep and single leaf", []*tree{deep, single, cat(2, false), deep}, true},
		{"nan threshold", []*tree{num(0, math.NaN(), false), cat(2, true)}, false},
	} {
		m := build(tc.trees...)
		if (m.fast != nil) != tc.fast {
			t.Errorf("%s: prediction layout built = %v, want %v", tc.name, m.fast != nil, tc.fast)
		}
		if m.fast != nil {
			for ti, ft := range m.fast.trees {
				if want := !ft.cat; (ft.perfect != nil) != want {
					t.Errorf("%s: tree %d laid out as a perfect tree = %v, want %v", tc.name, ti, ft.perfect != nil, want)
				}
				// Categorical trees take walkSmall unless a split on
				// their column tells codes past smallCodes apart.
				if want := ft.cat && tc.name != "categorical past 62 codes"; (ft.small != nil) != want {
					t.Errorf("%s: tree %d laid out for walkSmall = %v, want %v", tc.name, ti, ft.small != nil, want)
				}
			}
		}
		checkAgainstReference(t, tc.name, m, X)
	}
}

// Random deep trees on random data with many missing values agree with the
// reference walk.
func TestPredictRandomTrees(t *testing.T) {
	d := learn.Dataset{Task: learn.Multiclass, Classes: []string{"a", "b", "c"}}
	rng := rand.New(rand.NewPCG(1, 2))
	n, p := 3000, 6
	d.X = frame.NewMatrix(n, p)
	d.Y = make([]float64, n)
	for j := range p {
		d.Features = append(d.Features, learn.Feature{Name: string(rune('a' + j))})
	}
	d.Features[5].Categorical = true
	d.Features[5].Levels = []string{"u", "v", "w", "x", "y", "z", "q", "r", "s", "t"}
	for i := range n {
		for j := range p {
			v := rng.NormFloat64()
			if j == 5 {
				v = float64(rng.IntN(10))
			}
			if rng.IntN(5) == 0 {
				v = math.NaN()
			}
			d.X.Set(i, j, v)
		}
		y := 0
		if a := d.X.At(i, 0); a > 0 || d.X.At(i, 5) > 4 {
			y = 1
		}
		if b := d.X.At(i, 1); b != b {
			y = 2
		}
		d.Y[i] = float64(y)
	}
	l := New()
	l.NumTrees = 15
	l.MaxLeaves = 40
	l.MinDataInLeaf = 3
	m, err := l.FitModel(context.Background(), &d)
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstReference(t, "random", m, d.X)
	// Trees of more than 64 leaves have no QuickScorer form and keep the
	// walk.
	reg := d
	reg.Task, reg.Classes, reg.Y = learn.Regression, nil, make([]float64, n)
	for i := range reg.Y {
		reg.Y[i] = rng.NormFloat64()
	}
	l.MaxLeaves, l.MinDataInLeaf, l.NumTrees = 200, 2, 3
	big, err := l.FitModel(context.Background(), &reg)
	if err != nil {
		t.Fatal(err)
	}
	if maxLeaves(big) <= qsMaxLeaves {
		t.Fatalf("trees of %d leaves, want more than %d", maxLeaves(big), qsMaxLeaves)
	}
	if big.qs != nil || buildQuickScorer(big.trees, len(big.features), big.k) != nil {
		t.Error("QuickScorer form built for trees of more than 64 leaves")
	}
	checkAgainstReference(t, "random, 200 leaves", big, d.X)
}
