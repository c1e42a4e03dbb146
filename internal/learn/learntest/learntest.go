// Package learntest is the conformance suite every learner in Gyre passes:
// it fits tiny classification and regression sets, checks determinism under a
// seed, that inputs are left untouched, that a cancelled context stops Fit,
// and that a save/load round trip changes no prediction.
package learntest

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
)

// Options tune the suite for one learner.
type Options struct {
	// New returns a fresh learner with the settings to test (seeded).
	New func() learn.Learner
	// Tasks lists the tasks to test; defaults to the learner's registered tasks.
	Tasks []learn.Task
	// MinAccuracy is the training accuracy a classifier must reach on the
	// separable toy set (default 0.8).
	MinAccuracy float64
	// MaxRMSEFrac bounds the regression training RMSE as a fraction of the
	// target's standard deviation (default 0.7).
	MaxRMSEFrac float64
	// SkipCancel skips the cancellation check (only for learners so fast that
	// they finish before checking ctx, which must then be documented).
	SkipCancel bool
}

// Toy returns a small synthetic data set for the task with n rows, one
// categorical feature and a few missing values, deterministic in seed.
func Toy(task learn.Task, n int, seed uint64) *learn.Dataset {
	r := rand.New(rand.NewPCG(seed, 7))
	p := 5
	X := frame.NewMatrix(n, p)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		a, b, c := r.NormFloat64(), r.NormFloat64(), r.NormFloat64()
		cat := float64(r.IntN(3))
		X.Set(i, 0, a)
		X.Set(i, 1, b)
		X.Set(i, 2, c)
		X.Set(i, 3, cat)
		X.Set(i, 4, r.Float64())
		f := 2*a - b + 0.5*c + []float64{-1, 0, 1.5}[int(cat)]
		switch task {
		case learn.Regression, learn.Clustering:
			y[i] = 3*f + 0.1*r.NormFloat64()
		case learn.Binary:
			if f+0.2*r.NormFloat64() > 0 {
				y[i] = 1
			}
		case learn.Multiclass:
			switch {
			case f < -1:
				y[i] = 0
			case f < 1:
				y[i] = 1
			default:
				y[i] = 2
			}
		}
		if i%17 == 5 {
			X.Set(i, 4, math.NaN())
		}
	}
	d := &learn.Dataset{X: X, Task: task, Y: y, Features: []learn.Feature{
		{Name: "a"}, {Name: "b"}, {Name: "c"}, {Name: "cat", Categorical: true, Levels: []string{"x", "y", "z"}}, {Name: "noise"},
	}}
	switch task {
	case learn.Binary:
		d.Classes = []string{"no", "yes"}
	case learn.Multiclass:
		d.Classes = []string{"low", "mid", "high"}
	case learn.Clustering:
		d.Y = nil
	}
	return d
}

// Refuses checks that Fit on d fails for each bad hyperparameter setting
// {name, value}, each set on a fresh learner from newLearner.
func Refuses(t *testing.T, newLearner func() learn.Learner, d *learn.Dataset, bad [][2]string) {
	t.Helper()
	for _, kv := range bad {
		l := newLearner()
		if err := learn.SetParam(l, kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Fit(context.Background(), d); err == nil {
			t.Errorf("%s %s=%s: fit succeeded", l.Name(), kv[0], kv[1])
		}
	}
}

// Run runs the conformance suite.
func Run(t *testing.T, o Options) {
	t.Helper()
	if o.MinAccuracy == 0 {
		o.MinAccuracy = 0.8
	}
	if o.MaxRMSEFrac == 0 {
		o.MaxRMSEFrac = 0.7
	}
	tasks := o.Tasks
	if tasks == nil {
		spec, err := learn.Lookup(o.New().Name())
		if err != nil {
			t.Fatal(err)
		}
		tasks = spec.Tasks
	}
	for _, task := range tasks {
		t.Run(task.String(), func(t *testing.T) { runTask(t, o, task) })
	}
}

func runTask(t *testing.T, o Options, task learn.Task) {
	d := Toy(task, 300, 1)
	xBefore := slices.Clone(d.X.Data)
	yBefore := slices.Clone(d.Y)

	m1, err := o.New().Fit(context.Background(), d)
	if err != nil {
		t.Fatalf("fit: %v", err)
	}
	if !sameFloats(d.X.Data, xBefore) || !sameFloats(d.Y, yBefore) {
		t.Fatal("fit modified its input data set")
	}
	pred, err := m1.Predict(d.X)
	if err != nil {
		t.Fatalf("predict: %v", err)
	}
	if len(pred) != d.X.Rows {
		t.Fatalf("predict returned %d values for %d rows", len(pred), d.X.Rows)
	}

	t.Run("quality", func(t *testing.T) {
		switch {
		case task.Classification():
			ok := 0
			for i, p := range pred {
				if p == d.Y[i] {
					ok++
				}
			}
			if acc := float64(ok) / float64(len(pred)); acc < o.MinAccuracy {
				t.Errorf("training accuracy %.3f, want ≥ %.3f", acc, o.MinAccuracy)
			}
			pr, isProber := m1.(learn.Prober)
			if !isProber {
				t.Fatal("classifier does not implement learn.Prober")
			}
			proba, err := pr.PredictProba(d.X)
			if err != nil {
				t.Fatalf("predict proba: %v", err)
			}
			k := len(d.Classes)
			if len(proba) != d.X.Rows*k {
				t.Fatalf("proba has %d values, want %d", len(proba), d.X.Rows*k)
			}
			for i := 0; i < d.X.Rows; i++ {
				s := 0.0
				for c := 0; c < k; c++ {
					v := proba[i*k+c]
					if v < 0 || v > 1 || math.IsNaN(v) {
						t.Fatalf("row %d class %d probability %v", i, c, v)
					}
					s += v
				}
				if math.Abs(s-1) > 1e-6 {
					t.Fatalf("row %d probabilities sum to %v", i, s)
				}
			}
		case task == learn.Regression:
			mean, ss := 0.0, 0.0
			for _, y := range d.Y {
				mean += y
			}
			mean /= float64(len(d.Y))
			se := 0.0
			for i, p := range pred {
				se += (p - d.Y[i]) * (p - d.Y[i])
				ss += (d.Y[i] - mean) * (d.Y[i] - mean)
			}
			if frac := math.Sqrt(se / ss); frac > o.MaxRMSEFrac {
				t.Errorf("training RMSE is %.3f of the target std, want ≤ %.3f", frac, o.MaxRMSEFrac)
			}
		}
	})

	t.Run("deterministic", func(t *testing.T) {
		m2, err := o.New().Fit(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		b1, err1 := m1.MarshalBinary()
		b2, err2 := m2.MarshalBinary()
		if err1 != nil || err2 != nil {
			t.Fatalf("marshal: %v %v", err1, err2)
		}
		if string(b1) != string(b2) {
			t.Error("two fits with the same seed gave different models")
		}
	})

	t.Run("roundtrip", func(t *testing.T) {
		b, err := m1.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		m3, err := learn.DecodeModel(m1.Kind(), b)
		if err != nil {
			t.Fatal(err)
		}
		p3, err := m3.Predict(d.X)
		if err != nil {
			t.Fatal(err)
		}
		if !sameFloats(pred, p3) {
			t.Error("predictions changed after a save/load round trip")
		}
		if pr, ok := m1.(learn.Prober); ok {
			a, _ := pr.PredictProba(d.X)
			b, err := m3.(learn.Prober).PredictProba(d.X)
			if err != nil || !sameFloats(a, b) {
				t.Errorf("probabilities changed after a save/load round trip (%v)", err)
			}
		}
		if _, err := learn.DecodeModel(m1.Kind(), b[:len(b)/2]); err == nil {
			t.Error("decoding a truncated model succeeded")
		}
	})

	t.Run("view", func(t *testing.T) {
		rows := make([]int, 0, d.N()/2)
		for i := 0; i < d.N(); i += 2 {
			rows = append(rows, i)
		}
		mv, err := o.New().Fit(context.Background(), d.Subset(rows))
		if err != nil {
			t.Fatal(err)
		}
		mm, err := o.New().Fit(context.Background(), d.Subset(rows).Materialize())
		if err != nil {
			t.Fatal(err)
		}
		pv, _ := mv.Predict(d.X)
		pm, _ := mm.Predict(d.X)
		if !sameFloats(pv, pm) {
			t.Error("fitting a row view and its materialised copy gave different models")
		}
	})

	if !o.SkipCancel {
		t.Run("cancel", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if _, err := o.New().Fit(ctx, Toy(task, 2000, 3)); err == nil {
				t.Error("fit with a cancelled context returned no error")
			}
		})
	}
}

func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}
