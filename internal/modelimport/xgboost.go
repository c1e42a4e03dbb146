package modelimport

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/gbdt"
)

// xgbObjective is how an XGBoost objective maps onto Gyre: the task, the
// gbdt objective (the link from margin to prediction) and the base score's
// transform from XGBoost's base_score (a prediction) to a margin.
type xgbObjective struct {
	task   learn.Task
	obj    string
	margin func(float64) float64
	note   string
}

func logit(p float64) float64 { return -math.Log(1/p - 1) }
func ident(v float64) float64 { return v }

var xgbObjectives = map[string]xgbObjective{
	"binary:logistic":      {learn.Binary, gbdt.ObjBinary, logit, ""},
	"binary:logitraw":      {learn.Binary, gbdt.ObjBinary, logit, "binary:logitraw predicts margins; Gyre serves their logistic as the probability of the second class"},
	"multi:softprob":       {learn.Multiclass, gbdt.ObjSoftmax, ident, ""},
	"multi:softmax":        {learn.Multiclass, gbdt.ObjSoftmax, ident, ""},
	"reg:squarederror":     {learn.Regression, gbdt.ObjSquared, ident, ""},
	"reg:linear":           {learn.Regression, gbdt.ObjSquared, ident, ""},
	"reg:absoluteerror":    {learn.Regression, gbdt.ObjAbsolute, ident, ""},
	"reg:pseudohubererror": {learn.Regression, gbdt.ObjHuber, ident, ""},
	"reg:squaredlogerror":  {learn.Regression, gbdt.ObjSquared, ident, ""},
	"reg:quantileerror":    {learn.Regression, gbdt.ObjSquared, ident, "a quantile model: Gyre serves its predictions as regression values"},
	"count:poisson":        {learn.Regression, gbdt.ObjPoisson, math.Log, ""},
	"reg:gamma":            {learn.Regression, gbdt.ObjPoisson, math.Log, "reg:gamma has a log link: Gyre serves it through the poisson objective's exp, so predictions are the same"},
	"reg:tweedie":          {learn.Regression, gbdt.ObjPoisson, math.Log, "reg:tweedie has a log link: Gyre serves it through the poisson objective's exp, so predictions are the same"},
}

func xgbObjectiveNames() []string {
	return []string{"binary:logistic", "binary:logitraw", "multi:softprob", "multi:softmax", "reg:squarederror",
		"reg:absoluteerror", "reg:pseudohubererror", "count:poisson", "reg:gamma", "reg:tweedie"}
}

// parseXGBoost reads an XGBoost model (the JSON or UBJSON document of
// Booster.save_model, XGBoost ≥ 1.0) decoded into root.
func parseXGBoost(root node) (*parsed, error) {
	p := &parsed{}
	if v, err := root.key("version"); err == nil {
		if vs, err := v.ints(0, 1<<20); err == nil && len(vs) == 3 {
			p.source = fmt.Sprintf("xgboost %d.%d.%d", vs[0], vs[1], vs[2])
		}
	}
	learner, err := root.key("learner")
	if err != nil {
		return nil, fmt.Errorf("%w (an XGBoost model document has a top-level \"learner\" object)", err)
	}
	mp, err := learner.key("learner_model_param")
	if err != nil {
		return nil, err
	}
	baseScore, err := numKey(mp, "base_score")
	if err != nil {
		return nil, err
	}
	numClass, err := intKey(mp, "num_class", 0, 1<<20)
	if err != nil {
		return nil, err
	}
	numFeature, err := intKey(mp, "num_feature", 1, 1<<24)
	if err != nil {
		return nil, err
	}
	if mp.has("num_target") {
		nt, err := intKey(mp, "num_target", 0, 1<<20)
		if err != nil {
			return nil, err
		}
		if nt > 1 {
			return nil, fmt.Errorf("%s.num_target: %d targets: %w: Gyre imports single-target models", mp.path, nt, ErrUnsupported)
		}
	}
	objNode, err := learner.key("objective")
	if err != nil {
		return nil, err
	}
	objName, err := strKey(objNode, "name")
	if err != nil {
		return nil, err
	}
	obj, ok := xgbObjectives[objName]
	if !ok {
		return nil, fmt.Errorf("%s.name: objective %q: %w (supported: %s)", objNode.path, objName, ErrUnsupported, strings.Join(xgbObjectiveNames(), ", "))
	}
	p.objective = objName
	if obj.note != "" {
		p.notes = append(p.notes, obj.note)
	}
	if obj.task == learn.Multiclass && numClass < 2 {
		return nil, fmt.Errorf("%s.num_class: %d, want at least 2 for %s", mp.path, numClass, objName)
	}
	if obj.task != learn.Multiclass && numClass > 1 {
		return nil, fmt.Errorf("%s.num_class: %d classes with objective %s", mp.path, numClass, objName)
	}
	base := obj.margin(float64(float32(baseScore)))
	if math.IsNaN(base) || math.IsInf(base, 0) {
		return nil, fmt.Errorf("%s.base_score: %v gives no finite margin for %s", mp.path, baseScore, objName)
	}
	k := 1
	if obj.task == learn.Multiclass {
		k = numClass
	}
	p.spec.Task, p.spec.Objective = obj.task, obj.obj
	p.spec.Base = make([]float64, k)
	for c := range p.spec.Base {
		p.spec.Base[c] = base
	}
	if obj.task == learn.Binary {
		p.classes = 2
	} else if obj.task == learn.Multiclass {
		p.classes = k
	}
	if p.names, err = xgbFeatureNames(learner, numFeature); err != nil {
		return nil, err
	}
	if p.categorical, err = xgbCategorical(learner, numFeature); err != nil {
		return nil, err
	}
	if err := xgbTrees(learner, p, k); err != nil {
		return nil, err
	}
	if attrs, err := learner.key("attributes"); err == nil {
		if bi, err := attrs.key("best_iteration"); err == nil {
			if s, err := bi.str(); err == nil {
				if it, err := strconv.Atoi(s); err == nil && it+1 < p.rounds {
					p.notes = append(p.notes, fmt.Sprintf("the model records best_iteration %d (early stopping): all %d rounds are imported, as Booster.predict uses them", it, p.rounds))
				}
			}
		}
	}
	return p, nil
}

func xgbFeatureNames(learner node, n int) ([]string, error) {
	names := make([]string, n)
	for j := range names {
		names[j] = "f" + strconv.Itoa(j)
	}
	fn, err := learner.key("feature_names")
	if err != nil {
		return names, nil
	}
	items, err := fn.list()
	if err != nil || len(items) == 0 {
		return names, nil
	}
	if len(items) != n {
		return nil, fmt.Errorf("%s: %d names for %d features", fn.path, len(items), n)
	}
	for j, it := range items {
		if names[j], err = it.str(); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// xgbCategorical returns which features XGBoost's feature_types marks
// categorical ("c", enable_categorical), or nil when none is.
func xgbCategorical(learner node, n int) ([]bool, error) {
	ft, err := learner.key("feature_types")
	if err != nil {
		return nil, nil
	}
	types, err := ft.list()
	if err != nil || len(types) == 0 {
		return nil, nil
	}
	if len(types) != n {
		return nil, fmt.Errorf("%s: %d types for %d features", ft.path, len(types), n)
	}
	var cat []bool
	for j, t := range types {
		if s, _ := t.str(); s == "c" {
			if cat == nil {
				cat = make([]bool, n)
			}
			cat[j] = true
		}
	}
	return cat, nil
}

// xgbTrees reads the booster's trees into p.spec.Trees.
func xgbTrees(learner node, p *parsed, k int) error {
	gb, err := learner.key("gradient_booster")
	if err != nil {
		return err
	}
	name, err := strKey(gb, "name")
	if err != nil {
		return err
	}
	var weights []float64
	model := gb
	switch name {
	case "gbtree":
	case "dart":
		if model, err = gb.key("gbtree"); err != nil {
			return err
		}
		wd, err := gb.key("weight_drop")
		if err != nil {
			return err
		}
		if weights, err = wd.floats(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%s.name: booster %q: %w (want gbtree or dart: a %s model has no trees)", gb.path, name, ErrUnsupported, name)
	}
	if model, err = model.key("model"); err != nil {
		return err
	}
	tn, err := model.key("trees")
	if err != nil {
		return err
	}
	trees, err := tn.list()
	if err != nil {
		return err
	}
	ti, err := model.key("tree_info")
	if err != nil {
		return err
	}
	info, err := ti.ints(0, k-1)
	if err != nil {
		return fmt.Errorf("%w (tree_info gives each tree's output class)", err)
	}
	if len(info) != len(trees) {
		return fmt.Errorf("%s: %d entries for %d trees", ti.path, len(info), len(trees))
	}
	if weights != nil && len(weights) != len(trees) {
		return fmt.Errorf("%s.weight_drop: %d weights for %d trees", gb.path, len(weights), len(trees))
	}
	perOut := make([]int, k)
	for i, t := range trees {
		et, err := xgbTree(t, len(p.names), p.categorical)
		if err != nil {
			return err
		}
		if weights != nil {
			for l := range et.Leaves {
				et.Leaves[l] = float64(float32(et.Leaves[l]) * float32(weights[i]))
			}
		}
		et.Output = info[i]
		perOut[info[i]]++
		p.spec.Trees = append(p.spec.Trees, et)
	}
	p.rounds = 0
	for _, c := range perOut {
		p.rounds = max(p.rounds, c)
	}
	return nil
}

// xgbTree converts one XGBoost tree: node i is a leaf when
// left_children[i] is -1 (its value in split_conditions[i]); otherwise
// rows with float32(x) < split_conditions[i] go left, missing values go
// left when default_left[i]. A categorical split (split_type[i] 1, on a
// feature cat marks) sends the codes of its category set (categories,
// indexed by categories_nodes, categories_segments and categories_sizes)
// right and every other code left: a Gyre categorical node with the
// children swapped.
func xgbTree(t node, numFeature int, cat []bool) (gbdt.ExportedTree, error) {
	var et gbdt.ExportedTree
	left, err := intsKey(t, "left_children", -1, math.MaxInt32)
	if err != nil {
		return et, err
	}
	n := len(left)
	if n == 0 {
		return et, t.errorf("a tree with no nodes")
	}
	right, err := intsKey(t, "right_children", -1, n-1)
	if err != nil {
		return et, err
	}
	feat, err := intsKey(t, "split_indices", 0, math.MaxInt32)
	if err != nil {
		return et, err
	}
	cond, err := floatsKey(t, "split_conditions")
	if err != nil {
		return et, err
	}
	defLeft, err := intsKey(t, "default_left", 0, 1)
	if err != nil {
		return et, err
	}
	var splitType []int
	if t.has("split_type") {
		if splitType, err = intsKey(t, "split_type", 0, 1); err != nil {
			return et, err
		}
	}
	var gain, hess []float64
	if t.has("loss_changes") {
		if gain, err = floatsKey(t, "loss_changes"); err != nil {
			return et, err
		}
	}
	if t.has("sum_hessian") {
		if hess, err = floatsKey(t, "sum_hessian"); err != nil {
			return et, err
		}
	}
	var catSets map[int][]int
	if slices.Contains(splitType, 1) {
		if catSets, err = xgbCategorySets(t, n); err != nil {
			return et, err
		}
	}
	for name, l := range map[string]int{"right_children": len(right), "split_indices": len(feat), "split_conditions": len(cond), "default_left": len(defLeft)} {
		if l != n {
			return et, fmt.Errorf("%s.%s: %d entries for %d nodes", t.path, name, l, n)
		}
	}
	if (splitType != nil && len(splitType) != n) || (gain != nil && len(gain) != n) || (hess != nil && len(hess) != n) {
		return et, t.errorf("node arrays of different lengths (%d nodes)", n)
	}
	// Internal nodes and leaves keep XGBoost's order.
	ref := make([]int, n)
	for i := range n {
		if left[i] == -1 {
			ref[i] = ^len(et.Leaves)
			et.Leaves = append(et.Leaves, cond[i])
			et.LeafCover = append(et.LeafCover, at(hess, i))
			continue
		}
		if left[i] >= n || right[i] < 0 {
			return et, fmt.Errorf("%s: node %d has children %d and %d of %d nodes", t.path, i, left[i], right[i], n)
		}
		if feat[i] >= numFeature {
			return et, fmt.Errorf("%s.split_indices[%d]: feature %d of %d", t.path, i, feat[i], numFeature)
		}
		ref[i] = len(et.Nodes)
		if splitType != nil && splitType[i] == 1 {
			if cat == nil || !cat[feat[i]] {
				return et, fmt.Errorf("%s.split_type[%d]: a categorical split on feature %d, which feature_types does not mark categorical (\"c\")", t.path, i, feat[i])
			}
			set, ok := catSets[i]
			if !ok {
				return et, fmt.Errorf("%s.categories_nodes: categorical node %d has no category set", t.path, i)
			}
			// In the set: XGBoost's right child, Gyre's left.
			et.Nodes = append(et.Nodes, gbdt.TreeNode{
				Feature: feat[i], Categorical: true, LeftCodes: set,
				DefaultLeft: defLeft[i] == 0,
				Left:        right[i], Right: left[i],
				Gain:  at(gain, i),
				Cover: at(hess, i),
			})
			continue
		}
		et.Nodes = append(et.Nodes, gbdt.TreeNode{
			Feature:     feat[i],
			Threshold:   ltF32(float32(cond[i])),
			DefaultLeft: defLeft[i] == 1,
			Left:        left[i], Right: right[i], // XGBoost ids until remapped below
			Gain:  at(gain, i),
			Cover: at(hess, i),
		})
	}
	if ref[0] < 0 {
		// A single-leaf tree.
		if n != 1 {
			return et, fmt.Errorf("%s: the root is a leaf but the tree has %d nodes", t.path, n)
		}
		return et, nil
	}
	for i := range et.Nodes {
		et.Nodes[i].Left = ref[et.Nodes[i].Left]
		et.Nodes[i].Right = ref[et.Nodes[i].Right]
	}
	return et, nil
}

// xgbCategorySets reads a tree's category sets: node categories_nodes[j]
// holds categories[categories_segments[j]:][:categories_sizes[j]].
func xgbCategorySets(t node, n int) (map[int][]int, error) {
	cats, err := intsKey(t, "categories", 0, 1<<24-1)
	if err != nil {
		return nil, err
	}
	nodes, err := intsKey(t, "categories_nodes", 0, n-1)
	if err != nil {
		return nil, err
	}
	segs, err := intsKey(t, "categories_segments", 0, len(cats))
	if err != nil {
		return nil, err
	}
	sizes, err := intsKey(t, "categories_sizes", 0, len(cats))
	if err != nil {
		return nil, err
	}
	if len(segs) != len(nodes) || len(sizes) != len(nodes) {
		return nil, fmt.Errorf("%s: %d categories_nodes, %d categories_segments and %d categories_sizes", t.path, len(nodes), len(segs), len(sizes))
	}
	sets := make(map[int][]int, len(nodes))
	for j, nd := range nodes {
		if segs[j]+sizes[j] > len(cats) {
			return nil, fmt.Errorf("%s.categories_segments[%d]: %d categories from %d, %d in categories", t.path, j, sizes[j], segs[j], len(cats))
		}
		if _, dup := sets[nd]; dup {
			return nil, fmt.Errorf("%s.categories_nodes[%d]: node %d twice", t.path, j, nd)
		}
		sets[nd] = cats[segs[j] : segs[j]+sizes[j]]
	}
	return sets, nil
}

func at(v []float64, i int) float64 {
	if v == nil {
		return 0
	}
	return v[i]
}

func numKey(n node, k string) (float64, error) {
	v, err := n.key(k)
	if err != nil {
		return 0, err
	}
	return v.num()
}

func intKey(n node, k string, lo, hi int) (int, error) {
	v, err := n.key(k)
	if err != nil {
		return 0, err
	}
	return v.int(lo, hi)
}

func strKey(n node, k string) (string, error) {
	v, err := n.key(k)
	if err != nil {
		return "", err
	}
	return v.str()
}

func intsKey(n node, k string, lo, hi int) ([]int, error) {
	v, err := n.key(k)
	if err != nil {
		return nil, err
	}
	return v.ints(lo, hi)
}

func floatsKey(n node, k string) ([]float64, error) {
	v, err := n.key(k)
	if err != nil {
		return nil, err
	}
	return v.floats()
}
