package dense

import (
	"errors"
	"math"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
)

func TestEncoder(t *testing.T) {
	X, _ := frame.FromRows([][]float64{{1, 0}, {3, 2}, {math.NaN(), 1}, {5, math.NaN()}, {math.Inf(1), 0}})
	d := &learn.Dataset{X: X, Features: []learn.Feature{{Name: "x"}, {Name: "c", Categorical: true, Levels: []string{"a", "b", "c"}}}}
	e, err := Fit(d, true)
	if err != nil {
		t.Fatal(err)
	}
	if e.Width != 4 {
		t.Fatalf("width %d, want 1 numeric + 3 one-hot", e.Width)
	}
	// The infinite value is missing: the mean is that of 1, 3, 5.
	if e.Cols[0].Mean != 3 || math.Abs(e.Cols[0].Scale-math.Sqrt(8.0/3)) > 1e-15 {
		t.Errorf("numeric column %+v, want mean 3, scale √(8/3)", e.Cols[0])
	}
	out, err := e.Transform(X, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The missing x takes the mean (3), which standardises to 0.
	if got := out[2*4]; got != 0 {
		t.Errorf("imputed value encodes to %v, want 0", got)
	}
	if got := out[4*4]; got != 0 {
		t.Errorf("infinite value encodes to %v, want 0 (imputed)", got)
	}
	// Row 1 has category 2 ("c"): one-hot at position 1+2.
	if out[1*4+3] != 1 || out[1*4+1] != 0 {
		t.Errorf("one-hot row 1 = %v", out[4:8])
	}
	// A missing category encodes as all zeros.
	if out[3*4+1]+out[3*4+2]+out[3*4+3] != 0 {
		t.Errorf("missing category row = %v", out[12:16])
	}
	if _, err := e.Transform(frame.NewMatrix(2, 3), nil); err == nil {
		t.Error("a matrix with 3 columns encoded with a 2-column encoder")
	}
}

func TestWeightsAndRawScale(t *testing.T) {
	X, _ := frame.FromRows([][]float64{{1}, {4}})
	d := &learn.Dataset{X: X, Features: []learn.Feature{{Name: "x"}}, Weight: []float64{2, 1}}
	e, err := Fit(d, false)
	if err != nil {
		t.Fatal(err)
	}
	if e.Cols[0].Mean != 2 || e.Cols[0].Scale != 0 {
		t.Errorf("column %+v, want the weighted mean 2 and scale 0 (impute only)", e.Cols[0])
	}
	Q, _ := frame.FromRows([][]float64{{7}, {math.NaN()}})
	out, _ := e.Transform(Q, nil)
	if out[0] != 7 || out[1] != 2 {
		t.Errorf("raw encoding %v, want [7 2]", out)
	}
}

func TestCheck(t *testing.T) {
	legacy := &Encoder{Cols: []Column{{Levels: 3, Scale: 1}, {Mean: 1, Scale: 2}}, Width: 4}
	if err := legacy.Check(); err != nil || !legacy.Cols[0].Categorical {
		t.Errorf("k-NN/linear layout: %v, categorical %v", err, legacy.Cols[0].Categorical)
	}
	bad := &Encoder{Cols: []Column{{Levels: 3}}, Width: 2}
	if err := bad.Check(); !errors.Is(err, ErrInvalid) {
		t.Errorf("width mismatch: %v, want ErrInvalid", err)
	}
	v1 := V1{Categorical: []bool{true, false}, Levels: []int{0, 0}, Mean: []float64{0, 5}, Scale: []float64{0, -1}, Width: 1}
	e, err := v1.Encoder()
	if err != nil {
		t.Fatal(err)
	}
	if e.Cols[0].Levels != 0 || !e.Cols[0].Categorical || e.Cols[1].Scale != 0 {
		t.Errorf("format-1 conversion %+v", e.Cols)
	}
}
