package serve

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
)

// v2Type is the Open Inference Protocol datatype of a column kind.
func v2Type(k frame.Kind) string {
	switch k {
	case frame.KindFloat:
		return "FP64"
	case frame.KindInt:
		return "INT64"
	case frame.KindBool:
		return "BOOL"
	}
	return "BYTES"
}

type v2Tensor struct {
	Name       string         `json:"name"`
	Shape      []int          `json:"shape"`
	Datatype   string         `json:"datatype"`
	Parameters map[string]any `json:"parameters,omitempty"`
	Data       any            `json:"data"`
}

// v2Request is an Open Inference Protocol v2 inference request.
type v2Request struct {
	ID         string         `json:"id"`
	Parameters map[string]any `json:"parameters"`
	Inputs     []v2Tensor     `json:"inputs"`
	Outputs    []v2Output     `json:"outputs"`
}

// v2Output is a requested output.
type v2Output struct {
	Name       string         `json:"name"`
	Parameters map[string]any `json:"parameters,omitempty"`
}

// v2Numeric lists the Open Inference Protocol's numeric datatypes.
var v2Numeric = []string{"UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64"}

// v2Accepts reports whether an input of the given datatype can feed a
// column of kind k: numbers of any width for numeric columns (JSON
// numbers carry no width), BOOL for booleans, BYTES for text, BYTES
// (RFC 3339) or an integer type (Unix seconds) for times. An absent
// datatype is taken as the column's.
func v2Accepts(k frame.Kind, datatype string) bool {
	if datatype == "" {
		return true
	}
	switch k {
	case frame.KindFloat, frame.KindInt:
		return slices.Contains(v2Numeric, datatype)
	case frame.KindBool:
		return datatype == "BOOL"
	case frame.KindTime:
		return datatype == "BYTES" || strings.HasPrefix(datatype, "INT") || strings.HasPrefix(datatype, "UINT")
	}
	return datatype == "BYTES"
}

// v2Known reports whether datatype is one the protocol defines.
func v2Known(datatype string) bool {
	return datatype == "BOOL" || datatype == "BYTES" || slices.Contains(v2Numeric, datatype)
}

// v2Outputs resolves a request's outputs against the model's (predict,
// then proba_<class> per class): nil when the request names none.
func v2Outputs(classes []string, req []v2Output) (*v2Answer, error) {
	if len(req) == 0 {
		return nil, nil
	}
	a := &v2Answer{outputs: make([]int, 0, len(req))}
	for _, o := range req {
		idx := -1
		if o.Name == "predict" {
			idx = 0
		} else if c, ok := strings.CutPrefix(o.Name, "proba_"); ok {
			if j := slices.Index(classes, c); j >= 0 {
				idx = j + 1
			}
		}
		if idx < 0 {
			names := []string{"predict"}
			for _, c := range classes {
				names = append(names, "proba_"+c)
			}
			return nil, &RequestError{Status: 400, Field: o.Name, Msg: fmt.Sprintf("no such output: this model's outputs are %s", strings.Join(names, ", "))}
		}
		if slices.Contains(a.outputs, idx) {
			return nil, &RequestError{Status: 400, Field: o.Name, Msg: "output requested twice"}
		}
		a.outputs = append(a.outputs, idx)
	}
	return a, nil
}

// decodeV2 decodes an inference request, through the fast path when it can.
func decodeV2(body []byte) (*v2Request, error) {
	if req, ok := fastV2(body); ok {
		return req, nil
	}
	req := &v2Request{}
	if err := decodeJSON(body, req); err != nil {
		return nil, err
	}
	return req, nil
}

// handleV2Server answers the server metadata request.
func (s *Server) handleV2Server(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]any{"name": "gyre", "version": s.opt.Version, "extensions": []string{}})
}

// v2Entry finds the model and checks the requested version, if any.
func (s *Server) v2Entry(r *http.Request) (*entry, error) {
	e, err := s.model(r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	if v := r.PathValue("version"); v != "" && v != e.cur.Load().version {
		return nil, &RequestError{Status: 404, Msg: fmt.Sprintf("model %q is serving version %s, not %s", e.name, e.cur.Load().version, v)}
	}
	return e, nil
}

func (s *Server) handleV2Metadata(w http.ResponseWriter, r *http.Request) {
	e, err := s.v2Entry(r)
	if err != nil {
		s.fail(w, protoV2, err)
		return
	}
	cur := e.cur.Load()
	m := cur.b.Manifest
	var inputs []map[string]any
	for _, f := range m.Input.Fields {
		inputs = append(inputs, map[string]any{"name": f.Name, "datatype": v2Type(f.Kind), "shape": []int{-1}})
	}
	outputs := []map[string]any{}
	if m.Classes != nil {
		outputs = append(outputs, map[string]any{"name": "predict", "datatype": "BYTES", "shape": []int{-1}})
		for _, c := range m.Classes {
			outputs = append(outputs, map[string]any{"name": "proba_" + c, "datatype": "FP64", "shape": []int{-1}})
		}
	} else {
		outputs = append(outputs, map[string]any{"name": "predict", "datatype": "FP64", "shape": []int{-1}})
	}
	writeJSON(w, map[string]any{"name": e.name, "versions": []string{cur.version}, "platform": "gyre", "inputs": inputs, "outputs": outputs,
		"parameters": map[string]any{"content_type": "pd"}})
}

func (s *Server) handleV2Ready(w http.ResponseWriter, r *http.Request) {
	e, err := s.v2Entry(r)
	if err != nil {
		s.fail(w, protoV2, err)
		return
	}
	writeJSON(w, map[string]any{"name": e.name, "ready": true})
}

func (s *Server) handleV2Infer(w http.ResponseWriter, r *http.Request) {
	x := exchange{s: s, w: w, proto: protoV2, start: time.Now(), name: r.PathValue("name"), code: 200}
	defer x.observe("v2_infer")
	e, err := s.v2Entry(r)
	cur, body, release, ok := x.load(r, e, err)
	if !ok {
		return
	}
	defer release()
	if x.rowHTTP(epInfer, e, cur, body, "") {
		return
	}
	req, err := decodeV2(body)
	if err != nil {
		x.fail(err)
		return
	}
	f, err := v2Frame(cur.b.Manifest.Input, req.Inputs)
	if err != nil {
		x.fail(err)
		return
	}
	answer, err := v2Outputs(cur.b.Manifest.Classes, req.Outputs)
	if err != nil {
		x.fail(err)
		return
	}
	if req.Parameters != nil {
		if answer == nil {
			answer = &v2Answer{}
		}
		answer.parameters = req.Parameters
	}
	reqID := req.ID
	if reqID == "" {
		reqID = newRequestID()
	}
	pred, ok := x.run(e, cur, f, reqID)
	if !ok {
		return
	}
	writeV2Infer(w, e.name, cur.version, reqID, pred, answer)
}

// v2Frame builds a frame from V2 inputs: one input per column (the "pd"
// tabular convention), or a single [rows, columns] tensor in schema order.
func v2Frame(schema frame.Schema, inputs []v2Tensor) (*frame.Frame, error) {
	if len(inputs) == 0 {
		return nil, badRequest("no inputs")
	}
	byName := make(map[string]v2Tensor, len(inputs))
	kinds := make(map[string]frame.Kind, len(schema.Fields))
	for _, f := range schema.Fields {
		kinds[f.Name] = f.Kind
	}
	for _, in := range inputs {
		if _, dup := byName[in.Name]; dup {
			return nil, &RequestError{Status: 400, Field: in.Name, Msg: "named twice in inputs: send each column once"}
		}
		if in.Datatype != "" && !v2Known(in.Datatype) {
			return nil, &RequestError{Status: 400, Field: in.Name, Msg: fmt.Sprintf("datatype %q is not an Open Inference Protocol type (BOOL, BYTES, INT8-64, UINT8-64, FP16, FP32, FP64)", in.Datatype)}
		}
		if k, ok := kinds[in.Name]; ok && !v2Accepts(k, in.Datatype) {
			return nil, &RequestError{Status: 400, Field: in.Name, Msg: fmt.Sprintf("datatype %s does not fit this %s column: the model's metadata gives %s", in.Datatype, k, v2Type(k))}
		}
		byName[in.Name] = in
	}
	if _, named := byName[schema.Fields[0].Name]; !named && len(inputs) == 1 && len(inputs[0].Shape) == 2 {
		in := inputs[0]
		flat, ok := in.Data.([]any)
		if !ok {
			return nil, &RequestError{Status: 400, Field: in.Name, Msg: "data: want an array"}
		}
		rows, cols := in.Shape[0], in.Shape[1]
		if cols != len(schema.Fields) {
			return nil, &RequestError{Status: 400, Field: in.Name, Msg: fmt.Sprintf("shape %v: want [rows, %d] with columns in order %v", in.Shape, len(schema.Fields), schema.Names())}
		}
		data := make([]any, 0, rows)
		if len(flat) == rows {
			data = flat // nested rows
		} else if len(flat) == rows*cols {
			for r := 0; r < rows; r++ {
				data = append(data, flat[r*cols:(r+1)*cols])
			}
		} else {
			return nil, &RequestError{Status: 400, Field: in.Name, Msg: fmt.Sprintf("shape %v does not match %d data values", in.Shape, len(flat))}
		}
		return fromSplit(schema, schema.Names(), data)
	}
	cols := make(map[string]any, len(inputs))
	for _, in := range inputs {
		vals, ok := in.Data.([]any)
		if !ok {
			return nil, &RequestError{Status: 400, Field: in.Name, Msg: "data: want an array"}
		}
		if len(in.Shape) > 0 {
			n := 1
			for _, d := range in.Shape {
				n *= d
			}
			if n != len(vals) {
				return nil, &RequestError{Status: 400, Field: in.Name, Msg: fmt.Sprintf("shape %v does not match %d data values", in.Shape, len(vals))}
			}
		}
		cols[in.Name] = vals
	}
	return fromColumns(schema, cols)
}
