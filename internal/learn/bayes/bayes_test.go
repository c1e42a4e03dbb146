package bayes

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
)

func TestConformance(t *testing.T) {
	learntest.Run(t, learntest.Options{New: func() learn.Learner { return New() }})
}

func fitProba(t *testing.T, d *learn.Dataset, q [][]float64) []float64 {
	t.Helper()
	m, err := New().Fit(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	Q, _ := frame.FromRows(q)
	p, err := m.(learn.Prober).PredictProba(Q)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func near(t *testing.T, got, want []float64) {
	t.Helper()
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-9 {
			t.Errorf("proba[%d] = %.15g, want %.15g (scikit-learn)", i, got[i], want[i])
		}
	}
}

// TestMatchesSklearn compares with GaussianNB (weighted) and CategoricalNB;
// expected values printed by scikit-learn 1.2.1.
func TestMatchesSklearn(t *testing.T) {
	X, _ := frame.FromRows([][]float64{{1, 2}, {1.5, 1.8}, {5, 8}, {8, 8}, {1, 0.6}, {9, 11}, {8, 2}, {10, 2}, {9, 3}, {2, 2.5}})
	d := &learn.Dataset{X: X, Task: learn.Multiclass, Y: []float64{0, 0, 1, 1, 0, 1, 2, 2, 2, 0},
		Weight: []float64{1, 2, 1, 1, 0.5, 1, 1, 3, 1, 1}, Classes: []string{"a", "b", "c"},
		Features: []learn.Feature{{Name: "x"}, {Name: "y"}}}
	near(t, fitProba(t, d, [][]float64{{1, 1}, {5, 5}, {9, 4}}), []float64{
		0.999999999952502, 4.749795805533063e-11, 6.968893501198872e-26, 2.5381086397350737e-25,
		0.9999999999999893, 1.0841222025009308e-14, 1.4518870498831236e-91, 0.7294749988284528, 0.27052500117154676})

	Xc, _ := frame.FromRows([][]float64{{0, 1}, {0, 2}, {1, 1}, {1, 0}, {2, 2}, {0, 0}, {1, 1}, {2, 1}})
	dc := &learn.Dataset{X: Xc, Task: learn.Binary, Y: []float64{0, 0, 1, 1, 0, 1, 1, 0}, Classes: []string{"n", "y"},
		Features: []learn.Feature{{Name: "u", Categorical: true}, {Name: "v", Categorical: true}}}
	near(t, fitProba(t, dc, [][]float64{{0, 1}, {1, 2}, {2, 0}}), []float64{
		0.6000000000000001, 0.39999999999999997, 0.4285714285714286, 0.5714285714285714, 0.5, 0.5})

	// Missing and unseen values are marginalised out: only the prior is left.
	p := fitProba(t, dc, [][]float64{{math.NaN(), 9}})
	near(t, p, []float64{0.5, 0.5})
}

func TestBadHyperparameters(t *testing.T) {
	d := learntest.Toy(learn.Binary, 30, 1)
	for _, c := range []struct {
		l    *NaiveBayes
		want string
	}{
		{&NaiveBayes{VarSmoothing: -1, Alpha: 1}, "var_smoothing is -1"},
		{&NaiveBayes{VarSmoothing: 1e-9, Alpha: math.NaN()}, "alpha is NaN"},
	} {
		if _, err := c.l.Fit(context.Background(), d); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one containing %q", err, c.want)
		}
	}
	if _, err := New().Fit(context.Background(), learntest.Toy(learn.Regression, 30, 1)); err == nil {
		t.Error("regression accepted")
	}
}
