package linear

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gyre-ml/gyre/internal/learn"
)

// LinearSVM is a linear support vector classifier with the hinge loss:
// minimise ½‖β‖² + C·Σ sᵢ·max(0, 1 - yᵢ(xᵢ·β + b)), the intercept fitted as
// a penalised constant feature (liblinear's bias = 1). It is solved by dual
// coordinate descent (Hsieh et al. 2008, liblinear's solver for the L1-loss
// dual, with shrinking) in a seeded random order; multiclass problems are one-vs-rest.
// Probabilities come from Platt scaling: a sigmoid fitted to the training
// margins of each output (one-vs-rest outputs normalised to sum to 1).
// Predict uses the margins, so it can disagree with the probabilities' argmax
// near the boundary.
type LinearSVM struct {
	C           float64 `param:"c" help:"inverse regularisation strength (> 0)"`
	ClassWeight string  `param:"class_weight" help:"none, or balanced (weight classes by n/(k·count))"`
	MaxIter     int     `param:"max_iter" help:"maximum passes over the data (≥ 1)"`
	Tol         float64 `param:"tol" help:"stop when the projected-gradient spread is below tol (> 0)"`
	Seed        uint64  `param:"seed" help:"seed of the coordinate order"`
	Standardize bool    `param:"standardize" help:"standardise numeric features before fitting"`
}

// NewLinearSVM returns a linear SVM with C 1, max_iter 1000 and tol 0.1
// (liblinear's own default for its dual solvers), standardised.
func NewLinearSVM() *LinearSVM {
	return &LinearSVM{C: 1, ClassWeight: "none", MaxIter: 1000, Tol: 0.1, Standardize: true}
}

// Name implements learn.Learner.
func (*LinearSVM) Name() string { return "linear_svm" }

// Fit implements learn.Learner.
func (l *LinearSVM) Fit(ctx context.Context, d *learn.Dataset) (learn.Model, error) {
	const op = "fit linear_svm"
	if err := cmp.Or(checkC(op, l.C), checkSolver(op, l.MaxIter, l.Tol), checkClassWeight(op, l.ClassWeight)); err != nil {
		return nil, err
	}
	ds, k, err := classDesign(ctx, op, d, l.Standardize, l.ClassWeight)
	if err != nil {
		return nil, err
	}
	outputs := k
	if k == 2 {
		outputs = 1
	}
	m := Model{ModelKind: l.Name(), Task: d.Task, Classes: k, Link: linkSVM, Enc: ds.enc, Standardized: l.Standardize, Outputs: outputs}
	p := ds.p
	qii := make([]float64, ds.n)
	for i := range qii {
		row := ds.z[i*p : (i+1)*p]
		qii[i] = dot(row, row) + 1
	}
	rng := rand.New(rand.NewPCG(l.Seed, 0x5e3))
	margins := make([]float64, ds.n)
	sign := make([]float64, ds.n)
	for o := 0; o < outputs; o++ {
		pos := o
		if outputs == 1 {
			pos = 1
		}
		for i, y := range ds.y {
			sign[i] = -1
			if int(y) == pos {
				sign[i] = 1
			}
		}
		beta, b, err := l.dualCD(ctx, ds, qii, sign, rng)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		for i := 0; i < ds.n; i++ {
			margins[i] = dot(beta, ds.z[i*p:(i+1)*p]) + b
		}
		a, bb := platt(margins, sign, ds.w)
		m.Coef = append(m.Coef, beta...)
		m.Intercept = append(m.Intercept, b)
		m.PlattA = append(m.PlattA, a)
		m.PlattB = append(m.PlattB, bb)
	}
	return &Classifier{m}, nil
}

// dualCD solves the hinge-loss SVM dual for labels sign ∈ {-1, +1}, with
// liblinear's shrinking: variables stuck at a bound are set aside until
// the active set converges, then everything is checked again.
func (l *LinearSVM) dualCD(ctx context.Context, ds *design, qii, sign []float64, rng *rand.Rand) ([]float64, float64, error) {
	n, p := ds.n, ds.p
	beta := make([]float64, p)
	b := 0.0
	alpha := make([]float64, n)
	active := make([]int, 0, n)
	for i := 0; i < n; i++ {
		if ds.w[i] > 0 {
			active = append(active, i)
		}
	}
	all := len(active)
	pgMaxOld, pgMinOld := math.Inf(1), math.Inf(-1)
	for it := 0; it < l.MaxIter; it++ {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		rng.Shuffle(len(active), func(a, c int) { active[a], active[c] = active[c], active[a] })
		pgMax, pgMin := math.Inf(-1), math.Inf(1)
		for s := 0; s < len(active); s++ {
			i := active[s]
			u := l.C * ds.w[i]
			row := ds.z[i*p : (i+1)*p]
			g := sign[i]*(dot(beta, row)+b) - 1
			pg := 0.0
			switch {
			case alpha[i] == 0:
				if g > pgMaxOld { // shrink: stays at the lower bound
					active[s] = active[len(active)-1]
					active = active[:len(active)-1]
					s--
					continue
				}
				pg = min(g, 0)
			case alpha[i] >= u:
				if g < pgMinOld { // shrink: stays at the upper bound
					active[s] = active[len(active)-1]
					active = active[:len(active)-1]
					s--
					continue
				}
				pg = max(g, 0)
			default:
				pg = g
			}
			pgMax, pgMin = max(pgMax, pg), min(pgMin, pg)
			if math.Abs(pg) > 1e-12 {
				old := alpha[i]
				alpha[i] = min(max(old-g/qii[i], 0), u)
				if delta := (alpha[i] - old) * sign[i]; delta != 0 {
					axpy(delta, row, beta)
					b += delta
				}
			}
		}
		if len(active) == 0 || pgMax-pgMin <= l.Tol {
			if len(active) == all {
				break
			}
			// Converged on the active set: check every variable again.
			active = active[:0]
			for i := 0; i < n; i++ {
				if ds.w[i] > 0 {
					active = append(active, i)
				}
			}
			pgMaxOld, pgMinOld = math.Inf(1), math.Inf(-1)
			continue
		}
		pgMaxOld, pgMinOld = pgMax, pgMin
		if pgMaxOld <= 0 {
			pgMaxOld = math.Inf(1)
		}
		if pgMinOld >= 0 {
			pgMinOld = math.Inf(-1)
		}
	}
	return beta, b, nil
}

// platt fits P(y=+1|f) = 1/(1+exp(A·f+B)) to margins f by Newton's method
// with Platt's smoothed targets (Lin, Lin & Weng 2007), weighted.
func platt(f, sign, w []float64) (float64, float64) {
	var prior1, prior0 float64
	for i, s := range sign {
		if s > 0 {
			prior1 += w[i]
		} else {
			prior0 += w[i]
		}
	}
	hi, lo := (prior1+1)/(prior1+2), 1/(prior0+2)
	t := make([]float64, len(f))
	for i, s := range sign {
		t[i] = lo
		if s > 0 {
			t[i] = hi
		}
	}
	a, b := 0.0, math.Log((prior0+1)/(prior1+1))
	obj := func(a, b float64) float64 {
		v := 0.0
		for i, fi := range f {
			z := fi*a + b
			if z >= 0 {
				v += w[i] * (t[i]*z + math.Log1p(math.Exp(-z)))
			} else {
				v += w[i] * ((t[i]-1)*z + math.Log1p(math.Exp(z)))
			}
		}
		return v
	}
	fval := obj(a, b)
	for it := 0; it < 100; it++ {
		var h11, h22, h21, g1, g2 float64
		h11, h22 = 1e-12, 1e-12
		for i, fi := range f {
			z := fi*a + b
			var p, q float64
			if z >= 0 {
				e := math.Exp(-z)
				p, q = e/(1+e), 1/(1+e)
			} else {
				e := math.Exp(z)
				p, q = 1/(1+e), e/(1+e)
			}
			d2 := w[i] * p * q
			h11 += fi * fi * d2
			h22 += d2
			h21 += fi * d2
			d1 := w[i] * (t[i] - p)
			g1 += fi * d1
			g2 += d1
		}
		if math.Abs(g1) < 1e-7 && math.Abs(g2) < 1e-7 {
			break
		}
		det := h11*h22 - h21*h21
		da := -(h22*g1 - h21*g2) / det
		db := -(-h21*g1 + h11*g2) / det
		gd := g1*da + g2*db
		step := 1.0
		for step >= 1e-10 {
			na, nb := a+step*da, b+step*db
			if nv := obj(na, nb); nv < fval+1e-4*step*gd {
				a, b, fval = na, nb, nv
				break
			}
			step /= 2
		}
		if step < 1e-10 {
			break
		}
	}
	return a, b
}
