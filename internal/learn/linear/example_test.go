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
