//go:build onnxruntime

package onnx

// Runs the exports in onnxruntime through Node.js and the npm package
// onnxruntime-node@1.30.0 (no cgo):
//
//	(cd /tmp/ort && npm install --ignore-scripts onnxruntime-node@1.30.0)
//	GYRE_TEST_ORT_NODE_PATH=/tmp/ort/node_modules go test -tags onnxruntime -run ORT ./internal/onnx/

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/gbdt"
)

type ortTensor struct {
	Dims []int `json:"dims"`
	Data []any `json:"data"`
}

func runORT(t *testing.T, model []byte, in []float64, n, p int, double bool) map[string]ortTensor {
	t.Helper()
	nodePath := os.Getenv("GYRE_TEST_ORT_NODE_PATH")
	if nodePath == "" {
		t.Skip("GYRE_TEST_ORT_NODE_PATH (a node_modules holding onnxruntime-node@1.30.0) is not set")
	}
	dir := t.TempDir()
	mp, ip := filepath.Join(dir, "m.onnx"), filepath.Join(dir, "in.json")
	data := make([]any, len(in))
	for i, v := range in {
		if !math.IsNaN(v) {
			data[i] = v
		}
	}
	js, err := json.Marshal(map[string]any{"rows": n, "cols": p, "double": double, "data": data})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mp, model, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ip, js, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "../../testdata/onnx/ort_run.js", mp, ip)
	cmd.Env = append(os.Environ(), "NODE_PATH="+nodePath)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("onnxruntime: %v\n%s", err, stderr)
	}
	var res map[string]ortTensor
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("onnxruntime output: %v", err)
	}
	return res
}

func TestORT(t *testing.T) {
	cases := []struct {
		name        string
		task        learn.Task
		categorical bool
		objective   string
	}{
		{"regression-categorical", learn.Regression, true, ""},
		{"poisson", learn.Regression, true, gbdt.ObjPoisson},
		{"binary", learn.Binary, false, ""},
		{"binary-categorical", learn.Binary, true, ""},
		{"multiclass-categorical", learn.Multiclass, true, ""},
	}
	for _, c := range cases {
		for _, double := range []bool{false, true} {
			name := c.name
			if double {
				name += "-double"
			}
			t.Run(name, func(t *testing.T) {
				train := synth(1500, c.task, c.categorical, 1)
				if c.objective == gbdt.ObjPoisson {
					for i, v := range train.Y {
						train.Y[i] = math.Floor(math.Exp(v / 20))
					}
				}
				m := fit(t, train, func(l *gbdt.Learner) { l.Objective = c.objective })
				var opts []Option
				if double {
					opts = append(opts, WithDoubleInput())
				}
				model, err := ExportGBDT(m, nil, opts...)
				if err != nil {
					t.Fatal(err)
				}
				test := synth(1000, c.task, c.categorical, 2)
				Xg, in := rowMajor(test.X, double)
				n := test.X.Rows
				res := runORT(t, model, in, n, test.X.Cols, double)
				ref, err := Evaluate(model, in, n, test.X.Cols)
				if err != nil {
					t.Fatal(err)
				}
				worst, worstRef := 0.0, 0.0
				if !m.Task().Classification() {
					want, _ := m.Predict(Xg)
					got := res[OutputValue].Data
					if len(got) != n {
						t.Fatalf("onnxruntime gave %d values, want %d", len(got), n)
					}
					for i := range n {
						v := got[i].(float64)
						d := math.Abs(v-want[i]) / max(1, math.Abs(want[i]))
						worst = max(worst, d)
						worstRef = max(worstRef, math.Abs(v-float64(ref[OutputValue].Floats[i]))/max(1, math.Abs(want[i])))
						if d > 1e-5 {
							t.Fatalf("row %d: onnxruntime %v, gyre %v", i, v, want[i])
						}
					}
				} else {
					want, _ := m.Probabilities(Xg)
					pred, _ := m.Predict(Xg)
					got := res[OutputProbability].Data
					if len(got) != len(want) {
						t.Fatalf("onnxruntime gave %d probabilities, want %d", len(got), len(want))
					}
					for i := range want {
						v := got[i].(float64)
						worst = max(worst, math.Abs(v-want[i]))
						worstRef = max(worstRef, math.Abs(v-float64(ref[OutputProbability].Floats[i])))
						if math.Abs(v-want[i]) > 1e-5 {
							t.Fatalf("row %d class %d: onnxruntime %v, gyre %v", i/len(m.Classes()), i%len(m.Classes()), v, want[i])
						}
					}
					for i := range n {
						if l := res[OutputLabel].Data[i].(string); l != m.Classes()[int(pred[i])] {
							t.Fatalf("row %d: onnxruntime label %q, gyre %q", i, l, m.Classes()[int(pred[i])])
						}
					}
				}
				t.Logf("%d rows: max difference onnxruntime vs gyre %.3g, vs onnx.Evaluate %.3g", n, worst, worstRef)
			})
		}
	}
}
