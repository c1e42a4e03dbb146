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

// parallelFindWork is the number of leaf×bin candidates from which split
// finding is spread over threads (below it, goroutine hand-off costs more
// than it saves).
const parallelFindWork = 3072

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

// findBests finds the best split of each leaf, spreading (leaf, feature
// block) tasks over the grower's threads when there is enough work. The
// blocks' results are merged in feature order keeping strictly better
// gains, which picks exactly the split a serial scan picks.
func (g *grower) findBests(ls ...*leafState) {
	var active [2]*leafState
	var scores [2]float64
	var cons [2]bool
	na := 0
	for _, l := range ls {
		ps, c, ok := g.prepare(l)
		if !ok {
			continue
		}
		if na == len(active) {
			// More leaves than the fast path holds: serial.
			g.scanLeaf(l, ps, c)
			continue
		}
		active[na], scores[na], cons[na] = l, ps, c
		na++
	}
	if na == 0 {
		return
	}
	blocks := g.blocks
	if g.p.threads <= 1 || len(blocks) < 2 || na*g.featBins < parallelFindWork {
		for i := range na {
			g.scanLeaf(active[i], scores[i], cons[i])
		}
		return
	}
	nb := len(blocks) - 1
	res := g.findRes[:0]
	for range na * nb {
		res = append(res, splitInfo{feat: -1, gain: g.p.minGain})
	}
	g.findRes = res
	parallelFor(na*nb, g.p.threads, func(task int) {
		i, b := task/nb, task%nb
		g.scanFeatures(active[i], g.feats[blocks[b]:blocks[b+1]], scores[i], cons[i], &res[task])
	})
	for i := range na {
		best := splitInfo{feat: -1, gain: g.p.minGain}
		for _, r := range res[i*nb : (i+1)*nb] {
			if r.valid() && r.gain > best.gain {
				best = r
			}
		}
		active[i].best = best
	}
}

// scanLeaf is the serial best-split search of a prepared leaf.
func (g *grower) scanLeaf(l *leafState, parentScore float64, constrained bool) {
	best := splitInfo{feat: -1, gain: g.p.minGain}
	g.scanFeatures(l, g.feats, parentScore, constrained, &best)
	l.best = best
}

// setFeatBlocks splits g.feats into up to g.p.threads contiguous blocks
// holding about equal numbers of bins (boundaries in g.blocks) and sets
// g.featBins to the total; grow calls it once per tree.
func (g *grower) setFeatBlocks() {
	total := 0
	for _, f := range g.feats {
		total += g.bd.NumBins[f] + 1
	}
	g.featBins = total
	parts := max(1, min(g.p.threads, len(g.feats)))
	g.blocks = append(g.blocks[:0], 0)
	acc, next := 0, 1
	for i, f := range g.feats {
		acc += g.bd.NumBins[f] + 1
		if next < parts && acc*parts >= next*total && i+1 < len(g.feats) {
			g.blocks = append(g.blocks, i+1)
			next++
		}
	}
	g.blocks = append(g.blocks, len(g.feats))
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
