package linear

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/optimize"
)

// lbfgs minimises the smooth objective with gonum's L-BFGS (memory 10,
// More–Thuente line search), stopping when the gradient's largest component
// is below tol, the objective stops improving relatively, or after maxIter
// iterations. It replaced a private L-BFGS of the same memory and stopping
// rules: BenchmarkLogisticSolver measured both at the same time and
// objective on adult and a 3-class set (docs/benchmarks.md).
func (o *logLoss) lbfgs(ctx context.Context, maxIter int, tol float64) ([]float64, error) {
	dim := o.outputs * (o.ds.p + 1)
	// Func and Grad come at the same points: eval computes both once.
	var at, grad []float64
	var fAt float64
	evalAt := func(x []float64) {
		if at != nil && slices.Equal(at, x) {
			return
		}
		if grad == nil {
			grad = make([]float64, dim)
		}
		fAt = o.eval(x, grad)
		at = append(at[:0], x...)
	}
	p := optimize.Problem{
		Func: func(x []float64) float64 { evalAt(x); return fAt },
		Grad: func(g, x []float64) { evalAt(x); copy(g, grad) },
	}
	s := &optimize.Settings{
		GradientThreshold: tol,
		MajorIterations:   maxIter,
		Converger:         &optimize.FunctionConverge{Relative: 1e-12, Iterations: 1},
		Recorder:          ctxRecorder{ctx},
	}
	res, err := optimize.Minimize(p, make([]float64, dim), s, &optimize.LBFGS{Store: 10})
	if cerr := ctx.Err(); cerr != nil {
		return nil, cerr
	}
	if res == nil {
		return nil, fmt.Errorf("l-bfgs: %w", err)
	}
	// A line search that cannot improve any more is at the optimum up to
	// rounding; keep the best point found.
	if err != nil && !errors.Is(err, optimize.ErrLinesearcherFailure) && !errors.Is(err, optimize.ErrNoProgress) {
		return nil, fmt.Errorf("l-bfgs: %w", err)
	}
	if !finite(res.X) || math.IsNaN(res.F) {
		return nil, errors.New("l-bfgs diverged (non-finite coefficients)")
	}
	return res.X, nil
}

// ctxRecorder stops the optimiser when the fit's context is done.
type ctxRecorder struct{ ctx context.Context }

func (ctxRecorder) Init() error { return nil }

func (r ctxRecorder) Record(*optimize.Location, optimize.Operation, *optimize.Stats) error {
	return r.ctx.Err()
}
