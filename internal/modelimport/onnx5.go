package modelimport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/gbdt"
	"github.com/gyre-ml/gyre/internal/onnx/onnxpb"
)

// This file reads ai.onnx.ml opset 5's TreeEnsemble operator: nodes by
// global index with their children as node or leaf indices
// (nodes_truenodeids with nodes_trueleafs, likewise false), modes as a
// uint8 tensor (BRANCH_LEQ 0, LT 1, GTE 2, GT 3, EQ 4, NEQ 5, MEMBER 6),
// thresholds in nodes_splits, the sets of BRANCH_MEMBER nodes in
// membership_values (one NaN-terminated run per member node, in node
// order), one target and weight per leaf, and integer aggregate_function
// and post_transform.

// onnx5Modes names the opset 5 node modes as the earlier operators spell
// them.
var onnx5Modes = []string{"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ", "BRANCH_MEMBER"}

// tensorReals returns a float or double tensor attribute's values.
func tensorReals(a map[string]*onnxpb.AttributeProto, k string) ([]float64, error) {
	at := a[k]
	if at == nil {
		return nil, nil
	}
	t := at.GetT()
	raw := t.GetRawData()
	switch onnxpb.TensorProto_DataType(t.GetDataType()) {
	case onnxpb.TensorProto_DOUBLE:
		if len(raw) > 0 {
			if len(raw)%8 != 0 {
				return nil, fmt.Errorf("attribute %s: %d raw bytes is not a whole number of doubles", k, len(raw))
			}
			out := make([]float64, len(raw)/8)
			for i := range out {
				out[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
			}
			return out, nil
		}
		return t.GetDoubleData(), nil
	case onnxpb.TensorProto_FLOAT:
		if len(raw) > 0 {
			if len(raw)%4 != 0 {
				return nil, fmt.Errorf("attribute %s: %d raw bytes is not a whole number of floats", k, len(raw))
			}
			out := make([]float64, len(raw)/4)
			for i := range out {
				out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
			}
			return out, nil
		}
		out := make([]float64, len(t.GetFloatData()))
		for i, v := range t.GetFloatData() {
			out[i] = float64(v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("attribute %s: tensor of element type %s: %w (want float or double)", k, onnxpb.TensorProto_DataType(t.GetDataType()), ErrUnsupported)
}

// tensorModes returns the nodes_modes uint8 tensor.
func tensorModes(a map[string]*onnxpb.AttributeProto) ([]int, error) {
	at := a["nodes_modes"]
	if at == nil {
		return nil, errors.New("no nodes_modes attribute")
	}
	t := at.GetT()
	if onnxpb.TensorProto_DataType(t.GetDataType()) != onnxpb.TensorProto_UINT8 {
		return nil, fmt.Errorf("nodes_modes: element type %s, want uint8", onnxpb.TensorProto_DataType(t.GetDataType()))
	}
	var out []int
	if raw := t.GetRawData(); len(raw) > 0 {
		for _, b := range raw {
			out = append(out, int(b))
		}
	} else {
		for _, v := range t.GetInt32Data() {
			out = append(out, int(v))
		}
	}
	for i, m := range out {
		if m < 0 || m >= len(onnx5Modes) {
			return nil, fmt.Errorf("nodes_modes[%d]: mode %d (want 0..6: BRANCH_LEQ, LT, GTE, GT, EQ, NEQ, MEMBER)", i, m)
		}
	}
	return out, nil
}

// onnxTrees5 converts a TreeEnsemble node's attributes into trees and
// returns the number of features they use.
func onnxTrees5(a map[string]*onnxpb.AttributeProto, ens *onnxEnsemble) ([]*onnxTree, int, error) {
	ints := func(k string) []int64 { return a[k].GetInts() }
	feats, tIDs, tLeaf, fIDs, fLeaf := ints("nodes_featureids"), ints("nodes_truenodeids"), ints("nodes_trueleafs"), ints("nodes_falsenodeids"), ints("nodes_falseleafs")
	miss, roots, targets := ints("nodes_missing_value_tracks_true"), ints("tree_roots"), ints("leaf_targetids")
	modes, err := tensorModes(a)
	if err != nil {
		return nil, 0, err
	}
	splits, err := tensorReals(a, "nodes_splits")
	if err != nil {
		return nil, 0, err
	}
	weights, err := tensorReals(a, "leaf_weights")
	if err != nil {
		return nil, 0, err
	}
	members, err := tensorReals(a, "membership_values")
	if err != nil {
		return nil, 0, err
	}
	m := len(feats)
	if len(modes) != m || len(splits) != m || len(tIDs) != m || len(tLeaf) != m || len(fIDs) != m || len(fLeaf) != m || (len(miss) != 0 && len(miss) != m) {
		return nil, 0, fmt.Errorf("node attributes differ in length (%d features, %d modes, %d splits, %d true ids, %d true-leaf flags, %d false ids, %d false-leaf flags)",
			m, len(modes), len(splits), len(tIDs), len(tLeaf), len(fIDs), len(fLeaf))
	}
	nl := len(targets)
	if len(weights) != nl {
		return nil, 0, fmt.Errorf("%d leaf_weights for %d leaf_targetids", len(weights), nl)
	}
	if len(roots) == 0 {
		return nil, 0, errors.New("no trees (tree_roots is empty)")
	}
	// Internal nodes first, then leaves: position m+l is leaf l.
	nodes := make([]onnxNode, m+nl)
	for l := range nl {
		if targets[l] < 0 || targets[l] > 1<<20 {
			return nil, 0, fmt.Errorf("leaf_targetids[%d]: %d out of range", l, targets[l])
		}
		nodes[m+l] = onnxNode{leaf: true, id: int64(l), weights: []onnxLeaf{{int(targets[l]), weights[l]}}}
	}
	ref := func(i int, id, isLeaf int64, what string) (int, error) {
		if isLeaf != 0 {
			if id < 0 || id >= int64(nl) {
				return 0, fmt.Errorf("node %d: %s leaf %d out of range (%d leaves)", i, what, id, nl)
			}
			return m + int(id), nil
		}
		if id < 0 || id >= int64(m) {
			return 0, fmt.Errorf("node %d: %s node %d out of range (%d nodes)", i, what, id, m)
		}
		return int(id), nil
	}
	width, set := 0, 0
	for i := range m {
		n := &nodes[i]
		n.id = int64(i)
		n.mode = onnx5Modes[modes[i]]
		if feats[i] < 0 || feats[i] > 1<<24 {
			return nil, 0, fmt.Errorf("node %d: feature id %d", i, feats[i])
		}
		n.feature, n.value = int(feats[i]), splits[i]
		if n.yes, err = ref(i, tIDs[i], tLeaf[i], "true"); err != nil {
			return nil, 0, err
		}
		if n.no, err = ref(i, fIDs[i], fLeaf[i], "false"); err != nil {
			return nil, 0, err
		}
		n.tracksTrue = len(miss) > 0 && miss[i] != 0
		switch n.mode {
		case "BRANCH_MEMBER":
			// This node's set: the next run of membership_values up to
			// a NaN (or the end).
			start := set
			for set < len(members) && !math.IsNaN(members[set]) {
				set++
			}
			if start == set && set >= len(members) {
				return nil, 0, fmt.Errorf("node %d: BRANCH_MEMBER has no set in membership_values (%d values)", i, len(members))
			}
			n.set = members[start:set]
			set++ // the NaN
		case "BRANCH_EQ", "BRANCH_NEQ":
		default:
			if math.IsNaN(n.value) {
				return nil, 0, fmt.Errorf("node %d: threshold is NaN", i)
			}
		}
		width = max(width, n.feature+1)
	}
	if set < len(members) {
		return nil, 0, fmt.Errorf("membership_values holds more sets than the tree has BRANCH_MEMBER nodes")
	}
	reached := make([]bool, len(nodes))
	var trees []*onnxTree
	for t, r := range roots {
		if r < 0 || r >= int64(m) {
			// A tree that is one leaf has no node to start from in
			// opset 5's layout: roots index nodes.
			return nil, 0, fmt.Errorf("tree_roots[%d]: node %d out of range (%d nodes)", t, r, m)
		}
		e := &emitter{nodes: nodes, f32: ens.float32, tree: &onnxTree{}, tid: int64(t), seen: make([]bool, len(nodes))}
		if _, err := e.emit(int(r), 0); err != nil {
			return nil, 0, err
		}
		for k, ok := range e.seen {
			reached[k] = reached[k] || ok
		}
		trees = append(trees, e.tree)
	}
	for k := range m {
		if !reached[k] {
			return nil, 0, fmt.Errorf("node %d is not reached from any of tree_roots", k)
		}
	}
	return trees, width, nil
}

// onnxTreeEnsemble5 settles the task of an opset 5 TreeEnsemble, which
// has no class labels: post_transform NONE over one target is a
// regressor (Exp after it, a log link), LOGISTIC over one target a binary
// classifier, SOFTMAX over several targets a multiclass one.
func (p *parsed) onnxTreeEnsemble5(a map[string]*onnxpb.AttributeProto, ens *onnxEnsemble, trees []*onnxTree) error {
	nt := int(a["n_targets"].GetI())
	if nt < 1 {
		return fmt.Errorf("n_targets %d: want at least 1", nt)
	}
	scale := 1.0
	switch agg := a["aggregate_function"]; {
	case agg == nil || agg.GetI() == 1: // SUM
	case agg.GetI() == 0: // AVERAGE
		scale = 1 / float64(len(trees))
		p.notes = append(p.notes, "aggregate_function AVERAGE (a random forest): leaf values are divided by the number of trees")
	default:
		return fmt.Errorf("aggregate_function %d: %w (want 1 SUM or 0 AVERAGE)", agg.GetI(), ErrUnsupported)
	}
	for _, t := range trees {
		for _, ws := range t.leaves {
			for _, lw := range ws {
				if lw.out >= nt {
					return fmt.Errorf("leaf target %d for n_targets %d", lw.out, nt)
				}
			}
		}
	}
	post := a["post_transform"].GetI()
	var out func(int) (int, float64, error)
	switch {
	case post == 0 && nt == 1:
		p.spec.Task, p.spec.Objective = learn.Regression, gbdt.ObjSquared
		if ens.exp {
			p.spec.Objective = gbdt.ObjPoisson
		}
		p.spec.Base = []float64{0}
		out = func(int) (int, float64, error) { return 0, 1, nil }
	case post == 2 && nt == 1:
		if ens.exp {
			return fmt.Errorf("%w: Exp after a LOGISTIC TreeEnsemble", ErrUnsupported)
		}
		p.spec.Task, p.spec.Objective, p.spec.Base, p.classes = learn.Binary, gbdt.ObjBinary, []float64{0}, 2
		p.notes = append(p.notes, "post_transform LOGISTIC over one target: imported as a binary classifier whose output is the second class's probability")
		out = func(int) (int, float64, error) { return 0, 1, nil }
	case post == 1 && nt >= 2:
		if ens.exp {
			return fmt.Errorf("%w: Exp after a SOFTMAX TreeEnsemble", ErrUnsupported)
		}
		p.spec.Task, p.spec.Objective, p.spec.Base, p.classes = learn.Multiclass, gbdt.ObjSoftmax, make([]float64, nt), nt
		if nt == 2 {
			p.spec.Task, p.spec.Objective, p.spec.Base = learn.Binary, gbdt.ObjBinary, []float64{0}
			out = func(id int) (int, float64, error) { return 0, float64(2*id - 1), nil }
			break
		}
		out = func(id int) (int, float64, error) { return id, 1, nil }
	default:
		return fmt.Errorf("post_transform %d over %d targets: %w (Gyre imports NONE over one target, LOGISTIC over one, or SOFTMAX over several)", post, nt, ErrUnsupported)
	}
	var err error
	p.spec.Trees, err = expand(trees, scale, out)
	return err
}
