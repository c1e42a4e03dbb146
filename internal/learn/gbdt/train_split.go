package gbdt

import "math"

// Split finding, fast paths. Every function here evaluates exactly the
// candidates the straightforward scan (findNum with evalSplit) would, with
// the same floating-point operations in the same order, and skips only
// candidates that provably cannot become the best split:
//
//   - an empty bin leaves the left sums unchanged, so its candidate repeats
//     the previous one's gain, which cannot beat a best split that is
//     already at least that gain (ties keep the earlier candidate);
//   - left row counts and hessian sums never decrease along a scan, so
//     candidates before the left side reaches min_data_in_leaf and
//     min_sum_hessian are rejected, and once the right side drops below
//     them every later candidate is too.
//
// Trees therefore stay bit-for-bit identical to the plain scan
// (TestTrainingGolden).

// maxChunks bounds the row chunks of one parallel step (fixed-size
// per-chunk results live on the stack).
const maxChunks = 64

// prepare resets l.best and computes the per-leaf constants of split
// finding; it reports false when the leaf cannot split at all.
func (g *grower) prepare(l *leafState) (parentScore float64, constrained, ok bool) {
	l.best = splitInfo{feat: -1}
	if l.count < int(2*g.p.minData) || (g.p.maxDepth > 0 && l.depth >= g.p.maxDepth) || l.hist == nil {
		return 0, false, false
	}
	l.cf = 0
	if l.h > 0 {
		l.cf = float64(l.count) / l.h
	}
	constrained = !math.IsInf(l.lo, -1) || !math.IsInf(l.hi, 1)
	parentScore = g.score(l.g, l.h)
	if constrained {
		parentScore = g.scoreAt(l.g, l.h, clamp(g.output(l.g, l.h), l.lo, l.hi))
	}
	return parentScore, constrained, true
}

// scanFeatures finds the best split of l over features fs, updating best
// (strictly better gains only, so the earliest feature and bin win ties).
func (g *grower) scanFeatures(l *leafState, fs []int, parentScore float64, constrained bool, best *splitInfo) {
	for _, f := range fs {
		h := l.hist[f*histBins : (f+1)*histBins]
		var mono int8
		if g.p.mono != nil {
			mono = g.p.mono[f]
		}
		switch {
		case g.bd.Categorical[f]:
			g.findCat(l, f, h, parentScore, constrained || mono != 0, mono, best)
		case constrained || mono != 0:
			g.findNum(l, f, h, parentScore, true, mono, best)
		default:
			g.findNumPlain(l, f, h, parentScore, best)
		}
	}
}

// scanLeaf is the serial best-split search of a prepared leaf.
func (g *grower) scanLeaf(l *leafState, parentScore float64, constrained bool) {
	best := splitInfo{feat: -1, gain: g.p.minGain}
	g.scanFeatures(l, g.feats, parentScore, constrained, &best)
	l.best = best
}

// setFeatBlocks sets g.featBins to the total bins of g.feats; grow calls
// it once per tree.
func (g *grower) setFeatBlocks() {
	total := 0
	for _, f := range g.feats {
		total += g.bd.NumBins[f] + 1
	}
	g.featBins = total
}

// splitBlocks cuts g.feats into parts contiguous blocks of about equal
// estimated cost, rowCost per feature (histogram) plus binCost per bin
// (split search), and returns their boundaries (indices into g.feats).
func (g *grower) splitBlocks(parts, rowCost, binCost int) []int {
	total := len(g.feats)*rowCost + g.featBins*binCost
	g.blocks = append(g.blocks[:0], 0)
	acc, next := 0, 1
	for i, f := range g.feats {
		acc += rowCost + (g.bd.NumBins[f]+1)*binCost
		if next < parts && acc*parts >= next*total && i+1 < len(g.feats) {
			g.blocks = append(g.blocks, i+1)
			next++
		}
	}
	return append(g.blocks, len(g.feats))
}

// findNumPlain is findNum for a leaf without output bounds and a feature
// without a monotone constraint (the common case).
func (g *grower) findNumPlain(l *leafState, f int, h []hbin, parentScore float64, best *splitInfo) {
	nb := g.bd.NumBins[f]
	miss := h[nb]
	hasMiss := miss != 0
	if nb < 2 && !hasMiss {
		return
	}
	if !hasMiss {
		// Missing values (none in this leaf) go with the majority.
		g.scanNum(l, f, h[:nb-1], 0, false, true, parentScore, best)
		return
	}
	g.scanNum(l, f, h[:nb], 0, false, false, parentScore, best)
	g.scanNum(l, f, h[:nb-1], miss, true, false, parentScore, best)
}

// scanNum evaluates the numeric splits "bins ≤ b go left" for b over bins,
// the left side starting from packed sums acc (the missing bin when
// defaultLeft). majority sets defaultLeft by the larger side instead.
func (g *grower) scanNum(l *leafState, f int, bins []hbin, acc int64, defaultLeft, majority bool, parentScore float64, best *splitInfo) {
	gs, hs, cf := g.gs, g.hs, l.cf
	minData, minHess := g.p.minData, g.p.minHess
	l1, l2 := g.p.l1, g.p.l2
	G, H := l.g, l.h
	count := int64(l.count)
	bestGain := best.gain
	for b, v := range bins {
		if v == 0 && b > 0 {
			continue
		}
		acc += v
		lh := float64(acc&0xffffffff) * hs
		ln := int64(lh*cf + 0.5)
		if ln < minData {
			continue
		}
		if count-ln < minData {
			break
		}
		rh := H - lh
		if lh < minHess {
			continue
		}
		if rh < minHess {
			break
		}
		lg := float64(acc>>32) * gs
		rg := G - lg
		var gain float64
		if l1 == 0 {
			gain = lg*lg/(lh+l2) + rg*rg/(rh+l2) - parentScore
		} else {
			tl, tr := shrinkL1(lg, l1), shrinkL1(rg, l1)
			gain = tl*tl/(lh+l2) + tr*tr/(rh+l2) - parentScore
		}
		if gain > bestGain {
			bestGain = gain
			*best = splitInfo{gain: gain, feat: f, thr: b, defaultLeft: defaultLeft, lg: lg, lh: lh, lq: acc, ln: ln}
			if majority {
				best.defaultLeft = 2*ln >= count
			}
		}
	}
}

// shrinkL1 is thresholdL1 with the L1 weight passed in (inlinable).
func shrinkL1(s, l1 float64) float64 {
	if s > l1 {
		return s - l1
	}
	if s < -l1 {
		return s + l1
	}
	return 0
}

// histSource is where one leaf's histogram pass reads rows and gradients
// (see histFeatures).
type histSource struct {
	rows []int32 // nil: all matrix rows in order
	og   []int64
}

// histSource returns leaf l's rows and their gradients, in leaf order (the
// root of an unsampled tree: every matrix row in order).
func (g *grower) histSource(l *leafState) histSource {
	rows := g.idx[l.start : l.start+l.count]
	og := g.og[l.start : l.start+l.count]
	if g.identity && l.start == 0 && l.count == len(g.idx) {
		return histSource{og: og}
	}
	return histSource{rows: rows, og: og}
}

// histBlock fills hist for features fs from src, four features per pass
// over the rows (chunks as even as possible: 10 → 4+3+3).
func (g *grower) histBlock(hist []hbin, src histSource, fs []int) {
	chunks := (len(fs) + 3) / 4
	for c := range chunks {
		histFeatures(hist, g.bd.Bins, g.bd.Rows, fs[c*len(fs)/chunks:(c+1)*len(fs)/chunks], src.rows, src.og)
	}
}

// subtractFeats sets parent -= child for features fs (bins above the
// missing bin are always empty).
func (g *grower) subtractFeats(parent, child []hbin, fs []int) {
	for _, f := range fs {
		n := g.bd.NumBins[f] + 1
		p := parent[f*histBins : f*histBins+n]
		c := child[f*histBins : f*histBins+n][:len(p)]
		for b := range p {
			p[b] -= c[b]
		}
	}
}

// parallelExpandNs is the estimated work (nanoseconds) of one expand step
// from which it runs on several threads.
const parallelExpandNs = 20_000

// expand builds the histogram of leaf a (a.hist, zeroed or not), turns
// parent, when non-nil, into the histogram of a's sibling b (parent - a,
// in place: b.hist must be parent), and finds the best splits of a and b
// (b nil for the root). With threads, each thread does all three for one
// block of features, so a split costs one fork and join.
func (g *grower) expand(a, b *leafState, parent []hbin) {
	src := g.histSource(a)
	leaves := [2]*leafState{a, b}
	var scores [2]float64
	var cons, ok [2]bool
	nok := 0
	for i, l := range leaves {
		if l == nil {
			continue
		}
		scores[i], cons[i], ok[i] = g.prepare(l)
		if ok[i] {
			nok++
		}
	}
	// Estimated nanoseconds: half a nanosecond per row and feature for the
	// histogram, five per bin and leaf for the split search.
	rowCost, binCost := a.count/2, 5*nok
	cost := len(g.feats)*rowCost + g.featBins*binCost
	if g.p.threads <= 1 || len(g.feats) < 2 || cost < parallelExpandNs || len(g.p.wp.free) == 0 {
		g.histBlock(a.hist, src, g.feats)
		if parent != nil {
			g.subtractFeats(parent, a.hist, g.feats)
		}
		for i, l := range leaves {
			if ok[i] {
				g.scanLeaf(l, scores[i], cons[i])
			}
		}
		return
	}
	// Twice as many blocks as threads, handed out as threads free up.
	blocks := g.splitBlocks(min(2*g.p.threads, len(g.feats)), rowCost, binCost)
	nb := len(blocks) - 1
	res := g.findRes[:0]
	for range 2 * nb {
		res = append(res, splitInfo{feat: -1, gain: g.p.minGain})
	}
	g.findRes = res
	g.p.wp.run(nb, func(blk int) {
		fs := g.feats[blocks[blk]:blocks[blk+1]]
		g.histBlock(a.hist, src, fs)
		if parent != nil {
			g.subtractFeats(parent, a.hist, fs)
		}
		for i, l := range leaves {
			if ok[i] {
				g.scanFeatures(l, fs, scores[i], cons[i], &res[i*nb+blk])
			}
		}
	})
	for i, l := range leaves {
		if !ok[i] {
			continue
		}
		best := splitInfo{feat: -1, gain: g.p.minGain}
		for _, r := range res[i*nb : (i+1)*nb] {
			if r.valid() && r.gain > best.gain {
				best = r
			}
		}
		l.best = best
	}
}
