package linear

import (
	"context"
	"math"
	"testing"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
	"github.com/gyre-ml/gyre/internal/metric"
)

// TestSharedData pins test metrics on the shared splits against scikit-learn
// on the same encoding (values from bench/learners_linear/run.py).
func TestSharedData(t *testing.T) {
	if testing.Short() {
		t.Skip("fits on real data")
	}
	for _, c := range []struct {
		data    string
		learner learn.Learner
		metric  string
		sklearn float64
		margin  float64
	}{
		{"adult", NewLogisticRegression(), "roc_auc", 0.9082, 0.002},
		{"bike_sharing", NewRidge(), "rmse", 142.1807, 0.01},
	} {
		t.Run(c.data+"/"+c.learner.Name(), func(t *testing.T) {
			train, test := learntest.Shared(t, c.data, 0, 0)
			m, err := c.learner.Fit(context.Background(), train)
			if err != nil {
				t.Fatal(err)
			}
			in := metric.Input{Y: test.Y, K: len(test.Classes)}
			if test.Task == learn.Regression {
				in.Pred, _ = m.Predict(test.X)
			} else {
				in.Proba, _ = m.(learn.Prober).PredictProba(test.X)
			}
			mt, _ := metric.Lookup(c.metric)
			got, err := mt.Score(in)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("test %s = %.6f, scikit-learn %.6f", c.metric, got, c.sklearn)
			if mt.Better(c.sklearn, got) && math.Abs(got-c.sklearn) > c.margin {
				t.Errorf("test %s = %.4f, scikit-learn %.4f (margin %.4f)", c.metric, got, c.sklearn, c.margin)
			}
		})
	}
}
