package tree

import (
	"errors"
	"fmt"
	"math"
	"runtime"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/parallel"
)

// Ensemble is a set of trees whose leaf outputs are averaged: a single
// decision tree or a forest. It is safe for concurrent use.
type Ensemble struct {
	Task learn.Task
	// K is the number of classes (0 for regression); P the number of features.
	K, P  int
	Trees []*Tree
	// Importances holds the normalised impurity importance per feature.
	Importances []float64
}

// NOut returns the number of outputs per row.
func (e *Ensemble) NOut() int {
	if e.Task.Classification() {
		return e.K
	}
	return 1
}

// predictBlock rows are predicted by every tree in turn: large enough that
// each tree is loaded into cache once for many rows.
const predictBlock = 4096

// Raw returns the averaged leaf outputs, row-major n×NOut, computed in
// parallel over blocks of rows.
func (e *Ensemble) Raw(X *frame.Matrix) ([]float64, error) {
	if X == nil {
		return nil, errors.New("predict: nil matrix")
	}
	if X.Cols != e.P {
		return nil, fmt.Errorf("predict: matrix has %d columns, model expects %d features", X.Cols, e.P)
	}
	if len(X.Data) != X.Rows*X.Cols {
		return nil, fmt.Errorf("predict: matrix holds %d values, want %d×%d", len(X.Data), X.Rows, X.Cols)
	}
	k := e.NOut()
	n := X.Rows
	out := make([]float64, n*k)
	workers := runtime.GOMAXPROCS(0)
	block := min(max(n/(8*workers), 512), predictBlock)
	nb := (n + block - 1) / block
	scale := 1 / float64(max(len(e.Trees), 1))
	parallel.ForWorker(nb, workers, func() func(int) {
		buf := make([]float64, block*e.P)
		return func(b int) {
			lo, hi := b*block, min((b+1)*block, n)
			m := hi - lo
			for j := 0; j < e.P; j++ {
				col := X.Data[j*n+lo : j*n+hi]
				for i, v := range col {
					buf[i*e.P+j] = v
				}
			}
			o := out[lo*k : hi*k]
			for _, t := range e.Trees {
				vals := t.Values
				if k <= 2 {
					// The leaf node holds the last output; for binary
					// trees the first is its complement, filled below.
					i := 0
					for ; i < m; i++ {
						o[i*k+k-1] += t.leaf(buf[i*e.P : (i+1)*e.P]).Threshold
					}
					continue
				}
				for i := 0; i < m; i++ {
					off := int(t.leafOffset(buf[i*e.P : (i+1)*e.P]))
					oi := o[i*k : (i+1)*k]
					for c, v := range vals[off : off+k] {
						oi[c] += v
					}
				}
			}
			for i := range o {
				o[i] *= scale
			}
			if k == 2 {
				for i := 0; i < m; i++ {
					o[2*i] = 1 - o[2*i+1]
				}
			}
		}
	})
	return out, nil
}

// Proba returns class probabilities, row-major n×K.
func (e *Ensemble) Proba(X *frame.Matrix) ([]float64, error) {
	if !e.Task.Classification() {
		return nil, errors.New("predict proba: not a classifier")
	}
	p, err := e.Raw(X)
	if err != nil {
		return nil, err
	}
	k := e.K
	for i := 0; i < X.Rows; i++ {
		normalise(p[i*k : (i+1)*k])
	}
	return p, nil
}

// Predict returns the class index (argmax of the probabilities) or the
// regression value per row.
func (e *Ensemble) Predict(X *frame.Matrix) ([]float64, error) {
	p, err := e.Raw(X)
	if err != nil {
		return nil, err
	}
	if !e.Task.Classification() {
		return p, nil
	}
	return learn.ArgMax(p, e.K), nil
}

// Importance returns the impurity importance per feature.
func (e *Ensemble) Importance() []float64 {
	return append([]float64(nil), e.Importances...)
}

// normalise scales v to sum 1 (left as zeros when its sum is 0).
func normalise(v []float64) {
	s := 0.0
	for _, x := range v {
		s += x
	}
	if s > 0 {
		for i := range v {
			v[i] /= s
		}
	}
}

// Normalise scales a non-negative vector to sum 1 in place (zeros stay).
func Normalise(v []float64) { normalise(v) }

// EnsembleFormat is the layout AppendBinary writes; the models that embed an
// ensemble write it as their format version byte and pass that byte back to
// DecodeEnsemble. Format 1 stored every leaf's NOut outputs densely; format
// 2 stores a classifier's leaf sparsely (the count of non-zero class
// probabilities, then each one's class and value): most leaves of a deep
// forest are pure, so a 26-class leaf takes 10 bytes instead of 208.
const EnsembleFormat = 2

// AppendBinary appends the ensemble's encoding (EnsembleFormat) to b.
func (e *Ensemble) AppendBinary(b []byte) []byte { return e.appendBinary(b, EnsembleFormat) }

func (e *Ensemble) appendBinary(b []byte, format int) []byte {
	var w Encoder
	w.B = b
	w.Uvarint(uint64(e.Task))
	w.Uvarint(uint64(e.K))
	w.Uvarint(uint64(e.P))
	w.Floats(e.Importances)
	w.Uvarint(uint64(len(e.Trees)))
	for _, t := range e.Trees {
		w.Uvarint(uint64(t.NOut))
		w.Uvarint(uint64(len(t.Nodes)))
		for _, nd := range t.Nodes {
			w.Float(nd.Threshold)
			w.Varint(int64(nd.Feature))
			w.Varint(int64(nd.Left))
		}
		if format >= 2 && t.NOut > 1 {
			w.sparseLeaves(t.Values, t.NOut)
		} else {
			w.Floats(t.Values)
		}
		w.Uvarint(uint64(len(t.Cats)))
		for _, c := range t.Cats {
			w.Uvarint(c)
		}
	}
	return w.B
}

// DecodeEnsemble reads an ensemble written by AppendBinary in the given
// format (1 or EnsembleFormat) and checks that every reference in it is in
// range.
func DecodeEnsemble(r *Decoder, format int) (*Ensemble, error) {
	if format < 1 || format > EnsembleFormat {
		return nil, fmt.Errorf("unknown tree ensemble format %d", format)
	}
	e := &Ensemble{Task: learn.Task(r.Uvarint()), K: r.Int(), P: r.Int()}
	e.Importances = r.Floats()
	nt := r.Int()
	if r.Err != nil {
		return nil, r.Err
	}
	if nt > r.Remaining() {
		return nil, errTruncated
	}
	for ti := 0; ti < nt && r.Err == nil; ti++ {
		t := &Tree{NOut: r.Int()}
		nn := r.Int()
		if r.Err != nil || nn > r.Remaining() {
			return nil, errTruncated
		}
		t.Nodes = make([]Node, nn)
		for i := range t.Nodes {
			t.Nodes[i] = Node{Threshold: r.Float(), Feature: int32(r.Varint()), Left: int32(r.Varint())}
		}
		if format >= 2 && t.NOut > 1 {
			t.Values = r.sparseLeaves(t.NOut)
		} else {
			t.Values = r.Floats()
		}
		nc := r.Int()
		if r.Err != nil || nc > r.Remaining() {
			return nil, errTruncated
		}
		t.Cats = make([]uint64, nc)
		for i := range t.Cats {
			t.Cats[i] = r.Uvarint()
		}
		if nc == 0 {
			t.Cats = nil
		}
		if r.Err == nil {
			if err := t.check(e.P); err != nil {
				return nil, fmt.Errorf("tree %d: %w", ti+1, err)
			}
		}
		e.Trees = append(e.Trees, t)
	}
	if r.Err != nil {
		return nil, r.Err
	}
	switch {
	case e.Task != learn.Binary && e.Task != learn.Multiclass && e.Task != learn.Regression,
		e.Task == learn.Binary && e.K != 2, e.Task == learn.Multiclass && e.K < 2, e.Task == learn.Regression && e.K != 0,
		len(e.Importances) != e.P:
		return nil, errors.New("inconsistent ensemble header")
	}
	for _, t := range e.Trees {
		if t.NOut != e.NOut() {
			return nil, errors.New("tree output width disagrees with the task")
		}
	}
	return e, nil
}

// check validates the references of a decoded tree so prediction cannot
// index out of range or loop.
func (t *Tree) check(p int) error {
	if len(t.Nodes) == 0 || t.NOut < 1 {
		return errors.New("empty tree")
	}
	for i, nd := range t.Nodes {
		if nd.Feature < 0 {
			if nd.Left < 0 || int(nd.Left)+t.NOut > len(t.Values) || math.Float64bits(t.Values[int(nd.Left)+t.NOut-1]) != math.Float64bits(nd.Threshold) {
				return fmt.Errorf("node %d: leaf value out of range or inconsistent", i)
			}
			continue
		}
		if nd.Feature&^(featMask|nodeFlagMask) != 0 || nd.SplitFeature() >= p || int(nd.Left) <= i || int(nd.Left)+1 >= len(t.Nodes) {
			return fmt.Errorf("node %d: feature or child out of range", i)
		}
		if nd.Categorical() && nd.Feature&bitCatSmall == 0 {
			off := nd.Threshold
			if off < 0 || off >= float64(len(t.Cats)) || math.Trunc(off) != off || int(off)+1+int(t.Cats[int(off)]) > len(t.Cats) {
				return fmt.Errorf("node %d: category set out of range", i)
			}
		}
	}
	return nil
}
