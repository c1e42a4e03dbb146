package gbdt

import (
	"cmp"
	"math/bits"
	"slices"
	"sync"
)

// QuickScorer: single-row scoring by feature rather than by tree
// (Lucchese et al., "QuickScorer: a fast algorithm to rank documents with
// additive ensembles of regression trees", SIGIR 2015).
//
// Number each tree's leaves from left to right (at most 64, so a tree's
// leaves fit one uint64). A split that sends the row right rules out
// every leaf of its left subtree; its mask has those bits clear. The leaf
// the row reaches is the leftmost leaf no right-going split ruled out: AND
// the masks of the row's right-going splits into the tree's word, starting
// from all ones, and take the lowest set bit. Which splits go right is
// found per feature with no tree walking at all:
//
//   - a numeric split goes right for a present value x exactly when
//     x > thr. A feature's numeric splits, sorted by threshold, go right
//     for a prefix: those with thr < x, scanned until the first that does
//     not. A missing value goes right at the splits whose missing values go
//     right, listed apart;
//   - a categorical split's right-going codes are known when the model
//     loads, so each categorical feature keeps, per code, the list of its
//     splits that code sends right (plus one list for codes past every
//     bitset and one for missing and negative codes).
//
// The cost per row is one AND per right-going split, on words that stay in
// L1, instead of a dependent load and compare per level of every tree.
// Leaf values are then added in tree order, so scores are bit-identical to
// the tree walk (tree.leafOf), which the tests check.

// qsWalkRatio is how many ANDs QuickScorer may spend per level the tree
// walk would descend (a categorical level counting three times: its
// bitset test takes three dependent loads) and still be chosen.
// BenchmarkPredictRow measures both on ten model shapes; two runs, CPU ns
// per tree, QuickScorer against the walk: adult 100 trees 37–38 vs 64–78,
// adult 300 trees 28–39 vs 48–64, adult with 63 leaves 66–74 vs 87–95,
// diamonds 33–43 vs 63–68, spambase 38–42 vs 59–61 (QuickScorer chosen, and
// faster, on all five); spambase with 63 leaves 81–86 vs 53–54,
// bike_sharing 33–36 vs 26–29, california_housing 44–64 vs 35–51 (walk
// chosen, and faster); diamonds with 63 leaves 41–54 vs 59–80 and letter
// 42–45 vs 49–54 keep the walk although QuickScorer is faster: the rule
// errs towards the walk, which is what every model had before.
const qsWalkRatio = 2.25

// quickScorerPays estimates from the trees' training covers whether
// QuickScorer beats the tree walk on a typical row: a row goes right at
// about half of all splits (one AND each), while the walk descends the
// expected depth, which the covers give (a categorical level counts three
// times). Trees without covers count as free to walk, so without them the
// walk is kept.
func quickScorerPays(trees []*tree) bool {
	var splits, levels float64
	for _, t := range trees {
		splits += float64(len(t.Feature))
		if len(t.Feature) == 0 || !(t.Cover[0] > 0) {
			continue
		}
		for i, c := range t.Cover {
			w := c / t.Cover[0]
			if t.Flags[i]&flagCategorical != 0 {
				w *= 3
			}
			levels += w
		}
	}
	return splits > 0 && splits/2 <= qsWalkRatio*levels
}

// qsMaxLeaves is the most leaves a tree may have for QuickScorer (one
// uint64 word per tree).
const qsMaxLeaves = 64

// qsMaxCatEntries caps the per-code lists of all categorical features (12
// bytes each): a model whose categorical splits would need more keeps the
// tree walk.
const qsMaxCatEntries = 1 << 21

// qsEntry is one split: the tree it belongs to and the mask its going
// right ANDs into the tree's word.
type qsEntry struct {
	mask uint64
	tree int32
}

// qsNumeric holds a feature's numeric splits, sorted by threshold, as
// parallel arrays (the scan reads thr, then tree and mask, in step).
type qsNumeric struct {
	thr     []float64 // ascending
	tree    []int32
	mask    []uint64
	missing []qsEntry // splits that send a missing value right
}

// qsCategorical holds a feature's categorical splits.
type qsCategorical struct {
	byCode  [][]qsEntry // splits that code c sends right, c < len(byCode)
	beyond  []qsEntry   // every split: codes ≥ len(byCode) go right everywhere
	missing []qsEntry   // splits that send missing and negative codes right
}

// quickScorer is a model's trees in QuickScorer form.
type quickScorer struct {
	k      int
	num    []*qsNumeric     // by feature; nil when no numeric split uses it
	cat    []*qsCategorical // by feature; nil when no categorical split uses it
	leaves [][]float64      // leaf values by tree, in left-to-right order
	words  sync.Pool        // *[]uint64 of one word per tree, scratch for score
}

// newQuickScorer builds the QuickScorer form of trees over p features with
// k outputs, or returns nil when it would not pay (quickScorerPays), some
// tree has more than qsMaxLeaves leaves, a threshold is NaN, or the
// categorical lists would be too large.
func newQuickScorer(trees []*tree, p, k int) *quickScorer {
	if !quickScorerPays(trees) {
		return nil
	}
	return buildQuickScorer(trees, p, k)
}

// qsSplit is a split collected while building: its entry and what decides
// its direction.
type qsSplit struct {
	qsEntry
	thr          float64  // numeric: right when x > thr
	bits         []uint32 // categorical: codes whose bit is set go left
	missingRight bool
}

// buildQuickScorer builds the QuickScorer form whether or not it pays, or
// returns nil when it cannot (see newQuickScorer).
func buildQuickScorer(trees []*tree, p, k int) *quickScorer {
	qs := &quickScorer{k: k, num: make([]*qsNumeric, p), cat: make([]*qsCategorical, p), leaves: make([][]float64, len(trees))}
	nums := make([][]qsSplit, p)
	cats := make([][]qsSplit, p)
	for ti, t := range trees {
		if len(t.Feature) == 0 {
			qs.leaves[ti] = []float64{t.Value[0]}
			continue
		}
		var leaves []float64
		// visit numbers node's leaves from len(leaves) on, collects its
		// splits and returns how many leaves it has.
		var visit func(node int32) int
		visit = func(node int32) int {
			if node < 0 {
				leaves = append(leaves, t.Value[^node])
				return 1
			}
			lo := len(leaves)
			nl := visit(t.Left[node])
			nr := visit(t.Right[node])
			if len(leaves) > qsMaxLeaves {
				return nl + nr
			}
			// Going right rules out the left subtree's leaves lo..lo+nl-1
			// (nl < 64: the right subtree has a leaf too).
			s := qsSplit{
				qsEntry:      qsEntry{mask: ^(((uint64(1) << nl) - 1) << lo), tree: int32(ti)},
				missingRight: t.Flags[node]&flagDefaultLeft == 0,
			}
			f := t.Feature[node]
			if t.Flags[node]&flagCategorical != 0 {
				s.bits = t.CatBits[t.CatStart[node] : t.CatStart[node]+t.CatLen[node]]
				cats[f] = append(cats[f], s)
			} else {
				s.thr = t.Threshold[node]
				nums[f] = append(nums[f], s)
			}
			return nl + nr
		}
		visit(0)
		if len(leaves) > qsMaxLeaves {
			return nil
		}
		qs.leaves[ti] = leaves
	}
	for f, splits := range nums {
		if len(splits) == 0 {
			continue
		}
		for _, s := range splits {
			if s.thr != s.thr {
				return nil
			}
		}
		// Ascending thresholds; ties keep tree order (the ANDs commute, so
		// this only fixes the layout).
		slices.SortStableFunc(splits, func(a, b qsSplit) int { return cmp.Compare(a.thr, b.thr) })
		n := &qsNumeric{thr: make([]float64, len(splits)), tree: make([]int32, len(splits)), mask: make([]uint64, len(splits))}
		for i, s := range splits {
			n.thr[i], n.tree[i], n.mask[i] = s.thr, s.tree, s.mask
			if s.missingRight {
				n.missing = append(n.missing, s.qsEntry)
			}
		}
		qs.num[f] = n
	}
	total := 0
	for f, splits := range cats {
		if len(splits) == 0 {
			continue
		}
		codes := 0
		for _, s := range splits {
			codes = max(codes, 32*len(s.bits))
		}
		total += codes * len(splits)
		if total > qsMaxCatEntries {
			return nil
		}
		c := &qsCategorical{byCode: make([][]qsEntry, codes)}
		for code := range codes {
			for _, s := range splits {
				if w := code >> 5; w >= len(s.bits) || s.bits[w]&(1<<(uint(code)&31)) == 0 {
					c.byCode[code] = append(c.byCode[code], s.qsEntry)
				}
			}
		}
		for _, s := range splits {
			c.beyond = append(c.beyond, s.qsEntry)
			if s.missingRight {
				c.missing = append(c.missing, s.qsEntry)
			}
		}
		qs.cat[f] = c
	}
	return qs
}

// score adds every tree's leaf value for row to out (see addRow), with
// pooled scratch: no allocation and no clearing beyond one word per tree.
func (qs *quickScorer) score(row []float64, out []float64) {
	w, _ := qs.words.Get().(*[]uint64)
	if w == nil {
		buf := make([]uint64, len(qs.leaves))
		w = &buf
	}
	qs.addRow(row, out, *w)
	qs.words.Put(w)
}

// addRow adds every tree's leaf value for row (p feature values, NaN for
// missing) to out (k outputs), in tree order. words is scratch of at least
// one word per tree.
func (qs *quickScorer) addRow(row []float64, out []float64, words []uint64) {
	words = words[:len(qs.leaves)]
	for i := range words {
		words[i] = ^uint64(0)
	}
	for f, n := range qs.num {
		if n == nil {
			continue
		}
		x := row[f]
		if x != x {
			for _, e := range n.missing {
				words[e.tree] &= e.mask
			}
			continue
		}
		thr := n.thr
		tree, mask := n.tree[:len(thr)], n.mask[:len(thr)]
		for i := 0; i < len(thr) && thr[i] < x; i++ {
			words[tree[i]] &= mask[i]
		}
	}
	for f, c := range qs.cat {
		if c == nil {
			continue
		}
		x := row[f]
		var list []qsEntry
		switch {
		case !(x >= 0):
			list = c.missing
		case x >= float64(len(c.byCode)):
			list = c.beyond
		default:
			list = c.byCode[int(x)]
		}
		for _, e := range list {
			words[e.tree] &= e.mask
		}
	}
	k := qs.k
	for ti, leaves := range qs.leaves {
		out[ti%k] += leaves[bits.TrailingZeros64(words[ti])&(qsMaxLeaves-1)]
	}
}
