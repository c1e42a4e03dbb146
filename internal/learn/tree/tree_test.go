package tree_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
	"github.com/gyre-ml/gyre/internal/learn/tree"
	"github.com/gyre-ml/gyre/internal/metric"
)

func TestConformance(t *testing.T) {
	learntest.Run(t, learntest.Options{New: func() learn.Learner { l := tree.New(); l.Seed = 3; return l }})
}

func TestConformancePruned(t *testing.T) {
	learntest.Run(t, learntest.Options{New: func() learn.Learner {
		l := tree.New()
		l.CCPAlpha = 0.002
		l.Criterion = "auto"
		return l
	}, Tasks: []learn.Task{learn.Binary}})
}

func xor(n int) *learn.Dataset {
	X := frame.NewMatrix(n, 2)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		a, b := i%2, (i/2)%2
		X.Set(i, 0, float64(a))
		X.Set(i, 1, float64(b))
		y[i] = float64(a ^ b)
	}
	return &learn.Dataset{X: X, Y: y, Task: learn.Binary, Classes: []string{"0", "1"}, Features: []learn.Feature{{Name: "a"}, {Name: "b"}}}
}

func TestXORAndPruning(t *testing.T) {
	d := xor(40)
	m, err := tree.New().Fit(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := m.Predict(d.X)
	for i := range p {
		if p[i] != d.Y[i] {
			t.Fatalf("row %d: got %v, want %v", i, p[i], d.Y[i])
		}
	}
	if got := tree.Fitted(m).Tree().NumLeaves(); got != 4 {
		t.Errorf("leaves = %d, want 4", got)
	}
	l := tree.New()
	l.CCPAlpha = 1
	m, err = l.Fit(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	if got := tree.Fitted(m).Tree().NumLeaves(); got != 1 {
		t.Errorf("pruned leaves = %d, want 1", got)
	}
}

// TestMissingDirection checks that the side for missing values is learned.
func TestMissingDirection(t *testing.T) {
	n := 200
	X := frame.NewMatrix(n, 1)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		switch i % 3 {
		case 0:
			X.Set(i, 0, math.NaN())
			y[i] = 10
		case 1:
			X.Set(i, 0, 1)
			y[i] = 10
		default:
			X.Set(i, 0, 2)
			y[i] = 0
		}
	}
	d := &learn.Dataset{X: X, Y: y, Task: learn.Regression, Features: []learn.Feature{{Name: "x"}}}
	l := tree.New()
	l.MaxDepth = 1
	m, err := l.Fit(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	q, _ := frame.FromRows([][]float64{{math.NaN()}, {1}, {2}})
	p, _ := m.Predict(q)
	want := []float64{10, 10, 0}
	for i := range want {
		if p[i] != want[i] {
			t.Errorf("row %d: got %v, want %v", i, p[i], want[i])
		}
	}
}

// TestCategorical checks a native categorical split that no single
// threshold on the codes can make.
func TestCategorical(t *testing.T) {
	n := 300
	X := frame.NewMatrix(n, 1)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		c := i % 5
		X.Set(i, 0, float64(c))
		if c == 1 || c == 3 {
			y[i] = 1
		}
	}
	d := &learn.Dataset{X: X, Y: y, Task: learn.Binary, Classes: []string{"n", "y"},
		Features: []learn.Feature{{Name: "c", Categorical: true, Levels: []string{"a", "b", "c", "d", "e"}}}}
	l := tree.New()
	l.MaxDepth = 1
	m, err := l.Fit(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := m.Predict(d.X)
	for i := range p {
		if p[i] != y[i] {
			t.Fatalf("row %d: got %v, want %v", i, p[i], y[i])
		}
	}
}

func TestBadParams(t *testing.T) {
	learntest.Refuses(t, func() learn.Learner { return tree.New() }, learntest.Toy(learn.Binary, 50, 1), [][2]string{
		{"max_depth", "-1"},
		{"min_samples_split", "1"},
		{"min_samples_leaf", "0"},
		{"max_features", "sqr"},
		{"max_features", "9"},
		{"criterion", "squared_error"},
		{"ccp_alpha", "-1"},
		{"class_weight", "heavy"},
	})
}

func ExampleDecisionTree() {
	d := learntest.Toy(learn.Binary, 400, 1)
	l := tree.New()
	l.MaxDepth = 3
	m, err := l.Fit(context.Background(), d)
	if err != nil {
		fmt.Println(err)
		return
	}
	pred, _ := m.Predict(d.X)
	acc, _ := metric.Accuracy(d.Y, pred, nil)
	fmt.Printf("depth %d, training accuracy above 0.8: %v\n", tree.Fitted(m).Tree().Depth(), acc > 0.8)
	// Output: depth 3, training accuracy above 0.8: true
}

// TestDecodeCorrupt flips bytes of a saved model: decoding must fail or give
// a model that predicts without panicking.
func TestDecodeCorrupt(t *testing.T) {
	d := learntest.Toy(learn.Multiclass, 200, 1)
	m, err := tree.New().Fit(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := m.MarshalBinary()
	for i := 0; i < len(b); i += 1 + len(b)/200 {
		c := append([]byte(nil), b...)
		c[i] ^= 0x5a
		dm, err := learn.DecodeModel("decision_tree", c)
		if err != nil {
			continue
		}
		if _, err := dm.Predict(d.X); err != nil {
			t.Errorf("byte %d: predict: %v", i, err)
		}
	}
	for _, n := range []int{0, 1, 2, len(b) - 1} {
		if _, err := learn.DecodeModel("decision_tree", b[:n]); err == nil {
			t.Errorf("decoding %d of %d bytes succeeded", n, len(b))
		}
	}
}

// TestClassWeightBalanced checks that balanced class weights raise the
// recall of a rare class.
func TestClassWeightBalanced(t *testing.T) {
	n := 1000
	X := frame.NewMatrix(n, 1)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		v := float64(i%100) / 100
		X.Set(i, 0, v)
		// The rare class is likelier for large v but never the majority.
		if i%100 >= 80 && i%3 == 0 {
			y[i] = 1
		}
	}
	d := &learn.Dataset{X: X, Y: y, Task: learn.Binary, Classes: []string{"common", "rare"}, Features: []learn.Feature{{Name: "v"}}}
	recall := func(cw, crit string) float64 {
		l := tree.New()
		l.MaxDepth = 2
		l.ClassWeight = cw
		l.Criterion = crit
		m, err := l.Fit(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := m.Predict(X)
		hit, pos := 0.0, 0.0
		for i := range p {
			if y[i] == 1 {
				pos++
				if p[i] == 1 {
					hit++
				}
			}
		}
		return hit / pos
	}
	for _, crit := range []string{"gini", "entropy"} {
		if none, bal := recall("none", crit), recall("balanced", crit); !(bal > none) {
			t.Errorf("%s: recall of the rare class: balanced %.2f, none %.2f; want balanced higher", crit, bal, none)
		}
	}
}

// TestRegressionPruning checks that a larger ccp_alpha gives fewer leaves.
func TestRegressionPruning(t *testing.T) {
	d := learntest.Toy(learn.Regression, 400, 2)
	prev := math.MaxInt
	for _, a := range []float64{0, 0.1, 1, 10} {
		l := tree.New()
		l.CCPAlpha = a
		m, err := l.Fit(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		leaves := tree.Fitted(m).Tree().NumLeaves()
		if leaves > prev {
			t.Errorf("ccp_alpha %v: %d leaves, more than %d with a smaller alpha", a, leaves, prev)
		}
		prev = leaves
	}
	if prev > 8 {
		t.Errorf("ccp_alpha 10 left %d leaves, want a small tree", prev)
	}
}

func TestBinned(t *testing.T) {
	learntest.Run(t, learntest.Options{New: func() learn.Learner {
		l := tree.New()
		l.MaxBins = 16
		return l
	}, Tasks: []learn.Task{learn.Regression, learn.Binary}})
	d := learntest.Toy(learn.Binary, 300, 1)
	for _, b := range []string{"1", "-3", "70000"} {
		l := tree.New()
		_ = learn.SetParam(l, "max_bins", b)
		if _, err := l.Fit(context.Background(), d); err == nil {
			t.Errorf("max_bins=%s: fit succeeded", b)
		}
	}
}
