package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/predlog"
)

// protocol selects the error envelope of an endpoint.
type protocol int

const (
	protoGyre protocol = iota
	protoMLflow
	protoV2
)

// route is one endpoint of the server: the OpenAPI document is built from
// the same table the router is, so it lists every route.
type route struct {
	method, path, summary string
	handler               http.HandlerFunc
	// body is the request body's schema (nil: no body).
	body any
}

// routeTable lists every endpoint.
func (s *Server) routeTable() []route {
	obj := map[string]any{"type": "object"}
	return []route{
		{"POST", "/v1/models/{name}/predict", "Predict: records in; predictions, class probabilities, model version and request id out", s.handleGyrePredict, "records"},
		{"POST", "/v1/models/{name}/feedback", "Ground-truth labels by request id", s.handleFeedback, obj},
		{"POST", "/v1/models/{name}/reload", "Re-resolve the model reference now", s.handleReload, nil},
		{"GET", "/v1/models", "Served models", s.handleList, nil},
		{"GET", "/v1/models/{name}", "Model metadata and status (KServe V1: name, ready)", s.handleGyreMetadata, nil},
		{"POST", "/v1/models/{name}:predict", "KServe V1 prediction: {\"instances\": [...]} in, {\"predictions\": [...]} out", s.handleKServePredict, obj},
		{"POST", "/invocations", "MLflow scoring protocol (dataframe_split, dataframe_records, instances, inputs, params, text/csv)", s.handleInvocations, obj},
		{"GET", "/ping", "Liveness (MLflow)", s.handleOK, nil},
		{"GET", "/health", "Health (MLflow)", s.handleOK, nil},
		{"GET", "/version", "Server version", s.handleVersion, nil},
		{"GET", "/v2/health/live", "Open Inference Protocol liveness", s.handleLive, nil},
		{"GET", "/v2/health/ready", "Open Inference Protocol readiness", s.handleReady, nil},
		{"GET", "/v2", "Open Inference Protocol server metadata", s.handleV2Server, nil},
		{"GET", "/v2/models/{name}", "Model metadata", s.handleV2Metadata, nil},
		{"GET", "/v2/models/{name}/versions/{version}", "Model metadata of a version", s.handleV2Metadata, nil},
		{"GET", "/v2/models/{name}/ready", "Model readiness", s.handleV2Ready, nil},
		{"GET", "/v2/models/{name}/versions/{version}/ready", "Readiness of a version", s.handleV2Ready, nil},
		{"POST", "/v2/models/{name}/infer", "Open Inference Protocol inference (content_type pd: one input per column)", s.handleV2Infer, obj},
		{"POST", "/v2/models/{name}/versions/{version}/infer", "Open Inference Protocol inference on a version", s.handleV2Infer, obj},
		{"GET", "/metrics", "Prometheus metrics", s.handleMetrics, nil},
		{"GET", "/openapi.json", "This document", s.handleOpenAPI, nil},
	}
}

func (s *Server) routes() {
	mux := http.NewServeMux()
	for _, rt := range s.routeTable() {
		if strings.HasSuffix(rt.path, ":predict") {
			continue // a verb suffix is not a ServeMux segment: see handleV1Model
		}
		mux.HandleFunc(rt.method+" "+rt.path, rt.handler)
	}
	// POST /v1/models/{name}:predict: the wildcard takes the whole segment.
	mux.HandleFunc("POST /v1/models/{name}", s.handleKServePredict)
	mux.HandleFunc("/", s.handleUnrouted)
	s.mux = mux
}

// handleUnrouted answers a request no route took: 405 with Allow when the
// path has routes for other methods (GET on a POST route), else 404.
func (s *Server) handleUnrouted(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{"GET", "POST"} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	p := protoFor(r.URL.Path)
	if len(allow) > 0 {
		if slices.Contains(allow, "GET") {
			allow = append(allow, "HEAD")
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.fail(w, p, &RequestError{Status: http.StatusMethodNotAllowed, Msg: fmt.Sprintf("method %s is not allowed on %s: use %s", r.Method, r.URL.Path, strings.Join(allow, " or "))})
		return
	}
	s.fail(w, p, &RequestError{Status: 404, Msg: fmt.Sprintf("no endpoint %s %s (see /openapi.json)", r.Method, r.URL.Path)})
}

// protoFor is the error envelope of the endpoint at path.
func protoFor(path string) protocol {
	switch {
	case path == "/invocations":
		return protoMLflow
	case strings.HasPrefix(path, "/v2/") || path == "/v2" || strings.HasSuffix(path, ":predict"):
		return protoV2
	}
	return protoGyre
}

func (s *Server) handleOK(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte("{\"status\":\"ok\"}\n"))
}

// handleLive answers the Open Inference Protocol's server live probe.
func (s *Server) handleLive(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]bool{"live": true})
}

// handleReady answers the Open Inference Protocol's server ready probe:
// every model is loaded before the server starts listening.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]bool{"ready": true})
}

func (s *Server) handleVersion(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, s.opt.Version)
}

// fail writes an error in the endpoint's protocol envelope.
func (s *Server) fail(w http.ResponseWriter, p protocol, err error) {
	buf := getBuf()
	status, b := appendFailure((*buf)[:0], p, err)
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	w.Write(b)
	*buf = b
	putBuf(buf)
}

// appendFailure appends err in the protocol's error envelope and returns
// the response status: a RequestError's, else 500.
func appendFailure(b []byte, p protocol, err error) (int, []byte) {
	status := http.StatusInternalServerError
	var re *RequestError
	if errors.As(err, &re) {
		status = re.Status
	}
	msg := err.Error()
	switch p {
	case protoMLflow:
		code := "INTERNAL_ERROR"
		switch {
		case re != nil && re.Code != "":
			code = re.Code
		case status < 500:
			code = "BAD_REQUEST"
		}
		return status, appendJSON(b, map[string]string{"error_code": code, "message": msg})
	case protoV2:
		return status, appendJSON(b, map[string]string{"error": msg})
	}
	body := map[string]any{"code": http.StatusText(status), "message": msg}
	if re != nil && re.Field != "" {
		body["field"] = re.Field
	}
	if re != nil && re.Row > 0 {
		body["row"] = re.Row
	}
	return status, appendJSON(b, map[string]any{"error": body})
}

// checkFinite refuses a prediction holding NaN or an infinity: JSON cannot
// carry it, and a client should not mistake it for a number.
func checkFinite(p *bundle.Prediction) error {
	if finite(p.Values) && finite(p.Proba) {
		return nil
	}
	row := 0
	for i, v := range p.Values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			row = i + 1
			break
		}
	}
	if k := len(p.Classes); row == 0 && k > 0 {
		for i, v := range p.Proba {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				row = i/k + 1
				break
			}
		}
	}
	return &RequestError{Status: http.StatusInternalServerError, Row: row,
		Msg: fmt.Sprintf("row %d: the model produced a non-finite prediction (NaN or infinity) for this input", row)}
}

// run predicts a frame with the loaded model cur, recording metrics and
// (when sampled) the prediction log.
func (s *Server) run(e *entry, cur *loaded, f *frame.Frame, reqID string, at time.Time) (*bundle.Prediction, error) {
	pred, err := cur.b.Predict(f)
	if err != nil {
		return nil, predictError(err)
	}
	if err := checkFinite(pred); err != nil {
		return nil, err
	}
	if len(pred.Unseen) > 0 {
		s.metrics.countUnseen(e.name, pred.Unseen)
	}
	if s.sampled() {
		if err := s.enqueue(newFrameLog(e.name, cur, reqID, at, f, pred)); err != nil {
			return nil, err
		}
	}
	return pred, nil
}

// predictError classifies a prediction error: input that does not fit the
// model's schema is the client's (400), anything else the server's.
func predictError(err error) error {
	if bundle.IsInputError(err) {
		return &RequestError{Status: 400, Msg: err.Error()}
	}
	return err
}

// sampled decides, before any logging work, whether this request is logged.
func (s *Server) sampled() bool {
	return s.queue != nil && (s.opt.Sample >= 1 || rand.Float64() < s.opt.Sample)
}

// runRow predicts a request decoded into row by the single-row path,
// recording metrics and (when sampled) the prediction log. pred refers to
// row's memory.
func (s *Server) runRow(e *entry, cur *loaded, row *bundle.Row, reqID string, at time.Time, pred *bundle.Prediction) error {
	if err := cur.row.rp.Predict(row, pred); err != nil {
		return predictError(err)
	}
	if err := checkFinite(pred); err != nil {
		return err
	}
	if len(pred.Unseen) > 0 {
		s.metrics.countUnseen(e.name, pred.Unseen)
	}
	if s.sampled() {
		return s.enqueue(newRowLog(e.name, cur, reqID, at, row, pred))
	}
	return nil
}

// predictions renders point predictions: labels or values.
func predictions(p *bundle.Prediction) []any {
	out := make([]any, len(p.Values))
	for i := range out {
		if p.Classes != nil {
			out[i] = p.Label(i)
		} else {
			out[i] = p.Values[i]
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// handleGyrePredict serves POST /v1/models/{name}/predict:
// {"records": [{...}, ...]} (or {"columns": {...}}).
func (s *Server) handleGyrePredict(w http.ResponseWriter, r *http.Request) {
	x := exchange{s: s, w: w, proto: protoGyre, start: time.Now(), name: r.PathValue("name"), code: 200}
	defer x.observe("predict")
	e, err := s.model(x.name)
	cur, body, release, ok := x.load(r, e, err)
	if !ok {
		return
	}
	defer release()
	// a copy: fasthttpadaptor's header strings share the connection's
	// buffer, reused after the request, and the log keeps the id
	reqID := strings.Clone(r.Header.Get("X-Request-Id"))
	if x.rowHTTP(epPredict, e, cur, body, reqID) {
		return
	}
	req, err := decodeGyre(body)
	if err != nil {
		x.fail(err)
		return
	}
	schema := cur.b.Manifest.Input
	var f *frame.Frame
	switch {
	case req.Records != nil:
		f, err = fromRecords(schema, req.Records)
	case req.Columns != nil:
		f, err = fromColumns(schema, req.Columns)
	default:
		err = badRequest(`want {"records": [{"column": value, ...}, ...]} or {"columns": {"column": [values], ...}}`)
	}
	if err != nil {
		x.fail(err)
		return
	}
	if reqID == "" {
		reqID = newRequestID()
	}
	pred, ok := x.run(e, cur, f, reqID)
	if !ok {
		return
	}
	w.Header().Set("X-Request-Id", reqID)
	writeGyrePredict(w, x.name, cur.version, reqID, pred)
}

// exchange is one prediction request's outcome, which the metrics record
// when its handler returns: the model and version it reached, the status
// it answered and the rows it predicted.
type exchange struct {
	s             *Server
	w             http.ResponseWriter
	proto         protocol
	start         time.Time
	name, version string
	code, rows    int
}

// fail answers err in the exchange's protocol and records its status.
func (x *exchange) fail(err error) {
	x.code = statusOf(err)
	x.s.fail(x.w, x.proto, err)
}

// observe records the exchange in the metrics as endpoint ep.
func (x *exchange) observe(ep string) {
	x.s.metrics.observe(x.name, x.version, ep, x.code, x.rows, time.Since(x.start))
}

// load takes model e's current version (err is the failure to find e) and
// reads the request body; on a failure it answers it and reports false.
func (x *exchange) load(r *http.Request, e *entry, err error) (cur *loaded, body []byte, release func(), ok bool) {
	if err != nil {
		x.fail(err)
		return nil, nil, nil, false
	}
	cur = e.cur.Load()
	x.version = cur.version
	return x.read(r, cur)
}

// read reads the request body for model version cur; on a failure it
// answers it and reports false.
func (x *exchange) read(r *http.Request, cur *loaded) (_ *loaded, body []byte, release func(), ok bool) {
	body, release, err := x.s.readBody(x.w, r)
	if err != nil {
		x.fail(err)
		return nil, nil, nil, false
	}
	return cur, body, release, true
}

// rowHTTP answers the request on the single-row path when it can (see
// Server.rowHTTP), recording the status and rows.
func (x *exchange) rowHTTP(ep endpoint, e *entry, cur *loaded, body []byte, reqID string) bool {
	ok, status := x.s.rowHTTP(x.w, ep, e, cur, body, reqID, x.start)
	if ok {
		x.code, x.rows = status, okRows(status)
	}
	return ok
}

// run predicts f (Server.run), recording the rows; on a failure it answers
// it and reports false.
func (x *exchange) run(e *entry, cur *loaded, f *frame.Frame, reqID string) (*bundle.Prediction, bool) {
	pred, err := x.s.run(e, cur, f, reqID, x.start)
	if err != nil {
		x.fail(err)
		return nil, false
	}
	x.rows = f.NumRows()
	return pred, true
}

func statusOf(err error) int {
	var re *RequestError
	if errors.As(err, &re) {
		return re.Status
	}
	return 500
}

// handleInvocations serves MLflow's POST /invocations.
func (s *Server) handleInvocations(w http.ResponseWriter, r *http.Request) {
	x := exchange{s: s, w: w, proto: protoMLflow, start: time.Now(), code: 200}
	defer x.observe("invocations")
	e, err := s.model("")
	if err != nil {
		x.fail(err)
		return
	}
	cur := e.cur.Load()
	x.name, x.version = e.name, cur.version
	csv, err := mlflowContentType(r.Header.Get("Content-Type"))
	if err != nil {
		x.fail(err)
		return
	}
	cur, body, release, ok := x.read(r, cur)
	if !ok {
		return
	}
	defer release()
	if !csv && x.rowHTTP(epInvocations, e, cur, body, "") {
		return
	}
	schema := cur.b.Manifest.Input
	var f *frame.Frame
	var params mlflowParams
	if csv {
		f, err = fromCSV(schema, strings.NewReader(string(body)))
	} else {
		f, params, err = decodeMLflow(schema, body)
	}
	if err == nil && params.proba && cur.b.Manifest.Classes == nil {
		err = &RequestError{Status: 400, Code: "INVALID_PARAMETER_VALUE", Msg: fmt.Sprintf("params: predict_method 'predict_proba' needs a classifier; model %q is a %s model", e.name, cur.b.Manifest.Task)}
	}
	if err != nil {
		x.fail(err)
		return
	}
	reqID := newRequestID()
	pred, ok := x.run(e, cur, f, reqID)
	if !ok {
		return
	}
	w.Header().Set("X-Request-Id", reqID)
	if params.proba {
		writeAppended(w, func(b []byte) []byte { return appendProbaPredictions(b, pred) })
		return
	}
	writeInvocations(w, pred)
}

// mlflowContentType checks an /invocations Content-Type as MLflow's
// scoring server does: application/json or text/csv, charset UTF-8, no
// other parameters; anything else is 415. An absent Content-Type is read
// as JSON.
func mlflowContentType(ct string) (csv bool, err error) {
	if strings.TrimSpace(ct) == "" {
		return false, nil
	}
	unsupported := func(msg string) error {
		return &RequestError{Status: http.StatusUnsupportedMediaType, Msg: msg}
	}
	mt, params, perr := mime.ParseMediaType(ct)
	if perr != nil {
		return false, unsupported(fmt.Sprintf("This predictor only supports the following content types: Types: ['text/csv', 'application/json']. Got '%s'.", ct))
	}
	var other []string
	for k, v := range params {
		if k == "charset" {
			if !strings.EqualFold(v, "utf-8") {
				return false, unsupported("The scoring server only supports UTF-8")
			}
			continue
		}
		other = append(other, k)
	}
	if len(other) > 0 {
		sort.Strings(other)
		return false, unsupported("Unrecognized content type parameters: " + strings.Join(other, ", ") + ".")
	}
	switch mt {
	case "application/json":
		return false, nil
	case "text/csv":
		return true, nil
	}
	return false, unsupported(fmt.Sprintf("This predictor only supports the following content types: Types: ['text/csv', 'application/json']. Got '%s'.", ct))
}

// handleKServePredict serves KServe's V1 protocol,
// POST /v1/models/{name}:predict with {"instances": [...]} (rows as
// arrays in input order, or as objects) or {"inputs": ...}, answering
// {"predictions": [...]}.
func (s *Server) handleKServePredict(w http.ResponseWriter, r *http.Request) {
	x := exchange{s: s, w: w, proto: protoV2, start: time.Now(), code: 200}
	name, verb, hasVerb := strings.Cut(r.PathValue("name"), ":")
	var e *entry
	defer func() {
		if e != nil {
			x.name = e.name
			x.observe("kserve_predict")
		}
	}()
	if !hasVerb || verb != "predict" {
		x.fail(&RequestError{Status: 404, Msg: fmt.Sprintf("no endpoint POST %s: KServe V1 predicts at /v1/models/{name}:predict", r.URL.Path)})
		return
	}
	e, err := s.model(name)
	cur, body, release, ok := x.load(r, e, err)
	if !ok {
		return
	}
	defer release()
	f, err := decodeKServe(cur.b.Manifest.Input, body)
	if err != nil {
		x.fail(err)
		return
	}
	pred, ok := x.run(e, cur, f, newRequestID())
	if !ok {
		return
	}
	writeInvocations(w, pred)
}

// decodeKServe decodes a KServe V1 body: {"instances": [...]} or
// {"inputs": ...}.
func decodeKServe(schema frame.Schema, body []byte) (*frame.Frame, error) {
	obj, ok := parseFastObject(body)
	if !ok {
		var v any
		if err := decodeJSON(body, &v); err != nil {
			return nil, err
		}
		if obj, ok = v.(map[string]any); !ok {
			return nil, badRequest(`want a JSON object {"instances": [...]}, got %s`, jsonType(v))
		}
	}
	var kind string
	for _, k := range []string{"instances", "inputs"} {
		if _, has := obj[k]; has {
			if kind != "" {
				return nil, badRequest(`want one of "instances" or "inputs", not both`)
			}
			kind = k
		}
	}
	if kind == "" {
		return nil, badRequest(`want {"instances": [...]} (rows as arrays in input order, or as objects)`)
	}
	return mlflowValue(schema, kind, obj[kind])
}

// endpoint is a prediction endpoint with a single-row path.
type endpoint int

const (
	epInvocations endpoint = iota // MLflow: POST /invocations
	epPredict                     // Gyre: POST /v1/models/{name}/predict
	epInfer                       // V2: POST /v2/models/{name}[/versions/{v}]/infer
)

// proto is the endpoint's error envelope.
func (ep endpoint) proto() protocol {
	switch ep {
	case epInvocations:
		return protoMLflow
	case epInfer:
		return protoV2
	}
	return protoGyre
}

// metric is the endpoint's label in /metrics.
func (ep endpoint) metric() string {
	switch ep {
	case epInvocations:
		return "invocations"
	case epInfer:
		return "v2_infer"
	}
	return "predict"
}

// idHeader reports whether an answer with this status carries the request
// id in an X-Request-Id header (V2 answers carry it in the body).
func (ep endpoint) idHeader(status int) bool {
	return status == http.StatusOK && ep != epInfer
}

// okRows is the number of rows a single-row answer with this status
// predicted.
func okRows(status int) int {
	if status == http.StatusOK {
		return 1
	}
	return 0
}

// tryRow answers a one-row request on cur's single-row path, appending the
// response to b. ok is false, and nothing has been recorded, when the
// request needs the general path (the bundle has no row plan, or the body
// is not one row in a form the row decoder takes: it then decodes it again
// and reports any error in full). reqID is the client's request id ("" for
// a new one); id is the one answered with. The response is complete on
// return: the pooled row it was predicted from goes back to its pool.
func (s *Server) tryRow(ep endpoint, e *entry, cur *loaded, body []byte, reqID string, start time.Time, b []byte) (out []byte, status int, id string, ok bool) {
	plan := cur.row
	if plan == nil {
		return b, 0, "", false
	}
	row := plan.rp.Get()
	defer plan.rp.Put(row)
	switch ep {
	case epInvocations:
		ok = plan.decodeMLflowRow(body, row)
	case epPredict:
		ok = plan.decodeGyreRow(body, row)
	case epInfer:
		reqID, ok = plan.decodeV2Row(body, row)
	}
	if !ok {
		return b, 0, "", false
	}
	if reqID == "" || ep == epInvocations {
		reqID = newRequestID()
	}
	var pred bundle.Prediction
	if err := s.runRow(e, cur, row, reqID, start, &pred); err != nil {
		status, b = appendFailure(b, ep.proto(), err)
		return b, status, reqID, true
	}
	switch ep {
	case epInvocations:
		b = appendInvocations(b, &pred)
	case epPredict:
		b = appendGyrePredict(b, e.name, cur.version, reqID, &pred)
	case epInfer:
		b = appendV2Infer(b, e.name, cur.version, reqID, &pred, nil)
	}
	return b, http.StatusOK, reqID, true
}

// rowHTTP answers a request on the single-row path through net/http; see
// tryRow. ok is false when the request needs the general path.
func (s *Server) rowHTTP(w http.ResponseWriter, ep endpoint, e *entry, cur *loaded, body []byte, reqID string, start time.Time) (ok bool, status int) {
	buf := getBuf()
	defer putBuf(buf)
	b, status, id, ok := s.tryRow(ep, e, cur, body, reqID, start, (*buf)[:0])
	*buf = b
	if !ok {
		return false, 0
	}
	h := w.Header()
	h["Content-Type"] = jsonContentType
	if ep.idHeader(status) {
		h["X-Request-Id"] = []string{id}
	}
	w.WriteHeader(status)
	w.Write(b)
	return true, status
}

// gyreRequest is the body of POST /v1/models/{name}/predict.
type gyreRequest struct {
	Records []any          `json:"records"`
	Columns map[string]any `json:"columns"`
}

// decodeGyre decodes a Gyre predict body, through the fast path when it
// can.
func decodeGyre(body []byte) (*gyreRequest, error) {
	if obj, ok := fastObject(body, "records", "columns"); ok {
		req, ok := &gyreRequest{}, true
		if x, has := obj["records"]; has {
			req.Records, ok = x.([]any)
		}
		if x, has := obj["columns"]; has && ok {
			req.Columns, ok = x.(map[string]any)
		}
		if ok {
			return req, nil
		}
	}
	req := &gyreRequest{}
	if err := decodeJSON(body, req); err != nil {
		return nil, err
	}
	return req, nil
}

// mlflowParams are the /invocations "params" Gyre honours.
type mlflowParams struct {
	// proba answers class probabilities (params {"predict_method":
	// "predict_proba"}, scikit-learn's name) instead of labels.
	proba bool
}

// requiredInputFormat is MLflow's wording of its request shape.
const requiredInputFormat = "The input must be a JSON dictionary with exactly one of the input fields {'dataframe_records', 'dataframe_split', 'instances', 'inputs'}"

// decodeMLflow decodes MLflow's JSON input formats and params, through
// the fast parser when it can; errors are in MLflow's words.
func decodeMLflow(schema frame.Schema, body []byte) (*frame.Frame, mlflowParams, error) {
	if obj, ok := parseFastObject(body); ok {
		return mlflowRequest(schema, obj)
	}
	return decodeMLflowSlow(schema, body)
}

// decodeMLflowSlow decodes MLflow's JSON input formats through
// encoding/json, producing the exact error for a malformed body.
func decodeMLflowSlow(schema frame.Schema, body []byte) (*frame.Frame, mlflowParams, error) {
	var v any
	if err := decodeJSON(body, &v); err != nil {
		var re *RequestError
		if errors.As(err, &re) && re.jsonSyntax {
			return nil, mlflowParams{}, badRequest("Failed to parse input from JSON. Ensure that input is a valid JSON formatted string. Error: '%s'", strings.TrimPrefix(re.Msg, "malformed JSON: "))
		}
		return nil, mlflowParams{}, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		what := "Received unexpected input type '" + pyType(v) + "'"
		if _, list := v.([]any); list {
			what = "Received a list"
		}
		return nil, mlflowParams{}, badRequest("%s. %s.", requiredInputFormat, what)
	}
	return mlflowRequest(schema, obj)
}

// mlflowRequest builds the frame and params of a decoded /invocations
// object.
func mlflowRequest(schema frame.Schema, obj map[string]any) (*frame.Frame, mlflowParams, error) {
	var found []string
	for _, k := range []string{"dataframe_split", "dataframe_records", "instances", "inputs"} {
		if _, ok := obj[k]; ok {
			found = append(found, k)
		}
	}
	if len(found) != 1 {
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, "'"+k+"'")
		}
		sort.Strings(keys)
		return nil, mlflowParams{}, badRequest("%s. Received dictionary with input fields: [%s].", requiredInputFormat, strings.Join(keys, ", "))
	}
	params, err := parseMLflowParams(obj["params"])
	if err != nil {
		return nil, params, err
	}
	kind := found[0]
	v := obj[kind]
	switch kind {
	case "dataframe_split":
		sp, ok := v.(map[string]any)
		if !ok {
			return nil, params, badRequest("Dataframe split format must be a dictionary. Got %s.", pyType(v))
		}
		invalid := func(why string) error {
			return badRequest("Provided dataframe_split field is not a valid dataframe representation in 'split' format: %s", why)
		}
		for k := range sp {
			if k != "columns" && k != "data" && k != "index" {
				return nil, params, invalid(fmt.Sprintf("unexpected key '%s' (want columns, data and optionally index)", k))
			}
		}
		cols, ok := fastStrings(sp["columns"])
		if !ok {
			return nil, params, invalid("want \"columns\": a list of column names")
		}
		data, ok := sp["data"].([]any)
		if !ok {
			return nil, params, invalid("want \"data\": a list of rows")
		}
		if idx, has := sp["index"]; has {
			if ix, ok := idx.([]any); !ok || len(ix) != len(data) {
				return nil, params, invalid(fmt.Sprintf("index has %s, data has %d rows", lenOf(idx), len(data)))
			}
		}
		f, err := fromSplit(schema, cols, data)
		return f, params, err
	case "dataframe_records":
		recs, ok := v.([]any)
		if !ok {
			return nil, params, badRequest("Dataframe records format must be a list of records. Got %s.", pyType(v))
		}
		f, err := fromRecords(schema, recs)
		return f, params, err
	}
	f, err := mlflowValue(schema, kind, v)
	return f, params, err
}

// parseMLflowParams reads the request's "params". MLflow passes params the
// model's signature declares and ignores the rest; Gyre declares
// predict_method ("predict" or "predict_proba"), and a value of the wrong
// type or an unknown method is refused with INVALID_PARAMETER_VALUE.
func parseMLflowParams(v any) (mlflowParams, error) {
	var p mlflowParams
	if v == nil {
		return p, nil
	}
	invalid := func(format string, a ...any) error {
		return &RequestError{Status: 400, Code: "INVALID_PARAMETER_VALUE", Msg: fmt.Sprintf(format, a...)}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return p, invalid("params must be a dictionary of parameter names to values. Got %s.", pyType(v))
	}
	if x, has := m["predict_method"]; has {
		switch x {
		case "predict":
		case "predict_proba":
			p.proba = true
		default:
			return p, invalid("Invalid value for param 'predict_method': want 'predict' or 'predict_proba', got %s", pyRepr(x))
		}
	}
	return p, nil
}

// pyType names a decoded JSON value's type as MLflow's messages do.
func pyType(v any) string {
	switch v.(type) {
	case map[string]any:
		return "dictionary"
	case []any:
		return "list"
	case string:
		return "str"
	case bool:
		return "bool"
	case json.Number:
		if strings.ContainsAny(v.(json.Number).String(), ".eE") {
			return "float"
		}
		return "int"
	case nil:
		return "NoneType"
	}
	return "value"
}

// pyRepr shows a decoded JSON value in a message.
func pyRepr(v any) string {
	switch x := v.(type) {
	case string:
		return "'" + x + "'"
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "True"
		}
		return "False"
	case nil:
		return "None"
	}
	return "a " + pyType(v)
}

// lenOf describes the length of a decoded value for a message.
func lenOf(v any) string {
	if a, ok := v.([]any); ok {
		return fmt.Sprintf("%d entries", len(a))
	}
	return "a " + pyType(v)
}

// mlflowValue builds a frame from a decoded dataframe_records, instances or
// inputs value.
func mlflowValue(schema frame.Schema, kind string, v any) (*frame.Frame, error) {
	if kind == "dataframe_records" {
		recs, _ := v.([]any) // the fast path passes only arrays
		return fromRecords(schema, recs)
	}
	switch x := v.(type) {
	case []any:
		if len(x) > 0 {
			if _, ok := x[0].([]any); ok {
				return fromSplit(schema, schema.Names(), x)
			}
		}
		return fromRecords(schema, x)
	case map[string]any:
		return fromColumns(schema, x)
	}
	return nil, badRequest("%s: want a list of records or an object of columns", kind)
}

func (s *Server) handleFeedback(w http.ResponseWriter, r *http.Request) {
	e, err := s.model(r.PathValue("name"))
	if err != nil {
		s.fail(w, protoGyre, err)
		return
	}
	if s.queue == nil {
		s.fail(w, protoGyre, &RequestError{Status: 409, Msg: "prediction logging is off on this server: it takes feedback only while it logs predictions"})
		return
	}
	body, release, err := s.readBody(w, r)
	if err != nil {
		s.fail(w, protoGyre, err)
		return
	}
	defer release()
	var req struct {
		Feedback []struct {
			RequestID string `json:"request_id"`
			Row       int    `json:"row"`
			Label     any    `json:"label"`
		} `json:"feedback"`
		RequestID string `json:"request_id"`
		Row       int    `json:"row"`
		Label     any    `json:"label"`
	}
	if err := decodeJSON(body, &req); err != nil {
		s.fail(w, protoGyre, err)
		return
	}
	if req.RequestID != "" {
		req.Feedback = append(req.Feedback, struct {
			RequestID string `json:"request_id"`
			Row       int    `json:"row"`
			Label     any    `json:"label"`
		}{req.RequestID, req.Row, req.Label})
	}
	if len(req.Feedback) == 0 {
		s.fail(w, protoGyre, badRequest(`want {"request_id": "...", "label": ...} or {"feedback": [...]}`))
		return
	}
	now := time.Now().UTC()
	fbs := make([]predlog.Feedback, len(req.Feedback))
	for i, f := range req.Feedback {
		if f.RequestID == "" || f.Label == nil {
			s.fail(w, protoGyre, &RequestError{Status: 400, Row: i + 1, Msg: fmt.Sprintf("feedback %d: request_id and label are required", i+1)})
			return
		}
		fbs[i] = predlog.Feedback{Model: e.name, RequestID: f.RequestID, Row: f.Row, Label: predlog.LabelText(f.Label), Time: now}
	}
	if err := s.enqueue(fbs); err != nil {
		s.fail(w, protoGyre, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
	writeJSON(w, map[string]any{"accepted": len(fbs)})
}

func (s *Server) handleReload(w http.ResponseWriter, r *http.Request) {
	e, err := s.model(r.PathValue("name"))
	if err != nil {
		s.fail(w, protoGyre, err)
		return
	}
	changed, err := s.reload(r.Context(), e)
	if err != nil {
		s.fail(w, protoGyre, &RequestError{Status: 409, Msg: err.Error()})
		return
	}
	writeJSON(w, map[string]any{"model": e.name, "version": e.cur.Load().version, "changed": changed})
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	var out []map[string]any
	for _, n := range s.names {
		out = append(out, s.describe(s.models[n]))
	}
	writeJSON(w, map[string]any{"models": out})
}

func (s *Server) handleGyreMetadata(w http.ResponseWriter, r *http.Request) {
	e, err := s.model(r.PathValue("name"))
	if err != nil {
		s.fail(w, protoGyre, err)
		return
	}
	writeJSON(w, s.describe(e))
}

func (s *Server) describe(e *entry) map[string]any {
	cur := e.cur.Load()
	m := cur.b.Manifest
	return map[string]any{"name": e.name, "ready": true, "ref": e.ref, "version": cur.version, "loaded_at": cur.at, "task": m.Task.String(),
		"target": m.Target, "classes": m.Classes, "inputs": m.Input.Fields, "metrics": m.Metrics}
}
