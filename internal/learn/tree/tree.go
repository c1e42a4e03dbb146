package tree

import (
	"math"
)

// Node is one node of a flat tree: 16 bytes, children stored side by side.
type Node struct {
	// Threshold: a numeric split sends x <= Threshold left; for a categorical
	// split it holds the offset of the category bitset in Tree.Cats.
	Threshold float64
	// Feature holds the split feature in its low 24 bits, the missing-left
	// flag in bit 24, the categorical flag in bit 25 and, for category codes
	// below 64, bit 26 marking the category set stored as the bits of
	// Threshold instead of in Tree.Cats; -1 marks a leaf.
	Feature int32
	// Left is the left child (the right child is Left+1); for a leaf, the
	// offset of its output in Tree.Values. A leaf's Threshold repeats its
	// last output so that binary and regression prediction read only nodes.
	Left int32
}

// Node feature bits.
const (
	featMask     = 1<<24 - 1
	bitMissLeft  = 1 << 24
	bitCat       = 1 << 25
	bitCatSmall  = 1 << 26 // categories < 64: the set is the bits of Threshold
	maxFeatures  = featMask
	leafFeature  = -1
	nodeFlagMask = bitMissLeft | bitCat | bitCatSmall
)

// IsLeaf reports whether the node is a leaf.
func (n Node) IsLeaf() bool { return n.Feature < 0 }

// SplitFeature returns the split feature of an internal node.
func (n Node) SplitFeature() int { return int(n.Feature & featMask) }

// MissingLeft reports whether missing values go left.
func (n Node) MissingLeft() bool { return n.Feature&bitMissLeft != 0 }

// Categorical reports whether the split is a category set.
func (n Node) Categorical() bool { return n.Feature&bitCat != 0 }

// Tree is a fitted tree stored as flat arrays. Node 0 is the root.
type Tree struct {
	Nodes []Node
	// Values holds NOut outputs per leaf: class probabilities or the mean.
	Values []float64
	// Cats holds the category bitsets of categorical splits, each stored as
	// its length in words followed by the words.
	Cats []uint64
	// NOut is the number of outputs per leaf.
	NOut int
}

// Leaf returns the output of the leaf that x (one value per feature) falls in.
func (t *Tree) Leaf(x []float64) []float64 {
	o := int(t.leafOffset(x))
	return t.Values[o : o+t.NOut]
}

func (t *Tree) leafOffset(x []float64) int32 { return t.leaf(x).Left }

// leaf returns the leaf node x falls in; its Threshold holds the leaf's last
// output (class 1 probability for binary trees, the mean for regression).
func (t *Tree) leaf(x []float64) Node {
	nodes := t.Nodes
	nd := nodes[0]
	for nd.Feature >= 0 {
		f := nd.Feature
		if f&nodeFlagMask == 0 {
			// Numeric split, missing values right: NaN fails the comparison.
			// Branch-free: the comparison outcome is data-dependent.
			nd = nodes[nd.Left+b2i(!(x[f] <= nd.Threshold))]
			continue
		}
		v := x[f&featMask]
		var right bool
		switch {
		case f&bitCatSmall != 0 && v >= 0:
			c := uint64(v)
			right = c >= 64 || math.Float64bits(nd.Threshold)>>c&1 == 0
		case v != v:
			right = f&bitMissLeft == 0
		case f&bitCat != 0:
			if v < 0 {
				right = f&bitMissLeft == 0
				break
			}
			off := int(nd.Threshold)
			c := uint64(v)
			w := c >> 6
			right = !(w < t.Cats[off] && t.Cats[off+1+int(w)]>>(c&63)&1 == 1)
		default:
			right = !(v <= nd.Threshold)
		}
		next := nd.Left
		if right {
			next++
		}
		nd = nodes[next]
	}
	return nd
}

// NumLeaves returns the number of leaves.
func (t *Tree) NumLeaves() int { return len(t.Values) / max(t.NOut, 1) }

// Depth returns the depth of the tree (0 for a single leaf).
func (t *Tree) Depth() int {
	var rec func(n int32) int
	rec = func(n int32) int {
		nd := t.Nodes[n]
		if nd.Feature < 0 {
			return 0
		}
		return 1 + max(rec(nd.Left), rec(nd.Left+1))
	}
	return rec(0)
}

// finalize turns the raw nodes still in the tree into a flat Tree (children
// side by side) and adds the impurity decreases to importance.
func (g *grower) finalize(importance []float64) *Tree {
	t := &Tree{NOut: g.nOut, Cats: g.cats}
	t.Nodes = append(t.Nodes, Node{})
	type item struct{ raw, flat int32 }
	// Depth first, left before right, each node's children allocated as a
	// pair when it is placed: a path down the tree tends to stay within a
	// few cache lines.
	stack := []item{{0, 0}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		rn := &g.nodes[it.raw]
		if rn.feature < 0 || rn.pruned {
			v := g.vals[int(it.raw)*g.nOut : int(it.raw+1)*g.nOut]
			t.Nodes[it.flat] = Node{Feature: leafFeature, Left: int32(len(t.Values)), Threshold: v[len(v)-1]}
			t.Values = append(t.Values, v...)
			continue
		}
		if importance != nil {
			l, r := &g.nodes[rn.left], &g.nodes[rn.right]
			importance[rn.feature] += rn.weight*rn.impurity - l.weight*l.impurity - r.weight*r.impurity
		}
		f := rn.feature
		if rn.flags&flagMissingLeft != 0 {
			f |= bitMissLeft
		}
		nd := Node{Feature: f, Threshold: rn.thr, Left: int32(len(t.Nodes))}
		if rn.flags&flagCategorical != 0 {
			nd.Feature |= bitCat
			nd.Threshold = float64(rn.catOff)
			if g.d.NBins[rn.feature] <= 64 {
				nd.Feature |= bitCatSmall
				nd.Threshold = math.Float64frombits(g.cats[rn.catOff+1])
			}
		}
		t.Nodes[it.flat] = nd
		t.Nodes = append(t.Nodes, Node{}, Node{})
		stack = append(stack, item{rn.right, nd.Left + 1}, item{rn.left, nd.Left})
	}
	if len(t.Cats) == 0 {
		t.Cats = nil
	}
	return t
}

// prune applies minimal cost-complexity pruning (Breiman et al. 1984, as in
// scikit-learn's ccp_alpha): while the weakest link's effective alpha is at
// most alpha, collapse it into a leaf.
func (g *grower) prune(alpha float64) {
	nn := len(g.nodes)
	rSub := make([]float64, nn)
	leaves := make([]int, nn)
	for {
		// Children have larger indices than parents: a reverse sweep is
		// bottom-up.
		bestG, bestN := math.Inf(1), -1
		for i := nn - 1; i >= 0; i-- {
			rn := &g.nodes[i]
			rt := rn.weight * rn.impurity / g.totalW
			if rn.feature < 0 || rn.pruned {
				rSub[i], leaves[i] = rt, 1
				continue
			}
			rSub[i] = rSub[rn.left] + rSub[rn.right]
			leaves[i] = leaves[rn.left] + leaves[rn.right]
			ga := (rt - rSub[i]) / float64(leaves[i]-1)
			if ga < bestG {
				bestG, bestN = ga, i
			}
		}
		if bestN < 0 || bestG > alpha {
			return
		}
		g.nodes[bestN].pruned = true
		// Unreachable descendants are skipped by finalize; mark them too so
		// later sweeps ignore them.
		var mark func(i int32)
		mark = func(i int32) {
			rn := &g.nodes[i]
			if rn.feature < 0 {
				return
			}
			rn.pruned = true
			mark(rn.left)
			mark(rn.right)
		}
		mark(g.nodes[bestN].left)
		mark(g.nodes[bestN].right)
	}
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}
