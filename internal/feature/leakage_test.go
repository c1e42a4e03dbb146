package feature

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
)

// perturb returns a copy of f with the given rows' age, count, city and
// target replaced by random values.
func perturb(f *frame.Frame, rows []int, r *rand.Rand) *frame.Frame {
	age, _ := f.Column("age")
	cnt, _ := f.Column("count")
	city, _ := f.Column("city")
	y, _ := f.Column("y")
	a := age.Take(seq(f.NumRows())).(*frame.Float)
	c := cnt.Take(seq(f.NumRows())).(*frame.Int)
	cities, miss := stringsOf(city)
	ys := y.Take(seq(f.NumRows())).(*frame.Int)
	for _, i := range rows {
		a.Values[i] = r.Float64() * 1000
		if a.Valid != nil {
			a.Valid.SetValid(i)
		}
		c.Values[i] = int64(r.IntN(1000))
		cities[i] = []string{"Paris", "Berlin", "Rome", "Zurich"}[r.IntN(4)]
		miss[i] = false
		ys.Values[i] = int64(r.IntN(2))
	}
	out, _ := f.With(a)
	out, _ = out.With(c)
	out, _ = out.With(frame.NewCategorical("city", cities, miss))
	out, _ = out.With(ys)
	return out
}

// TestNoLeakageHeldOut: statistics fitted on training rows never depend on
// held-out rows. Changing held-out rows' features and targets leaves the
// fitted pipeline and the training rows' transformed output unchanged.
func TestNoLeakageHeldOut(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 0))
	for trial := 0; trial < 20; trial++ {
		all := mixedFrame(300, uint64(trial))
		part, err := Split(all.NumRows(), SplitOptions{Train: 0.7, Valid: 0.15, Test: 0.15, Seed: uint64(trial)})
		if err != nil {
			t.Fatal(err)
		}
		held := append(append([]int(nil), part.Valid...), part.Test...)
		changed := perturb(all, held, r)
		p := Pipeline{Target: "y", Steps: []Step{
			&Impute{Indicators: true}, &TargetEncode{Columns: []string{"city"}, Seed: 1},
			&Outliers{Columns: []string{"count"}}, &Scale{Method: "standard"}, &YeoJohnson{Columns: []string{"age"}, Standardize: true},
		}}
		fa, _, err := p.Fit(all.Take(part.Train))
		if err != nil {
			t.Fatal(err)
		}
		fb, _, err := p.Fit(changed.Take(part.Train))
		if err != nil {
			t.Fatal(err)
		}
		ja, _ := json.Marshal(fa)
		jb, _ := json.Marshal(fb)
		if string(ja) != string(jb) {
			t.Fatalf("trial %d: fitted state depends on held-out rows", trial)
		}
		oa, err := fa.Transform(all.Take(part.Train))
		if err != nil {
			t.Fatal(err)
		}
		ob, err := fb.Transform(changed.Take(part.Train))
		if err != nil {
			t.Fatal(err)
		}
		equalFrames(t, oa, ob)
	}
}

// TestTargetEncodingOutOfFold: a training row's out-of-fold encoding does not
// depend on its own target, and does depend on the other rows'.
func TestTargetEncodingOutOfFold(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 0))
	for trial := 0; trial < 30; trial++ {
		f := mixedFrame(120, uint64(trial))
		row := r.IntN(f.NumRows())
		y, _ := f.Column("y")
		ys := y.Take(seq(f.NumRows())).(*frame.Int)
		ys.Values[row] = 1 - ys.Values[row]
		g, _ := f.With(ys)
		p := Pipeline{Target: "y", Steps: []Step{&TargetEncode{Columns: []string{"city"}, Smoothing: 1, Folds: 5, Seed: uint64(trial)}}}
		_, oa, err := p.Fit(f)
		if err != nil {
			t.Fatal(err)
		}
		_, ob, err := p.Fit(g)
		if err != nil {
			t.Fatal(err)
		}
		ca, _ := oa.Column("city_te")
		cb, _ := ob.Column("city_te")
		va, _ := frame.Value(ca, row)
		vb, _ := frame.Value(cb, row)
		if va != vb {
			t.Fatalf("trial %d: row %d's encoding changed with its own target: %v → %v", trial, row, va, vb)
		}
		// Full-training statistics (serving path) do use every training row.
		fa, _, _ := p.Fit(f)
		fb, _, _ := p.Fit(g)
		ja, _ := json.Marshal(fa)
		jb, _ := json.Marshal(fb)
		if string(ja) == string(jb) {
			t.Fatalf("trial %d: full-training statistics ignore row %d", trial, row)
		}
	}
}
