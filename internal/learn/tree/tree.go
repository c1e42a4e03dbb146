package tree

import (
	"math"
)

// Node is one node of a flat tree.
type Node struct {
	// Threshold: a numeric split sends x <= Threshold left; for a categorical
	// split it holds the offset of the category bitset in Tree.Cats.
	Threshold float64
	// Feature is the split feature, or -1 for a leaf.
	Feature int32
	// Left and Right are the children; for a leaf Left is the offset of its
	// output in Tree.Values.
	Left, Right int32
	// Flags: bit 0 sends missing values left, bit 1 marks a categorical split.
	Flags uint8
}

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
	nodes := t.Nodes
	n := int32(0)
	for {
		nd := &nodes[n]
		if nd.Feature < 0 {
			o := int(nd.Left)
			return t.Values[o : o+t.NOut]
		}
		v := x[nd.Feature]
		var left bool
		switch {
		case v != v:
			left = nd.Flags&flagMissingLeft != 0
		case nd.Flags&flagCategorical != 0:
			if v < 0 {
				left = nd.Flags&flagMissingLeft != 0
				break
			}
			off := int(nd.Threshold)
			c := uint64(v)
			w := c >> 6
			left = w < t.Cats[off] && t.Cats[off+1+int(w)]>>(c&63)&1 == 1
		default:
			left = v <= nd.Threshold
		}
		if left {
			n = nd.Left
		} else {
			n = nd.Right
		}
	}
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
		return 1 + max(rec(nd.Left), rec(nd.Right))
	}
	return rec(0)
}

// finalize turns the raw nodes still in the tree into a flat Tree and adds
// the impurity decreases to importance.
func (g *grower) finalize(importance []float64) *Tree {
	t := &Tree{NOut: g.nOut, Cats: g.cats}
	var rec func(r int32) int32
	rec = func(r int32) int32 {
		rn := &g.nodes[r]
		id := int32(len(t.Nodes))
		t.Nodes = append(t.Nodes, Node{Feature: -1})
		if rn.feature < 0 || rn.pruned {
			t.Nodes[id].Left = int32(len(t.Values))
			t.Values = append(t.Values, g.vals[int(r)*g.nOut:int(r+1)*g.nOut]...)
			return id
		}
		if importance != nil {
			l, rr := &g.nodes[rn.left], &g.nodes[rn.right]
			importance[rn.feature] += rn.weight*rn.impurity - l.weight*l.impurity - rr.weight*rr.impurity
		}
		nd := Node{Feature: rn.feature, Flags: rn.flags, Threshold: rn.thr}
		if rn.flags&flagCategorical != 0 {
			nd.Threshold = float64(rn.catOff)
		}
		nd.Left = rec(rn.left)
		nd.Right = rec(rn.right)
		t.Nodes[id] = nd
		return id
	}
	rec(0)
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
