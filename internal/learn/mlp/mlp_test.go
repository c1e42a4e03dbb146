package mlp_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
	"github.com/gyre-ml/gyre/internal/learn/mlp"
	"github.com/gyre-ml/gyre/internal/metric"
)

func TestConformance(t *testing.T) {
	learntest.Run(t, learntest.Options{New: func() learn.Learner {
		l := mlp.New()
		l.HiddenLayerSizes = []int{32}
		l.BatchSize = 32
		l.Seed = 4
		return l
	}})
}

func TestNoEarlyStoppingTwoLayers(t *testing.T) {
	learntest.Run(t, learntest.Options{New: func() learn.Learner {
		l := mlp.New()
		l.HiddenLayerSizes = []int{16, 8}
		l.EarlyStopping = false
		l.BatchSize = 32
		l.MaxIter = 100
		return l
	}, Tasks: []learn.Task{learn.Multiclass, learn.Regression}})
}

func TestBadParams(t *testing.T) {
	d := learntest.Toy(learn.Binary, 50, 1)
	learntest.Refuses(t, func() learn.Learner { return mlp.New() }, d, [][2]string{{"hidden_layer_sizes", "0"}, {"alpha", "-1"}, {"batch_size", "0"}, {"learning_rate", "0"},
		{"beta1", "1"}, {"beta2", "-0.1"}, {"epsilon", "0"}, {"max_iter", "0"}, {"validation_fraction", "1"}, {"n_iter_no_change", "0"}})
}

func ExampleMLP() {
	d := learntest.Toy(learn.Binary, 500, 1)
	l := mlp.New()
	l.HiddenLayerSizes = []int{32}
	m, err := l.Fit(context.Background(), d)
	if err != nil {
		fmt.Println(err)
		return
	}
	pred, _ := m.Predict(d.X)
	acc, _ := metric.Accuracy(d.Y, pred, nil)
	fmt.Println("training accuracy above 0.85:", acc > 0.85)
	// Output: training accuracy above 0.85: true
}
