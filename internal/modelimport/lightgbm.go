package modelimport

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/gbdt"
)

// kZeroThreshold is LightGBM's zero band for missing_type Zero (a float
// 1e-35f compared as a double).
var kZeroThreshold = float64(float32(1e-35))

// lgbBlock is one "key=value" section of a LightGBM text model (the header
// or a Tree=N block) with the line each key was on.
type lgbBlock struct {
	start int
	vals  map[string]string
	line  map[string]int
	flags map[string]bool // lines without "=" (average_output)
}

func (b *lgbBlock) get(k string) (string, int, bool) {
	v, ok := b.vals[k]
	return v, b.line[k], ok
}

// parseLightGBM reads a LightGBM text model (Booster.save_model /
// model_to_string, format v2–v4).
func parseLightGBM(data []byte) (*parsed, error) {
	hdr, trees, err := splitLightGBM(data)
	if err != nil {
		return nil, err
	}
	p := &parsed{}
	if v, _, ok := hdr.get("version"); ok {
		p.source = "lightgbm model " + v
	}
	req := func(k string) (string, int, error) {
		v, ln, ok := hdr.get(k)
		if !ok {
			return "", 0, fmt.Errorf("line %d: header has no %s= line", hdr.start, k)
		}
		return v, ln, nil
	}
	hint := func(k string, lo, hi int) (int, error) {
		v, ln, err := req(k)
		if err != nil {
			return 0, err
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < lo || n > hi {
			return 0, fmt.Errorf("line %d: %s=%s: want an integer in [%d, %d]", ln, k, v, lo, hi)
		}
		return n, nil
	}
	numClass, err := hint("num_class", 1, 1<<20)
	if err != nil {
		return nil, err
	}
	perIter, err := hint("num_tree_per_iteration", 1, 1<<20)
	if err != nil {
		return nil, err
	}
	maxFeat, err := hint("max_feature_idx", 0, 1<<24)
	if err != nil {
		return nil, err
	}
	objLine, objLn, err := req("objective")
	if err != nil {
		return nil, err
	}
	if err := p.lightgbmObjective(objLine, objLn, numClass, perIter); err != nil {
		return nil, err
	}
	p.names = make([]string, maxFeat+1)
	for j := range p.names {
		p.names[j] = "Column_" + strconv.Itoa(j)
	}
	if v, ln, ok := hdr.get("feature_names"); ok {
		f := strings.Fields(v)
		if len(f) != maxFeat+1 {
			return nil, fmt.Errorf("line %d: feature_names lists %d names for max_feature_idx=%d", ln, len(f), maxFeat)
		}
		p.names = f
	}
	scale := 1.0
	if p.spec.Objective == gbdt.ObjBinary {
		scale = p.sigmoid
	}
	if hdr.flags["average_output"] {
		if len(trees) == 0 {
			return nil, fmt.Errorf("line %d: average_output with no trees", hdr.start)
		}
		scale /= float64(len(trees) / perIter)
		p.notes = append(p.notes, "a random-forest model (average_output): leaf values are divided by the number of iterations")
	}
	catFeat := make([]bool, maxFeat+1)
	for i, tb := range trees {
		et, err := lgbTree(tb, i, maxFeat+1, scale, catFeat)
		if err != nil {
			return nil, err
		}
		et.Output = i % perIter
		p.spec.Trees = append(p.spec.Trees, et)
	}
	p.rounds = len(trees) / perIter
	if err := p.lightgbmCategorical(hdr, data, catFeat); err != nil {
		return nil, err
	}
	return p, nil
}

// lightgbmCategorical marks the categorical features: those feature_infos
// lists as categories ("1:0:3", not "[min:max]" or "none"), and any a
// categorical split uses. Their levels come from pandas_categorical when
// it has one list per such feature.
func (p *parsed) lightgbmCategorical(hdr *lgbBlock, data []byte, used []bool) error {
	cat := slices.Clone(used)
	if v, ln, ok := hdr.get("feature_infos"); ok {
		infos := strings.Fields(v)
		if len(infos) != len(cat) {
			return fmt.Errorf("line %d: feature_infos lists %d features for max_feature_idx=%d", ln, len(infos), len(cat)-1)
		}
		for j, s := range infos {
			if s != "none" && !strings.HasPrefix(s, "[") {
				cat[j] = true
			}
		}
	}
	if !slices.Contains(cat, true) {
		return nil
	}
	p.categorical = cat
	levels, err := lgbPandasLevels(data)
	if err != nil {
		return err
	}
	n := 0
	for _, c := range cat {
		if c {
			n++
		}
	}
	if levels == nil {
		return nil
	}
	if len(levels) != n {
		p.notes = append(p.notes, fmt.Sprintf("pandas_categorical has %d category lists for %d categorical features: not used", len(levels), n))
		return nil
	}
	p.levels = make([][]string, len(cat))
	k := 0
	for j, c := range cat {
		if c {
			p.levels[j] = levels[k]
			k++
		}
	}
	return nil
}

// lightgbmObjective maps LightGBM's objective line ("binary sigmoid:1",
// "multiclass num_class:3", "regression", ...) onto a Gyre task and link.
func (p *parsed) lightgbmObjective(line string, ln, numClass, perIter int) error {
	f := strings.Fields(line)
	if len(f) == 0 {
		return fmt.Errorf("line %d: empty objective", ln)
	}
	p.objective = f[0]
	opt := map[string]string{}
	for _, kv := range f[1:] {
		if k, v, ok := strings.Cut(kv, ":"); ok {
			opt[k] = v
		}
	}
	p.sigmoid = 1
	k := 1
	switch f[0] {
	case "regression", "regression_l2", "l2", "mean_squared_error", "mse", "quantile", "mape", "fair":
		p.spec.Task, p.spec.Objective = learn.Regression, gbdt.ObjSquared
		if f[0] == "quantile" || f[0] == "mape" || f[0] == "fair" {
			p.notes = append(p.notes, fmt.Sprintf("objective %s has an identity link: Gyre serves its predictions as regression values", f[0]))
		}
	case "regression_l1", "l1", "mean_absolute_error":
		p.spec.Task, p.spec.Objective = learn.Regression, gbdt.ObjAbsolute
	case "huber":
		p.spec.Task, p.spec.Objective = learn.Regression, gbdt.ObjHuber
	case "poisson", "gamma", "tweedie":
		p.spec.Task, p.spec.Objective = learn.Regression, gbdt.ObjPoisson
		if f[0] != "poisson" {
			p.notes = append(p.notes, fmt.Sprintf("objective %s has a log link: Gyre serves it through the poisson objective's exp, so predictions are the same", f[0]))
		}
	case "binary":
		p.spec.Task, p.spec.Objective, p.classes = learn.Binary, gbdt.ObjBinary, 2
		if s, ok := opt["sigmoid"]; ok {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || !(v > 0) || math.IsInf(v, 0) {
				return fmt.Errorf("line %d: objective sigmoid:%s: want a positive number", ln, s)
			}
			p.sigmoid = v
		}
	case "multiclass", "softmax":
		if numClass < 2 || perIter != numClass {
			return fmt.Errorf("line %d: multiclass with num_class=%d and num_tree_per_iteration=%d", ln, numClass, perIter)
		}
		p.spec.Task, p.spec.Objective, p.classes = learn.Multiclass, gbdt.ObjSoftmax, numClass
		k = numClass
	default:
		return fmt.Errorf("line %d: objective %q: %w (supported: regression, regression_l1, huber, quantile, mape, fair, poisson, gamma, tweedie, binary, multiclass)", ln, f[0], ErrUnsupported)
	}
	if k == 1 && perIter != 1 {
		return fmt.Errorf("line %d: objective %s with num_tree_per_iteration=%d", ln, f[0], perIter)
	}
	p.spec.Base = make([]float64, k) // LightGBM folds its initial score into the first trees
	return nil
}

// splitLightGBM cuts the text into the header and the Tree=N blocks, up
// to "end of trees".
func splitLightGBM(data []byte) (*lgbBlock, []*lgbBlock, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 1<<20), 1<<30)
	newBlock := func(ln int) *lgbBlock {
		return &lgbBlock{start: ln, vals: map[string]string{}, line: map[string]int{}, flags: map[string]bool{}}
	}
	hdr := newBlock(1)
	cur := hdr
	var trees []*lgbBlock
	ln, ended := 0, false
	for sc.Scan() {
		ln++
		s := strings.TrimRight(sc.Text(), "\r")
		if ln == 1 {
			if s != "tree" {
				return nil, nil, fmt.Errorf("line 1: %q: a LightGBM text model starts with the line \"tree\"", s)
			}
			continue
		}
		if s == "end of trees" {
			ended = true
			break
		}
		if s == "" {
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			cur.flags[s] = true
			continue
		}
		if k == "Tree" {
			n, err := strconv.Atoi(v)
			if err != nil || n != len(trees) {
				return nil, nil, fmt.Errorf("line %d: %q: want Tree=%d", ln, s, len(trees))
			}
			cur = newBlock(ln)
			trees = append(trees, cur)
			continue
		}
		if _, dup := cur.vals[k]; dup {
			return nil, nil, fmt.Errorf("line %d: %s= given twice in one block", ln, k)
		}
		cur.vals[k], cur.line[k] = v, ln
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("line %d: %w", ln+1, err)
	}
	if !ended {
		return nil, nil, fmt.Errorf("line %d: the file ends before \"end of trees\" (truncated?)", ln)
	}
	return hdr, trees, nil
}

// lgbTree converts Tree=i: internal node j splits split_feature[j] at
// threshold[j] (x ≤ t goes left, in double), decision_type[j] holds the
// categorical bit (1), default_left (2) and the missing type (bits 2–3:
// none, zero, NaN); children < 0 are ~leaf.
// catFeat collects the features categorical splits use.
func lgbTree(b *lgbBlock, i, numFeature int, scale float64, catFeat []bool) (gbdt.ExportedTree, error) {
	var et gbdt.ExportedTree
	nums := func(k string, want int, optional bool) ([]float64, error) {
		v, ln, ok := b.get(k)
		if !ok {
			if optional {
				return nil, nil
			}
			return nil, fmt.Errorf("line %d: Tree=%d has no %s= line", b.start, i, k)
		}
		f := strings.Fields(v)
		if len(f) != want {
			return nil, fmt.Errorf("line %d: Tree=%d %s has %d values, want %d", ln, i, k, len(f), want)
		}
		out := make([]float64, len(f))
		for j, s := range f {
			x, err := strconv.ParseFloat(s, 64)
			if err != nil && !math.IsInf(x, 0) {
				return nil, fmt.Errorf("line %d: Tree=%d %s value %d: %q is not a number", ln, i, k, j+1, s)
			}
			out[j] = x
		}
		return out, nil
	}
	v, ln, ok := b.get("num_leaves")
	nl, err := strconv.Atoi(v)
	if !ok || err != nil || nl < 1 {
		return et, fmt.Errorf("line %d: Tree=%d num_leaves=%q: want a positive integer", max(ln, b.start), i, v)
	}
	if lin, _, _ := b.get("is_linear"); strings.TrimSpace(lin) == "1" {
		return et, fmt.Errorf("line %d: Tree=%d is a linear tree (linear_tree=true): %w", b.start, i, ErrUnsupported)
	}
	leaves, err := nums("leaf_value", nl, false)
	if err != nil {
		return et, err
	}
	for l := range leaves {
		leaves[l] *= scale
	}
	et.Leaves = leaves
	if et.LeafCover, err = nums("leaf_count", nl, true); err != nil {
		return et, err
	}
	if nl == 1 {
		return et, nil
	}
	ni := nl - 1
	arrays := map[string][]float64{}
	for _, k := range []string{"split_feature", "threshold", "decision_type", "left_child", "right_child"} {
		if arrays[k], err = nums(k, ni, false); err != nil {
			return et, err
		}
	}
	gain, err := nums("split_gain", ni, true)
	if err != nil {
		return et, err
	}
	cover, err := nums("internal_count", ni, true)
	if err != nil {
		return et, err
	}
	cats, err := lgbCategorySets(b, i)
	if err != nil {
		return et, err
	}
	for j := range ni {
		fi, dt := arrays["split_feature"][j], arrays["decision_type"][j]
		if fi != math.Trunc(fi) || fi < 0 || int(fi) >= numFeature {
			return et, fmt.Errorf("line %d: Tree=%d node %d: split_feature %v of %d features", b.line["split_feature"], i, j, fi, numFeature)
		}
		if dt != math.Trunc(dt) || dt < 0 || dt > 15 {
			return et, fmt.Errorf("line %d: Tree=%d node %d: decision_type %v", b.line["decision_type"], i, j, dt)
		}
		d := int(dt)
		child := func(k string) (int, error) {
			c := arrays[k][j]
			if c != math.Trunc(c) || c >= float64(ni) || c < -float64(nl) {
				return 0, fmt.Errorf("line %d: Tree=%d node %d: %s %v out of range", b.line[k], i, j, k, c)
			}
			return int(c), nil // ~leaf for negative values, as in Gyre
		}
		l, err := child("left_child")
		if err != nil {
			return et, err
		}
		r, err := child("right_child")
		if err != nil {
			return et, err
		}
		if d&1 != 0 {
			// Categorical: the codes in the node's bitset go left; NaN,
			// negative codes and codes beyond the bitset go right.
			if cats == nil {
				return et, fmt.Errorf("line %d: Tree=%d node %d: a categorical split but the tree has no cat_boundaries/cat_threshold", b.line["decision_type"], i, j)
			}
			codes, err := cats.codes(arrays["threshold"][j])
			if err != nil {
				return et, fmt.Errorf("line %d: Tree=%d node %d: %w", b.line["threshold"], i, j, err)
			}
			catFeat[int(fi)] = true
			et.Nodes = append(et.Nodes, gbdt.TreeNode{Feature: int(fi), Categorical: true, LeftCodes: codes,
				Left: l, Right: r, Gain: at(gain, j), Cover: at(cover, j)})
			continue
		}
		t, defLeft, err := lgbSplit(arrays["threshold"][j], d&2 != 0, (d>>2)&3)
		if err != nil {
			return et, fmt.Errorf("line %d: Tree=%d node %d: %w", b.line["threshold"], i, j, err)
		}
		et.Nodes = append(et.Nodes, gbdt.TreeNode{Feature: int(fi), Threshold: t, DefaultLeft: defLeft,
			Left: l, Right: r, Gain: at(gain, j), Cover: at(cover, j)})
	}
	return et, nil
}

// lgbCats is a tree's category sets: set c is the bitset words
// threshold[boundaries[c]:boundaries[c+1]].
type lgbCats struct {
	boundaries []int
	threshold  []uint32
}

// lgbCategorySets reads num_cat, cat_boundaries and cat_threshold; nil
// when the tree has no categorical split.
func lgbCategorySets(b *lgbBlock, i int) (*lgbCats, error) {
	v, ln, ok := b.get("num_cat")
	if !ok {
		return nil, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return nil, fmt.Errorf("line %d: Tree=%d num_cat=%q: want a count", ln, i, v)
	}
	if n == 0 {
		return nil, nil
	}
	bv, bln, ok := b.get("cat_boundaries")
	if !ok {
		return nil, fmt.Errorf("line %d: Tree=%d has num_cat=%d but no cat_boundaries= line", ln, i, n)
	}
	tv, tln, ok := b.get("cat_threshold")
	if !ok {
		return nil, fmt.Errorf("line %d: Tree=%d has num_cat=%d but no cat_threshold= line", ln, i, n)
	}
	c := &lgbCats{}
	for k, f := range strings.Fields(tv) {
		w, err := strconv.ParseUint(f, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("line %d: Tree=%d cat_threshold value %d: %q is not a 32-bit word", tln, i, k+1, f)
		}
		c.threshold = append(c.threshold, uint32(w))
	}
	bf := strings.Fields(bv)
	if len(bf) != n+1 {
		return nil, fmt.Errorf("line %d: Tree=%d cat_boundaries has %d values, want num_cat+1 = %d", bln, i, len(bf), n+1)
	}
	for k, f := range bf {
		x, err := strconv.Atoi(f)
		if err != nil || x < 0 || x > len(c.threshold) || (k > 0 && x < c.boundaries[k-1]) || (k == 0 && x != 0) {
			return nil, fmt.Errorf("line %d: Tree=%d cat_boundaries value %d: %q: want non-decreasing offsets from 0 into cat_threshold's %d words", bln, i, k+1, f, len(c.threshold))
		}
		c.boundaries = append(c.boundaries, x)
	}
	if c.boundaries[n] != len(c.threshold) {
		return nil, fmt.Errorf("line %d: Tree=%d cat_boundaries ends at %d, cat_threshold has %d words", bln, i, c.boundaries[n], len(c.threshold))
	}
	return c, nil
}

// codes returns the category codes of set idx (a categorical node's
// threshold), ascending.
func (c *lgbCats) codes(idx float64) ([]int, error) {
	if idx != math.Trunc(idx) || idx < 0 || int(idx) >= len(c.boundaries)-1 {
		return nil, fmt.Errorf("categorical threshold %v: want a category set index in [0, %d)", idx, len(c.boundaries)-1)
	}
	k := int(idx)
	var out []int
	for w, word := range c.threshold[c.boundaries[k]:c.boundaries[k+1]] {
		for bit := range 32 {
			if word&(1<<uint(bit)) != 0 {
				out = append(out, w*32+bit)
			}
		}
	}
	return out, nil
}

// lgbPandasLevels reads the pandas_categorical line LightGBM's Python
// package appends when trained on a DataFrame: the categories of each
// categorical column, in column order (null when there are none).
func lgbPandasLevels(data []byte) ([][]string, error) {
	i := bytes.LastIndex(data, []byte("\npandas_categorical:"))
	if i < 0 {
		return nil, nil
	}
	line := data[i+len("\npandas_categorical:"):]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	line = bytes.TrimSpace(line)
	if string(line) == "null" || len(line) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var raw [][]any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("pandas_categorical: %v: want a JSON list of category lists", err)
	}
	out := make([][]string, len(raw))
	for c, cats := range raw {
		for _, v := range cats {
			switch x := v.(type) {
			case string:
				out[c] = append(out[c], x)
			case json.Number:
				out[c] = append(out[c], x.String())
			case bool:
				out[c] = append(out[c], strconv.FormatBool(x))
			default:
				return nil, fmt.Errorf("pandas_categorical[%d]: category %v is not a string or number", c, v)
			}
		}
	}
	return out, nil
}

// lgbSplit turns LightGBM's numerical decision into Gyre's x ≤ t with a
// side for NaN. Missing type none sends NaN where 0 goes; NaN sends it to
// the default side; zero sends NaN and |x| ≤ 1e-35 to the default side,
// which Gyre represents when the zero band and the threshold's side agree
// or the band lies at the threshold's edge.
func lgbSplit(thr float64, defaultLeft bool, missing int) (float64, bool, error) {
	switch missing {
	case 0:
		return thr, 0 <= thr, nil
	case 2:
		return thr, defaultLeft, nil
	case 1:
		z := kZeroThreshold
		switch {
		case defaultLeft && thr >= z:
			return thr, true, nil
		case defaultLeft && thr >= -z:
			return z, true, nil
		case !defaultLeft && thr < -z:
			return thr, false, nil
		case !defaultLeft && thr < z:
			return math.Nextafter(-z, math.Inf(-1)), false, nil
		}
		return 0, false, fmt.Errorf("zero_as_missing sends zeros to the %s of threshold %v, away from their side: %w", side(defaultLeft), thr, ErrUnsupported)
	}
	return 0, false, fmt.Errorf("missing type %d: want 0 (none), 1 (zero) or 2 (NaN)", missing)
}

func side(left bool) string {
	if left {
		return "left"
	}
	return "right"
}
