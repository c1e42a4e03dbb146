package web

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/governance"
	"github.com/gyre-ml/gyre/internal/pipeline"
	"github.com/gyre-ml/gyre/internal/predlog"
	"github.com/gyre-ml/gyre/internal/sqlstore"
)

// The prediction log through the server: what `gyre serve
// --log-predictions` writes and `gyre monitor` reads when they work
// against a team server, and the pipeline runs `gyre pipeline status`
// lists.

// ParquetType is the media type of the prediction log's Parquet bodies.
const ParquetType = "application/vnd.apache.parquet"

// MaxBatchBody bounds an uploaded prediction-log batch.
const MaxBatchBody = 256 << 20

// MaxFeedback bounds the labels of one feedback request.
const MaxFeedback = 10000

// FeedbackRequest carries ground-truth labels of logged predictions.
type FeedbackRequest struct {
	Feedback []FeedbackItem `json:"feedback"`
}

// FeedbackItem is one label: the logged row it belongs to (request id and
// row in that request), the truth (a class name, number or bool) and when
// it was given (default: when the server receives it).
type FeedbackItem struct {
	RequestID string    `json:"request_id"`
	Row       int       `json:"row"`
	Label     any       `json:"label"`
	Time      time.Time `json:"time,omitzero"`
}

// LoggedBatch is the answer to a stored batch.
type LoggedBatch struct {
	Model   string `json:"model"`
	Version string `json:"version"`
	Rows    int    `json:"rows"`
}

// MaskingSalt is the store's PII salt (base64), the key of the hashes of
// PII columns masked with `pii: hash`.
type MaskingSalt struct {
	Salt string `json:"salt"`
}

func (s *Server) predlogRoutes() []Route {
	return []Route{
		{Method: "POST", Pattern: "/api/v1/models/{name}/predictions", Role: access.Editor,
			Summary: "Store a batch of logged predictions of the served model NAME: the body is the Parquet file the log stores (meta columns __time, __model, __version, __request_id, __row, __prediction, __proba_CLASS, and the inputs).",
			RawBody: ParquetType, Response: LoggedBatch{}, Handler: created(s.logPredictions)},
		{Method: "POST", Pattern: "/api/v1/models/{name}/feedback", Role: access.Editor,
			Summary: "Store ground-truth labels of logged predictions (joined by request id and row).",
			Body:    FeedbackRequest{}, Handler: done(s.logFeedback)},
		{Method: "GET", Pattern: "/api/v1/models/{name}/predictions", Role: access.Viewer,
			Summary: "Read logged predictions of the served model NAME as Parquet: the rows in time order, a row logged twice kept once, inputs typed by the field parameters, predictions by the class parameters, with each row's latest label (__label).",
			Query: []Param{{"since", "RFC 3339 time: rows predicted at or after it"}, {"until", "RFC 3339 time: rows predicted before it"},
				{"version", "one model version only"}, {"limit", "at most this many rows, the newest kept"},
				{"field", "NAME:TYPE of an input to read (repeatable, in order; TYPE float, int, bool, string, categorical or time)"},
				{"class", "a class of the model, in order (repeatable; none for regression)"}},
			RawResponse: ParquetType, Handler: handlerFunc(s.readPredictions)},
		{Method: "GET", Pattern: "/api/v1/pipelines/{name}/runs", Role: access.Viewer,
			Summary: "A pipeline's most recent runs, newest first (viewer of its experiment pipeline-NAME).",
			Query:   []Param{{"limit", "runs to list (1-1000, default 20)"}}, Response: List[pipeline.RunInfo]{}, Handler: listed(s.pipelineRuns)},
		{Method: "GET", Pattern: "/api/v1/governance/masking-salt", Role: access.Editor,
			Summary:  "The store's PII salt, for clients that mask PII columns (pii: hash) before data leaves them, as the store itself masks. Reading it is audited.",
			Response: MaskingSalt{}, Handler: ok(s.maskingSalt)},
	}
}

func (s *Server) logPredictions(r *http.Request) (*LoggedBatch, error) {
	name, err := modelName(r, access.Editor)
	if err != nil {
		return nil, err
	}
	if err := rawBody(r, ParquetType); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBatchBody))
	if err != nil {
		return nil, classify(fmt.Errorf("log predictions of %s: read body: %w", name, err))
	}
	b, err := predlog.ReadBatch(data)
	if err != nil {
		return nil, errorf(KindInvalid, "body", "log predictions of %s: %v", name, err)
	}
	if b.Model != name {
		return nil, errorf(KindInvalid, predlog.ColModel, "log predictions of %s: the batch is of model %q", name, b.Model)
	}
	if err := s.plog.LogPredictions(r.Context(), b); err != nil {
		return nil, err
	}
	return &LoggedBatch{Model: b.Model, Version: b.Version, Rows: b.Len()}, nil
}

func (s *Server) logFeedback(r *http.Request) error {
	name, err := modelName(r, access.Editor)
	if err != nil {
		return err
	}
	var req FeedbackRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	fbs, err := feedbackOf(name, req, time.Now().UTC())
	if err != nil {
		return err
	}
	return s.plog.LogFeedback(r.Context(), fbs)
}

// feedbackOf checks a feedback request and turns it into the log's labels.
func feedbackOf(model string, req FeedbackRequest, now time.Time) ([]predlog.Feedback, error) {
	if len(req.Feedback) == 0 {
		return nil, errorf(KindInvalid, "feedback", "feedback: give at least one label")
	}
	if len(req.Feedback) > MaxFeedback {
		return nil, errorf(KindInvalid, "feedback", "feedback: %d labels, at most %d a request", len(req.Feedback), MaxFeedback)
	}
	out := make([]predlog.Feedback, len(req.Feedback))
	for i, it := range req.Feedback {
		field := fmt.Sprintf("feedback[%d]", i)
		switch {
		case it.RequestID == "" || len(it.RequestID) > 256:
			return nil, errorf(KindInvalid, field+".request_id", "%s.request_id %q: want the logged request's id (1-256 bytes)", field, it.RequestID)
		case it.Row < 0:
			return nil, errorf(KindInvalid, field+".row", "%s.row %d: want the row's index in its request (0 or more)", field, it.Row)
		}
		switch it.Label.(type) {
		case string, float64, bool:
		default:
			return nil, errorf(KindInvalid, field+".label", "%s.label: want a class name, number or bool", field)
		}
		t := it.Time
		if t.IsZero() {
			t = now
		}
		out[i] = predlog.Feedback{Model: model, RequestID: it.RequestID, Row: it.Row, Label: predlog.LabelText(it.Label), Time: t}
	}
	return out, nil
}

// rawBody checks a non-JSON body's content type (none is taken as it).
func rawBody(r *http.Request, want string) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" || ct == want || strings.HasPrefix(ct, "application/octet-stream") || strings.HasPrefix(ct, want+";") {
		return nil
	}
	return errorf(KindUnsupported, "", "content type %q: want %s", ct, want)
}

// PredictionQuery is a read of the prediction log as the query string of
// GET /api/v1/models/{name}/predictions gives it.
type PredictionQuery struct {
	Query   predlog.Query
	Schema  frame.Schema
	Classes []string
}

// parsePredictionQuery reads the query parameters of a prediction-log read.
func parsePredictionQuery(model string, q map[string][]string) (*PredictionQuery, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	pq := &PredictionQuery{Query: predlog.Query{Model: model, Version: get("version")}, Classes: q["class"]}
	for _, k := range []string{"since", "until"} {
		v := get(k)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return nil, errorf(KindInvalid, k, "%s %q: want an RFC 3339 time (2026-01-02T15:04:05Z)", k, v)
		}
		if k == "since" {
			pq.Query.Since = t
		} else {
			pq.Query.Until = t
		}
	}
	if v := get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, errorf(KindInvalid, "limit", "limit %q: want a row count (0 for all)", v)
		}
		pq.Query.Limit = n
	}
	seen := map[string]bool{}
	for i, f := range q["field"] {
		j := strings.LastIndexByte(f, ':')
		if j <= 0 {
			return nil, errorf(KindInvalid, "field", "field[%d] %q: want NAME:TYPE", i, f)
		}
		k, err := frame.ParseKind(f[j+1:])
		if err != nil {
			return nil, errorf(KindInvalid, "field", "field[%d] %q: %v", i, f, err)
		}
		if seen[f[:j]] {
			return nil, errorf(KindInvalid, "field", "field[%d]: %q given twice", i, f[:j])
		}
		seen[f[:j]] = true
		pq.Schema.Fields = append(pq.Schema.Fields, frame.Field{Name: f[:j], Kind: k})
	}
	classSeen := map[string]bool{}
	for i, c := range pq.Classes {
		if classSeen[c] {
			return nil, errorf(KindInvalid, "class", "class[%d]: %q given twice", i, c)
		}
		classSeen[c] = true
	}
	return pq, nil
}

func (s *Server) readPredictions(w http.ResponseWriter, r *http.Request) error {
	name, err := modelName(r, access.Viewer)
	if err != nil {
		return err
	}
	pq, err := parsePredictionQuery(name, r.URL.Query())
	if err != nil {
		return err
	}
	lg, err := s.plog.Read(r.Context(), pq.Query, pq.Schema, pq.Classes)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := predlog.WriteLogged(&buf, lg); err != nil {
		return err
	}
	w.Header().Set("Content-Type", ParquetType)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	_, err = buf.WriteTo(w)
	return err
}

func (s *Server) pipelineRuns(r *http.Request) ([]pipeline.RunInfo, error) {
	name := r.PathValue("name")
	if err := checkName("name", name); err != nil {
		return nil, err
	}
	if err := s.requireExperiment(r.Context(), access.Viewer, "pipeline-"+name); err != nil {
		return nil, err
	}
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			return nil, errorf(KindInvalid, "limit", "limit %q: want 1 to %d", v, MaxPageSize)
		}
		limit = n
	}
	return pipeline.Runs(r.Context(), s.o.DB, name, limit)
}

func (s *Server) maskingSalt(r *http.Request) (*MaskingSalt, error) {
	ctx := r.Context()
	if err := access.Require(ctx, access.Editor, access.ServerResource); err != nil {
		return nil, err
	}
	salt, err := governance.Salt(ctx, s.o.DB)
	if err != nil {
		return nil, err
	}
	if err := s.o.DB.Write(ctx, func(tx *sqlstore.Tx) error {
		return audit.Record(ctx, tx, "governance.salt.read", "server", "pii_salt", nil, nil)
	}); err != nil {
		return nil, err
	}
	return &MaskingSalt{Salt: base64.StdEncoding.EncodeToString(salt)}, nil
}
