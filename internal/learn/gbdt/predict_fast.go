package gbdt

import (
	"math"
	"unsafe"
)

// The prediction layout. Trees are re-laid out at load time (the model file
// keeps the training layout, so bundles written before stay readable) into
// compact node arrays walked with one comparison per level and no branch on
// the data:
//
//   - A row is first "extended" to width 2p (or 3p): columns 0..p-1 hold the
//     features with missing values replaced by -Inf, columns p..2p-1 the
//     same with missing replaced by +Inf, and, when some split sends only
//     missing values right, columns 2p..3p-1 hold 1 for missing, else 0.
//     A numeric split "x ≤ thr, missing goes left" then reads column f and
//     one "missing goes right" reads column p+f; either way the row goes to
//     the right child exactly when the extended value is > thr. This holds
//     for every threshold except +Inf with missing going right (only missing
//     goes right), which reads the indicator column against 0.5. A model
//     with a NaN threshold (never written by training) keeps the reference
//     walk (tree.leafOf).
//   - Batch scoring copies 64 rows at a time into a feature-major block
//     (extendBlock) and walks each tree for all of them level by level: the
//     rows of a level are independent, so the CPU overlaps their loads.
//   - Trees without categorical splits and of moderate depth are padded to
//     complete binary trees (perfectTree: children 2i and 2i+1, no child
//     pointers, no leaf test), walked two levels per pass over the block by
//     addPerfect, the innermost loop, without bounds checks.
//   - Other trees use fnode arrays: the two children of a node are adjacent
//     (child, child+1) and a leaf is a node that loops to itself (threshold
//     NaN, so "> thr" is always false), so a walk needs no leaf test and
//     stops once no row moves.
//   - A categorical split has feat < 0: ^feat indexes ensemble.cats. Trees
//     without one use a loop with no categorical test.
//   - Single rows (gyre serve) walk four trees at once (addRow).
//
// Scores are summed per row in tree order from the base score, exactly as
// the training layout is, so results are bit-identical to tree.leafOf.

// fnode is one node of the prediction layout (16 bytes).
type fnode struct {
	thr   float64 // go to child+1 when the extended value is > thr
	feat  int32   // extended-row column; ^i for categorical split cats[i]
	child int32   // left child (right is child+1); a leaf holds its own index
}

// catSplit is a categorical split: codes whose bit is set go left; missing
// and negative codes follow defLeft; codes past the bitset go right.
type catSplit struct {
	col     int32 // extended-row column (missing read as -Inf)
	defLeft bool
	bits    []uint32
}

// ftree is one tree of the prediction layout.
type ftree struct {
	nodes []fnode
	val   []float64 // leaf value by node index (0 for internal nodes)
	depth int       // steps from the root to the deepest leaf
	cat   bool      // has a categorical split
	// perfect is the tree padded to a complete binary tree (nil for trees
	// with categorical splits and trees too deep for their size).
	perfect *perfectTree
	// small is the tree's nodes for walkSmall (predict_cat.go), when it
	// has categorical splits and all are on small columns; else nil.
	small []fnode
}

// perfectMaxDepth is the deepest tree laid out as a perfectTree (a perfect
// tree walks all its levels for every row, so very deep ones lose to the
// compact walk); a tree is also kept out when padding would take more than
// perfectWaste times its own node count.
const (
	perfectMaxDepth = 12
	perfectWaste    = 32
	// perfectBudget caps the slots of all of a model's perfect trees
	// (20 bytes each), so a large ensemble of deep trees stays compact.
	perfectBudget = 1 << 20
)

// perfectTree is a tree without categorical splits padded to a complete
// binary tree of depth d in heap order (node i, from 1, has children 2i and
// 2i+1; leaf j is node 2^d+j), so a walk needs no child pointers and no
// leaf test. A leaf shallower than d becomes padding nodes whose threshold
// +Inf sends every row left (extended values are never NaN), down to the
// leaf slot that holds its value. Every array has length 2^d (internal
// node i at index i, index 0 unused), so indices masked with 2^d-1 are
// always in range.
type perfectTree struct {
	col  []int32   // block offset of the node's extended column: column × blockRows
	thr  []float64 // go right when the value is > thr
	leaf []float64 // leaf values
}

// ensemble is a model's trees in the prediction layout.
type ensemble struct {
	p     int // features
	width int // extended row width: 2p, or 3p with missing indicators
	k     int // outputs; tree t adds to output t % k
	trees []ftree
	cats  []catSplit
	// blockWidth is the columns of a batch block: width, then one code
	// column per codeCols feature (small categorical columns, see
	// predict_cat.go).
	blockWidth int
	codeCols   []int32
}

// newEnsemble builds the prediction layout of trees over p features with
// k outputs, or returns nil when a threshold is NaN.
func newEnsemble(trees []*tree, p, k int) *ensemble {
	e := &ensemble{p: p, width: 2 * p, k: k, trees: make([]ftree, len(trees))}
	for _, t := range trees {
		for i, thr := range t.Threshold {
			if t.Flags[i]&flagCategorical != 0 {
				continue
			}
			if math.IsNaN(thr) {
				return nil
			}
			if math.IsInf(thr, 1) && t.Flags[i]&flagDefaultLeft == 0 {
				e.width = 3 * p
			}
		}
	}
	slots := 0
	for ti, t := range trees {
		e.trees[ti] = e.layout(t)
		ft := &e.trees[ti]
		if ft.cat || ft.depth > perfectMaxDepth || 1<<ft.depth > perfectWaste*len(ft.nodes) ||
			slots+1<<ft.depth > perfectBudget {
			continue
		}
		slots += 1 << ft.depth
		ft.perfect = ft.complete()
		// addPerfect reads blocks without bounds checks: every column
		// must lie inside the extended row.
		for _, c := range ft.perfect.col {
			if c < 0 || int(c) >= e.width*blockRows || c%blockRows != 0 {
				ft.perfect = nil
				break
			}
		}
	}
	e.planSmall(trees)
	return e
}

// complete returns t (no categorical splits) as a perfectTree of depth
// t.depth.
func (t *ftree) complete() *perfectTree {
	size := 1 << t.depth
	pt := &perfectTree{col: make([]int32, size), thr: make([]float64, size), leaf: make([]float64, size)}
	var fill func(src int32, dst int)
	fill = func(src int32, dst int) {
		if dst >= size {
			pt.leaf[dst-size] = t.val[src]
			return
		}
		n := t.nodes[src]
		if n.child == src { // a leaf above the bottom: pad, always left
			pt.col[dst], pt.thr[dst] = 0, math.Inf(1)
			fill(src, 2*dst)
			fill(src, 2*dst+1)
			return
		}
		pt.col[dst], pt.thr[dst] = n.feat*blockRows, n.thr
		fill(n.child, 2*dst)
		fill(n.child+1, 2*dst+1)
	}
	fill(0, 1)
	return pt
}

// layout lays tree t out breadth first so that siblings are adjacent.
func (e *ensemble) layout(t *tree) ftree {
	var ft ftree
	leaf := func(at int32, v float64) {
		ft.nodes[at] = fnode{thr: math.NaN(), child: at}
		ft.val[at] = v
	}
	ft.nodes = make([]fnode, 1, 2*len(t.Feature)+1)
	ft.val = make([]float64, 1, 2*len(t.Feature)+1)
	if len(t.Feature) == 0 {
		leaf(0, t.Value[0])
		return ft
	}
	type item struct{ src, dst, depth int32 }
	queue := []item{{0, 0, 0}}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		ft.depth = max(ft.depth, int(it.depth))
		if it.src < 0 {
			leaf(it.dst, t.Value[^it.src])
			continue
		}
		i := it.src
		c := int32(len(ft.nodes))
		ft.nodes = append(ft.nodes, fnode{}, fnode{})
		ft.val = append(ft.val, 0, 0)
		f := t.Feature[i]
		defLeft := t.Flags[i]&flagDefaultLeft != 0
		n := fnode{thr: t.Threshold[i], feat: f, child: c}
		switch {
		case t.Flags[i]&flagCategorical != 0:
			ft.cat = true
			n.thr = 0
			n.feat = ^int32(len(e.cats))
			e.cats = append(e.cats, catSplit{col: f, defLeft: defLeft,
				bits: t.CatBits[t.CatStart[i] : t.CatStart[i]+t.CatLen[i]]})
		case defLeft:
		case math.IsInf(n.thr, 1):
			n.feat, n.thr = int32(2*e.p)+f, 0.5 // only missing values go right
		default:
			n.feat = int32(e.p) + f
		}
		ft.nodes[it.dst] = n
		queue = append(queue, item{t.Left[i], c, it.depth + 1}, item{t.Right[i], c + 1, it.depth + 1})
	}
	return ft
}

// extendRow writes the extended form of row (p values) into dst (width).
func (e *ensemble) extendRow(dst, row []float64) {
	p := e.p
	lo, hi := dst[:p], dst[p:2*p]
	for j, v := range row[:p] {
		if v != v {
			lo[j], hi[j] = math.Inf(-1), math.Inf(1)
		} else {
			lo[j], hi[j] = v, v
		}
	}
	if e.width > 2*p {
		m := dst[2*p : 3*p]
		for j, v := range row[:p] {
			m[j] = 0
			if v != v {
				m[j] = 1
			}
		}
	}
}

// catRight reports whether extended value x goes right at categorical split c.
func (c *catSplit) right(x float64) bool {
	if !(x >= 0) {
		return !c.defLeft
	}
	if x >= float64(len(c.bits)*32) {
		return true
	}
	i := int(x)
	return c.bits[i>>5]&(1<<(uint(i)&31)) == 0
}

// catChild returns the child of categorical split n for the extended row
// x. It is inlined into addRow: measured 10 % faster per tree on adult's
// single rows than keeping it out of line (BenchmarkPredictRow, 49.5–51 vs
// 54.6–57.9 ns per tree in alternating runs).
func (e *ensemble) catChild(n *fnode, x []float64) int32 {
	cs := &e.cats[^n.feat]
	if cs.right(x[cs.col]) {
		return n.child + 1
	}
	return n.child
}

// addRow adds every tree's leaf value for the extended row x to out (k
// outputs), in tree order. Four trees are walked at once: their walks are
// independent, so the CPU overlaps their loads (a single walk waits on
// each level's loads in turn). Leaves loop to themselves, so a tree walks
// on harmlessly until the deepest of the four is done.
func (e *ensemble) addRow(x []float64, out []float64) {
	k := e.k
	trees := e.trees
	ti := 0
	for ; ti+4 <= len(trees); ti += 4 {
		t0, t1, t2, t3 := &trees[ti], &trees[ti+1], &trees[ti+2], &trees[ti+3]
		n0, n1, n2, n3 := t0.nodes, t1.nodes, t2.nodes, t3.nodes
		var i0, i1, i2, i3 int32
		for range max(t0.depth, t1.depth, t2.depth, t3.depth) {
			a0, a1, a2, a3 := &n0[i0], &n1[i1], &n2[i2], &n3[i3]
			var c0, c1, c2, c3 int32
			if a0.feat >= 0 {
				c0 = a0.child + right(x[a0.feat], a0.thr)
			} else {
				c0 = e.catChild(a0, x)
			}
			if a1.feat >= 0 {
				c1 = a1.child + right(x[a1.feat], a1.thr)
			} else {
				c1 = e.catChild(a1, x)
			}
			if a2.feat >= 0 {
				c2 = a2.child + right(x[a2.feat], a2.thr)
			} else {
				c2 = e.catChild(a2, x)
			}
			if a3.feat >= 0 {
				c3 = a3.child + right(x[a3.feat], a3.thr)
			} else {
				c3 = e.catChild(a3, x)
			}
			// Leaves loop to themselves: stop once all four are in one.
			if (c0^i0)|(c1^i1)|(c2^i2)|(c3^i3) == 0 {
				break
			}
			i0, i1, i2, i3 = c0, c1, c2, c3
		}
		out[ti%k] += t0.val[i0]
		out[(ti+1)%k] += t1.val[i1]
		out[(ti+2)%k] += t2.val[i2]
		out[(ti+3)%k] += t3.val[i3]
	}
	for ; ti < len(trees); ti++ {
		t := &trees[ti]
		var i int32
		for range t.depth {
			var c int32
			if a := &t.nodes[i]; a.feat >= 0 {
				c = a.child + right(x[a.feat], a.thr)
			} else {
				c = e.catChild(a, x)
			}
			if c == i {
				break
			}
			i = c
		}
		out[ti%k] += t.val[i]
	}
}

// blockRows is the number of rows walked together through each tree.
const blockRows = 64

// extendBlock writes rows lo..lo+n-1 of the feature-major matrix data (rows
// rows) into buf in the block layout: extended column c of block row r at
// buf[c*blockRows+r].
func (e *ensemble) extendBlock(buf, data []float64, rows, lo, n int) {
	p := e.p
	for j := range p {
		src := data[j*rows+lo : j*rows+lo+n]
		l := buf[j*blockRows : j*blockRows+n]
		h := buf[(p+j)*blockRows : (p+j)*blockRows+n]
		for r, v := range src {
			if v != v {
				l[r], h[r] = math.Inf(-1), math.Inf(1)
			} else {
				l[r], h[r] = v, v
			}
		}
		if e.width > 2*p {
			m := buf[(2*p+j)*blockRows : (2*p+j)*blockRows+n]
			for r, v := range src {
				m[r] = 0
				if v != v {
					m[r] = 1
				}
			}
		}
	}
}

// addBlock adds every tree's leaf values for the n ≤ blockRows rows in buf
// (block layout, see extendBlock; e.blockWidth×blockRows values) to acc
// (row-major n×k), in tree order per row.
func (e *ensemble) addBlock(buf []float64, n int, acc []float64) {
	var idxs [blockRows]int32
	idx := idxs[:min(n, blockRows)]
	k := e.k
	buf = buf[:e.blockWidth*blockRows]
	for ti := range e.trees {
		t := &e.trees[ti]
		switch {
		case t.perfect != nil:
			addPerfect(t.perfect, t.depth, buf, idx, acc[ti%k:], k)
		case t.small != nil:
			clear(idx)
			walkSmall(t.small, buf, idx, t.depth)
			addLeaves(t.val, idx, acc[ti%k:], k)
		case t.cat:
			clear(idx)
			e.walkCat(t, buf, idx)
			addLeaves(t.val, idx, acc[ti%k:], k)
		default:
			clear(idx)
			walk(t.nodes, buf, idx, t.depth)
			addLeaves(t.val, idx, acc[ti%k:], k)
		}
	}
}

// addPerfect adds the leaf values of perfectTree t (depth d) for the n rows
// of the block buf to acc[r*k], walking the rows level by level, two levels
// per pass: the rows are independent, so the CPU overlaps their loads.
// Level 0 needs no node index (every row starts at the root) and the last
// level adds the leaf value directly.
//
// This is the innermost loop of batch scoring, so it reads memory without
// bounds checks (Go's register allocation otherwise spills on every row).
// That is safe because: the lengths of idx, acc and t's arrays are checked
// first; node indices are masked with 2^d-1 and t's arrays have length 2^d;
// buf holds width×blockRows values (addBlock slices it so) and every column
// offset in t.col is a multiple of blockRows below that, which newEnsemble
// verifies, while rows are < blockRows.
func addPerfect(t *perfectTree, d int, buf []float64, idx []int32, acc []float64, k int) {
	n := len(idx)
	if n == 0 {
		return
	}
	size := 1 << d
	if n > blockRows || len(acc) < (n-1)*k+1 || len(t.col) != size || len(t.thr) != size ||
		len(t.leaf) != size || (d > 0 && len(buf) < blockRows) {
		// Sizes come from newEnsemble and addBlock, never from input.
		panic("gbdt: internal error: addPerfect called with inconsistent sizes")
	}
	mask := size - 1
	bp := unsafe.Pointer(unsafe.SliceData(buf))
	ip := unsafe.Pointer(unsafe.SliceData(idx))
	ap := unsafe.Pointer(unsafe.SliceData(acc))
	cp := unsafe.Pointer(unsafe.SliceData(t.col))
	tp := unsafe.Pointer(unsafe.SliceData(t.thr))
	lp := unsafe.Pointer(unsafe.SliceData(t.leaf))
	add := func(r int, leaf int) {
		*(*float64)(unsafe.Add(ap, r*k*8)) += *(*float64)(unsafe.Add(lp, (leaf&mask)*8))
	}
	switch d {
	case 0:
		for r := range n {
			add(r, 0)
		}
		return
	case 1:
		for r := range n {
			add(r, step(cp, tp, unsafe.Add(bp, r*8), mask, 1))
		}
		return
	}
	root := unsafe.Add(bp, int(t.col[1])*8)
	t0 := t.thr[1]
	for r := range n {
		*(*int32)(unsafe.Add(ip, r*4)) = int32(2 + above(*(*float64)(unsafe.Add(root, r*8)), t0))
	}
	descend(cp, tp, bp, ip, n, mask, d-2)
	for r := range n {
		add(r, step(cp, tp, unsafe.Add(bp, r*8), mask, int(*(*int32)(unsafe.Add(ip, r*4)))))
	}
}

// descend moves the n node indices at ip levels steps down, two levels
// per pass over the rows (see addPerfect for why it is safe). It is a
// function of its own so that its loop keeps every value in a register.
func descend(cp, tp, bp, ip unsafe.Pointer, n, mask, levels int) {
	for ; levels >= 2; levels -= 2 {
		for r := range n {
			p := (*int32)(unsafe.Add(ip, r*4))
			row := unsafe.Add(bp, r*8)
			*p = int32(step(cp, tp, row, mask, step(cp, tp, row, mask, int(*p))))
		}
	}
	if levels == 1 {
		for r := range n {
			p := (*int32)(unsafe.Add(ip, r*4))
			*p = int32(step(cp, tp, unsafe.Add(bp, r*8), mask, int(*p)))
		}
	}
}

// step returns the child of internal node i of a perfectTree (columns at
// cp, thresholds at tp, index mask mask) for the block row whose first
// value is at row.
func step(cp, tp, row unsafe.Pointer, mask, i int) int {
	j := i & mask
	x := *(*float64)(unsafe.Add(row, int(*(*int32)(unsafe.Add(cp, j*4)))*8))
	return 2*i + above(x, *(*float64)(unsafe.Add(tp, j*8)))
}

// above is 1 when x > thr, else 0.
func above(x, thr float64) int {
	if x > thr {
		return 1
	}
	return 0
}

// right is 1 when x > thr, else 0.
func right(x, thr float64) int32 {
	if x > thr {
		return 1
	}
	return 0
}

// addLeaves adds val[idx[r]] to acc[r*k] for every row r.
func addLeaves(val []float64, idx []int32, acc []float64, k int) {
	for r, i := range idx {
		acc[r*k] += val[i]
	}
}

// walk moves every row of idx (block layout, see extendBlock) down a tree
// without categorical splits until it reaches a leaf. Each pass walks only
// the rows not yet in a leaf (rows of a deep, unbalanced tree mostly stop
// well above its depth), and the rows of a pass are independent, so the
// CPU overlaps their loads.
func walk(nodes []fnode, buf []float64, idx []int32, depth int) {
	var active [blockRows]int32
	n := min(len(idx), blockRows)
	for r := range n {
		active[r] = int32(r)
	}
	for range depth {
		m := 0
		for _, r := range active[:n] {
			i := idx[r&(blockRows-1)]
			nd := &nodes[i]
			c := nd.child + right(buf[int(nd.feat)*blockRows+int(r)], nd.thr)
			idx[r&(blockRows-1)] = c
			active[m&(blockRows-1)] = r
			m += nonzero(c ^ i)
		}
		if n = m; n == 0 {
			return
		}
	}
}

// nonzero is 1 when v != 0, else 0, without a branch.
func nonzero(v int32) int {
	return int(uint32(v|-v) >> 31)
}

// walkCat is walk for a tree with categorical splits. It walks all rows
// level by level until none moves (measured faster here than skipping the
// rows already in a leaf, as walk does).
func (e *ensemble) walkCat(t *ftree, buf []float64, idx []int32) {
	nodes := t.nodes
	for range t.depth {
		var moved int32
		for r, i := range idx {
			nd := &nodes[i]
			c := nd.child
			if nd.feat < 0 {
				cs := &e.cats[^nd.feat]
				if cs.right(buf[int(cs.col)*blockRows+r]) {
					c++
				}
			} else if buf[int(nd.feat)*blockRows+r] > nd.thr {
				c++
			}
			moved |= c ^ i
			idx[r] = c
		}
		if moved == 0 { // every row is in a leaf
			return
		}
	}
}
