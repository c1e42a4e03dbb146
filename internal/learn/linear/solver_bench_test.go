package linear

import (
	"context"
	"testing"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
)

// BenchmarkLogisticSolver times the L2 logistic fit's optimiser alone on
// adult (binary, standardised) and a 20,000-row 3-class set, and reports
// the objective reached and the gradient's largest component.
func BenchmarkLogisticSolver(b *testing.B) {
	adult, _ := learntest.Shared(b, "adult", 0, 0)
	sets := []struct {
		name string
		d    *learn.Dataset
	}{{"adult", adult}, {"toy3", learntest.Toy(learn.Multiclass, 20000, 1)}}
	for _, s := range sets {
		if s.d == nil {
			continue
		}
		ds, k, err := classDesign(context.Background(), "bench", s.d, true, "none")
		if err != nil {
			b.Fatal(err)
		}
		b.Run(s.name, func(b *testing.B) {
			obj := &logLoss{ds: ds, k: k, outputs: k}
			if k == 2 {
				obj.outputs = 1
			}
			obj.l2 = 1 / ds.sumW
			var theta []float64
			for b.Loop() {
				theta, err = obj.lbfgs(context.Background(), 100, 1e-4)
				if err != nil {
					b.Fatal(err)
				}
			}
			g := make([]float64, len(theta))
			b.ReportMetric(obj.eval(theta, g), "objective")
			b.ReportMetric(normInf(g), "grad-inf")
		})
	}
}
