package gbdt

import (
	"fmt"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/parallel"
)

// Explain returns exact TreeSHAP contributions (Lundberg et al., 2018,
// Algorithm 2) with training-row counts as node covers: row-major
// n×(p+1) per output (p features, then the bias: the base score plus each
// tree's cover-weighted mean leaf value), outputs concatenated class after
// class for multiclass. For every row, the p contributions plus the bias
// sum to the raw margin (log-odds for binary, class score for softmax,
// log-mean for poisson).
func (m *Model) Explain(X *frame.Matrix) ([]float64, error) {
	if err := m.checkX(X); err != nil {
		return nil, fmt.Errorf("gbdt explain: %w", err)
	}
	n, p, k := X.Rows, X.Cols, m.k
	out := make([]float64, k*n*(p+1))
	// Bias per output.
	bias := append([]float64(nil), m.base...)
	maxDepth := 0
	for ti, t := range m.trees {
		bias[ti%k] += t.expectedValue()
		maxDepth = max(maxDepth, t.depth())
	}
	threads := defaultThreads()
	if n < 64 {
		threads = 1
	}
	parallel.Blocks(n, threads, 1, func(lo, hi int) {
		path := make([]pathElem, (maxDepth+2)*(maxDepth+3)/2)
		row := make([]float64, p)
		for i := lo; i < hi; i++ {
			for j := range p {
				row[j] = X.Data[j*n+i]
			}
			for ti, t := range m.trees {
				c := ti % k
				phi := out[(c*n+i)*(p+1) : (c*n+i+1)*(p+1)]
				if len(t.Feature) == 0 {
					continue
				}
				t.shapRecurse(row, phi, 0, 0, path, 1, 1, -1)
			}
			for c := range k {
				out[(c*n+i)*(p+1)+p] = bias[c]
			}
		}
	})
	return out, nil
}

// expectedValue is the cover-weighted mean leaf value.
func (t *tree) expectedValue() float64 {
	s, w := 0.0, 0.0
	for i, v := range t.Value {
		s += v * t.LeafCover[i]
		w += t.LeafCover[i]
	}
	if w == 0 {
		return 0
	}
	return s / w
}

func (t *tree) depth() int {
	if len(t.Feature) == 0 {
		return 0
	}
	var rec func(i int32) int
	rec = func(i int32) int {
		if i < 0 {
			return 0
		}
		return 1 + max(rec(t.Left[i]), rec(t.Right[i]))
	}
	return rec(0)
}

type pathElem struct {
	feat      int
	zero, one float64
	pweight   float64
}

func (t *tree) cover(c int32) float64 {
	if c < 0 {
		return t.LeafCover[^c]
	}
	return t.Cover[c]
}

// shapRecurse walks node (internal when ≥ 0, leaf ^node when < 0) with the
// unique path stored in the triangular buffer parent.
func (t *tree) shapRecurse(row, phi []float64, node int32, depth int, parent []pathElem, pz, po float64, pf int) {
	path := parent[depth+1:]
	copy(path, parent[:depth+1])
	if depth == 0 {
		path = parent
	}
	extendPath(path, depth, pz, po, pf)
	if node < 0 {
		v := t.Value[^node]
		for i := 1; i <= depth; i++ {
			w := unwoundPathSum(path, depth, i)
			el := path[i]
			phi[el.feat] += w * (el.one - el.zero) * v
		}
		return
	}
	f := int(t.Feature[node])
	hot, cold := t.Right[node], t.Left[node]
	if t.goLeft(int(node), row[f]) {
		hot, cold = cold, hot
	}
	w := t.Cover[node]
	hz, cz := 0.0, 0.0
	if w > 0 {
		hz, cz = t.cover(hot)/w, t.cover(cold)/w
	}
	iz, io := 1.0, 1.0
	k := 0
	for ; k <= depth; k++ {
		if path[k].feat == f {
			break
		}
	}
	if k != depth+1 {
		iz, io = path[k].zero, path[k].one
		unwindPath(path, depth, k)
		depth--
	}
	t.shapRecurse(row, phi, hot, depth+1, path, hz*iz, io, f)
	t.shapRecurse(row, phi, cold, depth+1, path, cz*iz, 0, f)
}

func extendPath(path []pathElem, d int, pz, po float64, pf int) {
	w := 0.0
	if d == 0 {
		w = 1
	}
	path[d] = pathElem{feat: pf, zero: pz, one: po, pweight: w}
	for i := d - 1; i >= 0; i-- {
		path[i+1].pweight += po * path[i].pweight * float64(i+1) / float64(d+1)
		path[i].pweight = pz * path[i].pweight * float64(d-i) / float64(d+1)
	}
}

func unwindPath(path []pathElem, d, idx int) {
	one, zero := path[idx].one, path[idx].zero
	next := path[d].pweight
	for i := d - 1; i >= 0; i-- {
		if one != 0 {
			tmp := path[i].pweight
			path[i].pweight = next * float64(d+1) / (float64(i+1) * one)
			next = tmp - path[i].pweight*zero*float64(d-i)/float64(d+1)
		} else {
			path[i].pweight = path[i].pweight * float64(d+1) / (zero * float64(d-i))
		}
	}
	for i := idx; i < d; i++ {
		path[i].feat, path[i].zero, path[i].one = path[i+1].feat, path[i+1].zero, path[i+1].one
	}
}

func unwoundPathSum(path []pathElem, d, idx int) float64 {
	one, zero := path[idx].one, path[idx].zero
	next := path[d].pweight
	total := 0.0
	for i := d - 1; i >= 0; i-- {
		if one != 0 {
			tmp := next * float64(d+1) / (float64(i+1) * one)
			total += tmp
			next = path[i].pweight - tmp*zero*float64(d-i)/float64(d+1)
		} else if zero != 0 {
			total += path[i].pweight / zero / (float64(d-i) / float64(d+1))
		}
	}
	return total
}
