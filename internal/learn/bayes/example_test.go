package bayes_test

import (
	"context"
	"fmt"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/bayes"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
	"github.com/gyre-ml/gyre/internal/metric"
)

func ExampleNaiveBayes() {
	// Toy data: numeric features plus one categorical-coded feature, with
	// missing values; naive Bayes handles both kinds in one model.
	train := learntest.Toy(learn.Binary, 600, 1)
	test := learntest.Toy(learn.Binary, 300, 2)

	m, err := bayes.New().Fit(context.Background(), train)
	if err != nil {
		fmt.Println(err)
		return
	}
	proba, _ := m.(learn.Prober).PredictProba(test.X)
	auc, _ := metric.ROCAUCOvR(test.Y, proba, 2, nil)
	fmt.Printf("test ROC-AUC > 0.9: %v\n", auc > 0.9)
	// Output: test ROC-AUC > 0.9: true
}
