package onnx

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/gbdt"
	"github.com/gyre-ml/gyre/internal/onnx/onnxpb"
)

// Opset versions of the exported models.
const (
	// OpsetONNX is the default-domain opset (used by the Exp node).
	OpsetONNX = 17
	// OpsetML is the ai.onnx.ml opset (TreeEnsembleRegressor/Classifier).
	OpsetML = 3
	// IRVersion is the ONNX IR version of the exported models.
	IRVersion = 8
)

// Tensor names of the exported graphs.
const (
	InputName         = "input"
	OutputValue       = "variable"
	OutputLabel       = "label"
	OutputProbability = "probabilities"
)

// Option adjusts an export.
type Option func(*options)

type options struct {
	name, doc, version string
	meta               [][2]string
	double             bool
	columns            bool
	temperature        float64
}

// WithGraphName sets the graph's name (default "gyre_gbdt").
func WithGraphName(name string) Option { return func(o *options) { o.name = name } }

// WithDoc sets the model's doc_string.
func WithDoc(doc string) Option { return func(o *options) { o.doc = doc } }

// WithProducerVersion sets producer_version (the Gyre version).
func WithProducerVersion(v string) Option { return func(o *options) { o.version = v } }

// WithDoubleInput makes the input a double tensor and stores thresholds,
// leaf weights and base values as double tensors (nodes_values_as_tensor,
// ..._weights_as_tensor, base_values_as_tensor), so a runtime that
// evaluates in double (onnxruntime does for double input) reproduces Gyre's
// float64 predictions to float32 output precision. The outputs stay float,
// as the operators define them.
func WithDoubleInput() Option { return func(o *options) { o.double = true } }

// WithTemperature exports a classifier with its probabilities calibrated by
// temperature t (a bundle's Manifest.Temperature; learn.ScaleProba). Scaling
// probabilities p_c^(1/t) renormalised is the same as dividing the trees'
// raw scores by t before the logistic or softmax, so the exported graph folds
// 1/t into the leaf weights and base values. 0 and 1 mean no calibration.
func WithTemperature(t float64) Option { return func(o *options) { o.temperature = t } }

// WithProbabilityColumns replaces a classifier's [N, classes]
// "probabilities" output with one [N, 1] output per class, named
// ProbabilityColumn(class), split off it by a Split node: runtimes that turn
// every output into one table column (MLflow's ONNX pyfunc flattens each
// output) can then return a row per input row.
func WithProbabilityColumns() Option { return func(o *options) { o.columns = true } }

// ProbabilityColumn names the per-class output WithProbabilityColumns
// writes: "proba_" + class, as gyre predict names its columns.
func ProbabilityColumn(class string) string { return "proba_" + class }

// WithMetadata adds a metadata_props entry.
func WithMetadata(key, value string) Option {
	return func(o *options) { o.meta = append(o.meta, [2]string{key, value}) }
}

// ExportGBDT serialises m as an ONNX model (see the package documentation
// for its inputs and outputs). features describes the model's input
// columns; nil means m.Features().
func ExportGBDT(m *gbdt.Model, features []learn.Feature, opts ...Option) ([]byte, error) {
	mp, err := BuildGBDT(m, features, opts...)
	if err != nil {
		return nil, err
	}
	data, err := proto.Marshal(mp)
	if err != nil {
		return nil, fmt.Errorf("onnx export: encode protobuf: %w", err)
	}
	return data, nil
}

// scaledBase returns the model's base scores and the factor every leaf is
// multiplied by: 1/t for a temperature t (classifiers only; 0 or 1: none).
func scaledBase(m *gbdt.Model, t float64) ([]float64, float64, error) {
	base := m.BaseScore()
	if t == 0 || t == 1 {
		return base, 1, nil
	}
	if !(t > 0) || math.IsInf(t, 0) {
		return nil, 0, fmt.Errorf("onnx export: temperature %v: want a positive number", t)
	}
	if obj := m.Objective(); obj != gbdt.ObjBinary && obj != gbdt.ObjSoftmax {
		return nil, 0, fmt.Errorf("onnx export: a temperature calibrates class probabilities; the model's objective is %s", obj)
	}
	scale := 1 / t
	base = slices.Clone(base)
	for i := range base {
		base[i] *= scale
	}
	return base, scale, nil
}

// checkTrees checks that every tree adds to one of k outputs and splits on
// one of p features.
func checkTrees(trees []gbdt.ExportedTree, k, p int) error {
	for ti, t := range trees {
		if t.Output < 0 || t.Output >= k {
			return fmt.Errorf("onnx export: tree %d adds to output %d, the model has %d", ti, t.Output, k)
		}
		for ni, n := range t.Nodes {
			if n.Feature < 0 || n.Feature >= p {
				return fmt.Errorf("onnx export: tree %d node %d splits on feature %d, the model has %d", ti, ni, n.Feature, p)
			}
		}
	}
	return nil
}

// BuildGBDT is ExportGBDT without the serialisation: it returns the ONNX
// ModelProto.
func BuildGBDT(m *gbdt.Model, features []learn.Feature, opts ...Option) (*onnxpb.ModelProto, error) {
	if m == nil {
		return nil, errors.New("onnx export: no model")
	}
	if features == nil {
		features = m.Features()
	}
	if want := len(m.Features()); len(features) != want {
		return nil, fmt.Errorf("onnx export: %d features given, the model was trained on %d", len(features), want)
	}
	o := options{name: "gyre_gbdt"}
	for _, f := range opts {
		f(&o)
	}
	base, scale, err := scaledBase(m, o.temperature)
	if err != nil {
		return nil, err
	}
	k := len(base)
	trees := m.ExportTrees()
	p := len(features)
	if err := checkTrees(trees, k, p); err != nil {
		return nil, err
	}

	var te treeEnsemble
	for ti, t := range trees {
		if err := te.addTree(int64(ti), t); err != nil {
			return nil, fmt.Errorf("onnx export: tree %d: %w", ti, err)
		}
	}
	if scale != 1 {
		for i := range te.leafW {
			te.leafW[i] *= scale
		}
	}

	g := &onnxpb.GraphProto{Name: proto.String(o.name)}
	inType := onnxpb.TensorProto_FLOAT
	if o.double {
		inType = onnxpb.TensorProto_DOUBLE
	}
	g.Input = []*onnxpb.ValueInfoProto{tensorInfo(InputName, inType, "N", int64(p))}
	attrs := te.nodeAttrs(o.double)

	switch obj := m.Objective(); obj {
	case gbdt.ObjSquared, gbdt.ObjAbsolute, gbdt.ObjHuber, gbdt.ObjPoisson:
		if k != 1 {
			return nil, fmt.Errorf("onnx export: %s model has %d outputs, want 1", obj, k)
		}
		out := OutputValue
		if obj == gbdt.ObjPoisson {
			out = "raw_score"
		}
		attrs = append(attrs,
			intsAttr("target_treeids", te.leafTree), intsAttr("target_nodeids", te.leafNode),
			intsAttr("target_ids", te.leafOut), realsAttr("target_weights", te.leafW, o.double),
			intAttr("n_targets", 1), stringAttr("aggregate_function", "SUM"),
			stringAttr("post_transform", "NONE"), realsAttr("base_values", base, o.double))
		g.Node = append(g.Node, node("TreeEnsembleRegressor", "ai.onnx.ml", []string{InputName}, []string{out}, attrs))
		if obj == gbdt.ObjPoisson {
			g.Node = append(g.Node, node("Exp", "", []string{out}, []string{OutputValue}, nil))
		}
		g.Output = []*onnxpb.ValueInfoProto{tensorInfo(OutputValue, onnxpb.TensorProto_FLOAT, "N", 1)}
	case gbdt.ObjBinary, gbdt.ObjSoftmax:
		classes := m.Classes()
		nc := max(k, 2)
		if len(classes) == 0 {
			for c := range nc {
				classes = append(classes, strconv.Itoa(c))
			}
		}
		if len(classes) != nc {
			return nil, fmt.Errorf("onnx export: %s model has %d classes and %d outputs", obj, len(classes), k)
		}
		post := "SOFTMAX"
		if obj == gbdt.ObjBinary {
			post = "LOGISTIC"
			// onnxruntime labels a binary row class 1 when its score is
			// > 0.5 if every leaf weight is ≥ 0, else when it is > 0 (as
			// Gyre does). Keep it on the second rule with one extra
			// single-leaf tree of negligible negative weight.
			allPos := true
			for _, w := range te.leafW {
				allPos = allPos && w >= 0
			}
			if allPos {
				te.addLeafTree(int64(len(trees)), 0, -math.SmallestNonzeroFloat32)
				attrs = te.nodeAttrs(o.double)
			}
		}
		labels := make([][]byte, len(classes))
		for i, c := range classes {
			labels[i] = []byte(c)
		}
		attrs = append(attrs,
			intsAttr("class_treeids", te.leafTree), intsAttr("class_nodeids", te.leafNode),
			intsAttr("class_ids", te.leafOut), realsAttr("class_weights", te.leafW, o.double),
			&onnxpb.AttributeProto{Name: proto.String("classlabels_strings"), Type: onnxpb.AttributeProto_STRINGS.Enum(), Strings: labels},
			stringAttr("post_transform", post), realsAttr("base_values", base, o.double))
		g.Node = append(g.Node, node("TreeEnsembleClassifier", "ai.onnx.ml", []string{InputName}, []string{OutputLabel, OutputProbability}, attrs))
		g.Output = []*onnxpb.ValueInfoProto{
			tensorInfo(OutputLabel, onnxpb.TensorProto_STRING, "N"),
			tensorInfo(OutputProbability, onnxpb.TensorProto_FLOAT, "N", int64(nc)),
		}
		splitProbabilities(g, classes, o.columns)
	default:
		return nil, fmt.Errorf("onnx export: objective %q is not supported (want squared, absolute, huber, poisson, binary or softmax)", obj)
	}

	type featMeta struct {
		Name        string   `json:"name"`
		Categorical bool     `json:"categorical,omitempty"`
		Levels      []string `json:"levels,omitempty"`
	}
	fm := make([]featMeta, p)
	for j, f := range features {
		fm[j] = featMeta{f.Name, f.Categorical, f.Levels}
	}
	fj, err := json.Marshal(fm)
	if err != nil {
		return nil, fmt.Errorf("onnx export: encode feature metadata: %w", err)
	}
	meta := []*onnxpb.StringStringEntryProto{
		{Key: proto.String("gyre.features"), Value: proto.String(string(fj))},
		{Key: proto.String("gyre.objective"), Value: proto.String(m.Objective())},
		{Key: proto.String("gyre.task"), Value: proto.String(m.Task().String())},
	}
	for _, kv := range o.meta {
		meta = append(meta, &onnxpb.StringStringEntryProto{Key: proto.String(kv[0]), Value: proto.String(kv[1])})
	}
	mp := &onnxpb.ModelProto{
		IrVersion:       proto.Int64(IRVersion),
		ProducerName:    proto.String("gyre"),
		ProducerVersion: proto.String(o.version),
		Domain:          proto.String("ml.gyre"),
		ModelVersion:    proto.Int64(1),
		Graph:           g,
		MetadataProps:   meta,
		OpsetImport: []*onnxpb.OperatorSetIdProto{
			{Domain: proto.String(""), Version: proto.Int64(OpsetONNX)},
			{Domain: proto.String("ai.onnx.ml"), Version: proto.Int64(OpsetML)},
		},
	}
	if o.doc != "" {
		mp.DocString = proto.String(o.doc)
	}
	return mp, nil
}

// treeEnsemble accumulates the node and leaf attribute arrays of a
// TreeEnsemble* node.
type treeEnsemble struct {
	treeID, nodeID, featID, trueID, falseID, missTrue []int64
	modes                                             []string
	values                                            []float64
	leafTree, leafNode, leafOut                       []int64
	leafW                                             []float64
}

// add appends a node to the current tree and returns its id (its index
// within the tree).
func (te *treeEnsemble) add(tree, id int64) int {
	te.treeID = append(te.treeID, tree)
	te.nodeID = append(te.nodeID, id)
	te.featID = append(te.featID, 0)
	te.trueID = append(te.trueID, 0)
	te.falseID = append(te.falseID, 0)
	te.missTrue = append(te.missTrue, 0)
	te.modes = append(te.modes, "LEAF")
	te.values = append(te.values, 0)
	return len(te.treeID) - 1
}

func (te *treeEnsemble) addLeafTree(tree, out int64, w float64) {
	te.add(tree, 0)
	te.leafTree = append(te.leafTree, tree)
	te.leafNode = append(te.leafNode, 0)
	te.leafOut = append(te.leafOut, out)
	te.leafW = append(te.leafW, w)
}

// addTree appends one Gyre tree. Node ids are assigned in pre-order, so the
// root is node 0 and the tree's nodes are contiguous.
func (te *treeEnsemble) addTree(tree int64, t gbdt.ExportedTree) error {
	start := len(te.treeID)
	next := int64(0)
	newNode := func() int {
		i := te.add(tree, next)
		next++
		return i
	}
	var emit func(child, depth int) (int64, error)
	emit = func(child, depth int) (int64, error) {
		if depth > 10000 {
			return 0, errors.New("tree is too deep or has a cycle")
		}
		if child < 0 {
			leaf := ^child
			if leaf >= len(t.Leaves) {
				return 0, fmt.Errorf("leaf %d out of range (%d leaves)", leaf, len(t.Leaves))
			}
			i := newNode()
			te.leafTree = append(te.leafTree, tree)
			te.leafNode = append(te.leafNode, te.nodeID[i])
			te.leafOut = append(te.leafOut, int64(t.Output))
			te.leafW = append(te.leafW, t.Leaves[leaf])
			return te.nodeID[i], nil
		}
		if child >= len(t.Nodes) {
			return 0, fmt.Errorf("node %d out of range (%d nodes)", child, len(t.Nodes))
		}
		n := t.Nodes[child]
		if !n.Categorical {
			i := newNode()
			te.featID[i] = int64(n.Feature)
			te.modes[i] = "BRANCH_LEQ"
			te.values[i] = n.Threshold
			if n.DefaultLeft {
				te.missTrue[i] = 1
			}
			l, err := emit(n.Left, depth+1)
			if err != nil {
				return 0, err
			}
			r, err := emit(n.Right, depth+1)
			if err != nil {
				return 0, err
			}
			te.trueID[i], te.falseID[i] = l, r
			return te.nodeID[i], nil
		}
		// Categorical: [x < 0 → default side] then x == c₁ → left,
		// x == c₂ → left, ..., else right.
		var chain []int
		guard := -1
		if n.DefaultLeft || len(n.LeftCodes) == 0 {
			guard = newNode()
			te.featID[guard] = int64(n.Feature)
			te.modes[guard] = "BRANCH_LT"
			te.values[guard] = 0
			te.missTrue[guard] = 1
		}
		for _, c := range n.LeftCodes {
			if c > 1<<24 {
				return 0, fmt.Errorf("category code %d of feature %d is not exact in float32", c, n.Feature)
			}
			i := newNode()
			te.featID[i] = int64(n.Feature)
			te.modes[i] = "BRANCH_EQ"
			te.values[i] = float64(c)
			chain = append(chain, i)
		}
		l, err := emit(n.Left, depth+1)
		if err != nil {
			return 0, err
		}
		r, err := emit(n.Right, depth+1)
		if err != nil {
			return 0, err
		}
		for ci, i := range chain {
			te.trueID[i] = l
			if ci+1 < len(chain) {
				te.falseID[i] = te.nodeID[chain[ci+1]]
			} else {
				te.falseID[i] = r
			}
		}
		if guard >= 0 {
			te.trueID[guard] = r
			if n.DefaultLeft {
				te.trueID[guard] = l
			}
			te.falseID[guard] = r
			if len(chain) > 0 {
				te.falseID[guard] = te.nodeID[chain[0]]
			}
			return te.nodeID[guard], nil
		}
		return te.nodeID[chain[0]], nil
	}
	root := 0
	if len(t.Nodes) == 0 {
		root = ^0
	}
	if _, err := emit(root, 0); err != nil {
		te.truncate(start)
		return err
	}
	return nil
}

func (te *treeEnsemble) truncate(n int) {
	te.treeID, te.nodeID, te.featID = te.treeID[:n], te.nodeID[:n], te.featID[:n]
	te.trueID, te.falseID, te.missTrue = te.trueID[:n], te.falseID[:n], te.missTrue[:n]
	te.modes, te.values = te.modes[:n], te.values[:n]
}

// nodeAttrs returns the node attributes; thresholds are rounded down to
// float32 unless double.
func (te *treeEnsemble) nodeAttrs(double bool) []*onnxpb.AttributeProto {
	values := realsAttr("nodes_values", te.values, true)
	if !double {
		f := make([]float32, len(te.values))
		for i, v := range te.values {
			f[i] = floorFloat32(v)
		}
		values = floatsAttr("nodes_values", f)
	}
	modes := make([][]byte, len(te.modes))
	for i, m := range te.modes {
		modes[i] = []byte(m)
	}
	return []*onnxpb.AttributeProto{
		intsAttr("nodes_treeids", te.treeID),
		intsAttr("nodes_nodeids", te.nodeID),
		intsAttr("nodes_featureids", te.featID),
		{Name: proto.String("nodes_modes"), Type: onnxpb.AttributeProto_STRINGS.Enum(), Strings: modes},
		values,
		intsAttr("nodes_truenodeids", te.trueID),
		intsAttr("nodes_falsenodeids", te.falseID),
		intsAttr("nodes_missing_value_tracks_true", te.missTrue),
	}
}

// floorFloat32 returns the largest float32 ≤ v, so that for every float32
// x, x ≤ v exactly when x ≤ floorFloat32(v).
func floorFloat32(v float64) float32 {
	f := float32(v)
	if float64(f) > v {
		f = math.Nextafter32(f, float32(math.Inf(-1)))
	}
	return f
}

func toFloat32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// splitProbabilities replaces a classifier graph's probabilities output
// with one [N, 1] output per class, split off it, when on
// (WithProbabilityColumns).
func splitProbabilities(g *onnxpb.GraphProto, classes []string, on bool) {
	if !on {
		return
	}
	g.Output = g.Output[:1]
	cols := make([]string, len(classes))
	for c, name := range classes {
		cols[c] = ProbabilityColumn(name)
		g.Output = append(g.Output, tensorInfo(cols[c], onnxpb.TensorProto_FLOAT, "N", 1))
	}
	g.Node = append(g.Node, node("Split", "", []string{OutputProbability}, cols, []*onnxpb.AttributeProto{intAttr("axis", 1)}))
}

func node(op, domain string, in, out []string, attrs []*onnxpb.AttributeProto) *onnxpb.NodeProto {
	n := &onnxpb.NodeProto{OpType: proto.String(op), Input: in, Output: out, Attribute: attrs, Name: proto.String(op)}
	if domain != "" {
		n.Domain = proto.String(domain)
	}
	return n
}

func tensorInfo(name string, elem onnxpb.TensorProto_DataType, batch string, dims ...int64) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{
		{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: batch}},
	}}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
	}
	return &onnxpb.ValueInfoProto{
		Name: proto.String(name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(elem)),
			Shape:    shape,
		}}},
	}
}

// realsAttr is a FLOATS attribute name, or with double a 1-D DOUBLE tensor
// attribute name_as_tensor.
func realsAttr(name string, v []float64, double bool) *onnxpb.AttributeProto {
	if !double {
		return floatsAttr(name, toFloat32(v))
	}
	return &onnxpb.AttributeProto{Name: proto.String(name + "_as_tensor"), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: &onnxpb.TensorProto{
		DataType:   proto.Int32(int32(onnxpb.TensorProto_DOUBLE)),
		Dims:       []int64{int64(len(v))},
		DoubleData: append([]float64(nil), v...),
	}}
}

func intsAttr(name string, v []int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

func floatsAttr(name string, v []float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOATS.Enum(), Floats: v}
}

func intAttr(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func stringAttr(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}
