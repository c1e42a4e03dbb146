package feature

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
)

func TestPCA(t *testing.T) {
	// Two nearly collinear columns plus noise: one component explains most.
	r := rand.New(rand.NewPCG(1, 1))
	n := 500
	a, b, c := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range a {
		a[i] = r.NormFloat64() * 10
		b[i] = 2*a[i] + r.NormFloat64()*0.1
		c[i] = r.NormFloat64() * 0.1
	}
	f := frame.MustNew(frame.NewFloat("a", a), frame.NewFloat("b", b), frame.NewFloat("c", c))
	fs, err := (&PCA{Variance: 0.99}).Fit(f, "")
	if err != nil {
		t.Fatal(err)
	}
	p := fs.(*PCAFitted)
	if len(p.Components) != 1 || float64(p.Explained[0]) < 0.99 {
		t.Fatalf("components %d, explained %v", len(p.Components), p.Explained)
	}
	if w := p.Components[0]; math.Abs(float64(w[1])/float64(w[0])-2) > 0.01 {
		t.Errorf("loadings %v, want b ≈ 2a", w)
	}
	out, err := fs.Transform(f)
	if err != nil {
		t.Fatal(err)
	}
	if out.NumCols() != 1 || out.Col(0).Name() != "pc1" {
		t.Errorf("columns %v", out.Names())
	}
}

func TestMutualInfoAndImportance(t *testing.T) {
	f := mixedFrame(2000, 3)
	if err := f.SetRole("y", frame.RoleTarget); err != nil {
		t.Fatal(err)
	}
	fs, err := (&MutualInfo{K: 1}).Fit(f, "y")
	if err != nil {
		t.Fatal(err)
	}
	out, err := fs.Transform(f)
	if err != nil {
		t.Fatal(err)
	}
	// flag drives the target in mixedFrame.
	if out.Index("flag") < 0 || out.Index("age") >= 0 {
		t.Errorf("mutual_info kept %v, want flag", out.Names())
	}
	imp := &Importance{K: 2, Score: func(X *frame.Matrix, y []float64) ([]float64, error) {
		s := make([]float64, X.Cols)
		s[1], s[3] = 2, 1 // count, city
		return s, nil
	}}
	fs, err = imp.Fit(f, "y")
	if err != nil {
		t.Fatal(err)
	}
	out, _ = fs.Transform(f)
	if out.Index("count") < 0 || out.Index("city") < 0 || out.Index("age") >= 0 {
		t.Errorf("importance kept %v", out.Names())
	}
	if _, err := (&Importance{K: 1}).Fit(f, "y"); err == nil {
		t.Error("importance without a score function: no error")
	}
}

func TestEncodingSteps(t *testing.T) {
	f := frame.MustNew(
		frame.NewString("c", []string{"a", "b", "a", "c", "a"}),
		frame.NewFloat("x", []float64{1, 2, 3, 4, 100}),
	)
	g := frame.MustNew(frame.NewString("c", []string{"a", "z"}), frame.NewFloat("x", []float64{0, 200}))
	tests := []struct {
		step Step
		col  string
		want []string
	}{
		{&Ordinal{}, "c", []string{"0", ""}},
		{&Frequency{}, "c", []string{"3", "0"}},
		{&Frequency{Normalize: true}, "c", []string{"0.6", "0"}},
		{&Scale{Method: "minmax", Columns: []string{"x"}}, "x", []string{"-0.010101010101010102", "2.01010101010101"}},
		{&Bin{Columns: []string{"x"}, Bins: 2}, "x", []string{"0", "1"}},
		{&Outliers{Columns: []string{"x"}}, "x", []string{"0", "7"}},
		{&OneHot{MaxCategories: 1}, "c=__other__", []string{"false", "true"}},
	}
	for _, tt := range tests {
		fs, err := tt.step.Fit(f, "")
		if err != nil {
			t.Fatalf("%s: %v", tt.step.Type(), err)
		}
		out, err := fs.Transform(g)
		if err != nil {
			t.Fatalf("%s: %v", tt.step.Type(), err)
		}
		c, err := out.Column(tt.col)
		if err != nil {
			t.Fatalf("%s: %v", tt.step.Type(), err)
		}
		for i, w := range tt.want {
			if got := c.Format(i); got != w {
				t.Errorf("%s row %d: got %s, want %s", tt.step.Type(), i, got, w)
			}
		}
	}
}
