package svm

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
	"github.com/gyre-ml/gyre/internal/metric"
)

func TestConformance(t *testing.T) {
	learntest.Run(t, learntest.Options{New: func() learn.Learner { l := New(); l.Seed = 3; return l }})
	t.Run("hinge", func(t *testing.T) {
		learntest.Run(t, learntest.Options{New: func() learn.Learner { l := New(); l.Loss = "hinge"; return l },
			Tasks: []learn.Task{learn.Binary, learn.Multiclass}})
	})
}

// rings is two concentric circles (radius 1 and 2, with noise): no linear
// model separates them, an RBF kernel does.
func rings(n int, seed uint64) *learn.Dataset {
	X := frame.NewMatrix(n, 2)
	y := make([]float64, n)
	for i := range n {
		a := 2 * math.Pi * float64(i) / float64(n) * 7.3
		r := 1.0
		if i%2 == 1 {
			r, y[i] = 2, 1
		}
		r += 0.15 * math.Sin(float64(i)*12.9898+float64(seed))
		X.Set(i, 0, r*math.Cos(a))
		X.Set(i, 1, r*math.Sin(a))
	}
	return &learn.Dataset{X: X, Y: y, Task: learn.Binary, Classes: []string{"inner", "outer"},
		Features: []learn.Feature{{Name: "x"}, {Name: "y"}}}
}

// TestKernelSeparatesRings: on held-out points of two rings, the RBF
// machine ranks almost perfectly (both losses) where logistic regression
// on the raw features is at chance.
func TestKernelSeparatesRings(t *testing.T) {
	train, test := rings(400, 1), rings(200, 2)
	for _, loss := range []string{"logistic", "hinge"} {
		l := New()
		l.Loss, l.C = loss, 10
		m, err := l.Fit(context.Background(), train)
		if err != nil {
			t.Fatal(err)
		}
		p, err := m.(learn.Prober).PredictProba(test.X)
		if err != nil {
			t.Fatal(err)
		}
		pos := make([]float64, test.X.Rows)
		for i := range pos {
			pos[i] = p[2*i+1]
		}
		auc, err := metric.ROCAUC(test.Y, pos, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auc < 0.97 {
			t.Errorf("%s: held-out ROC-AUC %.4f on two rings, want ≥ 0.97", loss, auc)
		}
	}
}

// TestRegressionFitsSine: least-squares SVM regression follows a sine
// that a line cannot.
func TestRegressionFitsSine(t *testing.T) {
	mk := func(n int, off float64) *learn.Dataset {
		X := frame.NewMatrix(n, 1)
		y := make([]float64, n)
		for i := range n {
			x := -3 + 6*(float64(i)+off)/float64(n)
			X.Set(i, 0, x)
			y[i] = math.Sin(2 * x)
		}
		return &learn.Dataset{X: X, Y: y, Task: learn.Regression, Features: []learn.Feature{{Name: "x"}}}
	}
	train, test := mk(300, 0), mk(97, 0.5)
	l := New()
	l.C, l.Gamma = 100, 4
	m, err := l.Fit(context.Background(), train)
	if err != nil {
		t.Fatal(err)
	}
	pred, err := m.Predict(test.X)
	if err != nil {
		t.Fatal(err)
	}
	se := 0.0
	for i, v := range pred {
		se += (v - test.Y[i]) * (v - test.Y[i])
	}
	if rmse := math.Sqrt(se / float64(len(pred))); rmse > 0.1 {
		t.Errorf("held-out RMSE %.4f on sin(2x), want ≤ 0.1 (the target's spread is 0.7)", rmse)
	}
}

func TestBadInput(t *testing.T) {
	d := rings(50, 1)
	for _, c := range []struct {
		set  func(*RBFSVM)
		want string
	}{
		{func(l *RBFSVM) { l.C = 0 }, "c is 0"},
		{func(l *RBFSVM) { l.Gamma = math.Inf(1) }, "gamma is +Inf"},
		{func(l *RBFSVM) { l.Components = 0 }, "components is 0"},
		{func(l *RBFSVM) { l.Loss = "squared" }, `loss is "squared"`},
	} {
		l := New()
		c.set(l)
		_, err := l.Fit(context.Background(), d)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one containing %q", err, c.want)
		}
	}
	if _, err := decode("rbf_svm", []byte(`{"encoder":{"cols":[],"width":0},"components":2,"w":[],"b":[1]}`)); err == nil {
		t.Error("decoded a model whose feature map does not match its encoder")
	}
}
