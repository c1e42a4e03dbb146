package dense

import (
	"math"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
)

func TestEncoder(t *testing.T) {
	X, _ := frame.FromRows([][]float64{{1, 0}, {3, 2}, {math.NaN(), 1}, {5, math.NaN()}})
	d := &learn.Dataset{X: X, Features: []learn.Feature{{Name: "x"}, {Name: "c", Categorical: true, Levels: []string{"a", "b", "c"}}}}
	e, err := FitEncoder(d, true)
	if err != nil {
		t.Fatal(err)
	}
	if e.Width != 4 {
		t.Fatalf("width %d, want 1 numeric + 3 one-hot", e.Width)
	}
	out := e.Transform(X, nil)
	// The missing x takes the mean (3), which standardises to 0.
	if got := out[2*4]; math.Abs(got) > 1e-12 {
		t.Errorf("imputed value encodes to %v, want 0", got)
	}
	// Row 1 has category 2 ("c"): one-hot at position 1+2.
	if out[1*4+3] != 1 || out[1*4+1] != 0 {
		t.Errorf("one-hot row 1 = %v", out[4:8])
	}
	// A missing category encodes as all zeros.
	if out[3*4+1]+out[3*4+2]+out[3*4+3] != 0 {
		t.Errorf("missing category row = %v", out[12:16])
	}
}
