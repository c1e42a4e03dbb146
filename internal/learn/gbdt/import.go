package gbdt

import (
	"errors"
	"fmt"
	"math"

	"github.com/gyre-ml/gyre/internal/learn"
)

// ModelSpec describes a tree ensemble built elsewhere (an XGBoost, LightGBM
// or ONNX model) for FromTrees. Trees use ExportTrees' conventions: a row
// goes left at a numeric node when x ≤ Threshold, a NaN x goes left iff
// DefaultLeft, and children are node indices (≥ 0) or ^leaf (< 0). Nodes
// may come in any order as long as Nodes[0] is the root and they form a
// tree; FromTrees renumbers them. A categorical node (TreeNode.Categorical)
// sends the codes in LeftCodes left and every other code right, a NaN or
// negative x to its default side: on a categorical feature the codes index
// its Levels; on a numeric one the code is the value itself, truncated
// (an XGBoost or LightGBM model fed category codes as numbers), and a
// value at or above the largest code+1 goes right.
type ModelSpec struct {
	Task learn.Task
	// Objective is one of ObjSquared, ObjAbsolute, ObjHuber, ObjPoisson
	// (regression), ObjBinary (binary) or ObjSoftmax (multiclass): it fixes
	// the link from raw scores to predictions.
	Objective string
	// Classes names the classes of a classifier (2 for binary).
	Classes []string
	// Features describes the design-matrix columns the trees split on.
	Features []learn.Feature
	// Base is the raw score each output starts from (one value, or one per
	// class for softmax).
	Base []float64
	// Trees add their leaf values to output Tree.Output. Any number of trees
	// per output, in any order; the raw score is the sum.
	Trees []ExportedTree
}

// maxImportCode bounds the category codes of a categorical split on a
// numeric feature (the bitset's size).
const maxImportCode = 1 << 24

// ErrSpec is returned (wrapped) for a ModelSpec that does not describe a
// valid ensemble.
var ErrSpec = errors.New("invalid tree ensemble")

// FromTrees builds a Model from a ModelSpec, checking its structure: every
// feature index in range, every node and leaf reached exactly once from the
// root, finite thresholds (±Inf allowed) and leaf values. Node covers and
// gains are kept for importance and TreeSHAP; when a tree carries no covers
// every leaf counts 1.
func FromTrees(s ModelSpec) (*Model, error) {
	m, err := fromTrees(s)
	if err != nil {
		return nil, fmt.Errorf("gbdt import: %w: %w", ErrSpec, err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("gbdt import: %w: %w", ErrSpec, err)
	}
	m.init()
	return m, nil
}

func fromTrees(s ModelSpec) (*Model, error) {
	k := 1
	switch s.Objective {
	case ObjSquared, ObjAbsolute, ObjHuber, ObjPoisson:
		if s.Task != learn.Regression {
			return nil, fmt.Errorf("objective %s is for regression, task is %s", s.Objective, s.Task)
		}
		if len(s.Classes) != 0 {
			return nil, fmt.Errorf("a regression model has no classes (got %d)", len(s.Classes))
		}
	case ObjBinary:
		if s.Task != learn.Binary || len(s.Classes) != 2 {
			return nil, fmt.Errorf("objective binary needs a binary task with 2 classes (task %s, %d classes)", s.Task, len(s.Classes))
		}
	case ObjSoftmax:
		if s.Task != learn.Multiclass || len(s.Classes) < 2 {
			return nil, fmt.Errorf("objective softmax needs a multiclass task with at least 2 classes (task %s, %d classes)", s.Task, len(s.Classes))
		}
		k = len(s.Classes)
	default:
		return nil, fmt.Errorf("unknown objective %q", s.Objective)
	}
	if len(s.Features) == 0 {
		return nil, errors.New("no features")
	}
	if len(s.Base) != k {
		return nil, fmt.Errorf("%d base scores for %d outputs", len(s.Base), k)
	}
	for _, b := range s.Base {
		if math.IsNaN(b) || math.IsInf(b, 0) {
			return nil, fmt.Errorf("base score %v is not finite", b)
		}
	}
	// Group the trees by output, then interleave them round by round,
	// padding short outputs with empty (zero) trees.
	byOut := make([][]*tree, k)
	for ti, et := range s.Trees {
		if et.Output < 0 || et.Output >= k {
			return nil, fmt.Errorf("tree %d: output %d out of range (model has %d)", ti, et.Output, k)
		}
		t, err := buildTree(et, s.Features)
		if err != nil {
			return nil, fmt.Errorf("tree %d: %w", ti, err)
		}
		byOut[et.Output] = append(byOut[et.Output], t)
	}
	rounds := 0
	for _, ts := range byOut {
		rounds = max(rounds, len(ts))
	}
	m := &Model{task: s.Task, objective: s.Objective, k: k,
		classes:  append([]string(nil), s.Classes...),
		features: append([]learn.Feature(nil), s.Features...),
		base:     append([]float64(nil), s.Base...)}
	for r := range rounds {
		for c := range k {
			if r < len(byOut[c]) {
				m.trees = append(m.trees, byOut[c][r])
			} else {
				m.trees = append(m.trees, &tree{Value: []float64{0}, LeafCover: []float64{1}})
			}
		}
	}
	return m, nil
}

// buildTree renumbers et's nodes in pre-order (so children follow their
// parents, as Decode demands) and its leaves in the order reached.
func buildTree(et ExportedTree, feats []learn.Feature) (*tree, error) {
	if len(et.LeafCover) != 0 && len(et.LeafCover) != len(et.Leaves) {
		return nil, fmt.Errorf("%d leaf covers for %d leaves", len(et.LeafCover), len(et.Leaves))
	}
	for i, v := range et.Leaves {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("leaf %d value %v is not finite", i, v)
		}
	}
	t := &tree{}
	if len(et.Nodes) == 0 {
		if len(et.Leaves) != 1 {
			return nil, fmt.Errorf("a tree without nodes needs exactly one leaf, has %d", len(et.Leaves))
		}
		t.Value = []float64{et.Leaves[0]}
		t.LeafCover = []float64{leafCover(et, 0)}
		return t, nil
	}
	seenNode := make([]bool, len(et.Nodes))
	seenLeaf := make([]bool, len(et.Leaves))
	// ref returns the new child reference for an old one, after visiting it.
	var visit func(old int, depth int) (int32, error)
	visit = func(old int, depth int) (int32, error) {
		if depth > 1<<16 {
			return 0, errors.New("tree deeper than 65536 levels")
		}
		if old < 0 {
			l := ^old
			if l >= len(et.Leaves) {
				return 0, fmt.Errorf("leaf %d out of range (%d leaves)", l, len(et.Leaves))
			}
			if seenLeaf[l] {
				return 0, fmt.Errorf("leaf %d is reached twice", l)
			}
			seenLeaf[l] = true
			t.Value = append(t.Value, et.Leaves[l])
			t.LeafCover = append(t.LeafCover, leafCover(et, l))
			return ^int32(len(t.Value) - 1), nil
		}
		if old >= len(et.Nodes) {
			return 0, fmt.Errorf("node %d out of range (%d nodes)", old, len(et.Nodes))
		}
		if seenNode[old] {
			return 0, fmt.Errorf("node %d is reached twice", old)
		}
		seenNode[old] = true
		n := et.Nodes[old]
		if n.Feature < 0 || n.Feature >= len(feats) {
			return 0, fmt.Errorf("node %d splits on feature %d, model has %d", old, n.Feature, len(feats))
		}
		if math.IsNaN(n.Threshold) {
			return 0, fmt.Errorf("node %d threshold is NaN", old)
		}
		i := len(t.Feature)
		var flags uint8
		if n.DefaultLeft {
			flags |= flagDefaultLeft
		}
		t.Feature = append(t.Feature, int32(n.Feature))
		t.Threshold = append(t.Threshold, n.Threshold)
		t.Left = append(t.Left, 0)
		t.Right = append(t.Right, 0)
		t.CatStart = append(t.CatStart, 0)
		t.CatLen = append(t.CatLen, 0)
		t.Gain = append(t.Gain, max(n.Gain, 0))
		t.Cover = append(t.Cover, n.Cover)
		if n.Categorical {
			flags |= flagCategorical
			words := 0
			for _, c := range n.LeftCodes {
				if f := feats[n.Feature]; f.Categorical && (c < 0 || c >= len(f.Levels)) {
					return 0, fmt.Errorf("node %d: category code %d out of range (%d levels)", old, c, len(f.Levels))
				}
				if c < 0 || c >= maxImportCode {
					return 0, fmt.Errorf("node %d: category code %d of numeric feature %q out of range [0, %d)", old, c, feats[n.Feature].Name, maxImportCode)
				}
				words = max(words, c/32+1)
			}
			t.CatStart[i] = int32(len(t.CatBits))
			t.CatLen[i] = int32(words)
			bits := make([]uint32, words)
			for _, c := range n.LeftCodes {
				bits[c/32] |= 1 << uint(c%32)
			}
			t.CatBits = append(t.CatBits, bits...)
		}
		t.Flags = append(t.Flags, flags)
		l, err := visit(n.Left, depth+1)
		if err != nil {
			return 0, err
		}
		r, err := visit(n.Right, depth+1)
		if err != nil {
			return 0, err
		}
		t.Left[i], t.Right[i] = l, r
		return int32(i), nil
	}
	if _, err := visit(0, 0); err != nil {
		return nil, err
	}
	for i, ok := range seenNode {
		if !ok {
			return nil, fmt.Errorf("node %d is not reached from the root", i)
		}
	}
	if len(t.Value) != len(t.Feature)+1 {
		return nil, fmt.Errorf("%d leaves reached for %d nodes", len(t.Value), len(t.Feature))
	}
	fillCovers(t)
	return t, nil
}

func leafCover(et ExportedTree, l int) float64 {
	if len(et.LeafCover) == 0 {
		return 0
	}
	return max(et.LeafCover[l], 0)
}

// fillCovers gives a tree without usable covers (a leaf at zero, or a node
// below its children) the covers of one row per leaf, so TreeSHAP stays
// defined.
func fillCovers(t *tree) {
	ok := true
	for _, c := range t.LeafCover {
		ok = ok && c > 0
	}
	for i := len(t.Feature) - 1; i >= 0 && ok; i-- {
		ok = t.Cover[i] > 0
	}
	if ok {
		return
	}
	for i := range t.LeafCover {
		t.LeafCover[i] = 1
	}
	for i := len(t.Feature) - 1; i >= 0; i-- {
		t.Cover[i] = t.cover(t.Left[i]) + t.cover(t.Right[i])
	}
}
