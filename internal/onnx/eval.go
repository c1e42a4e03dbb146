package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/gyre-ml/gyre/internal/onnx/onnxpb"
)

// Tensor is an evaluated output: float32 values or strings, row-major in
// Shape.
type Tensor struct {
	Shape   []int
	Floats  []float32
	Strings []string
	// Doubles holds the (input) values of a float or double tensor.
	Doubles []float64
	double  bool
}

// Evaluate runs an ONNX model of the kind this package exports (a graph of
// ai.onnx.ml TreeEnsembleRegressor / TreeEnsembleClassifier and Exp nodes
// over one float or double input) on the row-major n×p matrix x, and
// returns its outputs by name. x is rounded to float32 when the graph's
// input is float, as a caller of a runtime would do. It is a small
// reference interpreter that follows onnxruntime's semantics for these
// operators (thresholds and score accumulation in the input's precision,
// float outputs, the binary-classifier conventions); it exists to check
// exports without a runtime, and rejects any other operator.
func Evaluate(model []byte, x []float64, n, p int) (map[string]*Tensor, error) {
	var mp onnxpb.ModelProto
	if err := proto.Unmarshal(model, &mp); err != nil {
		return nil, fmt.Errorf("onnx evaluate: decode model: %w", err)
	}
	g := mp.GetGraph()
	if g == nil || len(g.GetInput()) != 1 {
		return nil, errors.New("onnx evaluate: want a graph with one input")
	}
	if len(x) != n*p {
		return nil, fmt.Errorf("onnx evaluate: input holds %d values, want %d×%d", len(x), n, p)
	}
	in := g.GetInput()[0]
	double := false
	switch et := in.GetType().GetTensorType().GetElemType(); onnxpb.TensorProto_DataType(et) {
	case onnxpb.TensorProto_FLOAT:
	case onnxpb.TensorProto_DOUBLE:
		double = true
	default:
		return nil, fmt.Errorf("onnx evaluate: input %q has element type %d, want float or double", in.GetName(), et)
	}
	xin := &Tensor{Shape: []int{n, p}, Doubles: make([]float64, len(x)), double: double}
	for i, v := range x {
		if double {
			xin.Doubles[i] = v
		} else {
			xin.Doubles[i] = float64(float32(v))
		}
	}
	env := map[string]*Tensor{in.GetName(): xin}
	for _, nd := range g.GetNode() {
		in := make([]*Tensor, len(nd.GetInput()))
		for i, name := range nd.GetInput() {
			if in[i] = env[name]; in[i] == nil {
				return nil, fmt.Errorf("onnx evaluate: node %s: input %q is not computed", nd.GetName(), name)
			}
		}
		var outs []*Tensor
		var err error
		switch nd.GetOpType() {
		case "Exp":
			t := in[0]
			o := &Tensor{Shape: t.Shape, Floats: make([]float32, len(t.Floats))}
			for i, v := range t.Floats {
				o.Floats[i] = float32(math.Exp(float64(v)))
			}
			outs = []*Tensor{o}
		case "TreeEnsembleRegressor", "TreeEnsembleClassifier":
			outs, err = evalTrees(nd, in[0])
		case "Split":
			outs, err = evalSplit(nd, in[0])
		default:
			err = fmt.Errorf("operator %s is not supported", nd.GetOpType())
		}
		if err != nil {
			return nil, fmt.Errorf("onnx evaluate: node %s: %w", nd.GetName(), err)
		}
		if len(outs) != len(nd.GetOutput()) {
			return nil, fmt.Errorf("onnx evaluate: node %s has %d outputs, want %d", nd.GetName(), len(nd.GetOutput()), len(outs))
		}
		for i, name := range nd.GetOutput() {
			env[name] = outs[i]
		}
	}
	res := map[string]*Tensor{}
	for _, o := range g.GetOutput() {
		t := env[o.GetName()]
		if t == nil {
			return nil, fmt.Errorf("onnx evaluate: output %q is not computed", o.GetName())
		}
		res[o.GetName()] = t
	}
	return res, nil
}

type enode struct {
	mode        string
	feat        int
	value       float64
	t, f        int // node indices
	missingTrue bool
	leaf        []int // weight indices
}

func evalTrees(nd *onnxpb.NodeProto, x *Tensor) ([]*Tensor, error) {
	if len(x.Shape) != 2 {
		return nil, fmt.Errorf("input has shape %v, want [N, p]", x.Shape)
	}
	n, p := x.Shape[0], x.Shape[1]
	if x.Doubles == nil {
		return nil, errors.New("tree ensembles must read the graph input")
	}
	a := map[string]*onnxpb.AttributeProto{}
	for _, at := range nd.GetAttribute() {
		a[at.GetName()] = at
	}
	ints := func(k string) []int64 { return a[k].GetInts() }
	reals := func(k string) ([]float64, error) { return AttrReals(a, k) }
	str := func(k, def string) string {
		if at := a[k]; at != nil {
			return string(at.GetS())
		}
		return def
	}
	if f := str("aggregate_function", "SUM"); f != "SUM" {
		return nil, fmt.Errorf("aggregate_function %s is not supported", f)
	}
	cls := nd.GetOpType() == "TreeEnsembleClassifier"
	pre := "target_"
	if cls {
		pre = "class_"
	}
	treeIDs, nodeIDs := ints("nodes_treeids"), ints("nodes_nodeids")
	feats, modes := ints("nodes_featureids"), a["nodes_modes"].GetStrings()
	vals, err := reals("nodes_values")
	if err != nil {
		return nil, err
	}
	tIDs, fIDs, miss := ints("nodes_truenodeids"), ints("nodes_falsenodeids"), ints("nodes_missing_value_tracks_true")
	m := len(treeIDs)
	if len(nodeIDs) != m || len(feats) != m || len(modes) != m || len(vals) != m || len(tIDs) != m || len(fIDs) != m || (len(miss) != 0 && len(miss) != m) {
		return nil, errors.New("node attribute arrays differ in length")
	}
	type key struct{ tree, node int64 }
	index := map[key]int{}
	var roots []int
	for i := range m {
		k := key{treeIDs[i], nodeIDs[i]}
		if _, dup := index[k]; dup {
			return nil, fmt.Errorf("tree %d node %d is defined twice", k.tree, k.node)
		}
		index[k] = i
		if i == 0 || treeIDs[i] != treeIDs[i-1] {
			roots = append(roots, i)
		}
	}
	nodes := make([]enode, m)
	for i := range m {
		nodes[i] = enode{mode: string(modes[i]), feat: int(feats[i]), value: vals[i], missingTrue: len(miss) > 0 && miss[i] != 0}
		if nodes[i].mode == "LEAF" {
			continue
		}
		if nodes[i].feat < 0 || nodes[i].feat >= p {
			return nil, fmt.Errorf("tree %d node %d uses feature %d of %d", treeIDs[i], nodeIDs[i], nodes[i].feat, p)
		}
		var ok1, ok2 bool
		nodes[i].t, ok1 = index[key{treeIDs[i], tIDs[i]}]
		nodes[i].f, ok2 = index[key{treeIDs[i], fIDs[i]}]
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("tree %d node %d has a missing child", treeIDs[i], nodeIDs[i])
		}
	}
	wTree, wNode, wOut := ints(pre+"treeids"), ints(pre+"nodeids"), ints(pre+"ids")
	w, err := reals(pre + "weights")
	if err != nil {
		return nil, err
	}
	if len(wNode) != len(wTree) || len(wOut) != len(wTree) || len(w) != len(wTree) {
		return nil, errors.New("leaf weight arrays differ in length")
	}
	outputs := 0
	allPos := true
	for i := range wTree {
		j, ok := index[key{wTree[i], wNode[i]}]
		if !ok {
			return nil, fmt.Errorf("weight %d refers to unknown tree %d node %d", i, wTree[i], wNode[i])
		}
		nodes[j].leaf = append(nodes[j].leaf, i)
		outputs = max(outputs, int(wOut[i])+1)
		allPos = allPos && w[i] >= 0
	}
	var labels []string
	if cls {
		for _, s := range a["classlabels_strings"].GetStrings() {
			labels = append(labels, string(s))
		}
		if len(labels) == 0 {
			return nil, errors.New("only classlabels_strings are supported")
		}
		outputs = max(outputs, 1)
	} else {
		outputs = int(a["n_targets"].GetI())
	}
	base, err := reals("base_values")
	if err != nil {
		return nil, err
	}
	if len(base) != 0 && len(base) != outputs {
		return nil, fmt.Errorf("%d base_values for %d outputs", len(base), outputs)
	}
	for _, nd := range nodes {
		switch nd.mode {
		case "LEAF", "BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ":
		default:
			return nil, fmt.Errorf("node mode %q is not supported", nd.mode)
		}
	}
	// Scores accumulate in the input's precision (onnxruntime's threshold
	// type) and are output as float.
	add := func(s, v float64) float64 { return float64(float32(s) + float32(v)) }
	if x.double {
		add = func(s, v float64) float64 { return s + v }
	}
	scores := make([]float32, n*outputs)
	acc := make([]float64, outputs)
	for r := range n {
		row := x.Doubles[r*p : (r+1)*p]
		clear(acc)
		for _, root := range roots {
			leaf := walkTree(nodes, row, root)
			if leaf < 0 {
				return nil, fmt.Errorf("tree %d has a cycle", treeIDs[root])
			}
			for _, wi := range nodes[leaf].leaf {
				acc[wOut[wi]] = add(acc[wOut[wi]], w[wi])
			}
		}
		for c := range base {
			acc[c] = add(acc[c], base[c])
		}
		for c, v := range acc {
			scores[r*outputs+c] = float32(v)
		}
	}
	post := str("post_transform", "NONE")
	if !cls {
		if post != "NONE" {
			return nil, fmt.Errorf("regressor post_transform %s is not supported", post)
		}
		return []*Tensor{{Shape: []int{n, outputs}, Floats: scores}}, nil
	}
	return classify(scores, labels, outputs, post, allPos)
}

// AttrReals reads a FLOATS attribute k or a tensor attribute k_as_tensor
// (double or float) as float64s.
func AttrReals(a map[string]*onnxpb.AttributeProto, k string) ([]float64, error) {
	if at := a[k+"_as_tensor"]; at != nil {
		t := at.GetT()
		switch onnxpb.TensorProto_DataType(t.GetDataType()) {
		case onnxpb.TensorProto_DOUBLE:
			if len(t.GetRawData()) > 0 {
				raw := t.GetRawData()
				out := make([]float64, len(raw)/8)
				for i := range out {
					out[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
				}
				return out, nil
			}
			return t.GetDoubleData(), nil
		case onnxpb.TensorProto_FLOAT:
			out := make([]float64, len(t.GetFloatData()))
			for i, v := range t.GetFloatData() {
				out[i] = float64(v)
			}
			return out, nil
		}
		return nil, fmt.Errorf("attribute %s_as_tensor has element type %d", k, t.GetDataType())
	}
	f := a[k].GetFloats()
	out := make([]float64, len(f))
	for i, v := range f {
		out[i] = float64(v)
	}
	return out, nil
}

// walkTree returns the leaf that row reaches from node i, or -1 when the
// walk takes more steps than there are nodes (a cycle).
func walkTree(nodes []enode, row []float64, i int) int {
	m := len(nodes)
	for steps := 0; nodes[i].mode != "LEAF"; steps++ {
		if steps > m {
			return -1
		}
		nd := &nodes[i]
		v := row[nd.feat]
		var c bool
		switch nd.mode {
		case "BRANCH_LEQ":
			c = v <= nd.value
		case "BRANCH_LT":
			c = v < nd.value
		case "BRANCH_GTE":
			c = v >= nd.value
		case "BRANCH_GT":
			c = v > nd.value
		case "BRANCH_EQ":
			c = v == nd.value
		case "BRANCH_NEQ":
			c = v != nd.value
		}
		if v != v && nd.missingTrue {
			c = true
		}
		if c {
			i = nd.t
		} else {
			i = nd.f
		}
	}
	return i
}

// classify turns a classifier's scores (n×outputs) into labels and
// probabilities the way onnxruntime does for post_transform post.
func classify(scores []float32, labels []string, outputs int, post string, allPos bool) ([]*Tensor, error) {
	n := len(scores) / max(outputs, 1)
	k := len(labels)
	lab := &Tensor{Shape: []int{n}, Strings: make([]string, n)}
	prob := &Tensor{Shape: []int{n, k}, Floats: make([]float32, n*k)}
	switch {
	case k == 2 && outputs == 1 && post == "LOGISTIC":
		for r := range n {
			s := scores[r]
			if allPos {
				// onnxruntime: threshold 0.5, and the raw score is
				// reported as a probability without the logistic.
				lab.Strings[r] = labels[b2i(s > 0.5)]
				prob.Floats[2*r], prob.Floats[2*r+1] = 1-s, s
				continue
			}
			lab.Strings[r] = labels[b2i(s > 0)]
			prob.Floats[2*r] = float32(1 / (1 + math.Exp(float64(s))))
			prob.Floats[2*r+1] = float32(1 / (1 + math.Exp(-float64(s))))
		}
	case outputs == k && post == "SOFTMAX":
		for r := range n {
			s := scores[r*k : (r+1)*k]
			best := 0
			for c := range s {
				if s[c] > s[best] {
					best = c
				}
			}
			lab.Strings[r] = labels[best]
			mx := float64(s[best])
			sum := 0.0
			e := make([]float64, k)
			for c := range s {
				e[c] = math.Exp(float64(s[c]) - mx)
				sum += e[c]
			}
			for c := range s {
				prob.Floats[r*k+c] = float32(e[c] / sum)
			}
		}
	default:
		return nil, fmt.Errorf("classifier with %d labels, %d score columns and post_transform %s is not supported", k, outputs, post)
	}
	return []*Tensor{lab, prob}, nil
}

// evalSplit splits a [N, k] float tensor along axis 1 into len(outputs)
// equal parts (opset 13–17 Split without a split input).
func evalSplit(nd *onnxpb.NodeProto, t *Tensor) ([]*Tensor, error) {
	for _, at := range nd.GetAttribute() {
		if at.GetName() == "axis" && at.GetI() != 1 {
			return nil, fmt.Errorf("split on axis %d is not supported", at.GetI())
		}
	}
	parts := len(nd.GetOutput())
	if len(t.Shape) != 2 || parts == 0 || t.Shape[1]%parts != 0 || len(nd.GetInput()) != 1 {
		return nil, fmt.Errorf("cannot split shape %v into %d parts", t.Shape, parts)
	}
	n, k := t.Shape[0], t.Shape[1]
	w := k / parts
	outs := make([]*Tensor, parts)
	for o := range outs {
		outs[o] = &Tensor{Shape: []int{n, w}, Floats: make([]float32, n*w)}
		for r := range n {
			copy(outs[o].Floats[r*w:(r+1)*w], t.Floats[r*k+o*w:r*k+(o+1)*w])
		}
	}
	return outs, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
