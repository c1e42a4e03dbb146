package modelimport

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/gbdt"
	"github.com/gyre-ml/gyre/internal/onnx"
	"github.com/gyre-ml/gyre/internal/onnx/onnxpb"
)

// catData is a data set with a 12-level categorical feature whose levels
// matter in no particular order (so set splits of several codes appear),
// a numeric one and missing categories.
func catData(task learn.Task, n int) *learn.Dataset {
	r := rand.New(rand.NewPCG(3, 9))
	X := frame.NewMatrix(n, 2)
	y := make([]float64, n)
	effect := []float64{1, -2, 0.5, 3, -1, 2, -3, 0, 1.5, -0.5, 2.5, -1.5}
	for i := range n {
		c := float64(r.IntN(12))
		v := r.NormFloat64()
		f := effect[int(c)] + v
		if i%19 == 7 {
			c = math.NaN()
			f = 0.7 + v
		}
		X.Set(i, 0, c)
		X.Set(i, 1, v)
		y[i] = f + 0.1*r.NormFloat64()
		if task == learn.Binary {
			y[i] = 0
			if f > 0.3 {
				y[i] = 1
			}
		}
	}
	levels := make([]string, 12)
	for c := range levels {
		levels[c] = fmt.Sprintf("k%02d", c)
	}
	d := &learn.Dataset{X: X, Y: y, Task: task, Features: []learn.Feature{{Name: "kind", Categorical: true, Levels: levels}, {Name: "v"}}}
	if task == learn.Binary {
		d.Classes = []string{"no", "yes"}
	}
	return d
}

// Gyre's own exports of models with categorical splits (BRANCH_EQ chains
// over category codes, a BRANCH_LT 0 guard for missing values) import into
// bundles that take the categories by name and score exactly as the
// original, for float and double inputs.
func TestONNXCategoricalRoundTrip(t *testing.T) {
	for _, task := range []learn.Task{learn.Regression, learn.Binary} {
		d := catData(task, 600)
		m := fitGBDT(t, d, 20)
		want, _ := m.Raw(d.X)
		for _, double := range []bool{false, true} {
			data := exportGBDT(t, m, double)
			if !strings.Contains(string(data), "BRANCH_EQ") {
				t.Fatal("the export has no BRANCH_EQ node")
			}
			res, got := importRaw(t, data, "cat.onnx", d.X, fmt.Sprintf("%s double=%v", task, double))
			in := res.Bundle.Manifest.Input.Fields
			if in[0].Kind != frame.KindCategorical {
				t.Fatalf("kind is %s, want categorical (gyre.features metadata)", in[0].Kind)
			}
			for i := range want {
				if diff := math.Abs(got[i]-want[i]) / max(1, math.Abs(want[i])); diff > 1e-5 {
					t.Fatalf("%s double=%v: score %d: %v, Gyre %v", task, double, i, got[i], want[i])
				}
			}
			// The bundle codes category names as the original did.
			names := make([]string, d.X.Rows)
			miss := make([]bool, d.X.Rows)
			for i := range names {
				if c := d.X.At(i, 0); math.IsNaN(c) {
					miss[i] = true
				} else {
					names[i] = d.Features[0].Levels[int(c)]
				}
			}
			f := frame.MustNew(frame.NewCategorical("kind", names, miss), frame.NewFloat("v", d.X.Col(1)))
			p, err := res.Bundle.Predict(f)
			if err != nil {
				t.Fatal(err)
			}
			if task == learn.Regression {
				for i := range want {
					if diff := math.Abs(p.Values[i] - want[i]); diff > 1e-5*max(1, math.Abs(want[i])) {
						t.Fatalf("bundle row %d: %v, Gyre %v", i, p.Values[i], want[i])
					}
				}
			}
		}
	}
}

// eqModel is an ONNX regressor in the style of onnxmltools' LightGBM
// conversion: a BRANCH_EQ chain whose true branches share a subtree (the
// set {1, 3, 4, 7}), missing values tracked to the true side, a BRANCH_NEQ,
// a BRANCH_EQ on a non-integer value, shared subtrees, and numeric splits.
func eqModel(double bool) []byte {
	// tree 0: 0: EQ f0 1 -> 5 / 1; 1: EQ f0 3 -> 5 / 2; 2: EQ f0 4 -> 5 / 3;
	//         3: EQ f0 7 -> 5 / 4; 4: LEQ f1 0.5 -> 6 / 7; 5: NEQ f0 3 -> 8 / 9
	//         6..9 leaves
	// tree 1: 0: EQ f1 2.5 (missing -> true) -> 1 / 2; 1: leaf; 2: GT f0 5 -> 3 / 4 (missing -> true); 3, 4: leaves
	// tree 2: 0: NEQ f2 0 -> 1 / 2; 1: EQ f2 -2 -> 3 / 4; 2: leaf; 3, 4: leaves
	type nd struct {
		tree, id, feat int64
		mode           string
		val            float64
		yes, no        int64
		miss           int64
		leaf           float64
	}
	nodes := []nd{
		{0, 0, 0, "BRANCH_EQ", 1, 5, 1, 0, 0}, {0, 1, 0, "BRANCH_EQ", 3, 5, 2, 0, 0},
		{0, 2, 0, "BRANCH_EQ", 4, 5, 3, 0, 0}, {0, 3, 0, "BRANCH_EQ", 7, 5, 4, 0, 0},
		{0, 4, 1, "BRANCH_LEQ", 0.5, 6, 7, 1, 0}, {0, 5, 0, "BRANCH_NEQ", 3, 8, 9, 0, 0},
		{0, 6, 0, "LEAF", 0, 0, 0, 0, -1.25}, {0, 7, 0, "LEAF", 0, 0, 0, 0, 0.5},
		{0, 8, 0, "LEAF", 0, 0, 0, 0, 2}, {0, 9, 0, "LEAF", 0, 0, 0, 0, 3.75},
		{1, 0, 1, "BRANCH_EQ", 2.5, 1, 2, 1, 0}, {1, 1, 0, "LEAF", 0, 0, 0, 0, 10},
		{1, 2, 0, "BRANCH_GT", 5, 3, 4, 1, 0}, {1, 3, 0, "LEAF", 0, 0, 0, 0, -4}, {1, 4, 0, "LEAF", 0, 0, 0, 0, 0.125},
		{2, 0, 2, "BRANCH_NEQ", 0, 1, 2, 0, 0}, {2, 1, 2, "BRANCH_EQ", -2, 3, 4, 0, 0},
		{2, 2, 0, "LEAF", 0, 0, 0, 0, 100}, {2, 3, 0, "LEAF", 0, 0, 0, 0, 7}, {2, 4, 0, "LEAF", 0, 0, 0, 0, -7},
	}
	ints := func(name string, f func(nd) int64) *onnxpb.AttributeProto {
		var v []int64
		for _, n := range nodes {
			v = append(v, f(n))
		}
		return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
	}
	var modes [][]byte
	var vals []float32
	var lt, ln, lid []int64
	var lw []float32
	for _, n := range nodes {
		modes = append(modes, []byte(n.mode))
		vals = append(vals, float32(n.val))
		if n.mode == "LEAF" {
			lt, ln, lid, lw = append(lt, n.tree), append(ln, n.id), append(lid, 0), append(lw, float32(n.leaf))
		}
	}
	attrs := []*onnxpb.AttributeProto{
		ints("nodes_treeids", func(n nd) int64 { return n.tree }),
		ints("nodes_nodeids", func(n nd) int64 { return n.id }),
		ints("nodes_featureids", func(n nd) int64 { return n.feat }),
		ints("nodes_truenodeids", func(n nd) int64 { return n.yes }),
		ints("nodes_falsenodeids", func(n nd) int64 { return n.no }),
		ints("nodes_missing_value_tracks_true", func(n nd) int64 { return n.miss }),
		{Name: proto.String("nodes_modes"), Type: onnxpb.AttributeProto_STRINGS.Enum(), Strings: modes},
		{Name: proto.String("nodes_values"), Type: onnxpb.AttributeProto_FLOATS.Enum(), Floats: vals},
		{Name: proto.String("target_treeids"), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: lt},
		{Name: proto.String("target_nodeids"), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: ln},
		{Name: proto.String("target_ids"), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: lid},
		{Name: proto.String("target_weights"), Type: onnxpb.AttributeProto_FLOATS.Enum(), Floats: lw},
		{Name: proto.String("n_targets"), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(1)},
		{Name: proto.String("base_values"), Type: onnxpb.AttributeProto_FLOATS.Enum(), Floats: []float32{0.25}},
	}
	elem := onnxpb.TensorProto_FLOAT
	if double {
		elem = onnxpb.TensorProto_DOUBLE
	}
	tensor := func(name string, et onnxpb.TensorProto_DataType, p int64) *onnxpb.ValueInfoProto {
		return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(et)),
			Shape:    &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}}, {Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: p}}}},
		}}}}
	}
	mp := &onnxpb.ModelProto{
		IrVersion:    proto.Int64(8),
		ProducerName: proto.String("gyre-test (onnxmltools-style equality splits)"),
		OpsetImport:  []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(17)}, {Domain: proto.String("ai.onnx.ml"), Version: proto.Int64(3)}},
		Graph: &onnxpb.GraphProto{
			Name:   proto.String("eq"),
			Input:  []*onnxpb.ValueInfoProto{tensor("X", elem, 3)},
			Output: []*onnxpb.ValueInfoProto{tensor("variable", onnxpb.TensorProto_FLOAT, 1)},
			Node: []*onnxpb.NodeProto{{OpType: proto.String("TreeEnsembleRegressor"), Domain: proto.String("ai.onnx.ml"),
				Input: []string{"X"}, Output: []string{"variable"}, Attribute: attrs}},
		},
	}
	b, err := proto.Marshal(mp)
	if err != nil {
		panic(err)
	}
	return b
}

// eqRows are inputs on and around the codes: exact codes, values between,
// negative, out of range, NaN, and values that round onto a float32 code.
func eqRows() [][]float64 {
	nan := math.NaN()
	f0 := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 3.5, -1, 1e9, nan, 1.0000000001, 2.9999999999, math.Nextafter(3, 4)}
	f1 := []float64{0, 0.5, 0.50000001, 2.5, 2.4999999, nan, -3, 2.5000001}
	f2 := []float64{0, -2, -2.0000001, 1, nan, -0.0}
	var rows [][]float64
	for i := range 96 {
		rows = append(rows, []float64{f0[i%len(f0)], f1[(i/2)%len(f1)], f2[(i/3)%len(f2)]})
	}
	return rows
}

// Equality splits import with onnxruntime's answers (onnxruntime-node's
// predictions, testdata/modelimport/ort_ref.js), float and double inputs,
// on codes and on values that are not codes.
func TestONNXEqualitySplits(t *testing.T) {
	if os.Getenv("GYRE_WRITE_FIXTURES") != "" {
		writeEqFixtures(t)
	}
	for _, fx := range []struct{ model, rows, preds string }{
		{"eq_float.onnx", "eq_rows.csv", "eq_float.pred.csv"},
		{"eq_double.onnx", "eq_rows.csv", "eq_double.pred.csv"},
	} {
		checkAgainst(t, fx.model, fx.rows, fx.preds, Options{Target: "y", Features: []string{"f0", "f1", "f2"}})
	}
	// And the Go reference interpreter agrees on the same rows.
	rows := eqRows()
	x := make([]float64, 0, 3*len(rows))
	for _, r := range rows {
		x = append(x, r...)
	}
	for _, double := range []bool{false, true} {
		data := eqModel(double)
		out, err := onnx.Evaluate(data, x, len(rows), 3)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Import(data, "eq.onnx", Options{})
		if err != nil {
			t.Fatal(err)
		}
		X := frame.NewMatrix(len(rows), 3)
		for i, r := range rows {
			for j, v := range r {
				if !double {
					v = float64(float32(v))
				}
				X.Set(i, j, v)
			}
		}
		got, _ := gbdt.AsModel(res.Bundle.Members[0].Model).Raw(X)
		for i := range rows {
			if want := float64(out[onnx.OutputValue].Floats[i]); math.Abs(got[i]-want) > 1e-5 {
				t.Errorf("double=%v row %v: %v, reference %v", double, rows[i], got[i], want)
			}
		}
	}
}

// writeEqFixtures writes the equality-split graphs and their input rows
// (GYRE_WRITE_FIXTURES=1 go test -run TestONNXEqualitySplits); ort_ref.js
// then writes the predictions.
func writeEqFixtures(t *testing.T) {
	for name, double := range map[string]bool{"eq_float.onnx": false, "eq_double.onnx": true} {
		if err := os.WriteFile(filepath.Join(dir, name), eqModel(double), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	b.WriteString("f0,f1,f2\n")
	for _, r := range eqRows() {
		for j, v := range r {
			if j > 0 {
				b.WriteByte(',')
			}
			if !math.IsNaN(v) {
				b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
			}
		}
		b.WriteByte('\n')
	}
	if err := os.WriteFile(filepath.Join(dir, "eq_rows.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
