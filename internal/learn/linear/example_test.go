package linear_test

import (
	"context"
	"fmt"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
	"github.com/gyre-ml/gyre/internal/learn/linear"
	"github.com/gyre-ml/gyre/internal/metric"
)

func ExampleLogisticRegression() {
	train := learntest.Toy(learn.Binary, 400, 1)
	test := learntest.Toy(learn.Binary, 200, 2)

	l := linear.NewLogisticRegression()
	l.C = 0.5
	m, err := l.Fit(context.Background(), train)
	if err != nil {
		fmt.Println(err)
		return
	}
	proba, _ := m.(learn.Prober).PredictProba(test.X)
	auc, _ := metric.ROCAUCOvR(test.Y, proba, 2, nil)
	fmt.Printf("test ROC-AUC > 0.95: %v\n", auc > 0.95)
	// Output: test ROC-AUC > 0.95: true
}

func ExampleRidge() {
	train := learntest.Toy(learn.Regression, 400, 1)
	m, _ := linear.NewRidge().Fit(context.Background(), train)
	pred, _ := m.Predict(train.X)
	r2, _ := metric.R2(train.Y, pred, nil)
	fmt.Printf("training R² > 0.95: %v\n", r2 > 0.95)
	// Output: training R² > 0.95: true
}

func ExampleLinearRegression() {
	train := learntest.Toy(learn.Regression, 400, 1)
	m, _ := linear.NewLinearRegression().Fit(context.Background(), train)
	pred, _ := m.Predict(train.X)
	r2, _ := metric.R2(train.Y, pred, nil)
	fmt.Printf("training R² > 0.95: %v\n", r2 > 0.95)
	// Output: training R² > 0.95: true
}

func ExampleLasso() {
	train := learntest.Toy(learn.Regression, 400, 1)
	l := linear.NewLasso()
	l.Alpha = 0.5
	m, _ := l.Fit(context.Background(), train)
	// The L1 penalty zeroes the pure-noise feature (column 4).
	fmt.Println("noise coefficient:", m.(*linear.Model).Coef[len(m.(*linear.Model).Coef)-1])
	// Output: noise coefficient: 0
}

func ExampleElasticNet() {
	train := learntest.Toy(learn.Regression, 400, 1)
	l := linear.NewElasticNet()
	l.Alpha, l.L1Ratio = 0.05, 0.5
	m, _ := l.Fit(context.Background(), train)
	pred, _ := m.Predict(train.X)
	rmse, _ := metric.RMSE(train.Y, pred, nil)
	fmt.Printf("training RMSE < 1.5: %v\n", rmse < 1.5)
	// Output: training RMSE < 1.5: true
}

func ExampleLinearSVM() {
	train := learntest.Toy(learn.Multiclass, 600, 1)
	test := learntest.Toy(learn.Multiclass, 300, 2)
	l := linear.NewLinearSVM()
	l.Seed = 7
	m, _ := l.Fit(context.Background(), train)
	pred, _ := m.Predict(test.X)
	acc, _ := metric.Accuracy(test.Y, pred, nil)
	proba, _ := m.(learn.Prober).PredictProba(test.X)
	fmt.Printf("accuracy > 0.85: %v, %d probabilities\n", acc > 0.85, len(proba))
	// Output: accuracy > 0.85: true, 900 probabilities
}
