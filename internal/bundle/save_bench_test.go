package bundle_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	_ "github.com/gyre-ml/gyre/internal/learn/forest"
)

// BenchmarkSaveForest saves a bundle holding a regression random forest of
// fully grown trees (the kind of model whose saving automl's output cost
// prices) and reports the encoded model bytes written per second.
func BenchmarkSaveForest(b *testing.B) {
	const n, p = 40000, 8
	r := rand.New(rand.NewPCG(1, 2))
	cols := make([]frame.Column, p+1)
	y := make([]float64, n)
	for j := range p {
		v := make([]float64, n)
		for i := range v {
			v[i] = r.NormFloat64()
			y[i] += v[i] * float64(j+1)
		}
		cols[j] = &frame.Float{ColName: string(rune('a' + j)), Values: v}
	}
	for i := range y {
		y[i] += r.NormFloat64()
	}
	cols[p] = &frame.Float{ColName: "y", Values: y}
	f := frame.MustNew(cols...)
	_ = f.SetRole("y", frame.RoleTarget)
	prep, X, err := bundle.FitPrep(f, bundle.FamilyTrees)
	if err != nil {
		b.Fatal(err)
	}
	l, _ := learn.New("random_forest")
	if err := learn.SetParam(l, "n_estimators", "30"); err != nil {
		b.Fatal(err)
	}
	m, err := l.Fit(context.Background(), &learn.Dataset{X: X, Features: prep.Features(), Task: learn.Regression, Y: y})
	if err != nil {
		b.Fatal(err)
	}
	state, _ := m.MarshalBinary()
	sch, _ := f.Select(f.Names()[:p]...)
	bn := &bundle.Bundle{
		Manifest: bundle.Manifest{Task: learn.Regression, Target: "y", Input: sch.Schema(), GyreVersion: "bench"},
		Members:  []bundle.Member{{Info: bundle.MemberInfo{Learner: "random_forest", Family: bundle.FamilyTrees, Weight: 1}, Prep: prep, Model: m}},
	}
	path := filepath.Join(b.TempDir(), "forest.gyre")
	b.SetBytes(int64(len(state)))
	for b.Loop() {
		if err := bn.Save(path); err != nil {
			b.Fatal(err)
		}
	}
}
