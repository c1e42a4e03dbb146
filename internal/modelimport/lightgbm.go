package modelimport

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
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
	for i, tb := range trees {
		et, err := lgbTree(tb, i, maxFeat+1, scale)
		if err != nil {
			return nil, err
		}
		et.Output = i % perIter
		p.spec.Trees = append(p.spec.Trees, et)
	}
	p.rounds = len(trees) / perIter
	return p, nil
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
func lgbTree(b *lgbBlock, i, numFeature int, scale float64) (gbdt.ExportedTree, error) {
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
	for j := range ni {
		fi, dt := arrays["split_feature"][j], arrays["decision_type"][j]
		if fi != math.Trunc(fi) || fi < 0 || int(fi) >= numFeature {
			return et, fmt.Errorf("line %d: Tree=%d node %d: split_feature %v of %d features", b.line["split_feature"], i, j, fi, numFeature)
		}
		if dt != math.Trunc(dt) || dt < 0 || dt > 15 {
			return et, fmt.Errorf("line %d: Tree=%d node %d: decision_type %v", b.line["decision_type"], i, j, dt)
		}
		d := int(dt)
		if d&1 != 0 {
			return et, fmt.Errorf("line %d: Tree=%d node %d: a categorical split (categorical_feature): %w: encode the feature as numbers and retrain", b.line["decision_type"], i, j, ErrUnsupported)
		}
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
		t, defLeft, err := lgbSplit(arrays["threshold"][j], d&2 != 0, (d>>2)&3)
		if err != nil {
			return et, fmt.Errorf("line %d: Tree=%d node %d: %w", b.line["threshold"], i, j, err)
		}
		et.Nodes = append(et.Nodes, gbdt.TreeNode{Feature: int(fi), Threshold: t, DefaultLeft: defLeft,
			Left: l, Right: r, Gain: at(gain, j), Cover: at(cover, j)})
	}
	return et, nil
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
