package linear

import (
	"cmp"
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/dense"
)

// LinearRegression is ordinary least squares: minimise Σ wᵢ(yᵢ - xᵢ·β - b)².
// Collinear encoded columns (one-hot levels) get the minimum-norm solution,
// as numpy's lstsq does.
type LinearRegression struct {
	// Rcond drops directions whose eigenvalue is below Rcond × the largest.
	Rcond float64 `param:"rcond" help:"relative cut-off for small singular directions (0 < rcond < 1)"`
}

// Ridge is least squares with an L2 penalty: minimise
// Σ wᵢ(yᵢ - xᵢ·β - b)² + alpha·‖β‖² (scikit-learn's Ridge objective).
type Ridge struct {
	Alpha       float64 `param:"alpha" help:"L2 penalty strength (≥ 0)"`
	Standardize bool    `param:"standardize" help:"standardise numeric features before fitting (the penalty then applies to standardised coefficients)"`
}

// ElasticNet minimises scikit-learn's objective
// 1/(2·Σw)·Σ wᵢ(yᵢ - xᵢ·β - b)² + alpha·l1_ratio·‖β‖₁ + ½·alpha·(1-l1_ratio)·‖β‖²
// by cyclic coordinate descent with covariance (Gram) updates.
type ElasticNet struct {
	Alpha       float64 `param:"alpha" help:"penalty strength (≥ 0)"`
	L1Ratio     float64 `param:"l1_ratio" help:"share of the L1 penalty, 0 (ridge) to 1 (lasso)"`
	MaxIter     int     `param:"max_iter" help:"maximum coordinate-descent sweeps (≥ 1)"`
	Tol         float64 `param:"tol" help:"stop when the largest coefficient change is below tol × the largest coefficient (> 0)"`
	Standardize bool    `param:"standardize" help:"standardise numeric features before fitting (the penalty then applies to standardised coefficients)"`
}

// Lasso is ElasticNet with l1_ratio = 1.
type Lasso struct {
	Alpha       float64 `param:"alpha" help:"L1 penalty strength (≥ 0)"`
	MaxIter     int     `param:"max_iter" help:"maximum coordinate-descent sweeps (≥ 1)"`
	Tol         float64 `param:"tol" help:"stop when the largest coefficient change is below tol × the largest coefficient (> 0)"`
	Standardize bool    `param:"standardize" help:"standardise numeric features before fitting (the penalty then applies to standardised coefficients)"`
}

// NewLinearRegression returns least squares with default settings.
func NewLinearRegression() *LinearRegression { return &LinearRegression{Rcond: 1e-12} }

// NewRidge returns ridge regression with alpha = 1, standardised.
func NewRidge() *Ridge { return &Ridge{Alpha: 1, Standardize: true} }

// NewElasticNet returns elastic net with scikit-learn's defaults (alpha 1,
// l1_ratio 0.5, max_iter 1000, tol 1e-4), standardised.
func NewElasticNet() *ElasticNet {
	return &ElasticNet{Alpha: 1, L1Ratio: 0.5, MaxIter: 1000, Tol: 1e-4, Standardize: true}
}

// NewLasso returns the lasso with scikit-learn's defaults, standardised.
func NewLasso() *Lasso { return &Lasso{Alpha: 1, MaxIter: 1000, Tol: 1e-4, Standardize: true} }

// Name implements learn.Learner.
func (*LinearRegression) Name() string { return "linear_regression" }

// Name implements learn.Learner.
func (*Ridge) Name() string { return "ridge" }

// Name implements learn.Learner.
func (*ElasticNet) Name() string { return "elastic_net" }

// Name implements learn.Learner.
func (*Lasso) Name() string { return "lasso" }

// Fit implements learn.Learner.
func (l *LinearRegression) Fit(ctx context.Context, d *learn.Dataset) (learn.Model, error) {
	if !(l.Rcond > 0 && l.Rcond < 1) {
		return nil, fmt.Errorf("fit linear_regression: rcond is %v, want 0 < rcond < 1", l.Rcond)
	}
	return fitLeastSquares(ctx, d, l.Name(), 0, l.Rcond, false)
}

// Fit implements learn.Learner.
func (l *Ridge) Fit(ctx context.Context, d *learn.Dataset) (learn.Model, error) {
	if err := checkAlpha("fit ridge", l.Alpha); err != nil {
		return nil, err
	}
	return fitLeastSquares(ctx, d, l.Name(), l.Alpha, 1e-12, l.Standardize)
}

// Fit implements learn.Learner.
func (l *Lasso) Fit(ctx context.Context, d *learn.Dataset) (learn.Model, error) {
	e := ElasticNet{Alpha: l.Alpha, L1Ratio: 1, MaxIter: l.MaxIter, Tol: l.Tol, Standardize: l.Standardize}
	return e.fit(ctx, d, l.Name())
}

// Fit implements learn.Learner.
func (l *ElasticNet) Fit(ctx context.Context, d *learn.Dataset) (learn.Model, error) {
	return l.fit(ctx, d, l.Name())
}

// regressionDesign checks d and returns the encoder, the encoded rows, the
// weights and the weighted means of the encoded columns and of y.
type design struct {
	enc   *dense.Encoder
	z     []float64 // row-major n×p
	n, p  int
	w     []float64
	sumW  float64
	zMean []float64
	yMean float64
	y     []float64
}

func newDesign(ctx context.Context, op string, d *learn.Dataset, standardize bool) (*design, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := d.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	enc, err := dense.Fit(d, standardize)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	z, err := enc.Transform(d.X, d.Rows)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	n, p := d.N(), enc.Width
	ds := &design{enc: enc, z: z, n: n, p: p, w: make([]float64, n), y: make([]float64, n), zMean: make([]float64, p)}
	for i := 0; i < n; i++ {
		ds.w[i] = d.W(i)
		ds.y[i] = d.Target(i)
		ds.sumW += ds.w[i]
	}
	if ds.sumW <= 0 {
		return nil, fmt.Errorf("%s: sample weights sum to zero", op)
	}
	return ds, nil
}

// centredGram returns G = Σ wᵢ (zᵢ - z̄)(zᵢ - z̄)ᵀ and q = Σ wᵢ (zᵢ - z̄)(yᵢ - ȳ),
// both divided by div, and fills zMean and yMean.
func (ds *design) centredGram(ctx context.Context, div float64) (*mat.SymDense, []float64, error) {
	n, p := ds.n, ds.p
	for i := 0; i < n; i++ {
		wi := ds.w[i] / ds.sumW
		ds.yMean += wi * ds.y[i]
		row := ds.z[i*p : (i+1)*p]
		for j, v := range row {
			ds.zMean[j] += wi * v
		}
	}
	c := mat.NewDense(n, p, nil)
	q := make([]float64, p)
	for i := 0; i < n; i++ {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
		sw := math.Sqrt(ds.w[i] / div)
		r := ds.y[i] - ds.yMean
		row := ds.z[i*p : (i+1)*p]
		dst := c.RawRowView(i)
		for j, v := range row {
			dst[j] = sw * (v - ds.zMean[j])
			q[j] += sw * sw * (v - ds.zMean[j]) * r
		}
	}
	var g mat.SymDense
	g.SymOuterK(1, c.T())
	return &g, q, ctx.Err()
}

func (ds *design) model(kind string, standardized bool, beta []float64) *Model {
	b := ds.yMean - dot(ds.zMean, beta)
	return &Model{ModelKind: kind, Task: learn.Regression, Link: linkIdentity, Enc: ds.enc, Standardized: standardized,
		Outputs: 1, Coef: beta, Intercept: []float64{b}}
}

// checkAlpha checks a regression penalty's strength.
func checkAlpha(op string, alpha float64) error {
	if !(alpha >= 0) || math.IsInf(alpha, 0) {
		return fmt.Errorf("%s: alpha is %v, want a finite number ≥ 0", op, alpha)
	}
	return nil
}

func checkRegression(op string, d *learn.Dataset) error {
	if d.Task != learn.Regression {
		return fmt.Errorf("%s: task is %v, want regression", op, d.Task)
	}
	return nil
}

// fitLeastSquares solves (G + alpha·I)β = q through the eigen-decomposition
// of G, dropping directions below rcond × the largest eigenvalue when
// alpha == 0 (minimum-norm least squares).
func fitLeastSquares(ctx context.Context, d *learn.Dataset, kind string, alpha, rcond float64, standardize bool) (learn.Model, error) {
	op := "fit " + kind
	if err := checkRegression(op, d); err != nil {
		return nil, err
	}
	ds, err := newDesign(ctx, op, d, standardize)
	if err != nil {
		return nil, err
	}
	g, q, err := ds.centredGram(ctx, 1)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var eig mat.EigenSym
	if !eig.Factorize(g, true) {
		return nil, fmt.Errorf("%s: eigen-decomposition of the Gram matrix did not converge", op)
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	top := 0.0
	for _, v := range vals {
		top = max(top, v)
	}
	beta := make([]float64, ds.p)
	for k, lam := range vals {
		lam = max(lam, 0)
		if alpha == 0 && lam <= rcond*top {
			continue
		}
		if lam+alpha == 0 {
			continue
		}
		proj := 0.0
		for j := 0; j < ds.p; j++ {
			proj += vecs.At(j, k) * q[j]
		}
		proj /= lam + alpha
		for j := 0; j < ds.p; j++ {
			beta[j] += vecs.At(j, k) * proj
		}
	}
	return ds.model(kind, standardize, beta), nil
}

func (l *ElasticNet) fit(ctx context.Context, d *learn.Dataset, kind string) (learn.Model, error) {
	op := "fit " + kind
	if err := cmp.Or(checkAlpha(op, l.Alpha), checkL1Ratio(op, l.L1Ratio), checkSolver(op, l.MaxIter, l.Tol), checkRegression(op, d)); err != nil {
		return nil, err
	}
	ds, err := newDesign(ctx, op, d, l.Standardize)
	if err != nil {
		return nil, err
	}
	gs, q, err := ds.centredGram(ctx, ds.sumW)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	p := ds.p
	g := make([]float64, p*p)
	for i := 0; i < p; i++ {
		for j := 0; j < p; j++ {
			g[i*p+j] = gs.At(i, j)
		}
	}
	beta, err := coordinateDescent(ctx, g, q, p, l.Alpha*l.L1Ratio, l.Alpha*(1-l.L1Ratio), l.MaxIter, l.Tol)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return ds.model(kind, l.Standardize, beta), nil
}

// coordinateDescent minimises ½βᵀGβ - qᵀβ + l1‖β‖₁ + ½·l2‖β‖² by cyclic
// coordinate descent, keeping Gβ up to date (covariance updates).
func coordinateDescent(ctx context.Context, g, q []float64, p int, l1, l2 float64, maxIter int, tol float64) ([]float64, error) {
	beta := make([]float64, p)
	gb := make([]float64, p) // G·β
	for it := 0; it < maxIter; it++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		maxDelta, maxBeta := 0.0, 0.0
		for j := 0; j < p; j++ {
			gjj := g[j*p+j]
			if gjj <= 0 {
				continue
			}
			old := beta[j]
			rho := q[j] - gb[j] + gjj*old
			nv := softThreshold(rho, l1) / (gjj + l2)
			if nv != old {
				delta := nv - old
				col := g[j*p : (j+1)*p] // G is symmetric: row j = column j
				for k := range gb {
					gb[k] += col[k] * delta
				}
				beta[j] = nv
				maxDelta = max(maxDelta, math.Abs(delta))
			}
			maxBeta = max(maxBeta, math.Abs(nv))
		}
		if maxBeta == 0 || maxDelta <= tol*maxBeta {
			break
		}
	}
	return beta, nil
}

func softThreshold(x, t float64) float64 {
	switch {
	case x > t:
		return x - t
	case x < -t:
		return x + t
	}
	return 0
}
