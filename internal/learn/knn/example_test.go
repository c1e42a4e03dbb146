package knn_test

import (
	"context"
	"fmt"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/knn"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
	"github.com/gyre-ml/gyre/internal/metric"
)

func ExampleKNN() {
	train := learntest.Toy(learn.Multiclass, 600, 1)
	test := learntest.Toy(learn.Multiclass, 200, 2)

	l := knn.New()
	l.K = 15
	l.Weights = "distance"
	m, err := l.Fit(context.Background(), train)
	if err != nil {
		fmt.Println(err)
		return
	}
	pred, _ := m.Predict(test.X)
	acc, _ := metric.Accuracy(test.Y, pred, nil)
	fmt.Printf("test accuracy > 0.8: %v\n", acc > 0.8)
	// Output: test accuracy > 0.8: true
}
