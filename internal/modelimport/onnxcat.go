package modelimport

import (
	"fmt"
	"math"
	"slices"

	"github.com/gyre-ml/gyre/internal/learn/gbdt"
)

// This file turns one ONNX tree (nodes by position, children by position,
// possibly sharing subtrees) into a Gyre tree of "x ≤ t" nodes, emitting a
// fresh copy of a subtree each time it is reached. Equality splits
// (BRANCH_EQ, BRANCH_NEQ: categorical splits on category codes, as
// onnxmltools writes LightGBM's and Gyre its own) become interval tests with
// exactly onnxruntime's answers for every input, codes or not: x == v is
// prev(v) < x ≤ v in the comparison's precision. A chain of BRANCH_EQ nodes
// on one feature whose true branches share a subtree (a category set) is one
// membership test, a balanced search over the sorted codes, so the copies
// grow with the set's size, not exponentially with the chain's length.

// maxEmitted bounds the nodes one imported tree may expand to.
const maxEmitted = 1 << 20

// onnxNode is one node of an ONNX tree.
type onnxNode struct {
	leaf       bool
	mode       string
	feature    int
	value      float64
	yes, no    int // positions of the true and false children
	tracksTrue bool
	weights    []onnxLeaf
	id         int64
	set        []float64 // BRANCH_MEMBER: the values x is tested against
}

// emitter builds one Gyre tree from an ONNX tree.
type emitter struct {
	nodes []onnxNode
	f32   bool
	tree  *onnxTree
	tid   int64
	seen  []bool // nodes reached from the root
}

// emit appends node i's subtree and returns its reference (a node index, or
// ^leaf).
func (e *emitter) emit(i, depth int) (int, error) {
	if depth > 4096 {
		return 0, fmt.Errorf("tree %d is deeper than 4096 levels or has a cycle", e.tid)
	}
	if len(e.tree.nodes)+len(e.tree.leaves) > maxEmitted {
		return 0, fmt.Errorf("tree %d: expanding its equality splits makes more than %d nodes: %w", e.tid, maxEmitted, ErrUnsupported)
	}
	n := e.nodes[i]
	e.seen[i] = true
	if n.leaf {
		e.tree.leaves = append(e.tree.leaves, n.weights)
		return ^(len(e.tree.leaves) - 1), nil
	}
	switch n.mode {
	case "BRANCH_EQ":
		// Gather a chain of BRANCH_EQ nodes on the feature sharing the
		// true branch and the missing-value rule.
		vals := []float64{n.value}
		last := i
		for {
			e.seen[last] = true
			nx := e.nodes[e.nodes[last].no]
			if nx.leaf || nx.mode != "BRANCH_EQ" || nx.feature != n.feature || nx.yes != n.yes || nx.tracksTrue != n.tracksTrue || len(vals) > 1<<16 {
				break
			}
			last = e.nodes[last].no
			vals = append(vals, nx.value)
		}
		return e.set(n.feature, e.points(vals), n.yes, e.nodes[last].no, n.tracksTrue, true, depth)
	case "BRANCH_NEQ":
		// x != v is true for NaN too: NaN goes with the outside.
		return e.set(n.feature, e.points([]float64{n.value}), n.no, n.yes, false, true, depth)
	case "BRANCH_MEMBER":
		// x ∈ set (opset 5): the same membership test as an EQ chain.
		return e.set(n.feature, e.points(n.set), n.yes, n.no, n.tracksTrue, true, depth)
	}
	nd, err := onnxSplit(n.mode, n.value, e.f32, n.tracksTrue)
	if err != nil {
		return 0, fmt.Errorf("tree %d node %d: %w", e.tid, n.id, err)
	}
	nd.Feature = n.feature
	left, right := n.yes, n.no
	if nd.Left == -1<<62 { // swapped: the false branch goes left
		left, right = n.no, n.yes
	}
	k := len(e.tree.nodes)
	e.tree.nodes = append(e.tree.nodes, nd)
	l, err := e.emit(left, depth+1)
	if err != nil {
		return 0, err
	}
	r, err := e.emit(right, depth+1)
	if err != nil {
		return 0, err
	}
	e.tree.nodes[k].Left, e.tree.nodes[k].Right = l, r
	return k, nil
}

// points returns the distinct values x is compared with, in the
// comparison's precision, sorted.
func (e *emitter) points(vals []float64) []float64 {
	out := make([]float64, 0, len(vals))
	for _, v := range vals {
		if e.f32 {
			v = float64(float32(v))
		}
		if !math.IsNaN(v) { // x == NaN is never true
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// bounds returns the float64 thresholds with x ≤ le ⟺ x ≤ v and
// x ≤ lt ⟺ x < v in the comparison's precision.
func (e *emitter) bounds(v float64) (le, lt float64) {
	if e.f32 {
		return leqF32(float32(v)), ltF32(float32(v))
	}
	return v, ltF64(v)
}

// set emits "x ∈ vals ? in : out" on feature f; NaN goes to in when nanIn.
// top marks the outermost test, the only one NaN reaches.
func (e *emitter) set(f int, vals []float64, in, out int, nanIn, top bool, depth int) (int, error) {
	if len(vals) == 0 {
		return e.emit(out, depth+1)
	}
	m := len(vals) / 2
	le, lt := e.bounds(vals[m])
	// A: x ≤ v ? B : (values above v); B: x ≤ prev(v) ? (values below v) : in.
	a := len(e.tree.nodes)
	e.tree.nodes = append(e.tree.nodes, gbdt.TreeNode{Feature: f, Threshold: le, DefaultLeft: top && nanIn})
	b := len(e.tree.nodes)
	e.tree.nodes = append(e.tree.nodes, gbdt.TreeNode{Feature: f, Threshold: lt})
	below, err := e.set(f, vals[:m], in, out, false, false, depth+1)
	if err != nil {
		return 0, err
	}
	hit, err := e.emit(in, depth+1)
	if err != nil {
		return 0, err
	}
	above, err := e.set(f, vals[m+1:], in, out, false, false, depth+1)
	if err != nil {
		return 0, err
	}
	e.tree.nodes[a].Left, e.tree.nodes[a].Right = b, above
	e.tree.nodes[b].Left, e.tree.nodes[b].Right = below, hit
	return a, nil
}
