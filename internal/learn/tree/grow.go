package tree

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
)

// Criterion is the impurity measure a tree minimises.
type Criterion uint8

// Criteria.
const (
	Gini Criterion = iota
	Entropy
	SquaredError
)

// Config holds the growing limits of one tree.
type Config struct {
	Criterion Criterion
	// MaxDepth limits the depth (0: unlimited).
	MaxDepth int
	// MinSamplesSplit is the least number of rows a node needs to be split.
	MinSamplesSplit int
	// MinSamplesLeaf is the least number of rows in each child.
	MinSamplesLeaf int
	// MinWeightLeaf is the least total weight in each child.
	MinWeightLeaf float64
	// MaxFeatures is the number of non-constant features examined per node
	// (0: all).
	MaxFeatures int
	// MinImpurityDecrease is the least weighted impurity decrease (relative to
	// the total weight at the root) a split must bring.
	MinImpurityDecrease float64
	// Random draws one random threshold per feature (extremely randomised
	// trees) instead of searching the best.
	Random bool
	// CCPAlpha prunes the grown tree by minimal cost-complexity pruning.
	CCPAlpha float64
}

const (
	flagMissingLeft uint8 = 1 << iota
	flagCategorical
)

// rawNode is a node during growing; every node keeps its value, impurity and
// weight for pruning and importances.
type rawNode struct {
	feature     int32
	left, right int32
	flags       uint8
	codeThr     uint32 // numeric: left when code <= codeThr
	thr         float64
	catOff      int32 // categorical: offset of the bitset in cats
	impurity    float64
	weight      float64
	count       int32
	pruned      bool
}

type stackItem struct {
	start, end, depth int
	node              int32
	nConst            int // features known constant in the node
}

type grower struct {
	d     *Data
	cfg   Config
	W     int // statistics per code
	nOut  int
	rng   *rand.Rand
	w     []float64
	samp  []int32
	sw    []float64 // weight of samp[k]
	sc    []int32   // class of samp[k] (classification)
	hist2 []float64
	hc2   []int32
	nodes []rawNode
	vals  []float64 // nOut per raw node
	stats []float64 // W per raw node
	cats  []uint64

	hist    []float64
	histCnt []int32
	cCode   []uint32
	cCnt    []int32
	cStat   []float64
	cKey    []float64
	perm    []int32
	pStat   []float64
	pCnt    []int32
	keys    []uint64
	radix   []uint64
	feats   []int
	tmpL    []float64
	tmpR    []float64
	tmpM    []float64
	leftSet []bool
	totalW  float64
}

// Grow grows one tree on the rows of d with positive weight w (len d.N),
// using rng for feature sampling and random thresholds. importance, when
// non-nil (len d.P), accumulates the weighted impurity decrease per feature.
func Grow(ctx context.Context, d *Data, cfg Config, w []float64, rng *rand.Rand, importance []float64) (*Tree, error) {
	return NewGrower(d).Grow(ctx, cfg, w, rng, importance)
}

// Grower grows trees on one Data, reusing its scratch memory from tree to
// tree. A Grower is not safe for concurrent use: use one per goroutine.
type Grower struct{ g *grower }

// NewGrower returns a Grower for d.
func NewGrower(d *Data) *Grower {
	g := &grower{d: d}
	if d.Task.Classification() {
		g.W, g.nOut = d.K, d.K
	} else {
		g.W, g.nOut = 3, 1
	}
	g.samp = make([]int32, 0, d.N)
	g.hist2 = make([]float64, 64*g.W)
	g.hc2 = make([]int32, 64)
	maxBins := 0
	for _, b := range d.NBins {
		maxBins = max(maxBins, b+1)
	}
	g.hist = make([]float64, maxBins*g.W)
	g.histCnt = make([]int32, maxBins)
	g.cCode = make([]uint32, maxBins)
	g.cCnt = make([]int32, maxBins)
	g.cStat = make([]float64, maxBins*g.W)
	g.cKey = make([]float64, maxBins)
	g.perm = make([]int32, maxBins)
	g.pStat = make([]float64, maxBins*g.W)
	g.pCnt = make([]int32, maxBins)
	g.leftSet = make([]bool, maxBins)
	g.feats = make([]int, d.P)
	g.tmpL = make([]float64, g.W)
	g.tmpR = make([]float64, g.W)
	g.tmpM = make([]float64, g.W)
	return &Grower{g}
}

// Grow grows one tree; see the package function Grow.
func (gr *Grower) Grow(ctx context.Context, cfg Config, w []float64, rng *rand.Rand, importance []float64) (*Tree, error) {
	g := gr.g
	d := g.d
	g.cfg, g.rng, g.w = cfg, rng, w
	if g.cfg.MinSamplesLeaf < 1 {
		g.cfg.MinSamplesLeaf = 1
	}
	if g.cfg.MinSamplesSplit < 2 {
		g.cfg.MinSamplesSplit = 2
	}
	if g.cfg.MaxFeatures <= 0 || g.cfg.MaxFeatures > d.P {
		g.cfg.MaxFeatures = d.P
	}
	g.samp, g.sw, g.sc = g.samp[:0], g.sw[:0], g.sc[:0]
	for i := 0; i < d.N; i++ {
		if w[i] > 0 {
			g.samp = append(g.samp, int32(i))
			g.sw = append(g.sw, w[i])
			if d.Class != nil {
				g.sc = append(g.sc, d.Class[i])
			}
		}
	}
	if len(g.samp) == 0 {
		return nil, errors.New("grow tree: no rows with a positive weight")
	}
	for f := range g.feats {
		g.feats[f] = f
	}
	g.nodes, g.stats, g.vals, g.cats = g.nodes[:0], g.stats[:0], g.vals[:0], nil
	if err := g.grow(ctx); err != nil {
		return nil, err
	}
	if cfg.CCPAlpha > 0 {
		g.prune(cfg.CCPAlpha)
	}
	return g.finalize(importance), nil
}

// addStats adds the statistics of row i to s.
func (g *grower) addRow(s []float64, i int32) {
	wi := g.w[i]
	if g.d.Class != nil {
		s[g.d.Class[i]] += wi
		return
	}
	y := g.d.Y[i]
	s[0] += wi
	s[1] += wi * y
	s[2] += wi * y * y
}

func sumW(s []float64, classification bool) float64 {
	if !classification {
		return s[0]
	}
	t := 0.0
	for _, v := range s {
		t += v
	}
	return t
}

// cost returns weight × impurity of the statistics s.
func (g *grower) cost(s []float64) float64 {
	switch g.cfg.Criterion {
	case SquaredError:
		if s[0] <= 0 {
			return 0
		}
		return max(s[2]-s[1]*s[1]/s[0], 0)
	case Entropy:
		t, e := 0.0, 0.0
		for _, v := range s {
			if v > 0 {
				t += v
				e -= v * math.Log(v)
			}
		}
		if t <= 0 {
			return 0
		}
		return max(e+t*math.Log(t), 0) / math.Ln2
	default:
		if len(s) == 2 {
			t := s[0] + s[1]
			if t <= 0 {
				return 0
			}
			return 2 * s[0] * s[1] / t
		}
		t, q := 0.0, 0.0
		for _, v := range s {
			t += v
			q += v * v
		}
		if t <= 0 {
			return 0
		}
		return max(t-q/t, 0)
	}
}

func (g *grower) newNode(s []float64, count int32) int32 {
	id := int32(len(g.nodes))
	cls := g.d.Class != nil
	wt := sumW(s, cls)
	imp := 0.0
	if wt > 0 {
		imp = g.cost(s) / wt
	}
	g.nodes = append(g.nodes, rawNode{feature: -1, left: -1, right: -1, impurity: imp, weight: wt, count: count})
	g.stats = append(g.stats, s...)
	if cls {
		for _, v := range s {
			g.vals = append(g.vals, v/wt)
		}
	} else {
		g.vals = append(g.vals, s[1]/wt)
	}
	return id
}

type split struct {
	found     bool
	feature   int
	cost      float64 // cost(left) + cost(right)
	codeThr   uint32
	thr       float64
	missLeft  bool
	cat       bool
	nLeft     int32
	leftCodes []uint32  // categorical: codes going left
	left      []float64 // statistics of the left child
}

func (g *grower) grow(ctx context.Context) error {
	root := make([]float64, g.W)
	for _, i := range g.samp {
		g.addRow(root, i)
	}
	g.totalW = sumW(root, g.d.Class != nil)
	g.newNode(root, int32(len(g.samp)))
	stack := []stackItem{{0, len(g.samp), 0, 0, 0}}
	var best split
	best.leftCodes = make([]uint32, 0, 64)
	for steps := 0; len(stack) > 0; steps++ {
		if steps&63 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		fr := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		nd := &g.nodes[fr.node]
		n := fr.end - fr.start
		if n < g.cfg.MinSamplesSplit || n < 2*g.cfg.MinSamplesLeaf || (g.cfg.MaxDepth > 0 && fr.depth >= g.cfg.MaxDepth) ||
			nd.impurity <= 1e-12 || nd.weight < 2*g.cfg.MinWeightLeaf {
			continue
		}
		s := g.stats[int(fr.node)*g.W : int(fr.node+1)*g.W]
		nodeCost := nd.impurity * nd.weight
		nConst := g.findSplit(fr.start, fr.end, fr.nConst, s, &best)
		if !best.found || (nodeCost-best.cost)/g.totalW+1e-12 < g.cfg.MinImpurityDecrease {
			continue
		}
		mid := g.partition(fr.start, fr.end, &best)
		// Children statistics.
		ls := g.tmpL
		if g.d.Class != nil {
			// The split scan already summed the left child.
			copy(ls, best.left)
		} else {
			clear(ls)
			for _, i := range g.samp[fr.start:mid] {
				g.addRow(ls, i)
			}
		}
		rs := g.tmpR
		for k := range rs {
			rs[k] = s[k] - ls[k]
		}
		if g.d.Class == nil {
			// Recompute exactly to avoid cancellation in the right child.
			clear(rs)
			for _, i := range g.samp[mid:fr.end] {
				g.addRow(rs, i)
			}
		} else {
			for k := range rs {
				rs[k] = max(rs[k], 0)
			}
		}
		l := g.newNode(ls, int32(mid-fr.start))
		r := g.newNode(rs, int32(fr.end-mid))
		nd = &g.nodes[fr.node]
		nd.feature = int32(best.feature)
		nd.left, nd.right = l, r
		if best.missLeft {
			nd.flags |= flagMissingLeft
		}
		if best.cat {
			nd.flags |= flagCategorical
			nw := (g.d.NBins[best.feature] + 63) / 64
			off := int32(len(g.cats))
			g.cats = append(g.cats, uint64(nw))
			g.cats = append(g.cats, make([]uint64, nw)...)
			for _, c := range best.leftCodes {
				g.cats[int(off)+1+int(c>>6)] |= 1 << (c & 63)
			}
			nd.catOff = off
		} else {
			nd.codeThr = best.codeThr
			nd.thr = best.thr
		}
		stack = append(stack, stackItem{mid, fr.end, fr.depth + 1, r, nConst}, stackItem{fr.start, mid, fr.depth + 1, l, nConst})
	}
	return nil
}

// partition reorders samp[start:end] so the rows going left come first and
// returns the boundary.
func (g *grower) partition(start, end int, b *split) int {
	f := b.feature
	codes := g.d.Codes[f*g.d.N : (f+1)*g.d.N]
	miss := uint32(g.d.NBins[f])
	s, sw, sc := g.samp, g.sw, g.sc
	cls := len(sc) > 0
	i, j := start, end-1
	var ls []bool
	if b.cat {
		ls = g.leftSet[:miss+1]
		clear(ls)
		for _, c := range b.leftCodes {
			ls[c] = true
		}
		ls[miss] = b.missLeft
	}
	thr, ml := b.codeThr, b.missLeft
	for i <= j {
		c := codes[s[i]]
		var left bool
		if b.cat {
			left = ls[c]
		} else {
			left = (c != miss && c <= thr) || (c == miss && ml)
		}
		if left {
			i++
			continue
		}
		s[i], s[j] = s[j], s[i]
		sw[i], sw[j] = sw[j], sw[i]
		if cls {
			sc[i], sc[j] = sc[j], sc[i]
		}
		j--
	}
	return i
}

// summarise fills the compact per-code statistics of feature f over the
// node's rows: codes present (ascending), their counts and statistics, and the
// missing statistics in g.tmpM. It returns the number of codes present and the
// number of missing rows.
func (g *grower) summarise(f, start, end int) (nb int, nMiss int32) {
	d := g.d
	W := g.W
	codes := d.Codes[f*d.N : (f+1)*d.N]
	miss := uint32(d.NBins[f])
	rows := g.samp[start:end]
	n := len(rows)
	cls := d.Class != nil
	clear(g.tmpM)
	if int(miss) <= 2*n {
		h := g.hist[:(int(miss)+1)*W]
		hc := g.histCnt[:miss+1]
		clear(h)
		clear(hc)
		if cls && W == 2 {
			g.histBinary(f, start, end, h, hc)
		} else {
			for _, i := range rows {
				c := codes[i]
				hc[c]++
				g.addRow(h[int(c)*W:int(c)*W+W], i)
			}
		}
		for c := uint32(0); c < miss; c++ {
			if hc[c] == 0 {
				continue
			}
			g.cCode[nb] = c
			g.cCnt[nb] = hc[c]
			copy(g.cStat[nb*W:nb*W+W], h[int(c)*W:int(c)*W+W])
			nb++
		}
		nMiss = hc[miss]
		copy(g.tmpM, h[int(miss)*W:int(miss)*W+W])
		return nb, nMiss
	}
	keys := g.keys[:0]
	for _, i := range rows {
		keys = append(keys, uint64(codes[i])<<32|uint64(uint32(i)))
	}
	if len(keys) >= 512 {
		g.radix = radixSort(keys, g.radix, uint64(miss))
	} else {
		slices.Sort(keys)
	}
	g.keys = keys
	prev := uint32(math.MaxUint32)
	for _, k := range keys {
		c, i := uint32(k>>32), int32(uint32(k))
		if c == miss {
			nMiss++
			g.addRow(g.tmpM, i)
			continue
		}
		if c != prev {
			g.cCode[nb] = c
			g.cCnt[nb] = 0
			clear(g.cStat[nb*W : nb*W+W])
			nb++
			prev = c
		}
		g.cCnt[nb-1]++
		g.addRow(g.cStat[(nb-1)*W:nb*W], i)
	}
	return nb, nMiss
}

func (g *grower) findSplit(start, end, nConst int, s []float64, best *split) (nConstOut int) {
	best.found = false
	best.cost = math.Inf(1)
	d := g.d
	W := g.W
	cls := d.Class != nil
	n := int32(end - start)
	minLeaf := int32(g.cfg.MinSamplesLeaf)
	minW := g.cfg.MinWeightLeaf
	// Draw features without replacement as scikit-learn's splitter does:
	// g.feats[:nKnown] are features known to be constant in this node (from
	// its ancestors) and are never summarised again; newly found constant
	// features are moved behind them and passed on to the children. Draws
	// stop after MaxFeatures features, or later while all drawn were constant.
	feats := g.feats
	nKnown := nConst
	nDrawnConst, nFoundConst, nTotalConst := 0, 0, nConst
	visited := 0
	fi := d.P
	for fi > nTotalConst && (visited < g.cfg.MaxFeatures || visited <= nFoundConst+nDrawnConst) {
		visited++
		fj := nDrawnConst + g.rng.IntN(fi-nFoundConst-nDrawnConst)
		if fj < nKnown {
			feats[nDrawnConst], feats[fj] = feats[fj], feats[nDrawnConst]
			nDrawnConst++
			continue
		}
		fj += nFoundConst
		f := feats[fj]
		nb, nMiss := g.summarise(f, start, end)
		if nb+min(int(nMiss), 1) <= 1 {
			feats[fj], feats[nTotalConst] = feats[nTotalConst], feats[fj]
			nFoundConst++
			nTotalConst++
			continue
		}
		fi--
		feats[fi], feats[fj] = feats[fj], feats[fi]
		isCat := d.Categorical[f]
		// Order: identity for numeric, by key for categorical.
		stat, cnt := g.cStat, g.cCnt
		if isCat {
			g.orderCategories(nb, s)
			stat, cnt = g.pStat, g.pCnt
		}
		mS := g.tmpM
		wM := sumW(mS, cls)
		// Candidate boundaries: after position b (0..nb-2), plus b = nb-1
		// (all present codes left) when there are missing rows.
		lo, hi := 0, nb-2
		if nMiss > 0 {
			hi = nb - 1
		}
		if g.cfg.Random {
			cut := g.randomCut(f, nb, isCat)
			lo, hi = cut, cut
		}
		randSide := 0
		if g.cfg.Random && nMiss > 0 {
			randSide = int(g.rng.Uint32() & 1)
		}
		L := g.tmpL
		clear(L)
		var nL int32
		for b := 0; b <= hi; b++ {
			st := stat[b*W : b*W+W]
			for q := range L {
				L[q] += st[q]
			}
			nL += cnt[b]
			if b < lo {
				continue
			}
			nR := n - nMiss - nL
			// Try missing right, then missing left.
			for side := 0; side < 2; side++ {
				if side == 1 && nMiss == 0 {
					break
				}
				if g.cfg.Random && nMiss > 0 && side != randSide {
					continue
				}
				cl, cr := nL, nR+nMiss
				if side == 1 {
					cl, cr = nL+nMiss, nR
				}
				if cl < minLeaf || cr < minLeaf {
					continue
				}
				R := g.tmpR
				for q := range R {
					R[q] = s[q] - L[q]
				}
				var c float64
				if side == 0 {
					if minW > 0 && (sumW(L, cls) < minW || sumW(R, cls) < minW) {
						continue
					}
					c = g.cost(L) + g.cost(R)
				} else {
					for q := range R {
						R[q] -= mS[q]
						L[q] += mS[q]
					}
					ok := minW <= 0 || (sumW(L, cls) >= minW && sumW(R, cls) >= minW)
					c = g.cost(L) + g.cost(R)
					for q := range R {
						L[q] -= mS[q]
					}
					if !ok {
						continue
					}
				}
				if c < best.cost-1e-12*math.Abs(c) {
					best.found = true
					best.cost = c
					best.feature = f
					best.cat = isCat
					best.nLeft = cl
					ml := side == 1
					if nMiss == 0 {
						// No missing rows in training: send missing values to
						// the heavier child at prediction.
						ml = sumW(L, cls) >= sumW(R, cls)-wM
					}
					best.missLeft = ml
					best.left = append(best.left[:0], L...)
					if side == 1 {
						for q := range best.left {
							best.left[q] += mS[q]
						}
					}
					if isCat {
						best.leftCodes = best.leftCodes[:0]
						for q := 0; q <= b; q++ {
							best.leftCodes = append(best.leftCodes, g.cCode[g.perm[q]])
						}
					} else {
						best.codeThr, best.thr = g.threshold(f, b, nb)
					}
				}
			}
		}
	}
	return nTotalConst
}

// randomCut draws an extra-trees split position among the nb present
// codes of feature f: a uniform boundary for a categorical feature, the
// boundary below a uniform threshold between the extreme values for a
// numeric one.
func (g *grower) randomCut(f, nb int, isCat bool) int {
	d := g.d
	switch {
	case nb < 2:
		return nb - 1
	case isCat:
		return g.rng.IntN(nb - 1)
	}
	vals := d.Values[f]
	a, b := vals[g.cCode[0]], d.Upper[f][g.cCode[nb-1]]
	t := a + g.rng.Float64()*(b-a)
	cut := 0
	for cut < nb-2 && vals[g.cCode[cut+1]] <= t {
		cut++
	}
	return cut
}

// threshold returns the code threshold and value threshold of a numeric
// split after present code position b of nb: the midpoint between the
// codes' values (the lower value when the midpoint rounds up to the upper
// or overflows), or everything left when b is the last position.
func (g *grower) threshold(f, b, nb int) (uint32, float64) {
	if b == nb-1 {
		return math.MaxUint32 - 1, math.Inf(1)
	}
	d := g.d
	a, z := d.Upper[f][g.cCode[b]], d.Values[f][g.cCode[b+1]]
	t := a/2 + z/2
	if t >= z || math.IsInf(t, 0) {
		t = a
	}
	return g.cCode[b], t
}

// orderCategories sorts the present categories by their target key into
// g.perm, g.pStat and g.pCnt.
func (g *grower) orderCategories(nb int, s []float64) {
	W := g.W
	d := g.d
	ref := 1
	if d.Class != nil && d.K > 2 {
		ref = 0
		for c := range s {
			if s[c] > s[ref] {
				ref = c
			}
		}
	}
	for b := 0; b < nb; b++ {
		st := g.cStat[b*W : b*W+W]
		g.perm[b] = int32(b)
		if d.Class == nil {
			g.cKey[b] = st[1] / st[0]
		} else {
			t := sumW(st, true)
			g.cKey[b] = st[ref] / t
		}
	}
	perm := g.perm[:nb]
	if g.cfg.Random {
		for k := nb - 1; k > 0; k-- {
			j := g.rng.IntN(k + 1)
			perm[k], perm[j] = perm[j], perm[k]
		}
	} else {
		slices.SortStableFunc(perm, func(a, b int32) int {
			ka, kb := g.cKey[a], g.cKey[b]
			switch {
			case ka < kb || (math.IsNaN(kb) && !math.IsNaN(ka)):
				return -1
			case ka > kb || (math.IsNaN(ka) && !math.IsNaN(kb)):
				return 1
			}
			return 0
		})
	}
	for q, b := range perm {
		copy(g.pStat[q*W:q*W+W], g.cStat[int(b)*W:int(b)*W+W])
		g.pCnt[q] = g.cCnt[b]
	}
}

// radixSort sorts keys (code<<32 | row) by code with an LSD radix sort on
// 8-bit digits of the code, maxCode the largest code; rows stay in input
// order within a code. buf is scratch, returned for reuse.
func radixSort(keys, buf []uint64, maxCode uint64) []uint64 {
	if cap(buf) < len(keys) {
		buf = make([]uint64, len(keys))
	}
	buf = buf[:len(keys)]
	src, dst := keys, buf
	for shift := uint(32); maxCode>>(shift-32) > 0; shift += 8 {
		var count [257]int
		for _, k := range src {
			count[(k>>shift)&0xff+1]++
		}
		for b := 1; b < 257; b++ {
			count[b] += count[b-1]
		}
		for _, k := range src {
			d := (k >> shift) & 0xff
			dst[count[d]] = k
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
	}
	return buf
}

// histBinary fills the binary-classification histogram h (2 weights per
// code) and counts hc of feature f over samp[start:end]. Small histograms
// are split in two interleaved copies to break the store-to-load chains of
// repeated codes.
func (g *grower) histBinary(f, start, end int, h []float64, hc []int32) {
	d := g.d
	rows, sw, sc := g.samp[start:end], g.sw[start:end], g.sc[start:end]
	nb := len(hc)
	c8 := d.Codes8[f]
	if c8 == nil {
		codes := d.Codes[f*d.N : (f+1)*d.N]
		for k, i := range rows {
			c := codes[i]
			hc[c]++
			h[int(c)*2+int(sc[k])] += sw[k]
		}
		return
	}
	if nb > 64 || len(rows) < 64 {
		for k, i := range rows {
			c := c8[i]
			hc[c]++
			h[int(c)*2+int(sc[k])] += sw[k]
		}
		return
	}
	h2, hc2 := g.hist2[:2*nb], g.hc2[:nb]
	clear(h2)
	clear(hc2)
	n := len(rows)
	k := 0
	for ; k+1 < n; k += 2 {
		c0, c1 := c8[rows[k]], c8[rows[k+1]]
		hc[c0]++
		h[int(c0)*2+int(sc[k])] += sw[k]
		hc2[c1]++
		h2[int(c1)*2+int(sc[k+1])] += sw[k+1]
	}
	if k < n {
		c := c8[rows[k]]
		hc[c]++
		h[int(c)*2+int(sc[k])] += sw[k]
	}
	for b := range hc2 {
		hc[b] += hc2[b]
		h[2*b] += h2[2*b]
		h[2*b+1] += h2[2*b+1]
	}
}
