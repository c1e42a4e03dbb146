package feature

import (
	"math"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
)

// TestYeoJohnsonMatchesSklearn pins lambda and output to scikit-learn 1.x's
// PowerTransformer (method="yeo-johnson", standardize=True) on the same data.
func TestYeoJohnsonMatchesSklearn(t *testing.T) {
	x := []float64{0.5, 1, 2, 3, 5, 8, 13, 21, 34, 55, -1, -3, 100, 0, 7}
	fs, err := (&YeoJohnson{Standardize: true}).Fit(frame.MustNew(frame.NewFloat("x", x)), "")
	if err != nil {
		t.Fatal(err)
	}
	lambda := float64(fs.(*YeoJohnsonFitted).Columns[0].Lambda)
	if math.Abs(lambda-sklearnLambda) > 1e-4 {
		t.Errorf("lambda %v, scikit-learn %v", lambda, sklearnLambda)
	}
	out, err := fs.Transform(frame.MustNew(frame.NewFloat("x", []float64{4, -2})))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := out.Column("x")
	for i, want := range sklearnOut {
		got, _ := frame.Value(c, i)
		if math.Abs(got-want) > 1e-4 {
			t.Errorf("row %d: %v, scikit-learn %v", i, got, want)
		}
	}
}

const sklearnLambda = 0.3063105538634416

var sklearnOut = []float64{-0.1482085133651613, -1.5641285413464683}
