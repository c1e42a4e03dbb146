package gbdt

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
)

func fitModel(t *testing.T, l *Learner, d *learn.Dataset) *Model {
	t.Helper()
	m, err := l.FitModel(context.Background(), d)
	if err != nil {
		t.Fatalf("fit: %v", err)
	}
	return m
}

func TestValidateNamesHyperparameter(t *testing.T) {
	d := learntest.Toy(learn.Binary, 100, 1)
	tests := []struct {
		set  func(l *Learner)
		want string
	}{
		{func(l *Learner) { l.NumTrees = 0 }, "n_estimators"},
		{func(l *Learner) { l.LearningRate = 0 }, "learning_rate"},
		{func(l *Learner) { l.MaxLeaves = 1 }, "max_leaves"},
		{func(l *Learner) { l.MaxDepth = 0 }, "max_depth"},
		{func(l *Learner) { l.MinDataInLeaf = 0 }, "min_data_in_leaf"},
		{func(l *Learner) { l.MinSumHessian = -1 }, "min_sum_hessian"},
		{func(l *Learner) { l.MinGain = math.NaN() }, "min_gain"},
		{func(l *Learner) { l.L1 = -1 }, "l1"},
		{func(l *Learner) { l.L2 = math.Inf(1) }, "l2"},
		{func(l *Learner) { l.MaxBins = 256 }, "max_bins"},
		{func(l *Learner) { l.Subsample = 1.5 }, "subsample"},
		{func(l *Learner) { l.SubsampleFreq = 0 }, "subsample_freq"},
		{func(l *Learner) { l.ColSample = 0 }, "colsample"},
		{func(l *Learner) { l.MaxCatThreshold = 0 }, "max_cat_threshold"},
		{func(l *Learner) { l.CatSmooth = -1 }, "cat_smooth"},
		{func(l *Learner) { l.EarlyStoppingRounds = -1 }, "early_stopping_rounds"},
		{func(l *Learner) { l.EarlyStoppingRounds = 5; l.ValidationFraction = 0.9 }, "validation_fraction"},
		{func(l *Learner) { l.HuberDelta = 0 }, "huber_delta"},
		{func(l *Learner) { l.Threads = -2 }, "threads"},
		{func(l *Learner) { l.MonotoneConstraints = []int{1} }, "monotone_constraints"},
		{func(l *Learner) { l.MonotoneConstraints = []int{0, 0, 0, 0, 2} }, "monotone_constraints"},
		{func(l *Learner) { l.Objective = "poisson" }, "objective"},
	}
	for _, tt := range tests {
		l := New()
		tt.set(l)
		_, err := l.Fit(context.Background(), d)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error %v, want one naming %s", err, tt.want)
		}
	}
}

func TestDeterministicAcrossThreads(t *testing.T) {
	d := learntest.Toy(learn.Multiclass, 3000, 2)
	var prev []byte
	for _, threads := range []int{1, 2, 3} {
		l := New()
		l.NumTrees = 10
		l.Subsample = 0.8
		l.ColSample = 0.6
		l.Threads = threads
		b, err := fitModel(t, l, d).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if prev != nil && !bytes.Equal(prev, b) {
			t.Fatalf("threads=%d gave a different model", threads)
		}
		prev = b
	}
}

func TestEarlyStopping(t *testing.T) {
	d := learntest.Toy(learn.Binary, 1000, 4)
	l := New()
	l.NumTrees = 500
	l.LearningRate = 0.3
	l.EarlyStoppingRounds = 5
	m := fitModel(t, l, d)
	if m.NumRounds() >= 500 {
		t.Errorf("early stopping kept all %d rounds", m.NumRounds())
	}
	// An explicit validation set.
	l.Validation = learntest.Toy(learn.Binary, 500, 8)
	m2 := fitModel(t, l, d)
	if m2.NumRounds() >= 500 || m2.NumRounds() < 1 {
		t.Errorf("early stopping on a validation set kept %d rounds", m2.NumRounds())
	}
}

func TestContinueEqualsLongerFit(t *testing.T) {
	for _, task := range []learn.Task{learn.Regression, learn.Binary, learn.Multiclass} {
		d := learntest.Toy(task, 600, 6)
		l := New()
		l.NumTrees = 10
		m10 := fitModel(t, l, d)
		m20, err := m10.Continue(context.Background(), d, l, 10)
		if err != nil {
			t.Fatal(err)
		}
		l.NumTrees = 20
		full := fitModel(t, l, d)
		if m20.NumRounds() != 20 || m10.NumRounds() != 10 {
			t.Fatalf("%s: rounds %d and %d, want 20 and 10", task, m20.NumRounds(), m10.NumRounds())
		}
		a, _ := m20.Raw(d.X)
		b, _ := full.Raw(d.X)
		for i := range a {
			if math.Abs(a[i]-b[i]) > 1e-9 {
				t.Fatalf("%s: continued model differs from a 20-round fit at %d: %v vs %v", task, i, a[i], b[i])
			}
		}
	}
}

func TestMonotoneConstraint(t *testing.T) {
	d := learntest.Toy(learn.Regression, 2000, 3)
	l := New()
	l.NumTrees = 30
	l.MonotoneConstraints = []int{1, -1, 0, 0, 0}
	m := fitModel(t, l, d)
	// Sweep features 0 and 1 with the others fixed, for a few base rows.
	for base := 0; base < 20; base++ {
		row := d.X.Row(base, nil)
		for f, sign := range []float64{1, -1} {
			X := frame.NewMatrix(41, 5)
			for i := range 41 {
				for j := range 5 {
					X.Set(i, j, row[j])
				}
				X.Set(i, f, -4+0.2*float64(i))
			}
			p, _ := m.Predict(X)
			for i := 1; i < len(p); i++ {
				if sign*(p[i]-p[i-1]) < -1e-12 {
					t.Fatalf("feature %d: prediction moves against its constraint: %v then %v", f, p[i-1], p[i])
				}
			}
		}
	}
}

func TestObjectives(t *testing.T) {
	d := learntest.Toy(learn.Regression, 800, 11)
	pos := *d
	pos.Y = make([]float64, len(d.Y))
	for i, y := range d.Y {
		pos.Y[i] = math.Floor(math.Exp(y / 6))
	}
	for _, obj := range []string{"squared", "absolute", "huber", "poisson"} {
		dd := d
		if obj == "poisson" {
			dd = &pos
		}
		l := New()
		l.Objective = obj
		l.HuberDelta = 2
		m := fitModel(t, l, dd)
		p, _ := m.Predict(dd.X)
		mean, se, ss := 0.0, 0.0, 0.0
		for _, y := range dd.Y {
			mean += y
		}
		mean /= float64(len(dd.Y))
		for i, y := range dd.Y {
			se += (p[i] - y) * (p[i] - y)
			ss += (mean - y) * (mean - y)
		}
		if r := math.Sqrt(se / ss); r > 0.5 {
			t.Errorf("%s: training RMSE is %.2f of the target std", obj, r)
		}
	}
}

func TestWeights(t *testing.T) {
	d := learntest.Toy(learn.Binary, 500, 12)
	w := make([]float64, len(d.Y))
	for i := range w {
		w[i] = 1
	}
	dw := *d
	dw.Weight = w
	l := New()
	l.NumTrees = 5
	a, _ := fitModel(t, l, d).Raw(d.X)
	b, _ := fitModel(t, l, &dw).Raw(d.X)
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("unit weights changed the model")
		}
	}
	// Zero weight on one class moves the base score towards the other.
	for i := range w {
		w[i] = 1 - d.Y[i]
	}
	w[0], w[1] = 1, 1
	m := fitModel(t, l, &dw)
	if m.BaseScore()[0] > -1 {
		t.Errorf("base score %v ignores weights", m.BaseScore())
	}
}

func TestBinnedReuse(t *testing.T) {
	d := learntest.Toy(learn.Binary, 1000, 13)
	bd, err := BinDataset(d, 255)
	if err != nil {
		t.Fatal(err)
	}
	l := New()
	l.NumTrees = 10
	a, _ := fitModel(t, l, d).MarshalBinary()
	l.Binned = bd
	b, _ := fitModel(t, l, d).MarshalBinary()
	if !bytes.Equal(a, b) {
		t.Error("fitting with a pre-binned matrix changed the model")
	}
	// A view of the same matrix reuses it too.
	if _, err := l.Fit(context.Background(), d.Subset([]int{1, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31, 33, 35, 37, 39, 41, 43, 45, 47, 49, 51, 53, 55, 57, 59, 61, 63, 65, 67, 69, 71, 73, 75, 77, 79, 81})); err != nil {
		t.Errorf("fit on a view with Binned: %v", err)
	}
	// A different matrix is refused.
	other := learntest.Toy(learn.Binary, 1000, 14)
	if _, err := l.Fit(context.Background(), other); err == nil {
		t.Error("Binned from another matrix was accepted")
	}
}

func TestDecodeRejectsCorruption(t *testing.T) {
	d := learntest.Toy(learn.Multiclass, 300, 1)
	b, _ := fitModel(t, New(), d).MarshalBinary()
	for _, cut := range []int{0, 3, 10, len(b) / 3, len(b) - 1} {
		if _, err := Decode(b[:cut]); err == nil {
			t.Errorf("decoding %d of %d bytes succeeded", cut, len(b))
		}
	}
	for _, pos := range []int{5, 40, len(b) / 2, len(b) - 2} {
		c := bytes.Clone(b)
		c[pos] ^= 0x40
		if _, err := Decode(c); err == nil {
			t.Errorf("decoding with byte %d flipped succeeded", pos)
		}
	}
}

func TestCategoricalSplit(t *testing.T) {
	// The target depends on a non-ordinal set of categories: {1, 4, 6}.
	const n = 3000
	X := frame.NewMatrix(n, 2)
	y := make([]float64, n)
	for i := range n {
		c := (i * 7) % 8
		X.Set(i, 0, float64(c))
		X.Set(i, 1, float64(i%13))
		if c == 1 || c == 4 || c == 6 {
			y[i] = 1
		}
	}
	d := &learn.Dataset{X: X, Task: learn.Binary, Y: y, Classes: []string{"a", "b"},
		Features: []learn.Feature{{Name: "c", Categorical: true, Levels: []string{"0", "1", "2", "3", "4", "5", "6", "7"}}, {Name: "noise"}}}
	l := New()
	l.NumTrees = 5
	l.MaxLeaves = 2
	m := fitModel(t, l, d)
	p, _ := m.Predict(X)
	for i := range p {
		if p[i] != y[i] {
			t.Fatalf("row %d misclassified by a one-split categorical model", i)
		}
	}
	if m.SplitCounts()[0] != 5 {
		t.Errorf("split counts %v, want every split on the categorical feature", m.SplitCounts())
	}
}

// TestDeterministicLarge covers the parallel paths that only large leaves
// take (parallel partition, in-place gradient reads, parallel gathers).
func TestDeterministicLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large data")
	}
	d := learntest.Toy(learn.Binary, 90_000, 21)
	var prev []byte
	for _, threads := range []int{1, 2} {
		l := New()
		l.NumTrees = 3
		l.Threads = threads
		b, err := fitModel(t, l, d).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if prev != nil && !bytes.Equal(prev, b) {
			t.Fatalf("threads=%d gave a different model on 90,000 rows", threads)
		}
		prev = b
	}
	// And a view (non-identity rows) of it.
	rows := make([]int, 0, 80_000)
	for i := 0; i < 90_000; i++ {
		if i%9 != 0 {
			rows = append(rows, i)
		}
	}
	l := New()
	l.NumTrees = 3
	a, _ := fitModel(t, l, d.Subset(rows)).MarshalBinary()
	b, _ := fitModel(t, l, d.Subset(rows).Materialize()).MarshalBinary()
	if !bytes.Equal(a, b) {
		t.Error("a 80,000-row view and its materialised copy gave different models")
	}
}

// TestFitColumnsErrors checks that an error encoding a column fails the
// fit with it, and that a learner with an initial model (which predicts on
// the matrix) does not take a data set given by columns.
func TestFitColumnsErrors(t *testing.T) {
	d := byColumns(learntest.Toy(learn.Binary, 500, 3))
	bad := errors.New("column 2 is unreadable")
	d.Columns = func(j int, dst []float64) error {
		if j == 2 {
			return bad
		}
		return nil
	}
	l := New()
	l.NumTrees = 2
	if _, err := l.Fit(context.Background(), d); !errors.Is(err, bad) {
		t.Errorf("fit: %v, want the column's error", err)
	}
	l.InitModel = fitModel(t, New(), learntest.Toy(learn.Binary, 500, 3))
	if l.FitsColumns() {
		t.Error("a learner with an initial model says it fits columns")
	}
}
