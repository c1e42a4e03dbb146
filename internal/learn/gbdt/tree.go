package gbdt

import "math"

// Node flags.
const (
	flagDefaultLeft = 1 << iota // missing values go left
	flagCategorical             // categorical split: codes in the bitset go left
)

// tree is one fitted regression tree as flat arrays. Internal node i splits
// on Feature[i]; children Left[i]/Right[i] are internal node indices when
// ≥ 0 and leaf indices ^c when < 0. A tree with no internal nodes is a single
// leaf (Value[0]). Child indices are always greater than their parent's,
// which Decode checks so traversal always terminates.
type tree struct {
	Feature   []int32
	Threshold []float64 // numeric: x ≤ Threshold goes left
	Left      []int32
	Right     []int32
	Flags     []uint8
	CatStart  []int32 // categorical: bitset words CatBits[CatStart[i]:CatStart[i]+CatLen[i]]
	CatLen    []int32
	CatBits   []uint32
	Gain      []float64 // split gain (importance)
	Cover     []float64 // training rows reaching the node
	Value     []float64 // leaf outputs (learning rate applied)
	LeafCover []float64 // training rows reaching the leaf
}

func (t *tree) numNodes() int { return len(t.Feature) }

// goLeft reports whether value x goes left at internal node i.
func (t *tree) goLeft(i int, x float64) bool {
	if t.Flags[i]&flagCategorical != 0 {
		if !(x >= 0) {
			return t.Flags[i]&flagDefaultLeft != 0
		}
		if x >= float64(int64(t.CatLen[i])*32) {
			return false
		}
		c := int(x)
		return t.CatBits[int(t.CatStart[i])+c>>5]&(1<<(uint(c)&31)) != 0
	}
	if x <= t.Threshold[i] {
		return true
	}
	if math.IsNaN(x) {
		return t.Flags[i]&flagDefaultLeft != 0
	}
	return false
}

// leafOf returns the leaf index reached by row (values via at(feature)).
func (t *tree) leafOf(at func(f int) float64) int {
	if len(t.Feature) == 0 {
		return 0
	}
	i := int32(0)
	for {
		var next int32
		if t.goLeft(int(i), at(int(t.Feature[i]))) {
			next = t.Left[i]
		} else {
			next = t.Right[i]
		}
		if next < 0 {
			return int(^next)
		}
		i = next
	}
}

// pnode is the packed, cache-friendly node used for batch prediction.
type pnode struct {
	thr   float64
	feat  int32
	left  int32
	right int32
	flags uint8
}

// packed is a model's trees flattened into one node array for prediction.
type packed struct {
	nodes  []pnode
	roots  []int32 // per tree: node offset (or ^leaf offset for a single leaf)
	values []float64
	cats   []uint32
	catAt  []int32 // per node: offset into cats (categorical only)
	catLen []int32
}

func pack(trees []*tree) *packed {
	p := &packed{roots: make([]int32, len(trees))}
	for ti, t := range trees {
		nodeOff, leafOff := int32(len(p.nodes)), int32(len(p.values))
		p.values = append(p.values, t.Value...)
		if len(t.Feature) == 0 {
			p.roots[ti] = ^leafOff
			continue
		}
		p.roots[ti] = nodeOff
		fix := func(c int32) int32 {
			if c < 0 {
				return ^(^c + leafOff)
			}
			return c + nodeOff
		}
		for i := range t.Feature {
			p.nodes = append(p.nodes, pnode{thr: t.Threshold[i], feat: t.Feature[i], left: fix(t.Left[i]), right: fix(t.Right[i]), flags: t.Flags[i]})
			if t.Flags[i]&flagCategorical != 0 {
				p.catAt = append(p.catAt, int32(len(p.cats)))
				p.catLen = append(p.catLen, t.CatLen[i])
				p.cats = append(p.cats, t.CatBits[t.CatStart[i]:t.CatStart[i]+t.CatLen[i]]...)
			} else {
				p.catAt = append(p.catAt, 0)
				p.catLen = append(p.catLen, 0)
			}
		}
	}
	return p
}

// leafValue walks tree ti for the row whose features are row[0:p].
func (p *packed) leafValue(ti int, row []float64) float64 {
	i := p.roots[ti]
	nodes := p.nodes
	for i >= 0 {
		n := &nodes[i]
		x := row[n.feat]
		if n.flags == 0 {
			if x <= n.thr {
				i = n.left
			} else {
				i = n.right
			}
			continue
		}
		if p.left(i, n, x) {
			i = n.left
		} else {
			i = n.right
		}
	}
	return p.values[^i]
}

func (p *packed) left(i int32, n *pnode, x float64) bool {
	if n.flags&flagCategorical != 0 {
		if !(x >= 0) {
			return n.flags&flagDefaultLeft != 0
		}
		if x >= float64(int64(p.catLen[i])*32) {
			return false
		}
		c := int(x)
		return p.cats[int(p.catAt[i])+c>>5]&(1<<(uint(c)&31)) != 0
	}
	if x <= n.thr {
		return true
	}
	return x != x && n.flags&flagDefaultLeft != 0
}
