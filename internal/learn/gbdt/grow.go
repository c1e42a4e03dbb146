package gbdt

import (
	"math"
	"slices"
	"sync/atomic"
)

// hbin is one histogram bin holding quantised gradient and hessian sums
// packed in one int64: Σg_q·2³² + Σh_q. Gradients are quantised per tree to
// at most ±(2³¹-1)/n and hessians to at most (2³²-1)/n integer levels
// (n the tree's rows; capped at 15/16 bits), so a bin's sums never overflow
// their halves and one integer add updates both: histogram building does
// half the memory traffic of float pairs, and subtraction is exact. Split
// finding decodes the sums; final leaf values use exact float sums. Row
// counts are not accumulated: like LightGBM, split finding estimates a
// side's row count from its hessian sum and the leaf's rows per unit hessian
// (exact when hessians are constant, as for squared error without weights).
type hbin = int64

// histBins is the fixed number of bins per feature in a histogram (a uint8
// bin index needs no bounds check).
const histBins = 256

// splitInfo is the best split found for a leaf.
type splitInfo struct {
	gain        float64
	feat        int
	thr         int // numeric: bins ≤ thr go left
	cat         bool
	catSet      [4]uint64 // categorical: bins going left
	defaultLeft bool
	lg, lh      float64
	lq          int64 // packed quantised left sums
	ln          int64
	lout, rout  float64 // unscaled leaf outputs
}

func (s *splitInfo) valid() bool { return s.feat >= 0 }

// leafState is a leaf under construction.
type leafState struct {
	start, count int
	g, h         float64 // dequantised sums (split finding)
	q            int64   // packed quantised sums
	depth        int
	hist         []hbin // nil when not needed
	lo, hi       float64
	best         splitInfo
	parent       int // node index of the parent (-1 for root)
	isLeft       bool
	out          float64 // unscaled output
	cf           float64 // rows per unit hessian (count estimates)
}

// growParams are the validated tree-growth settings.
type growParams struct {
	maxLeaves     int
	maxDepth      int
	minData       int64
	minHess       float64
	minGain       float64
	l1, l2        float64
	lr            float64
	maxCatThr     int
	catSmooth     float64
	catL2         float64
	minDataGroup  int64
	mono          []int8
	threads       int
	featsParallel bool
	// wp bounds the goroutines of the whole fit (shared by its growers).
	wp *workPool
}

// grower builds trees over a binned matrix. It is reused across trees.
type grower struct {
	p   growParams
	bd  *Binned
	idx []int32 // training rows of the current tree; leaves own segments
	tmp []int32
	// og holds the quantised gradient pair of row idx[k] at og[k]: the
	// partition moves it with its row, so every leaf's histogram pass
	// reads its gradients in order (LightGBM's ordered gradients, without
	// a gather per leaf). otmp is the partition's scratch for og.
	og, otmp []int64
	gs, hs   float64 // dequantisation scales
	feats    []int   // features usable in the current tree
	pool     [][]hbin
	leaves   []*leafState
	// node tables for binned traversal of the tree being built
	tables [][256]bool
	// nodes of the tree being built
	t *tree
	// identity reports idx[0:n] == 0..n-1 (the root can read gradients in
	// place).
	identity bool
	// featBins is the total bins of feats (setFeatBlocks); blocks and
	// findRes are scratch for parallel expand steps (feature block
	// boundaries and the blocks' best splits).
	blocks   []int
	featBins int
	findRes  []splitInfo
	// maxG and maxH are the largest |gradient| and hessian over idx when
	// haveMax (set by the caller for the next grow only).
	maxG, maxH float32
	haveMax    bool
}

// gradMax returns the largest |gradient| and hessian of gp over rows (0 for
// none).
func gradMax(gp []gpair, rows []int32) (a, b float32) {
	for _, r := range rows {
		p := gp[r]
		a, b = maxAbsPair(a, b, p.g, p.h)
	}
	return a, b
}

func newGrower(p growParams, bd *Binned) *grower {
	return &grower{p: p, bd: bd, tmp: make([]int32, bd.Rows), og: make([]int64, bd.Rows), otmp: make([]int64, bd.Rows)}
}

func (g *grower) getHist() []hbin {
	if n := len(g.pool); n > 0 {
		h := g.pool[n-1]
		g.pool = g.pool[:n-1]
		return h
	}
	return make([]hbin, g.bd.Cols*histBins)
}

func (g *grower) putHist(h []hbin) {
	if h != nil {
		g.pool = append(g.pool, h)
	}
}

// thresholdL1 is the L1-shrunk gradient sum.
func (g *grower) thresholdL1(s float64) float64 {
	if g.p.l1 == 0 {
		return s
	}
	if s > g.p.l1 {
		return s - g.p.l1
	}
	if s < -g.p.l1 {
		return s + g.p.l1
	}
	return 0
}

// output is the optimal (unscaled) leaf output for sums G, H.
func (g *grower) output(G, H float64) float64 {
	return -g.thresholdL1(G) / (H + g.p.l2)
}

// score is the (doubled, negated) optimal objective of a leaf: T(G)²/(H+λ).
func (g *grower) score(G, H float64) float64 {
	t := g.thresholdL1(G)
	return t * t / (H + g.p.l2)
}

// scoreAt is the (doubled, negated) objective of a leaf with output w.
func (g *grower) scoreAt(G, H, w float64) float64 {
	return -(2*G*w + (H+g.p.l2)*w*w + 2*g.p.l1*math.Abs(w))
}

// histFeatures fills the histograms of features fs (at most 4) from leaf
// rows (nil: all rows in order) with leaf-ordered packed gradients og. One
// pass over the rows serves all of fs.
func histFeatures(hist []hbin, bins []uint8, nrows int, fs []int, rows []int32, og []int64) {
	var hs [4]*[histBins]hbin
	var cs [4][]uint8
	for i, f := range fs {
		hs[i] = (*[histBins]hbin)(hist[f*histBins : (f+1)*histBins])
		*hs[i] = [histBins]hbin{}
		cs[i] = bins[f*nrows : (f+1)*nrows]
	}
	if rows == nil {
		switch len(fs) {
		case 4:
			hist4Seq(hs[0], hs[1], hs[2], hs[3], cs[0], cs[1], cs[2], cs[3], og)
		case 3:
			hist3Seq(hs[0], hs[1], hs[2], cs[0], cs[1], cs[2], og)
		case 2:
			hist2Seq(hs[0], hs[1], cs[0], cs[1], og)
		case 1:
			histSeq(hs[0], cs[0], og)
		}
		return
	}
	switch len(fs) {
	case 4:
		hist4Idx(hs[0], hs[1], hs[2], hs[3], cs[0], cs[1], cs[2], cs[3], rows, og)
	case 3:
		hist3Idx(hs[0], hs[1], hs[2], cs[0], cs[1], cs[2], rows, og)
	case 2:
		hist2Idx(hs[0], hs[1], cs[0], cs[1], rows, og)
	case 1:
		histIdx(hs[0], cs[0], rows, og)
	}
}

func hist4Seq(h0, h1, h2, h3 *[histBins]hbin, c0, c1, c2, c3 []uint8, og []int64) {
	n := len(og)
	c0, c1, c2, c3 = c0[:n], c1[:n], c2[:n], c3[:n]
	for i, v := range og {
		h0[c0[i]] += v
		h1[c1[i]] += v
		h2[c2[i]] += v
		h3[c3[i]] += v
	}
}

func hist3Seq(h0, h1, h2 *[histBins]hbin, c0, c1, c2 []uint8, og []int64) {
	n := len(og)
	c0, c1, c2 = c0[:n], c1[:n], c2[:n]
	for i, v := range og {
		h0[c0[i]] += v
		h1[c1[i]] += v
		h2[c2[i]] += v
	}
}

func hist2Seq(h0, h1 *[histBins]hbin, c0, c1 []uint8, og []int64) {
	n := len(og)
	c0, c1 = c0[:n], c1[:n]
	for i, v := range og {
		h0[c0[i]] += v
		h1[c1[i]] += v
	}
}

func histSeq(h *[histBins]hbin, col []uint8, og []int64) {
	col = col[:len(og)]
	for i, v := range og {
		h[col[i]] += v
	}
}

func hist4Idx(h0, h1, h2, h3 *[histBins]hbin, c0, c1, c2, c3 []uint8, rows []int32, og []int64) {
	og = og[:len(rows)]
	for k, r := range rows {
		v := og[k]
		h0[c0[r]] += v
		h1[c1[r]] += v
		h2[c2[r]] += v
		h3[c3[r]] += v
	}
}

func hist3Idx(h0, h1, h2 *[histBins]hbin, c0, c1, c2 []uint8, rows []int32, og []int64) {
	og = og[:len(rows)]
	for k, r := range rows {
		v := og[k]
		h0[c0[r]] += v
		h1[c1[r]] += v
		h2[c2[r]] += v
	}
}

func hist2Idx(h0, h1 *[histBins]hbin, c0, c1 []uint8, rows []int32, og []int64) {
	og = og[:len(rows)]
	for k, r := range rows {
		v := og[k]
		h0[c0[r]] += v
		h1[c1[r]] += v
	}
}

func histIdx(h *[histBins]hbin, col []uint8, rows []int32, og []int64) {
	og = og[:len(rows)]
	for k, r := range rows {
		h[col[r]] += og[k]
	}
}

// deq decodes packed quantised sums into gradient and hessian sums.
func (g *grower) deq(v int64) (float64, float64) {
	return float64(v>>32) * g.gs, float64(v&0xffffffff) * g.hs
}

// quantize sets the scales and fills g.og for the rows of g.idx; it
// returns their packed sum.
func (g *grower) quantize(gp []gpair) int64 {
	rows := g.idx
	n := max(len(rows), 1)
	qg := float64(min(32767, (1<<31-1)/n))
	qh := float64(min(65535, (1<<32-1)/n))
	threads := g.p.threads
	// Largest |gradient| and hessian: from the caller when it computed them
	// with the gradients, else per chunk (max is exact, so chunking cannot
	// change them).
	a, b := g.maxG, g.maxH
	if !g.haveMax {
		var maxs [2 * maxChunks]float32
		used := g.p.wp.chunked(len(rows), min(threads, maxChunks), 1<<13, func(c, lo, hi int) {
			maxs[2*c], maxs[2*c+1] = gradMax(gp, rows[lo:hi])
		})
		a, b = 0, 0
		for c := range used {
			a, b = max(a, maxs[2*c]), max(b, maxs[2*c+1])
		}
	}
	g.haveMax = false
	maxG, maxH := float64(a), float64(b)
	g.gs, g.hs = 1, 1
	if maxG > 0 {
		g.gs = maxG / qg
	}
	if maxH > 0 {
		g.hs = maxH / qh
	}
	ig, ih := 1/g.gs, 1/g.hs
	og := g.og[:len(rows)]
	var total atomic.Int64 // integer sums: order does not matter
	g.p.wp.ranges(len(rows), threads, 1<<13, func(lo, hi int) {
		var sum int64
		defer func() { total.Add(sum) }()
		for k, r := range rows[lo:hi] {
			p := gp[r]
			// Round half away from zero without a branch on the sign
			// (gradient signs are unpredictable): x ± 0.5 truncated, the
			// same integers as the branching form, -0 included.
			x := float64(p.g) * ig
			gq := int64(x + math.Copysign(0.5, x))
			hq := int64(float64(p.h)*ih + 0.5)
			v := gq<<32 + hq
			og[lo+k] = v
			sum += v
		}
	})
	return total.Load()
}

// findBest finds the best split of leaf l from its histogram.
func (g *grower) findBest(l *leafState) {
	if parentScore, constrained, ok := g.prepare(l); ok {
		g.scanLeaf(l, parentScore, constrained)
	}
}

// cnt estimates the rows of leaf l holding hessian sum h.
func (g *grower) cnt(l *leafState, h float64) int64 {
	return int64(h*l.cf + 0.5)
}

// evalSplit returns the gain of a split with left sums (lg, lh), or -Inf when
// the split violates a limit.
func (g *grower) evalSplit(l *leafState, lg, lh float64, ln int64, parentScore float64, constrained bool, mono int8) (gain, lout, rout float64) {
	return g.evalSplitL2(l, lg, lh, ln, parentScore, constrained, mono, 0)
}

// evalSplitL2 is evalSplit with extra L2 regularisation (categorical splits).
func (g *grower) evalSplitL2(l *leafState, lg, lh float64, ln int64, parentScore float64, constrained bool, mono int8, extra float64) (gain, lout, rout float64) {
	lh2, rh2 := lh+extra, l.h-lh+extra
	rn := int64(l.count) - ln
	rg, rh := l.g-lg, l.h-lh
	if ln < g.p.minData || rn < g.p.minData || lh < g.p.minHess || rh < g.p.minHess {
		return math.Inf(-1), 0, 0
	}
	if !constrained {
		return g.score(lg, lh2) + g.score(rg, rh2) - parentScore, 0, 0
	}
	lout = clamp(g.output(lg, lh2), l.lo, l.hi)
	rout = clamp(g.output(rg, rh2), l.lo, l.hi)
	if (mono > 0 && lout > rout) || (mono < 0 && lout < rout) {
		return math.Inf(-1), 0, 0
	}
	return g.scoreAt(lg, lh2, lout) + g.scoreAt(rg, rh2, rout) - parentScore, lout, rout
}

func (g *grower) findNum(l *leafState, f int, h []hbin, parentScore float64, constrained bool, mono int8, best *splitInfo) {
	nb := g.bd.NumBins[f]
	miss := h[nb]
	hasMiss := miss != 0
	if nb < 2 && !hasMiss {
		return
	}
	// Missing values right (or none): left accumulates value bins.
	var acc int64
	last := nb - 2
	if hasMiss {
		last = nb - 1
	}
	for b := 0; b <= last; b++ {
		acc += h[b]
		lg, lh := g.deq(acc)
		ln := g.cnt(l, lh)
		gain, lo, ro := g.evalSplit(l, lg, lh, ln, parentScore, constrained, mono)
		if gain > best.gain {
			*best = splitInfo{gain: gain, feat: f, thr: b, lg: lg, lh: lh, lq: acc, ln: ln, lout: lo, rout: ro}
			if !hasMiss {
				// No missing values in training: send them with the majority.
				best.defaultLeft = 2*ln >= int64(l.count)
			}
		}
	}
	if !hasMiss {
		return
	}
	// Missing values left.
	acc = miss
	for b := 0; b <= nb-2; b++ {
		acc += h[b]
		lg, lh := g.deq(acc)
		ln := g.cnt(l, lh)
		gain, lo, ro := g.evalSplit(l, lg, lh, ln, parentScore, constrained, mono)
		if gain > best.gain {
			*best = splitInfo{gain: gain, feat: f, thr: b, defaultLeft: true, lg: lg, lh: lh, lq: acc, ln: ln, lout: lo, rout: ro}
		}
	}
}

// catStat is a categorical bin and its gradient/hessian ratio.
type catStat struct {
	bin   int
	ratio float64
}

func (g *grower) findCat(l *leafState, f int, h []hbin, parentScore float64, constrained bool, mono int8, best *splitInfo) {
	nb := g.bd.NumBins[f]
	var buf [histBins]catStat
	cands := buf[:0]
	for b := 0; b <= nb; b++ {
		if h[b] == 0 || (b == nb-1 && g.bd.Lumped[f]) {
			continue
		}
		bg, bh := g.deq(h[b])
		if g.cnt(l, bh) < g.p.minDataGroup {
			continue // rare categories stay right, with unseen ones
		}
		cands = append(cands, catStat{b, bg / (bh + g.p.catSmooth)})
	}
	if len(cands) < 2 {
		return
	}
	// Same algorithm as sort.SliceStable (insertion sort blocks and
	// SymMerge), without reflection or allocation.
	slices.SortStableFunc(cands, func(a, b catStat) int {
		switch {
		case a.ratio < b.ratio:
			return -1
		case b.ratio < a.ratio:
			return 1
		}
		return 0
	})
	maxK := min(g.p.maxCatThr, len(cands)-1)
	// Categorical gains carry extra L2 (LightGBM's cat_l2), the parent too.
	catParent := parentScore
	if !constrained {
		catParent = g.score(l.g, l.h+g.p.catL2)
	}
	for dir := 0; dir < 2; dir++ {
		var acc int64
		var set [4]uint64
		for k := 0; k < maxK; k++ {
			c := cands[k]
			if dir == 1 {
				c = cands[len(cands)-1-k]
			}
			acc += h[c.bin]
			lg, lh := g.deq(acc)
			ln := g.cnt(l, lh)
			set[c.bin>>6] |= 1 << (uint(c.bin) & 63)
			gain, lo, ro := g.evalSplitL2(l, lg, lh, ln, catParent, constrained, mono, g.p.catL2)
			if gain > best.gain {
				*best = splitInfo{gain: gain, feat: f, cat: true, catSet: set, lg: lg, lh: lh, lq: acc, ln: ln, lout: lo, rout: ro,
					defaultLeft: set[nb>>6]&(1<<(uint(nb)&63)) != 0}
			}
		}
		if len(cands) == 2 {
			break
		}
	}
}

// leftTable returns, per bin, whether the split sends it left.
func (g *grower) leftTable(s *splitInfo) (t [256]bool) {
	nb := g.bd.NumBins[s.feat]
	for b := 0; b < 256; b++ {
		switch {
		case s.cat:
			t[b] = s.catSet[b>>6]&(1<<(uint(b)&63)) != 0
		case b == nb:
			t[b] = s.defaultLeft
		case b < nb:
			t[b] = b <= s.thr
		}
	}
	return t
}

// partition splits leaf l's segment stably into left and right rows;
// returns the left count.
func (g *grower) partition(l *leafState, tbl *[256]bool, f int) int {
	seg := g.idx[l.start : l.start+l.count]
	oseg := g.og[l.start : l.start+l.count]
	col := g.bd.Bins[f*g.bd.Rows : (f+1)*g.bd.Rows]
	if len(seg) < 1<<14 || g.p.threads <= 1 {
		tmp, otmp := g.tmp[:len(seg)], g.otmp[:len(seg)]
		nl, nr := partitionInto(seg, oseg, seg, oseg, tmp, otmp, tbl, col)
		copy(seg[nl:], tmp[:nr])
		copy(oseg[nl:], otmp[:nr])
		return nl
	}
	// Parallel: each chunk partitions into its own region of tmp, then each
	// copies its lefts and rights back to their places in the segment
	// (chunk order: stable).
	threads := min(g.p.threads, maxChunks)
	var nls, nrs [maxChunks]int
	g.p.wp.run(threads, func(t int) {
		lo, hi := t*len(seg)/threads, (t+1)*len(seg)/threads
		tmp, otmp := g.tmp[l.start+lo:l.start+hi], g.otmp[l.start+lo:l.start+hi]
		nl, nr := partitionInto(seg[lo:hi], oseg[lo:hi], tmp, otmp, nil, nil, tbl, col)
		nls[t], nrs[t] = nl, nr
	})
	var lpos, rpos [maxChunks]int
	nl := 0
	for t := range threads {
		lpos[t] = nl
		nl += nls[t]
	}
	pos := nl
	for t := range threads {
		rpos[t] = pos
		pos += nrs[t]
	}
	g.p.wp.run(threads, func(t int) {
		lo, hi := l.start+t*len(seg)/threads, l.start+(t+1)*len(seg)/threads
		copy(seg[lpos[t]:], g.tmp[lo:lo+nls[t]])
		copy(oseg[lpos[t]:], g.otmp[lo:lo+nls[t]])
		right, oright := g.tmp[hi-nrs[t]:hi], g.otmp[hi-nrs[t]:hi]
		dst, odst := seg[rpos[t]:rpos[t]+len(right)], oseg[rpos[t]:rpos[t]+len(right)]
		oright = oright[:len(right)]
		for k := range dst {
			j := len(right) - 1 - k
			dst[k], odst[k] = right[j], oright[j]
		}
	})
	return nl
}

// partitionInto writes the rows of src (with their gradients osrc) going
// left to left[0:nl] (oleft) and those going right to right[0:nr]
// (oright), or, when right is nil, to left from the end backwards, without
// data-dependent branches. left may alias src, oleft osrc.
func partitionInto(src []int32, osrc []int64, left []int32, oleft []int64, right []int32, oright []int64, tbl *[256]bool, col []uint8) (nl, nr int) {
	osrc = osrc[:len(src)]
	if right == nil {
		// Rights fill left from the end, in reverse order.
		end := len(left) - 1
		left, oleft = left[:len(src)], oleft[:len(src)]
		for k, r := range src {
			v := osrc[k]
			b := 0
			if tbl[col[r]] {
				b = 1
			}
			left[nl], oleft[nl] = r, v
			left[end-nr], oleft[end-nr] = r, v
			nl += b
			nr += 1 - b
		}
		// The left write of a right row may have clobbered nothing useful:
		// left rows are all written before position nl advances past them.
		return nl, nr
	}
	right, oright = right[:len(src)], oright[:len(src)]
	oleft = oleft[:len(src)]
	left = left[:len(src)]
	for k, r := range src {
		v := osrc[k]
		b := 0
		if tbl[col[r]] {
			b = 1
		}
		left[nl], oleft[nl] = r, v
		right[nr], oright[nr] = r, v
		nl += b
		nr += 1 - b
	}
	return nl, nr
}

// grow builds one tree on the rows in g.idx with gradient pairs gp (indexed
// by matrix row). It returns the tree with unscaled-then-scaled leaf values
// and leaves g.leaves holding the final leaves (segments into g.idx).
func (g *grower) grow(gp []gpair) *tree {
	for _, l := range g.leaves {
		g.putHist(l.hist)
	}
	g.leaves = g.leaves[:0]
	g.tables = g.tables[:0]
	t := &tree{}
	g.t = t
	g.setFeatBlocks()
	root := &leafState{start: 0, count: len(g.idx), depth: 0, lo: math.Inf(-1), hi: math.Inf(1), parent: -1, best: splitInfo{feat: -1}}
	root.q = g.quantize(gp)
	root.g, root.h = g.deq(root.q)
	g.leaves = append(g.leaves, root)
	if g.p.maxLeaves > 1 && len(g.idx) >= int(2*g.p.minData) {
		root.hist = g.getHist()
		g.expand(root, nil, nil)
	}
	for len(g.leaves) < g.p.maxLeaves {
		// Best leaf (first on ties: deterministic).
		bi := -1
		for i, l := range g.leaves {
			if l.best.valid() && (bi < 0 || l.best.gain > g.leaves[bi].best.gain) {
				bi = i
			}
		}
		if bi < 0 {
			break
		}
		l := g.leaves[bi]
		s := l.best
		tbl := g.leftTable(&s)
		nl := g.partition(l, &tbl, s.feat)
		// Record the node.
		node := len(t.Feature)
		t.Feature = append(t.Feature, int32(s.feat))
		thr := math.Inf(1)
		var flags uint8
		if s.defaultLeft {
			flags |= flagDefaultLeft
		}
		if s.cat {
			flags |= flagCategorical
			thr = 0
			t.CatStart = append(t.CatStart, int32(len(t.CatBits)))
			nb := g.bd.NumBins[s.feat]
			words := (nb + 31) / 32
			set := s.catSet
			set[nb>>6] &^= 1 << (uint(nb) & 63) // missing travels by the default flag
			for w := 0; w < words; w++ {
				t.CatBits = append(t.CatBits, uint32(set[w/2]>>(32*(uint(w)%2))))
			}
			t.CatLen = append(t.CatLen, int32(words))
		} else {
			thr = g.bd.Bounds[s.feat][s.thr]
			t.CatStart = append(t.CatStart, 0)
			t.CatLen = append(t.CatLen, 0)
		}
		t.Threshold = append(t.Threshold, thr)
		t.Flags = append(t.Flags, flags)
		t.Left = append(t.Left, 0)
		t.Right = append(t.Right, 0)
		t.Gain = append(t.Gain, s.gain)
		t.Cover = append(t.Cover, float64(l.count))
		g.tables = append(g.tables, tbl)
		if l.parent >= 0 {
			if l.isLeft {
				t.Left[l.parent] = int32(node)
			} else {
				t.Right[l.parent] = int32(node)
			}
		}
		left := &leafState{start: l.start, count: nl, q: s.lq, depth: l.depth + 1, lo: l.lo, hi: l.hi, parent: node, isLeft: true}
		right := &leafState{start: l.start + nl, count: l.count - nl, q: l.q - s.lq, depth: l.depth + 1, lo: l.lo, hi: l.hi, parent: node}
		left.g, left.h = g.deq(left.q)
		right.g, right.h = g.deq(right.q)
		mono := int8(0)
		if g.p.mono != nil {
			mono = g.p.mono[s.feat]
		}
		if mono != 0 {
			left.out, right.out = s.lout, s.rout
			mid := (left.out + right.out) / 2
			if mono > 0 {
				left.hi, right.lo = min(l.hi, mid), max(l.lo, mid)
			} else {
				left.lo, right.hi = max(l.lo, mid), min(l.hi, mid)
			}
		}
		left.best.feat, right.best.feat = -1, -1
		g.leaves[bi] = left
		g.leaves = append(g.leaves, right)
		// Histograms for the children, if either may split again.
		canSplit := func(c *leafState) bool {
			return c.count >= int(2*g.p.minData) && (g.p.maxDepth <= 0 || c.depth < g.p.maxDepth)
		}
		if len(g.leaves) < g.p.maxLeaves && (canSplit(left) || canSplit(right)) {
			small, large := left, right
			if right.count < left.count {
				small, large = right, left
			}
			small.hist = g.getHist()
			large.hist = l.hist
			l.hist = nil
			g.expand(small, large, large.hist)
		} else {
			g.putHist(l.hist)
			l.hist = nil
		}
	}
	// Finalise leaves: outputs from exact (unquantised) sums, in row order.
	finalise := func(i int) {
		l := g.leaves[i]
		var G, H float64
		for _, r := range g.idx[l.start : l.start+l.count] {
			G += float64(gp[r].g)
			H += float64(gp[r].h)
		}
		l.out = clamp(g.output(G, H), l.lo, l.hi)
	}
	if len(g.idx) >= 1<<14 {
		g.p.wp.run(len(g.leaves), finalise)
	} else {
		for i := range g.leaves {
			finalise(i)
		}
	}
	t.Value = make([]float64, len(g.leaves))
	t.LeafCover = make([]float64, len(g.leaves))
	for i, l := range g.leaves {
		t.Value[i] = l.out * g.p.lr
		t.LeafCover[i] = float64(l.count)
		if l.parent >= 0 {
			if l.isLeft {
				t.Left[l.parent] = int32(^i)
			} else {
				t.Right[l.parent] = int32(^i)
			}
		}
	}
	for _, l := range g.leaves {
		g.putHist(l.hist)
		l.hist = nil
	}
	return t
}

// binnedLeaf returns the leaf index of matrix row r in the tree just grown.
func (g *grower) binnedLeaf(t *tree, r int) int {
	if len(t.Feature) == 0 {
		return 0
	}
	i := int32(0)
	n := g.bd.Rows
	for {
		b := g.bd.Bins[int(t.Feature[i])*n+r]
		var next int32
		if g.tables[i][b] {
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
