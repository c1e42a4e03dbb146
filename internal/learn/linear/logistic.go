package linear

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/parallel"
)

// LogisticRegression is (multinomial) logistic regression with scikit-learn's
// objective C·Σ sᵢ·lossᵢ + penalty(β), the intercept unpenalised, where
// penalty is ½‖β‖² (l2), ‖β‖₁ (l1), l1_ratio·‖β‖₁ + ½(1-l1_ratio)‖β‖²
// (elasticnet) or nothing (none). Binary problems fit one coefficient
// vector; multiclass problems fit the multinomial (softmax) model. L2 and
// none use L-BFGS; l1 and elasticnet use a proximal Newton method (IRLS
// with penalised coordinate descent, glmnet-style, with a line search).
type LogisticRegression struct {
	C           float64 `param:"c" help:"inverse regularisation strength (> 0); smaller is stronger"`
	Penalty     string  `param:"penalty" help:"l2, l1, elasticnet or none"`
	L1Ratio     float64 `param:"l1_ratio" help:"elasticnet mixing, 0 (l2) to 1 (l1)"`
	ClassWeight string  `param:"class_weight" help:"none, or balanced (weight classes by n/(k·count))"`
	MaxIter     int     `param:"max_iter" help:"maximum L-BFGS iterations or proximal-Newton passes (≥ 1)"`
	Tol         float64 `param:"tol" help:"stop when the gradient's largest component (L-BFGS) or the largest coefficient change in a pass (proximal Newton) is below tol (> 0)"`
	Standardize bool    `param:"standardize" help:"standardise numeric features before fitting"`
}

// NewLogisticRegression returns logistic regression with scikit-learn's
// defaults (C 1, l2, max_iter 100, tol 1e-4), standardised.
func NewLogisticRegression() *LogisticRegression {
	return &LogisticRegression{C: 1, Penalty: "l2", L1Ratio: 0.5, ClassWeight: "none", MaxIter: 100, Tol: 1e-4, Standardize: true}
}

// Name implements learn.Learner.
func (*LogisticRegression) Name() string { return "logistic_regression" }

// checkC checks the inverse regularisation strength of a classifier.
func checkC(op string, c float64) error {
	if !(c > 0) || math.IsInf(c, 0) {
		return fmt.Errorf("%s: c is %v, want a finite number > 0", op, c)
	}
	return nil
}

// checkL1Ratio checks an elastic-net mixing parameter.
func checkL1Ratio(op string, r float64) error {
	if !(r >= 0 && r <= 1) {
		return fmt.Errorf("%s: l1_ratio is %v, want 0 ≤ l1_ratio ≤ 1", op, r)
	}
	return nil
}

// checkSolver checks what every iterative solver here takes: the limit on
// iterations (or passes) and the stopping tolerance.
func checkSolver(op string, maxIter int, tol float64) error {
	switch {
	case maxIter < 1:
		return fmt.Errorf("%s: max_iter is %d, want ≥ 1", op, maxIter)
	case !(tol > 0):
		return fmt.Errorf("%s: tol is %v, want > 0", op, tol)
	}
	return nil
}

func checkClassWeight(op, cw string) error {
	if cw != "none" && cw != "balanced" && cw != "" {
		return fmt.Errorf("%s: class_weight is %q, want none or balanced", op, cw)
	}
	return nil
}

// classDesign encodes a classification data set and returns per-row
// weights with class weights folded in.
func classDesign(ctx context.Context, op string, d *learn.Dataset, standardize bool, classWeight string) (*design, int, error) {
	if !d.Task.Classification() {
		return nil, 0, fmt.Errorf("%s: task is %v, want binary or multiclass", op, d.Task)
	}
	ds, err := newDesign(ctx, op, d, standardize)
	if err != nil {
		return nil, 0, err
	}
	k := d.NumClasses()
	if classWeight == "balanced" {
		count := make([]float64, k)
		for _, y := range ds.y {
			count[int(y)]++
		}
		cw := make([]float64, k)
		for c := range cw {
			if count[c] > 0 {
				cw[c] = float64(ds.n) / (float64(k) * count[c])
			}
		}
		ds.sumW = 0
		for i, y := range ds.y {
			ds.w[i] *= cw[int(y)]
			ds.sumW += ds.w[i]
		}
	}
	return ds, k, nil
}

// Fit implements learn.Learner.
func (l *LogisticRegression) Fit(ctx context.Context, d *learn.Dataset) (learn.Model, error) {
	const op = "fit logistic_regression"
	var penalty error
	if !slices.Contains([]string{"l2", "l1", "elasticnet", "none"}, l.Penalty) {
		penalty = fmt.Errorf("%s: penalty is %q, want l2, l1, elasticnet or none", op, l.Penalty)
	}
	if err := cmp.Or(checkC(op, l.C), penalty, checkL1Ratio(op, l.L1Ratio), checkSolver(op, l.MaxIter, l.Tol), checkClassWeight(op, l.ClassWeight)); err != nil {
		return nil, err
	}
	ds, k, err := classDesign(ctx, op, d, l.Standardize, l.ClassWeight)
	if err != nil {
		return nil, err
	}
	obj := &logLoss{ds: ds, k: k}
	obj.outputs = k
	if k == 2 {
		obj.outputs = 1
	}
	scale := 1 / (l.C * ds.sumW)
	var l1, l2 float64
	switch l.Penalty {
	case "l2":
		l2 = scale
	case "l1":
		l1 = scale
	case "elasticnet":
		l1, l2 = l.L1Ratio*scale, (1-l.L1Ratio)*scale
	}
	obj.l2 = l2
	var theta []float64
	if l1 == 0 {
		theta, err = obj.lbfgs(ctx, l.MaxIter, l.Tol)
	} else {
		theta, err = obj.proxNewton(ctx, l1, l.MaxIter, l.Tol)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	m := Model{ModelKind: l.Name(), Task: d.Task, Classes: k, Link: linkSoftmax, Enc: ds.enc, Standardized: l.Standardize, Outputs: obj.outputs}
	if k == 2 {
		m.Link = linkLogistic
	}
	p1 := ds.p + 1
	for o := 0; o < obj.outputs; o++ {
		m.Coef = append(m.Coef, theta[o*p1:o*p1+ds.p]...)
		m.Intercept = append(m.Intercept, theta[o*p1+ds.p])
	}
	return &Classifier{m}, nil
}

// logLoss is the mean weighted logistic (outputs == 1) or multinomial loss
// plus ½·l2·‖β‖² over θ = outputs blocks of [β (p), b].
type logLoss struct {
	ds      *design
	k       int
	outputs int
	l2      float64
}

// chunks is fixed so that sums happen in the same order on every machine.
const chunks = 8

// eval returns the objective at theta and writes its gradient.
func (o *logLoss) eval(theta, grad []float64) float64 {
	ds := o.ds
	p, p1, out := ds.p, ds.p+1, o.outputs
	parts := make([][]float64, chunks)
	losses := make([]float64, chunks)
	parallel.For(chunks, chunks, func(c int) {
		g := make([]float64, len(theta))
		z := make([]float64, max(out, 2))
		pr := make([]float64, max(out, 2))
		loss := 0.0
		lo, hi := c*ds.n/chunks, (c+1)*ds.n/chunks
		for i := lo; i < hi; i++ {
			w := ds.w[i]
			if w == 0 {
				continue
			}
			row := ds.z[i*p : (i+1)*p]
			y := int(ds.y[i])
			if out == 1 {
				f := dot(theta[:p], row) + theta[p]
				// log(1+e^f) - y·f, computed stably.
				if f > 0 {
					loss += w * (f + math.Log1p(math.Exp(-f)) - float64(y)*f)
				} else {
					loss += w * (math.Log1p(math.Exp(f)) - float64(y)*f)
				}
				r := w * (sigmoid(f) - float64(y))
				for j, v := range row {
					g[j] += r * v
				}
				g[p] += r
				continue
			}
			for c := 0; c < out; c++ {
				z[c] = dot(theta[c*p1:c*p1+p], row) + theta[c*p1+p]
			}
			mx := z[0]
			for _, v := range z[1:out] {
				mx = max(mx, v)
			}
			s := 0.0
			for c := 0; c < out; c++ {
				pr[c] = math.Exp(z[c] - mx)
				s += pr[c]
			}
			loss += w * (mx + math.Log(s) - z[y])
			for c := 0; c < out; c++ {
				r := pr[c] / s
				if c == y {
					r--
				}
				r *= w
				gc := g[c*p1 : (c+1)*p1]
				for j, v := range row {
					gc[j] += r * v
				}
				gc[p] += r
			}
		}
		parts[c], losses[c] = g, loss
	})
	clear(grad)
	f := 0.0
	for c := 0; c < chunks; c++ {
		f += losses[c]
		for j, v := range parts[c] {
			grad[j] += v
		}
	}
	inv := 1 / ds.sumW
	f *= inv
	for j := range grad {
		grad[j] *= inv
	}
	for c := 0; c < out; c++ {
		for j := 0; j < p; j++ {
			b := theta[c*p1+j]
			f += 0.5 * o.l2 * b * b
			grad[c*p1+j] += o.l2 * b
		}
	}
	return f
}

func normInf(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, math.Abs(x))
	}
	return m
}

// l1norm returns Σ|β| over the coefficients (not the intercepts).
func (o *logLoss) l1norm(theta []float64) float64 {
	p1 := o.ds.p + 1
	s := 0.0
	for j, v := range theta {
		if j%p1 != p1-1 {
			s += math.Abs(v)
		}
	}
	return s
}

// proxNewton minimises the smooth objective + l1·‖β‖₁ (intercepts
// unpenalised) the glmnet way: each outer iteration takes one output block
// at a time, builds the weighted least-squares (IRLS) approximation of the
// loss in that block, solves it with penalised coordinate descent and
// accepts the step after a backtracking line search on the true objective.
// It stops when no coefficient moved by more than tol in a full outer pass,
// or when a pass lowers the objective by less than tol/1000 of its value.
func (o *logLoss) proxNewton(ctx context.Context, l1 float64, maxIter int, tol float64) ([]float64, error) {
	ds := o.ds
	n, p, p1, out := ds.n, ds.p, ds.p+1, o.outputs
	theta := make([]float64, out*p1)
	grad := make([]float64, len(theta))
	// Feature-major copy of the design for column sweeps.
	cols := make([]float64, n*p)
	for i := 0; i < n; i++ {
		for j := 0; j < p; j++ {
			cols[j*n+i] = ds.z[i*p+j]
		}
	}
	f := o.eval(theta, grad) + l1*o.l1norm(theta)
	eta := make([]float64, n*out)
	h := make([]float64, n)
	r := make([]float64, n)
	hx2 := make([]float64, p)
	mean := make([]float64, p)
	trial := make([]float64, len(theta))
	lastMoved := math.Inf(1)
	for it := 0; it < maxIter; it++ {
		moved, fStart := 0.0, f
		// Linear predictors of every output at theta, kept current below.
		for i := 0; i < n; i++ {
			row := ds.z[i*p : (i+1)*p]
			for k := 0; k < out; k++ {
				eta[i*out+k] = dot(theta[k*p1:k*p1+p], row) + theta[k*p1+p]
			}
		}
		for c := 0; c < out; c++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			hs := o.irls(eta, h, r, c)
			blk := theta[c*p1 : (c+1)*p1]
			old := slices.Clone(blk)
			nb := slices.Clone(blk)
			// Centre each column by its h-weighted mean inside the quadratic
			// model (glmnet's trick): the intercept then stays optimal after
			// every coordinate move, which decouples it from the features.
			for j := 0; j < p; j++ {
				col := cols[j*n : (j+1)*n]
				s, s2 := 0.0, 0.0
				for i, x := range col {
					s += h[i] * x
					s2 += h[i] * x * x
				}
				mean[j] = 0
				if hs > 0 {
					mean[j] = s / hs
				}
				hx2[j] = s2 - mean[j]*mean[j]*hs
			}
			if hs > 0 {
				db := 0.0
				for i := range r {
					db += h[i] * r[i]
				}
				db /= hs
				nb[p] += db
				for i := range r {
					r[i] -= db
				}
			}
			// Penalised coordinate descent on ½Σhᵢ(rᵢ - Δηᵢ)² + l1‖β‖₁ + ½l2‖β‖².
			// Solve loosely while the outer steps are large: the quadratic
			// model is only trusted near the current point anyway.
			inner := max(tol, 0.05*lastMoved)
			for sweep := 0; sweep < 50; sweep++ {
				maxD := 0.0
				for j := 0; j < p; j++ {
					if hx2[j] <= 1e-14*hs {
						continue
					}
					col := cols[j*n : (j+1)*n]
					g := 0.0
					for i, x := range col {
						g += h[i] * x * r[i]
					}
					bj := nb[j]
					v := softThreshold(g+hx2[j]*bj, l1) / (hx2[j] + o.l2)
					if d := v - bj; d != 0 {
						nb[j] = v
						nb[p] -= d * mean[j]
						m := mean[j]
						for i, x := range col {
							r[i] -= d * (x - m)
						}
						maxD = max(maxD, math.Abs(d))
					}
				}
				if maxD < inner {
					break
				}
			}
			// Backtracking along the proposed step on the true objective.
			copy(trial, theta)
			step := 1.0
			accepted := false
			for ls := 0; ls < 30; ls++ {
				for j := range blk {
					trial[c*p1+j] = old[j] + step*(nb[j]-old[j])
				}
				ft := o.eval(trial, grad) + l1*o.l1norm(trial)
				if ft <= f {
					f = ft
					accepted = true
					break
				}
				step /= 2
			}
			if !accepted {
				continue
			}
			for j := range blk {
				moved = max(moved, math.Abs(trial[c*p1+j]-old[j]))
				blk[j] = trial[c*p1+j]
			}
			for i := 0; i < n; i++ {
				eta[i*out+c] = dot(blk[:p], ds.z[i*p:(i+1)*p]) + blk[p]
			}
		}
		// Stop when nothing moves, or when the objective has flattened (a
		// slow drift along collinear one-hot columns changes no prediction).
		if moved < tol || fStart-f <= 1e-3*tol*math.Abs(f) {
			break
		}
		lastMoved = moved
	}
	if !finite(theta) {
		return nil, errors.New("proximal newton diverged (non-finite coefficients)")
	}
	return theta, nil
}

// irls writes output c's IRLS weights h (the loss's curvature, weighted
// and normalised, floored at 1e-5) and working residuals r (in units of the
// linear predictor η) at the predictors eta, and returns Σh.
func (o *logLoss) irls(eta, h, r []float64, c int) float64 {
	ds, out := o.ds, o.outputs
	n := ds.n
	hs := 0.0
	for i := 0; i < n; i++ {
		var pc float64
		if out == 1 {
			pc = sigmoid(eta[i])
		} else {
			e := eta[i*out : (i+1)*out]
			mx := e[0]
			for _, v := range e[1:] {
				mx = max(mx, v)
			}
			s := 0.0
			for _, v := range e {
				s += math.Exp(v - mx)
			}
			pc = math.Exp(e[c]-mx) / s
		}
		yc := 0.0
		if (out == 1 && ds.y[i] == 1) || (out > 1 && int(ds.y[i]) == c) {
			yc = 1
		}
		v := max(pc*(1-pc), 1e-5)
		h[i] = ds.w[i] / ds.sumW * v
		r[i] = (yc - pc) / v
		hs += h[i]
	}
	return hs
}

func finite(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// axpy adds a·x to y.
func axpy(a float64, x, y []float64) {
	for i := range x {
		y[i] += a * x[i]
	}
}
