package modelimport

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/gbdt"
	"github.com/gyre-ml/gyre/internal/onnx"
	"github.com/gyre-ml/gyre/internal/onnx/onnxpb"
)

// looksONNX reports whether data starts like a ModelProto: field 1
// (ir_version) as a varint.
func looksONNX(data []byte) bool {
	num, typ, n := protowire.ConsumeTag(data)
	if n < 0 || num != 1 || typ != protowire.VarintType {
		return false
	}
	v, m := protowire.ConsumeVarint(data[n:])
	return m > 0 && v > 0 && v < 100
}

// onnxEnsemble is the tree-ensemble node of a graph and what surrounds it.
type onnxEnsemble struct {
	node    *onnxpb.NodeProto
	float32 bool // the ensemble compares float32 values
	exp     bool // an Exp follows a regressor
	p       int  // input width, when the graph says
}

// parseONNX reads an ONNX model whose graph is one ai.onnx.ml
// TreeEnsembleRegressor or TreeEnsembleClassifier over the graph's input
// (through optional Cast and Identity nodes), optionally followed by Exp
// (a regressor's log link) or ZipMap (a classifier's probability map).
func parseONNX(data []byte) (*parsed, error) {
	var mp onnxpb.ModelProto
	if err := proto.Unmarshal(data, &mp); err != nil {
		return nil, fmt.Errorf("%w: decode ONNX protobuf: %w", ErrFormat, err)
	}
	g := mp.GetGraph()
	if g == nil || len(g.GetNode()) == 0 {
		return nil, fmt.Errorf("%w: the ONNX model has no graph nodes", ErrFormat)
	}
	ens, err := findEnsemble(g)
	if err != nil {
		return nil, err
	}
	p := &parsed{objective: ens.node.GetOpType(), source: mp.GetProducerName() + " " + mp.GetProducerVersion()}
	var meta []struct {
		Name        string   `json:"name"`
		Categorical bool     `json:"categorical"`
		Levels      []string `json:"levels"`
	}
	for _, kv := range mp.GetMetadataProps() {
		if kv.GetKey() == "gyre.features" {
			if err := json.Unmarshal([]byte(kv.GetValue()), &meta); err != nil {
				return nil, fmt.Errorf("metadata gyre.features: %w", err)
			}
		}
	}
	a := map[string]*onnxpb.AttributeProto{}
	for _, at := range ens.node.GetAttribute() {
		a[at.GetName()] = at
	}
	var trees []*onnxTree
	var width int

	if ens.node.GetOpType() == "TreeEnsemble" {
		trees, width, err = onnxTrees5(a, ens)
	} else {
		trees, width, err = onnxTrees(a, ens)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nodeName(ens.node), err)
	}
	if ens.p > 0 {
		if width > ens.p {
			return nil, fmt.Errorf("%s splits on feature %d, the input has %d", nodeName(ens.node), width-1, ens.p)
		}
		width = ens.p
	}
	if len(meta) > 0 {
		if len(meta) != width {
			return nil, fmt.Errorf("metadata gyre.features names %d features for an input of %d", len(meta), width)
		}
		for _, m := range meta {
			p.names = append(p.names, m.Name)
			var levels []string
			if m.Categorical {
				// Gyre's own export: the graph sees category codes; the
				// bundle takes the categories and codes them as Gyre did.
				if len(m.Levels) == 0 {
					return nil, fmt.Errorf("metadata gyre.features: categorical feature %q has no levels", m.Name)
				}
				levels = m.Levels
			}
			p.levels = append(p.levels, levels)
		}
	} else {
		for j := range width {
			p.names = append(p.names, "f"+strconv.Itoa(j))
		}
	}
	switch ens.node.GetOpType() {
	case "TreeEnsembleRegressor":
		err = p.onnxRegressor(a, ens, trees)
	case "TreeEnsemble":
		err = p.onnxTreeEnsemble5(a, ens, trees)
	default:
		err = p.onnxClassifier(a, trees)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nodeName(ens.node), err)
	}
	p.notes = append(p.notes, "the ONNX graph records no node covers: explanations (TreeSHAP) weight every leaf alike")
	return p, nil
}

// findEnsemble checks the graph's shape and returns its ensemble node.
func findEnsemble(g *onnxpb.GraphProto) (*onnxEnsemble, error) {
	inits := map[string]bool{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = true
	}
	var in *onnxpb.ValueInfoProto
	for _, v := range g.GetInput() {
		if inits[v.GetName()] {
			continue
		}
		if in != nil {
			return nil, fmt.Errorf("%w: the graph has several inputs (%s, %s): import reads graphs of one [N, p] input", ErrUnsupported, in.GetName(), v.GetName())
		}
		in = v
	}
	if in == nil {
		return nil, fmt.Errorf("%w: the graph has no input", ErrFormat)
	}
	tt := in.GetType().GetTensorType()
	ens := &onnxEnsemble{}
	// precision of each value derived from the input: true = float32.
	derived := map[string]bool{}
	switch onnxpb.TensorProto_DataType(tt.GetElemType()) {
	case onnxpb.TensorProto_FLOAT:
		derived[in.GetName()] = true
	case onnxpb.TensorProto_DOUBLE:
		derived[in.GetName()] = false
	default:
		return nil, fmt.Errorf("%w: input %q has element type %s, want float or double", ErrUnsupported, in.GetName(), onnxpb.TensorProto_DataType(tt.GetElemType()))
	}
	if dims := tt.GetShape().GetDim(); len(dims) == 2 && dims[1].GetDimValue() > 0 {
		ens.p = int(dims[1].GetDimValue())
	}
	after := map[string]string{} // outputs of the ensemble and what made them
	for _, nd := range g.GetNode() {
		op := nd.GetOpType()
		src := ""
		if len(nd.GetInput()) > 0 {
			src = nd.GetInput()[0]
		}
		switch op {
		case "Cast", "Identity":
			f32, ok := derived[src]
			if !ok {
				if _, post := after[src]; post && op == "Identity" {
					after[nd.GetOutput()[0]] = after[src]
					continue
				}
				return nil, fmt.Errorf("%w: %s does not read the graph input", ErrUnsupported, nodeName(nd))
			}
			if op == "Cast" {
				for _, at := range nd.GetAttribute() {
					if at.GetName() == "to" {
						switch onnxpb.TensorProto_DataType(at.GetI()) {
						case onnxpb.TensorProto_FLOAT:
							f32 = true
						case onnxpb.TensorProto_DOUBLE:
							f32 = f32 && false
						default:
							return nil, fmt.Errorf("%w: %s casts the input to %s", ErrUnsupported, nodeName(nd), onnxpb.TensorProto_DataType(at.GetI()))
						}
					}
				}
			}
			derived[nd.GetOutput()[0]] = f32
		case "TreeEnsembleRegressor", "TreeEnsembleClassifier", "TreeEnsemble":
			if ens.node != nil {
				return nil, fmt.Errorf("%w: the graph has more than one tree ensemble", ErrUnsupported)
			}
			f32, ok := derived[src]
			if !ok {
				return nil, fmt.Errorf("%w: %s does not read the graph input", ErrUnsupported, nodeName(nd))
			}
			ens.node, ens.float32 = nd, f32
			for _, o := range nd.GetOutput() {
				after[o] = op
			}
		case "Exp":
			if after[src] != "TreeEnsembleRegressor" && after[src] != "TreeEnsemble" {
				return nil, fmt.Errorf("%w: %s does not follow a TreeEnsembleRegressor or TreeEnsemble", ErrUnsupported, nodeName(nd))
			}
			ens.exp = true
			after[nd.GetOutput()[0]] = "Exp"
		case "ZipMap":
			if after[src] != "TreeEnsembleClassifier" {
				return nil, fmt.Errorf("%w: %s does not follow a TreeEnsembleClassifier", ErrUnsupported, nodeName(nd))
			}
			after[nd.GetOutput()[0]] = "ZipMap"
		default:
			return nil, fmt.Errorf("%w: %s: import reads graphs of one TreeEnsembleRegressor/Classifier or TreeEnsemble (ai.onnx.ml opset 5) with optional Cast, Identity, Exp and ZipMap", ErrUnsupported, nodeName(nd))
		}
	}
	if ens.node == nil {
		return nil, fmt.Errorf("%w: the graph has no TreeEnsembleRegressor or TreeEnsembleClassifier node", ErrUnsupported)
	}
	return ens, nil
}

// onnxLeaf is one weight of a leaf: output id and value.
type onnxLeaf struct {
	out int
	w   float64
}

// onnxTree is one tree of the ensemble: its converted nodes (children are
// node indices or ^leaf) and each leaf's weights.
type onnxTree struct {
	nodes  []gbdt.TreeNode
	leaves [][]onnxLeaf
}

// onnxTrees converts the node attributes into trees and returns the
// number of features they use (largest feature id + 1).
func onnxTrees(a map[string]*onnxpb.AttributeProto, ens *onnxEnsemble) ([]*onnxTree, int, error) {
	ints := func(k string) []int64 { return a[k].GetInts() }
	treeIDs, nodeIDs, feats := ints("nodes_treeids"), ints("nodes_nodeids"), ints("nodes_featureids")
	tIDs, fIDs, miss := ints("nodes_truenodeids"), ints("nodes_falsenodeids"), ints("nodes_missing_value_tracks_true")
	modes := a["nodes_modes"].GetStrings()
	vals, err := onnx.AttrReals(a, "nodes_values")
	if err != nil {
		return nil, 0, err
	}
	m := len(treeIDs)
	if m == 0 {
		return nil, 0, errors.New("no nodes (nodes_treeids is empty)")
	}
	if len(nodeIDs) != m || len(feats) != m || len(modes) != m || len(vals) != m || len(tIDs) != m || len(fIDs) != m || (len(miss) != 0 && len(miss) != m) {
		return nil, 0, fmt.Errorf("node attributes differ in length (%d tree ids, %d node ids, %d features, %d modes, %d values, %d true ids, %d false ids)",
			m, len(nodeIDs), len(feats), len(modes), len(vals), len(tIDs), len(fIDs))
	}
	type key struct{ tree, node int64 }
	index := map[key]int{} // (tree, node id) → node position
	var order []int64      // tree ids by first appearance
	for i := range m {
		k := key{treeIDs[i], nodeIDs[i]}
		if _, dup := index[k]; dup {
			return nil, 0, fmt.Errorf("tree %d node %d is defined twice", k.tree, k.node)
		}
		if i == 0 || treeIDs[i] != treeIDs[i-1] {
			order = append(order, treeIDs[i])
		}
		index[k] = i
	}
	// Leaf weights.
	pre := "target_"
	if ens.node.GetOpType() == "TreeEnsembleClassifier" {
		pre = "class_"
	}
	wTree, wNode, wOut := ints(pre+"treeids"), ints(pre+"nodeids"), ints(pre+"ids")
	w, err := onnx.AttrReals(a, pre+"weights")
	if err != nil {
		return nil, 0, err
	}
	if len(wNode) != len(wTree) || len(wOut) != len(wTree) || len(w) != len(wTree) {
		return nil, 0, fmt.Errorf("%sweights: attributes differ in length", pre)
	}
	weights := map[int][]onnxLeaf{}
	for i := range wTree {
		j, ok := index[key{wTree[i], wNode[i]}]
		if !ok {
			return nil, 0, fmt.Errorf("%sweights[%d] refers to tree %d node %d, which is not defined", pre, i, wTree[i], wNode[i])
		}
		if wOut[i] < 0 || wOut[i] > 1<<20 {
			return nil, 0, fmt.Errorf("%sids[%d]: %d out of range", pre, i, wOut[i])
		}
		weights[j] = append(weights[j], onnxLeaf{int(wOut[i]), w[i]})
	}
	width := 0
	var trees []*onnxTree
	seen := map[int64]bool{}
	for _, tid := range order {
		if seen[tid] {
			return nil, 0, fmt.Errorf("tree %d's nodes are not contiguous", tid)
		}
		seen[tid] = true
		// The tree's nodes by position, children by position.
		pos := map[int]int{} // attribute index → position in nodes
		var nodes []onnxNode
		var members []int
		for i := range m {
			if treeIDs[i] == tid {
				pos[i] = len(nodes)
				members = append(members, i)
				nodes = append(nodes, onnxNode{id: nodeIDs[i]})
			}
		}
		child := make([]bool, len(nodes))
		for k, i := range members {
			n := &nodes[k]
			n.mode = string(modes[i])
			if n.mode == "LEAF" {
				n.leaf, n.weights = true, weights[i]
				continue
			}
			ti, ok1 := index[key{tid, tIDs[i]}]
			fi, ok2 := index[key{tid, fIDs[i]}]
			if !ok1 || !ok2 {
				return nil, 0, fmt.Errorf("tree %d node %d: child %d or %d is not defined", tid, nodeIDs[i], tIDs[i], fIDs[i])
			}
			if feats[i] < 0 || feats[i] > 1<<24 {
				return nil, 0, fmt.Errorf("tree %d node %d: feature id %d", tid, nodeIDs[i], feats[i])
			}
			switch n.mode {
			case "BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ":
			default:
				return nil, 0, fmt.Errorf("tree %d node %d: unknown node mode %q", tid, nodeIDs[i], n.mode)
			}
			if math.IsNaN(vals[i]) && n.mode != "BRANCH_EQ" && n.mode != "BRANCH_NEQ" {
				return nil, 0, fmt.Errorf("tree %d node %d: threshold is NaN", tid, nodeIDs[i])
			}
			n.feature, n.value = int(feats[i]), vals[i]
			n.yes, n.no = pos[ti], pos[fi]
			n.tracksTrue = len(miss) > 0 && miss[i] != 0
			child[n.yes], child[n.no] = true, true
			width = max(width, n.feature+1)
		}
		// The root is the one node no other points to.
		root := -1
		for k := range nodes {
			if !child[k] {
				if root >= 0 {
					return nil, 0, fmt.Errorf("tree %d has several roots (nodes %d and %d)", tid, nodes[root].id, nodes[k].id)
				}
				root = k
			}
		}
		if root < 0 {
			return nil, 0, fmt.Errorf("tree %d has no root (a cycle)", tid)
		}
		e := &emitter{nodes: nodes, f32: ens.float32, tree: &onnxTree{}, tid: tid, seen: make([]bool, len(nodes))}
		if _, err := e.emit(root, 0); err != nil {
			return nil, 0, err
		}
		for k, ok := range e.seen {
			if !ok {
				return nil, 0, fmt.Errorf("tree %d node %d is not reached from the root (a cycle)", tid, nodes[k].id)
			}
		}
		trees = append(trees, e.tree)
	}
	return trees, width, nil
}

// onnxSplit converts a node mode and value to Gyre's x ≤ t, marking with
// Left = -1<<62 a split whose false branch is Gyre's left (GT, GTE).
// Missing values take the true branch when tracksTrue, else the false one
// (every comparison with NaN is false).
func onnxSplit(mode string, v float64, f32, tracksTrue bool) (gbdt.TreeNode, error) {
	var t float64
	swap := false
	switch mode {
	case "BRANCH_LEQ", "BRANCH_GT":
		t = v
		if f32 {
			t = leqF32(float32(v))
		}
		swap = mode == "BRANCH_GT"
	case "BRANCH_LT", "BRANCH_GTE":
		t = ltF64(v)
		if f32 {
			t = ltF32(float32(v))
		}
		swap = mode == "BRANCH_GTE"
	default:
		return gbdt.TreeNode{}, fmt.Errorf("unknown node mode %q", mode)
	}
	if math.IsNaN(t) {
		return gbdt.TreeNode{}, fmt.Errorf("threshold is NaN")
	}
	nd := gbdt.TreeNode{Threshold: t, DefaultLeft: tracksTrue}
	if swap {
		nd.DefaultLeft = !tracksTrue
		nd.Left = -1 << 62
	}
	return nd, nil
}

// expand turns the trees into Gyre trees, one per output a tree's leaves
// add to: out maps an ONNX output id to a Gyre output and a sign.
func expand(trees []*onnxTree, scale float64, out func(id int) (int, float64, error)) ([]gbdt.ExportedTree, error) {
	var res []gbdt.ExportedTree
	for ti, t := range trees {
		byOut := map[int][]float64{}
		var outs []int
		for l, ws := range t.leaves {
			for _, lw := range ws {
				o, sign, err := out(lw.out)
				if err != nil {
					return nil, fmt.Errorf("tree %d: %w", ti, err)
				}
				vals, ok := byOut[o]
				if !ok {
					vals = make([]float64, len(t.leaves))
					byOut[o] = vals
					outs = append(outs, o)
				}
				vals[l] += sign * lw.w * scale
			}
		}
		for _, o := range outs {
			res = append(res, gbdt.ExportedTree{Output: o, Nodes: append([]gbdt.TreeNode(nil), t.nodes...), Leaves: byOut[o]})
		}
	}
	return res, nil
}

func attrString(a map[string]*onnxpb.AttributeProto, k, def string) string {
	if at := a[k]; at != nil {
		return string(at.GetS())
	}
	return def
}

func (p *parsed) onnxRegressor(a map[string]*onnxpb.AttributeProto, ens *onnxEnsemble, trees []*onnxTree) error {
	if nt := a["n_targets"].GetI(); nt > 1 {
		return fmt.Errorf("n_targets %d: %w: Gyre imports single-target regressors", nt, ErrUnsupported)
	}
	if post := attrString(a, "post_transform", "NONE"); post != "NONE" {
		return fmt.Errorf("post_transform %s: %w (want NONE)", post, ErrUnsupported)
	}
	scale := 1.0
	switch agg := attrString(a, "aggregate_function", "SUM"); agg {
	case "SUM":
	case "AVERAGE":
		scale = 1 / float64(len(trees))
		p.notes = append(p.notes, "aggregate_function AVERAGE (a random forest): leaf values are divided by the number of trees")
	default:
		return fmt.Errorf("aggregate_function %s: %w (want SUM or AVERAGE)", agg, ErrUnsupported)
	}
	base, err := onnx.AttrReals(a, "base_values")
	if err != nil {
		return err
	}
	if len(base) > 1 {
		return fmt.Errorf("%d base_values for one target", len(base))
	}
	p.spec.Task, p.spec.Objective = learn.Regression, gbdt.ObjSquared
	if ens.exp {
		p.spec.Objective = gbdt.ObjPoisson
	}
	p.spec.Base = []float64{0}
	if len(base) == 1 {
		p.spec.Base[0] = base[0]
	}
	p.spec.Trees, err = expand(trees, scale, func(id int) (int, float64, error) {
		if id != 0 {
			return 0, 0, fmt.Errorf("target id %d of a single-target regressor", id)
		}
		return 0, 1, nil
	})
	return err
}

func (p *parsed) onnxClassifier(a map[string]*onnxpb.AttributeProto, trees []*onnxTree) error {
	for _, s := range a["classlabels_strings"].GetStrings() {
		p.labels = append(p.labels, string(s))
	}
	for _, v := range a["classlabels_int64s"].GetInts() {
		p.labels = append(p.labels, strconv.FormatInt(v, 10))
	}
	k := len(p.labels)
	if k < 2 {
		return fmt.Errorf("%d class labels: want at least 2 in classlabels_strings or classlabels_int64s", k)
	}
	base, err := onnx.AttrReals(a, "base_values")
	if err != nil {
		return err
	}
	maxID, allPos := 0, true
	for _, t := range trees {
		for _, ws := range t.leaves {
			for _, lw := range ws {
				maxID = max(maxID, lw.out)
				allPos = allPos && lw.w >= 0
			}
		}
	}
	if maxID >= k {
		return fmt.Errorf("class id %d for %d labels", maxID, k)
	}
	post := attrString(a, "post_transform", "NONE")
	b := func(c int) float64 {
		if c < len(base) {
			return base[c]
		}
		return 0
	}
	p.classes = k
	var out func(int) (int, float64, error)
	switch {
	case k == 2 && maxID == 0 && post == "LOGISTIC":
		if allPos {
			return fmt.Errorf("a binary classifier with only non-negative weights and post_transform LOGISTIC: onnxruntime reports its raw score as the probability: %w", ErrUnsupported)
		}
		p.spec.Task, p.spec.Objective, p.spec.Base = learn.Binary, gbdt.ObjBinary, []float64{b(0)}
		out = func(int) (int, float64, error) { return 0, 1, nil }
	case k == 2 && post == "SOFTMAX":
		// softmax over two scores is the logistic of their difference.
		p.spec.Task, p.spec.Objective, p.spec.Base = learn.Binary, gbdt.ObjBinary, []float64{b(1) - b(0)}
		out = func(id int) (int, float64, error) { return 0, float64(2*id - 1), nil }
	case k > 2 && post == "SOFTMAX":
		p.spec.Task, p.spec.Objective = learn.Multiclass, gbdt.ObjSoftmax
		p.spec.Base = make([]float64, k)
		for c := range k {
			p.spec.Base[c] = b(c)
		}
		out = func(id int) (int, float64, error) { return id, 1, nil }
	default:
		return fmt.Errorf("a classifier of %d labels with post_transform %s: %w (Gyre imports boosted classifiers: LOGISTIC over one score for two classes, or SOFTMAX)", k, post, ErrUnsupported)
	}
	if len(base) != 0 && len(base) != len(p.spec.Base) && !(k == 2 && len(base) == 2) {
		return fmt.Errorf("%d base_values for %d scores", len(base), len(p.spec.Base))
	}
	p.spec.Trees, err = expand(trees, 1, out)
	return err
}

// nodeName names a graph node for errors: its op type and, when it has
// one, its name.
func nodeName(nd *onnxpb.NodeProto) string {
	if nd.GetName() == "" {
		return "node " + nd.GetOpType()
	}
	return fmt.Sprintf("node %q (%s)", nd.GetName(), nd.GetOpType())
}
