package modelimport

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/gbdt"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
	"github.com/gyre-ml/gyre/internal/onnx"
	"github.com/gyre-ml/gyre/internal/onnx/onnxpb"
)

// Gyre's own ONNX exports (float and double inputs, every task) import
// back into models that score as the original: exactly with a double
// input, within float32 summation with a float one (on float32 inputs,
// which a float graph sees).
func TestONNXRoundTrip(t *testing.T) {
	for _, task := range []learn.Task{learn.Regression, learn.Binary, learn.Multiclass} {
		d := numericToy(task, 400, 3)
		for j := range d.X.Data {
			if j%17 == 0 {
				d.X.Data[j] = math.NaN()
			}
			d.X.Data[j] = float64(float32(d.X.Data[j]))
		}
		m := fitGBDT(t, d, 15)
		want, _ := m.Raw(d.X)
		for _, double := range []bool{false, true} {
			tol := 1e-5
			if double {
				tol = 1e-12
			}
			res, got := importRaw(t, exportGBDT(t, m, double), "gyre.onnx", d.X, fmt.Sprintf("%s double=%v", task, double))
			if m.Objective() == gbdt.ObjSoftmax {
				// Softmax scores are defined up to a shift per row: compare
				// differences to class 0.
				k := len(m.Classes())
				for i := 0; i < len(got); i += k {
					for c := k - 1; c >= 0; c-- {
						got[i+c] -= got[i]
						want[i+c] -= want[i]
					}
				}
			}
			for i := range want {
				if d := math.Abs(got[i]-want[i]) / max(1, math.Abs(want[i])); d > tol {
					t.Fatalf("%s double=%v: score %d: %v, Gyre %v", task, double, i, got[i], want[i])
				}
			}
			if names := res.Bundle.Manifest.Input.Fields; names[0].Name != m.Features()[0].Name {
				t.Errorf("feature names %v, want the gyre.features metadata", names)
			}
		}
	}
}

// Graphs beyond one tree ensemble are refused with what was found; a
// ZipMap after the classifier is accepted.
func TestONNXGraphShapes(t *testing.T) {
	d := numericToy(learn.Binary, 200, 1)
	data := exportGBDT(t, fitGBDT(t, d, 3), false)
	edit := func(f func(g *onnxpb.GraphProto)) []byte {
		var mp onnxpb.ModelProto
		if err := proto.Unmarshal(data, &mp); err != nil {
			t.Fatal(err)
		}
		f(mp.Graph)
		b, err := proto.Marshal(&mp)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	zip := edit(func(g *onnxpb.GraphProto) {
		g.Node = append(g.Node, &onnxpb.NodeProto{OpType: proto.String("ZipMap"), Domain: proto.String("ai.onnx.ml"),
			Input: []string{onnx.OutputProbability}, Output: []string{"zipped"}})
	})
	if _, err := Import(zip, "zip.onnx", Options{}); err != nil {
		t.Errorf("a ZipMap after the classifier: %v", err)
	}
	for name, bad := range map[string][]byte{
		"relu.onnx": edit(func(g *onnxpb.GraphProto) {
			g.Node = append([]*onnxpb.NodeProto{{OpType: proto.String("Relu"), Input: []string{onnx.InputName}, Output: []string{"r"}}}, g.Node...)
		}),
		"two.onnx": edit(func(g *onnxpb.GraphProto) { g.Node = append(g.Node, g.Node[0]) }),
		"none.onnx": edit(func(g *onnxpb.GraphProto) {
			g.Node = []*onnxpb.NodeProto{{OpType: proto.String("Identity"), Input: []string{onnx.InputName}, Output: []string{"y"}}}
		}),
		"int.onnx": edit(func(g *onnxpb.GraphProto) {
			g.Input[0].Type.GetTensorType().ElemType = proto.Int32(int32(onnxpb.TensorProto_INT64))
		}),
	} {
		_, err := Import(bad, name, Options{})
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	// Every truncation fails cleanly.
	for n := 1; n < len(data); n += 131 {
		if _, err := Import(data[:n], "cut.onnx", Options{Format: ONNX}); err == nil {
			t.Fatalf("an ONNX file cut at %d of %d bytes imported", n, len(data))
		}
	}
}

// numericToy is learntest's toy set with its category codes read as
// numbers (categorical features are covered by onnxcat_test.go).
// fitGBDT fits a GBDT of n trees on d.
func fitGBDT(t *testing.T, d *learn.Dataset, n int) *gbdt.Model {
	t.Helper()
	l := gbdt.New()
	l.NumTrees = n
	lm, err := l.Fit(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	return gbdt.AsModel(lm)
}

// exportGBDT is m's ONNX export, with a double input if double (else float).
func exportGBDT(t *testing.T, m *gbdt.Model, double bool) []byte {
	t.Helper()
	var opts []onnx.Option
	if double {
		opts = append(opts, onnx.WithDoubleInput())
	}
	data, err := onnx.ExportGBDT(m, m.Features(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// importRaw imports the ONNX model data (named name) and scores X with the
// bundle's GBDT: the import and the raw scores; what names the case in a
// failed import's message.
func importRaw(t *testing.T, data []byte, name string, X *frame.Matrix, what string) (*Result, []float64) {
	t.Helper()
	res, err := Import(data, name, Options{})
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	got, err := gbdt.AsModel(res.Bundle.Members[0].Model).Raw(X)
	if err != nil {
		t.Fatal(err)
	}
	return res, got
}

func numericToy(task learn.Task, n int, seed uint64) *learn.Dataset {
	d := learntest.Toy(task, n, seed)
	for j := range d.Features {
		d.Features[j] = learn.Feature{Name: d.Features[j].Name}
	}
	return d
}
