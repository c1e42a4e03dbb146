package linear

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
)

func TestConformance(t *testing.T) {
	for _, name := range []string{"linear_regression", "ridge", "lasso", "elastic_net", "logistic_regression", "linear_svm"} {
		t.Run(name, func(t *testing.T) {
			o := learntest.Options{New: func() learn.Learner { l, _ := learn.New(name); return l }}
			switch name {
			case "lasso", "elastic_net":
				// sklearn's default alpha = 1 shrinks the toy target too much.
				o.New = func() learn.Learner {
					l, _ := learn.New(name)
					_ = learn.SetParam(l, "alpha", "0.05")
					return l
				}
			}
			learntest.Run(t, o)
		})
	}
	t.Run("logistic_l1", func(t *testing.T) {
		learntest.Run(t, learntest.Options{New: func() learn.Learner {
			l := NewLogisticRegression()
			l.Penalty = "l1"
			l.ClassWeight = "balanced"
			return l
		}})
	})
	t.Run("logistic_elasticnet", func(t *testing.T) {
		learntest.Run(t, learntest.Options{New: func() learn.Learner {
			l := NewLogisticRegression()
			l.Penalty = "elasticnet"
			return l
		}})
	})
}

// linearData returns y = 1 + 2·x0 - 3·x1 (+ noise) with x2 a copy of x0.
func linearData(n int, noise float64) *learn.Dataset {
	r := rand.New(rand.NewPCG(3, 4))
	X := frame.NewMatrix(n, 3)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		a, b := r.NormFloat64(), r.NormFloat64()*5+10
		X.Set(i, 0, a)
		X.Set(i, 1, b)
		X.Set(i, 2, a)
		y[i] = 1 + 2*a - 3*b + noise*r.NormFloat64()
	}
	return &learn.Dataset{X: X, Y: y, Task: learn.Regression, Features: []learn.Feature{{Name: "a"}, {Name: "b"}, {Name: "a2"}}}
}

func TestLeastSquaresExact(t *testing.T) {
	d := linearData(200, 0)
	m, err := NewLinearRegression().Fit(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	lm := m.(*Model)
	// Minimum-norm: the duplicated column shares the coefficient 2.
	want := []float64{1, -3, 1}
	for j, w := range want {
		if math.Abs(lm.Coef[j]-w) > 1e-8 {
			t.Errorf("coef[%d] = %v, want %v", j, lm.Coef[j], w)
		}
	}
	if math.Abs(lm.Intercept[0]-1) > 1e-8 {
		t.Errorf("intercept = %v, want 1", lm.Intercept[0])
	}
}

// TestElasticNetMatchesRidge: l1_ratio = 0 coordinate descent reaches the
// closed-form ridge solution for the same (rescaled) penalty.
func TestElasticNetMatchesRidge(t *testing.T) {
	d := linearData(300, 1)
	n := float64(d.X.Rows)
	r, _ := (&Ridge{Alpha: 30, Standardize: true}).Fit(context.Background(), d)
	e, err := (&ElasticNet{Alpha: 30 / n, L1Ratio: 0, MaxIter: 10000, Tol: 1e-12, Standardize: true}).Fit(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	for j := range 3 {
		if a, b := r.(*Model).Coef[j], e.(*Model).Coef[j]; math.Abs(a-b) > 1e-6 {
			t.Errorf("coef[%d]: ridge %v, elastic net %v", j, a, b)
		}
	}
	big, _ := (&Lasso{Alpha: 1e6, MaxIter: 10, Tol: 1e-4, Standardize: true}).Fit(context.Background(), d)
	for j, c := range big.(*Model).Coef {
		if c != 0 {
			t.Errorf("huge alpha: coef[%d] = %v, want 0", j, c)
		}
	}
}

func TestBadHyperparameters(t *testing.T) {
	d := learntest.Toy(learn.Binary, 50, 1)
	dr := learntest.Toy(learn.Regression, 50, 1)
	for _, c := range []struct {
		l    learn.Learner
		d    *learn.Dataset
		want string
	}{
		{&LogisticRegression{C: 0, Penalty: "l2", MaxIter: 1, Tol: 1}, d, "c is 0"},
		{&LogisticRegression{C: 1, Penalty: "l3", MaxIter: 1, Tol: 1}, d, "penalty is \"l3\", want l2, l1"},
		{&LogisticRegression{C: 1, Penalty: "l2", MaxIter: 1, Tol: 1, ClassWeight: "x"}, d, "class_weight"},
		{&LinearSVM{C: 1, MaxIter: 0, Tol: 1}, d, "max_iter is 0"},
		{&Ridge{Alpha: -1}, dr, "alpha is -1"},
		{&ElasticNet{Alpha: 1, L1Ratio: 2, MaxIter: 1, Tol: 1}, dr, "l1_ratio is 2"},
		{NewRidge(), d, "want regression"},
		{NewLogisticRegression(), dr, "want binary or multiclass"},
	} {
		_, err := c.l.Fit(context.Background(), c.d)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.l.Name(), err, c.want)
		}
	}
}

// TestUnseenInput: NaN, infinities and unseen category codes at prediction
// time give finite outputs.
func TestUnseenInput(t *testing.T) {
	d := learntest.Toy(learn.Binary, 200, 2)
	for _, l := range []learn.Learner{NewLogisticRegression(), NewLinearSVM()} {
		m, err := l.Fit(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		X, _ := frame.FromRows([][]float64{{math.NaN(), math.Inf(1), 0, 7, math.NaN()}, {0, 0, 0, -1, 0}})
		p, err := m.(learn.Prober).PredictProba(X)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range p {
			if math.IsNaN(v) {
				t.Fatalf("%s: NaN probability", l.Name())
			}
		}
		if _, err := m.Predict(frame.NewMatrix(1, 2)); err == nil {
			t.Errorf("%s: predicting with the wrong column count succeeded", l.Name())
		}
	}
}
