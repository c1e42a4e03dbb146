package kmeans

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/dense"
	"github.com/gyre-ml/gyre/internal/metric"
	"github.com/gyre-ml/gyre/internal/parallel"
)

// KMeans is the k-means learner. Use New for the defaults.
type KMeans struct {
	K           int     `param:"n_clusters" help:"number of clusters (≥ 1)"`
	NInit       int     `param:"n_init" help:"k-means++ restarts; the run with the lowest inertia is kept (≥ 1)"`
	MaxIter     int     `param:"max_iter" help:"Lloyd iterations per run (≥ 1)"`
	Tol         float64 `param:"tol" help:"stop when the centres move less than tol × the mean feature variance (≥ 0)"`
	Standardize bool    `param:"standardize" help:"scale numeric features to unit variance before clustering"`
	SilhouetteN int     `param:"silhouette_sample" help:"training rows sampled for the reported silhouette score (0: none)"`
	Seed        uint64  `param:"seed" help:"random seed"`
}

// New returns a k-means learner with 8 clusters, 3 restarts, 300 iterations
// and tolerance 1e-4.
func New() *KMeans {
	return &KMeans{K: 8, NInit: 3, MaxIter: 300, Tol: 1e-4, Standardize: true, SilhouetteN: 2000}
}

// Name implements learn.Learner.
func (*KMeans) Name() string { return "kmeans" }

// block is the fixed row block of the parallel assignment step.
const block = 1024

// Fit implements learn.Learner.
func (l *KMeans) Fit(ctx context.Context, d *learn.Dataset) (learn.Model, error) {
	const op = "fit kmeans"
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if d == nil || d.X == nil {
		return nil, fmt.Errorf("%s: no data", op)
	}
	switch {
	case l.K < 1:
		return nil, fmt.Errorf("%s: n_clusters is %d, want ≥ 1", op, l.K)
	case l.NInit < 1:
		return nil, fmt.Errorf("%s: n_init is %d, want ≥ 1", op, l.NInit)
	case l.MaxIter < 1:
		return nil, fmt.Errorf("%s: max_iter is %d, want ≥ 1", op, l.MaxIter)
	case !(l.Tol >= 0) || math.IsInf(l.Tol, 0):
		return nil, fmt.Errorf("%s: tol is %v, want a finite number ≥ 0", op, l.Tol)
	case l.SilhouetteN < 0:
		return nil, fmt.Errorf("%s: silhouette_sample is %d, want ≥ 0", op, l.SilhouetteN)
	}
	if d.Task != learn.Clustering {
		return nil, fmt.Errorf("%s: task %s is not supported (valid: clustering)", op, d.Task)
	}
	if err := d.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	n := d.N()
	if l.K > n {
		return nil, fmt.Errorf("%s: n_clusters is %d, more than the %d rows", op, l.K, n)
	}
	enc, err := dense.Fit(d, l.Standardize)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	X, err := enc.Transform(d.X, d.Rows)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	D := enc.Width
	w := make([]float64, n)
	for i := range w {
		w[i] = d.W(i)
	}
	// Tolerance relative to the mean feature variance, as scikit-learn.
	meanVar := 0.0
	for j := 0; j < D; j++ {
		s, s2 := 0.0, 0.0
		for i := 0; i < n; i++ {
			v := X[i*D+j]
			s += v
			s2 += v * v
		}
		m := s / float64(n)
		meanVar += s2/float64(n) - m*m
	}
	tol := l.Tol * meanVar / float64(max(D, 1))

	var best *Model
	for run := 0; run < l.NInit; run++ {
		rng := rand.New(rand.NewPCG(l.Seed, uint64(run)+0x6b6d65616e73))
		c := seedPlusPlus(X, w, n, D, l.K, rng)
		centers, inertia, iters, err := lloyd(ctx, X, w, n, D, l.K, c, l.MaxIter, tol)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		if best == nil || inertia < best.Inertia {
			best = &Model{Enc: *enc, K: l.K, Centers: centers, Inertia: inertia, Iterations: iters}
		}
	}
	best.Silhouette = math.NaN()
	if l.SilhouetteN > 0 && l.K >= 2 {
		m := min(n, l.SilhouetteN)
		rng := rand.New(rand.NewPCG(l.Seed, 0x73696c))
		idx := rng.Perm(n)[:m]
		sx := make([]float64, 0, m*D)
		lab := make([]float64, m)
		for k, i := range idx {
			row := X[i*D : (i+1)*D]
			sx = append(sx, row...)
			lab[k] = float64(nearest(row, best.Centers, l.K, D))
		}
		if s, err := metric.Silhouette(sx, D, lab); err == nil {
			best.Silhouette = s
		}
	}
	return best, nil
}

func sqdist(a, b []float64) float64 {
	s := 0.0
	for j, v := range a {
		t := v - b[j]
		s += t * t
	}
	return s
}

func nearest(x, centers []float64, k, D int) int {
	bi, bd := 0, math.Inf(1)
	for c := 0; c < k; c++ {
		if dd := sqdist(x, centers[c*D:(c+1)*D]); dd < bd {
			bi, bd = c, dd
		}
	}
	return bi
}

// seedPlusPlus picks k initial centres by k-means++ with 2+⌊ln k⌋ greedy
// local trials per centre.
func seedPlusPlus(X, w []float64, n, D, k int, rng *rand.Rand) []float64 {
	centers := make([]float64, 0, k*D)
	pick := func(weights []float64, total float64) int {
		r := rng.Float64() * total
		for i, v := range weights {
			r -= v
			if r < 0 {
				return i
			}
		}
		for i := n - 1; i >= 0; i-- {
			if weights[i] > 0 {
				return i
			}
		}
		return n - 1
	}
	tw := 0.0
	for _, v := range w {
		tw += v
	}
	first := pick(w, tw)
	centers = append(centers, X[first*D:(first+1)*D]...)
	closest := make([]float64, n)
	pot := 0.0
	for i := 0; i < n; i++ {
		closest[i] = sqdist(X[i*D:(i+1)*D], centers[:D])
		pot += w[i] * closest[i]
	}
	trials := 2 + int(math.Log(float64(k)))
	wd := make([]float64, n)
	cand := make([]float64, n)
	bestD := make([]float64, n)
	for c := 1; c < k; c++ {
		for i := range wd {
			wd[i] = w[i] * closest[i]
		}
		bestPot, bestI := math.Inf(1), -1
		for t := 0; t < trials; t++ {
			var ci int
			if pot > 0 {
				ci = pick(wd, pot)
			} else {
				ci = rng.IntN(n)
			}
			p := 0.0
			for i := 0; i < n; i++ {
				cand[i] = min(closest[i], sqdist(X[i*D:(i+1)*D], X[ci*D:(ci+1)*D]))
				p += w[i] * cand[i]
			}
			if p < bestPot {
				bestPot, bestI = p, ci
				copy(bestD, cand)
			}
		}
		centers = append(centers, X[bestI*D:(bestI+1)*D]...)
		copy(closest, bestD)
		pot = bestPot
	}
	return centers
}

// lloyd runs Lloyd iterations from the given centres.
func lloyd(ctx context.Context, X, w []float64, n, D, k int, centers []float64, maxIter int, tol float64) ([]float64, float64, int, error) {
	nb := (n + block - 1) / block
	labels := make([]int32, n)
	dist := make([]float64, n)
	sums := make([][]float64, nb)
	wsum := make([][]float64, nb)
	for b := range sums {
		sums[b] = make([]float64, k*D)
		wsum[b] = make([]float64, k)
	}
	assign := func(centers []float64) {
		parallel.For(nb, 0, func(b int) {
			s, ws := sums[b], wsum[b]
			clear(s)
			clear(ws)
			for i := b * block; i < min((b+1)*block, n); i++ {
				x := X[i*D : (i+1)*D]
				bi, bd := 0, math.Inf(1)
				for c := 0; c < k; c++ {
					if dd := sqdist(x, centers[c*D:(c+1)*D]); dd < bd {
						bi, bd = c, dd
					}
				}
				labels[i], dist[i] = int32(bi), bd
				ws[bi] += w[i]
				o := s[bi*D : (bi+1)*D]
				for j, v := range x {
					o[j] += w[i] * v
				}
			}
		})
	}
	inertia := func() float64 {
		s := 0.0
		for i, v := range dist {
			s += w[i] * v
		}
		return s
	}
	newC := make([]float64, k*D)
	cw := make([]float64, k)
	prev := make([]int32, n)
	iters := 0
	for iters < maxIter {
		if err := ctx.Err(); err != nil {
			return nil, 0, 0, err
		}
		iters++
		assign(centers)
		if iters > 1 && slicesEqual(prev, labels) {
			// Strict convergence: no assignment changed.
			break
		}
		copy(prev, labels)
		clear(newC)
		clear(cw)
		for b := 0; b < nb; b++ {
			for c := 0; c < k; c++ {
				cw[c] += wsum[b][c]
			}
			for q, v := range sums[b] {
				newC[q] += v
			}
		}
		for c := 0; c < k; c++ {
			if cw[c] > 0 {
				for j := 0; j < D; j++ {
					newC[c*D+j] /= cw[c]
				}
				continue
			}
			// Empty cluster: move it to the point farthest from its centre.
			far := 0
			for i := range dist {
				if w[i] > 0 && dist[i] > dist[far] {
					far = i
				}
			}
			copy(newC[c*D:(c+1)*D], X[far*D:(far+1)*D])
			dist[far] = 0
		}
		shift := 0.0
		for q := range newC {
			t := newC[q] - centers[q]
			shift += t * t
		}
		centers, newC = newC, centers
		if shift <= tol {
			break
		}
	}
	assign(centers)
	return centers, inertia(), iters, nil
}

// Model is a fitted k-means model.
type Model struct {
	Enc dense.Encoder
	K   int
	// Centers holds the K centres, row-major in the encoded space.
	Centers []float64
	// Inertia is the weighted sum of squared distances of the training rows
	// to their nearest centre (encoded space).
	Inertia float64
	// Iterations is the number of Lloyd iterations of the kept run.
	Iterations int
	// Silhouette is the silhouette score of a sample of the training rows
	// (NaN when not computed or with one cluster).
	Silhouette float64
}

// state is Model without its methods, so gob encodes its fields rather than
// calling MarshalBinary. Format 2; format 1 had the encoder in the dense.V1
// layout.
type state Model

// Kind implements learn.Model.
func (*Model) Kind() string { return "kmeans" }

// Predict implements learn.Model: the index of the nearest centre per row.
func (m *Model) Predict(X *frame.Matrix) ([]float64, error) {
	Z, err := m.Enc.Transform(X, nil)
	if err != nil {
		return nil, fmt.Errorf("predict kmeans: %w", err)
	}
	D := m.Enc.Width
	out := make([]float64, X.Rows)
	parallel.Blocks(X.Rows, 0, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			out[i] = float64(nearest(Z[i*D:(i+1)*D], m.Centers, m.K, D))
		}
	})
	return out, nil
}

// MarshalBinary implements encoding.BinaryMarshaler (gob, exact floats).
func (m *Model) MarshalBinary() ([]byte, error) {
	return dense.MarshalGob("kmeans", (*state)(m))
}

// Decode rebuilds a model from MarshalBinary output.
func Decode(data []byte) (*Model, error) {
	m := &Model{}
	if err := dense.UnmarshalGob("kmeans", data, (*state)(m), &m.Enc); err != nil {
		return nil, err
	}
	if m.K < 1 || len(m.Centers) != m.K*m.Enc.Width {
		return nil, errors.New("inconsistent kmeans model")
	}
	return m, nil
}

func init() {
	dense.FixGobTypes(&state{})
	learn.Register(learn.Spec{
		Name:    "kmeans",
		Summary: "k-means clustering (k-means++ seeding, Lloyd iterations, restarts; inertia and silhouette)",
		Tasks:   []learn.Task{learn.Clustering},
		New:     func() learn.Learner { return New() },
		Decode:  func(_ string, data []byte) (learn.Model, error) { return Decode(data) },
		Kinds:   []string{"kmeans"},
	})
}

var (
	_ learn.Learner = (*KMeans)(nil)
	_ learn.Model   = (*Model)(nil)
)

func slicesEqual(a, b []int32) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
