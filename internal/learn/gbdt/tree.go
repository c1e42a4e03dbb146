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

// pnode is the packed, cache-friendly node used for batch prediction. The
// two children of an internal node are adjacent (child, child+1). A row goes
// to child+1 when x > thr, or when x is NaN and nanR is 1. A leaf is a node
// that loops to itself (thr NaN, nanR 0, child its own index), so a walk can
// run a fixed number of steps without testing for leaves or branching on
// data; its value is in packed.val. Categorical nodes (flags) take the slow
// path.
type pnode struct {
	thr   float64
	feat  int32
	child int32
	nanR  int32
	flags uint8
}

// packed is a model's trees flattened into one node array for prediction.
type packed struct {
	nodes  []pnode
	val    []float64 // leaf value per node
	catAt  []int32   // per node: bitset offset in cats (categorical nodes)
	catN   []int32   // per node: bitset words
	cats   []uint32
	roots  []int32
	depth  []int32 // per tree: maximum depth
	hasCat []bool  // per tree: any categorical node
}

func pack(trees []*tree) *packed {
	p := &packed{roots: make([]int32, len(trees)), depth: make([]int32, len(trees)), hasCat: make([]bool, len(trees))}
	add := func() int32 {
		p.nodes = append(p.nodes, pnode{})
		p.val = append(p.val, 0)
		p.catAt = append(p.catAt, 0)
		p.catN = append(p.catN, 0)
		return int32(len(p.nodes) - 1)
	}
	for ti, t := range trees {
		p.roots[ti] = add()
		p.depth[ti] = int32(t.depth())
		// Breadth-first so that siblings are adjacent.
		type item struct{ src, dst int32 }
		queue := []item{{0, p.roots[ti]}}
		if len(t.Feature) == 0 {
			queue[0].src = ^0
		}
		for len(queue) > 0 {
			it := queue[0]
			queue = queue[1:]
			if it.src < 0 {
				p.nodes[it.dst] = pnode{thr: math.NaN(), child: it.dst}
				p.val[it.dst] = t.Value[^it.src]
				continue
			}
			i := it.src
			c := add()
			add()
			n := pnode{thr: t.Threshold[i], feat: t.Feature[i], child: c, flags: t.Flags[i] & flagCategorical}
			if t.Flags[i]&flagDefaultLeft == 0 {
				n.nanR = 1
			}
			if t.Flags[i]&flagCategorical != 0 {
				p.hasCat[ti] = true
				p.catAt[it.dst], p.catN[it.dst] = int32(len(p.cats)), t.CatLen[i]
				p.cats = append(p.cats, t.CatBits[t.CatStart[i]:t.CatStart[i]+t.CatLen[i]]...)
			}
			p.nodes[it.dst] = n
			queue = append(queue, item{t.Left[i], c}, item{t.Right[i], c + 1})
		}
	}
	return p
}

// step returns the next node from n for value x.
func (p *packed) step(i int32, x float64) int32 {
	n := &p.nodes[i]
	if n.flags != 0 {
		if p.catLeft(i, x) {
			return n.child
		}
		return n.child + 1
	}
	var b int32
	if x > n.thr {
		b = 1
	}
	if x != x {
		b = n.nanR
	}
	return n.child + b
}

// leafValue walks tree ti for the row whose features are row[0:p].
func (p *packed) leafValue(ti int, row []float64) float64 {
	i := p.roots[ti]
	for range p.depth[ti] {
		i = p.step(i, row[p.nodes[i].feat])
	}
	return p.val[i]
}

// addTree adds tree ti's leaf value for each row of the row-major block buf
// (np values per row) to acc[i*stride]. Four rows walk together, branch-free,
// for instruction-level parallelism.
func (p *packed) addTree(ti int, buf []float64, np int, acc []float64, stride int) {
	rows := len(buf) / np
	if p.hasCat[ti] {
		for i := range rows {
			acc[i*stride] += p.leafValue(ti, buf[i*np:(i+1)*np])
		}
		return
	}
	nodes, val := p.nodes, p.val
	root, depth := p.roots[ti], int(p.depth[ti])
	i := 0
	for ; i+8 <= rows; i += 8 {
		var n [8]int32
		for j := range n {
			n[j] = root
		}
		b := buf[i*np : (i+8)*np]
		for range depth {
			a0, a1, a2, a3 := &nodes[n[0]], &nodes[n[1]], &nodes[n[2]], &nodes[n[3]]
			a4, a5, a6, a7 := &nodes[n[4]], &nodes[n[5]], &nodes[n[6]], &nodes[n[7]]
			m0 := a0.child + next(b[int(a0.feat)], a0.thr, a0.nanR)
			m1 := a1.child + next(b[np+int(a1.feat)], a1.thr, a1.nanR)
			m2 := a2.child + next(b[2*np+int(a2.feat)], a2.thr, a2.nanR)
			m3 := a3.child + next(b[3*np+int(a3.feat)], a3.thr, a3.nanR)
			m4 := a4.child + next(b[4*np+int(a4.feat)], a4.thr, a4.nanR)
			m5 := a5.child + next(b[5*np+int(a5.feat)], a5.thr, a5.nanR)
			m6 := a6.child + next(b[6*np+int(a6.feat)], a6.thr, a6.nanR)
			m7 := a7.child + next(b[7*np+int(a7.feat)], a7.thr, a7.nanR)
			// Leaves loop to themselves: stop once all rows are in one.
			same := m0 == n[0] && m1 == n[1] && m2 == n[2] && m3 == n[3] && m4 == n[4] && m5 == n[5] && m6 == n[6] && m7 == n[7]
			n = [8]int32{m0, m1, m2, m3, m4, m5, m6, m7}
			if same {
				break
			}
		}
		for j := range n {
			acc[(i+j)*stride] += val[n[j]]
		}
	}
	for ; i < rows; i++ {
		row := buf[i*np : (i+1)*np]
		n := root
		for range depth {
			a := &nodes[n]
			n = a.child + next(row[a.feat], a.thr, a.nanR)
		}
		acc[i*stride] += val[n]
	}
}

// next is 1 when x goes to the right child: x > thr, or x is NaN and
// nanR is 1.
func next(x, thr float64, nanR int32) int32 {
	var b int32
	if x > thr {
		b = 1
	}
	if x != x {
		b = nanR
	}
	return b
}

func (p *packed) catLeft(i int32, x float64) bool {
	n := &p.nodes[i]
	if !(x >= 0) {
		return n.nanR == 0
	}
	if x >= float64(int64(p.catN[i])*32) {
		return false
	}
	c := int(x)
	return p.cats[int(p.catAt[i])+c>>5]&(1<<(uint(c)&31)) != 0
}
