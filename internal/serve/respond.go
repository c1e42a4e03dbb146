package serve

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"sort"
	"strconv"
	"sync"

	"github.com/gyre-ml/gyre/internal/bundle"
)

// This file writes prediction responses by appending bytes to a pooled
// buffer: the same bytes encoding/json writes for the response maps (keys
// in sorted order, HTML-safe strings, a trailing newline), without the
// maps, reflection or per-request encoder. A prediction holding a NaN or
// infinite value, which encoding/json cannot encode, takes the original
// map path so behaviour stays identical; TestResponsesMatchEncodingJSON
// checks the bytes.

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= 1<<20 {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

// finite reports whether every value is a finite number.
func finite(vs []float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// appendFloat appends f as encoding/json writes a float64.
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendString appends s as a JSON string, as encoding/json does with
// HTML escaping off: <, > and & are written as they are (MLflow's and the
// Open Inference Protocol's servers do not escape them either).
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			q := marshal(s) // escapes, invalid UTF-8, U+2028/9: rare
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// marshal is json.Marshal without HTML escaping (and without the
// encoder's trailing newline).
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Unreachable for the response maps (their values are strings,
		// numbers and slices of them); keep the response valid JSON.
		buf.Reset()
		enc.Encode(map[string]string{"error": err.Error()})
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// appendPredictions appends the point predictions: labels or values.
func appendPredictions(b []byte, p *bundle.Prediction) []byte {
	b = append(b, '[')
	for i, v := range p.Values {
		if i > 0 {
			b = append(b, ',')
		}
		if p.Classes != nil {
			b = appendString(b, p.Classes[int(v)])
		} else {
			b = appendFloat(b, v)
		}
	}
	return append(b, ']')
}

// classOrder is the order encoding/json writes a map keyed by class name:
// sorted, or nil when two classes share a name.
func classOrder(classes []string) []int {
	if sorted := len(classes) <= len(identity); sorted {
		for i := 1; i < len(classes) && sorted; i++ {
			sorted = classes[i-1] < classes[i]
		}
		if sorted {
			return identity[:len(classes)] // the usual case: no allocation
		}
	}
	idx := make([]int, len(classes))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return classes[idx[a]] < classes[idx[b]] })
	for i := 1; i < len(idx); i++ {
		if classes[idx[i]] == classes[idx[i-1]] {
			return nil
		}
	}
	return idx
}

// identity is the order of up to 64 classes already sorted (read only).
var identity = func() []int {
	idx := make([]int, 64)
	for i := range idx {
		idx[i] = i
	}
	return idx
}()

// jsonContentType is the Content-Type header value of every JSON response
// (shared, never modified: net/http copies header values it keeps).
var jsonContentType = []string{"application/json"}

// writeBytes writes a complete JSON response. net/http adds the
// Content-Length itself, as the response is written whole before the
// handler returns.
func writeBytes(w http.ResponseWriter, b []byte) {
	w.Header()["Content-Type"] = jsonContentType
	w.Write(b)
}

// predictable reports whether the fast writers can encode p.
func predictable(p *bundle.Prediction) bool {
	return finite(p.Values) && finite(p.Proba) && (p.Classes == nil || classOrder(p.Classes) != nil)
}

// appendJSON appends v as encoding/json's Encoder writes it with HTML
// escaping off, with a trailing newline.
func appendJSON(b []byte, v any) []byte {
	b = append(b, marshal(v)...)
	return append(b, '\n')
}

// writeAppended writes the response an append function builds, through a
// pooled buffer.
func writeAppended(w http.ResponseWriter, build func([]byte) []byte) {
	buf := getBuf()
	b := build((*buf)[:0])
	writeBytes(w, b)
	*buf = b
	putBuf(buf)
}

// writeInvocations writes MLflow's {"predictions": [...]}.
func writeInvocations(w http.ResponseWriter, p *bundle.Prediction) {
	writeAppended(w, func(b []byte) []byte { return appendInvocations(b, p) })
}

// appendInvocations appends MLflow's {"predictions": [...]}.
func appendInvocations(b []byte, p *bundle.Prediction) []byte {
	if !predictable(p) {
		return appendJSON(b, map[string]any{"predictions": predictions(p)})
	}
	b = append(b, `{"predictions":`...)
	b = appendPredictions(b, p)
	return append(b, "}\n"...)
}

// appendProbaPredictions appends MLflow's answer to params
// {"predict_method": "predict_proba"}: {"predictions": [[p, ...], ...]},
// one list of class probabilities per row in the model's class order (as
// a scikit-learn model's predict_proba).
func appendProbaPredictions(b []byte, p *bundle.Prediction) []byte {
	k := len(p.Classes)
	if !finite(p.Proba) {
		rows := make([][]float64, len(p.Values))
		for i := range rows {
			rows[i] = p.Proba[i*k : (i+1)*k]
		}
		return appendJSON(b, map[string]any{"predictions": rows})
	}
	b = append(b, `{"predictions":[`...)
	for i := range p.Values {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for c := 0; c < k; c++ {
			if c > 0 {
				b = append(b, ',')
			}
			b = appendFloat(b, p.Proba[i*k+c])
		}
		b = append(b, ']')
	}
	return append(b, "]}\n"...)
}

// gyreResponse is the map form of a Gyre predict response (the slow path).
func gyreResponse(name, version, reqID string, pred *bundle.Prediction) map[string]any {
	rows := len(pred.Values)
	resp := map[string]any{"model": name, "version": version, "request_id": reqID, "predictions": predictions(pred)}
	if pred.Classes != nil {
		k := len(pred.Classes)
		probs := make([]map[string]float64, rows)
		for i := range probs {
			probs[i] = make(map[string]float64, k)
			for c, cl := range pred.Classes {
				probs[i][cl] = pred.Proba[i*k+c]
			}
		}
		resp["probabilities"] = probs
	}
	if len(pred.Unseen) > 0 {
		resp["unseen_categories"] = pred.Unseen
	}
	return resp
}

// writeGyrePredict writes a Gyre predict response.
func writeGyrePredict(w http.ResponseWriter, name, version, reqID string, pred *bundle.Prediction) {
	writeAppended(w, func(b []byte) []byte { return appendGyrePredict(b, name, version, reqID, pred) })
}

// appendGyrePredict appends a Gyre predict response.
func appendGyrePredict(b []byte, name, version, reqID string, pred *bundle.Prediction) []byte {
	if !predictable(pred) {
		return appendJSON(b, gyreResponse(name, version, reqID, pred))
	}
	b = append(b, `{"model":`...)
	b = appendString(b, name)
	b = append(b, `,"predictions":`...)
	b = appendPredictions(b, pred)
	if pred.Classes != nil {
		k := len(pred.Classes)
		order := classOrder(pred.Classes)
		b = append(b, `,"probabilities":[`...)
		for i := range pred.Values {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			for j, c := range order {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendString(b, pred.Classes[c])
				b = append(b, ':')
				b = appendFloat(b, pred.Proba[i*k+c])
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"request_id":`...)
	b = appendString(b, reqID)
	if len(pred.Unseen) > 0 {
		cols := make([]string, 0, len(pred.Unseen))
		for c := range pred.Unseen {
			cols = append(cols, c)
		}
		sort.Strings(cols)
		b = append(b, `,"unseen_categories":{`...)
		for j, c := range cols {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendString(b, c)
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(pred.Unseen[c]), 10)
		}
		b = append(b, '}')
	}
	b = append(b, `,"version":`...)
	b = appendString(b, version)
	return append(b, "}\n"...)
}

// v2Answer is what a V2 request asks of its response: the outputs to
// return (indexes into the model's outputs, predict first then one
// proba_<class> per class; nil for all) and the parameters to echo (nil
// for the default {"content_type": "pd"}).
type v2Answer struct {
	outputs    []int
	parameters map[string]any
}

// all returns the output indexes to write for a model with k classes.
func (a *v2Answer) all(k int) []int {
	if a != nil && a.outputs != nil {
		return a.outputs
	}
	n := 1 + k
	if n <= len(identity) {
		return identity[:n]
	}
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// v2Response is the map form of a V2 inference response (the slow path).
func v2Response(name, version, reqID string, pred *bundle.Prediction, a *v2Answer) map[string]any {
	rows := len(pred.Values)
	out := []v2Tensor{}
	k := len(pred.Classes)
	for _, o := range a.all(k) {
		switch {
		case o == 0 && pred.Classes != nil:
			labels := make([]string, rows)
			for i := range labels {
				labels[i] = pred.Label(i)
			}
			out = append(out, v2Tensor{Name: "predict", Shape: []int{rows}, Datatype: "BYTES", Data: labels})
		case o == 0:
			out = append(out, v2Tensor{Name: "predict", Shape: []int{rows}, Datatype: "FP64", Data: pred.Values})
		default:
			c := o - 1
			p := make([]float64, rows)
			for i := range p {
				p[i] = pred.Proba[i*k+c]
			}
			out = append(out, v2Tensor{Name: "proba_" + pred.Classes[c], Shape: []int{rows}, Datatype: "FP64", Data: p})
		}
	}
	var params any = map[string]any{"content_type": "pd"}
	if a != nil && a.parameters != nil {
		params = a.parameters
	}
	return map[string]any{"model_name": name, "model_version": version, "id": reqID, "parameters": params, "outputs": out}
}

// writeV2Infer writes a V2 inference response.
func writeV2Infer(w http.ResponseWriter, name, version, reqID string, pred *bundle.Prediction, a *v2Answer) {
	writeAppended(w, func(b []byte) []byte { return appendV2Infer(b, name, version, reqID, pred, a) })
}

// appendV2Infer appends a V2 inference response.
func appendV2Infer(b []byte, name, version, reqID string, pred *bundle.Prediction, a *v2Answer) []byte {
	if !finite(pred.Values) || !finite(pred.Proba) {
		return appendJSON(b, v2Response(name, version, reqID, pred, a))
	}
	rows := len(pred.Values)
	b = append(b, `{"id":`...)
	b = appendString(b, reqID)
	b = append(b, `,"model_name":`...)
	b = appendString(b, name)
	b = append(b, `,"model_version":`...)
	b = appendString(b, version)
	b = append(b, `,"outputs":[`...)
	k := len(pred.Classes)
	for j, o := range a.all(k) {
		if j > 0 {
			b = append(b, ',')
		}
		if o == 0 {
			b = append(b, `{"name":"predict","shape":[`...)
			b = strconv.AppendInt(b, int64(rows), 10)
			if pred.Classes != nil {
				b = append(b, `],"datatype":"BYTES","data":`...)
			} else {
				b = append(b, `],"datatype":"FP64","data":`...)
			}
			b = appendPredictions(b, pred)
			b = append(b, '}')
			continue
		}
		c := o - 1
		b = append(b, `{"name":`...)
		b = appendString(b, "proba_"+pred.Classes[c])
		b = append(b, `,"shape":[`...)
		b = strconv.AppendInt(b, int64(rows), 10)
		b = append(b, `],"datatype":"FP64","data":[`...)
		for i := 0; i < rows; i++ {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendFloat(b, pred.Proba[i*k+c])
		}
		b = append(b, "]}"...)
	}
	if a != nil && a.parameters != nil {
		b = append(b, `],"parameters":`...)
		b = append(b, marshal(a.parameters)...)
		return append(b, "}\n"...)
	}
	return append(b, `],"parameters":{"content_type":"pd"}}`+"\n"...)
}
