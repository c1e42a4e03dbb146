package apiclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/pipeline"
	"github.com/gyre-ml/gyre/internal/predlog"
	"github.com/gyre-ml/gyre/internal/web"
)

// PredictionLog is a team server's prediction log, with the methods of
// the local *predlog.Log that serve writes through and monitor reads.
type PredictionLog struct{ c *Client }

// PredictionLog returns the server's prediction log.
func (c *Client) PredictionLog() *PredictionLog { return &PredictionLog{c} }

// LogPredictions uploads a batch (as the Parquet file the log stores).
func (p *PredictionLog) LogPredictions(ctx context.Context, b *predlog.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	var buf bytes.Buffer
	if err := predlog.WriteBatch(&buf, b); err != nil {
		return fmt.Errorf("log predictions of %s: %w", b.Model, err)
	}
	if err := p.c.Do(ctx, http.MethodPost, modelPath(b.Model)+"/predictions", nil, &buf, nil); err != nil {
		return fmt.Errorf("log predictions of %s: %w", b.Model, err)
	}
	return nil
}

// LogFeedback uploads labels, one request per model and at most
// web.MaxFeedback labels a request.
func (p *PredictionLog) LogFeedback(ctx context.Context, fbs []predlog.Feedback) error {
	byModel := map[string][]web.FeedbackItem{}
	var order []string
	for _, f := range fbs {
		if _, ok := byModel[f.Model]; !ok {
			order = append(order, f.Model)
		}
		byModel[f.Model] = append(byModel[f.Model], web.FeedbackItem{RequestID: f.RequestID, Row: f.Row, Label: f.Label, Time: f.Time})
	}
	for _, m := range order {
		items := byModel[m]
		for len(items) > 0 {
			n := min(len(items), web.MaxFeedback)
			if err := p.c.Do(ctx, http.MethodPost, modelPath(m)+"/feedback", nil, web.FeedbackRequest{Feedback: items[:n]}, nil); err != nil {
				return fmt.Errorf("log feedback of %s: %w", m, err)
			}
			items = items[n:]
		}
	}
	return nil
}

// Read reads logged predictions, typed by schema and classes, as
// predlog.Log.Read does on the server's store.
func (p *PredictionLog) Read(ctx context.Context, q predlog.Query, schema frame.Schema, classes []string) (*predlog.Logged, error) {
	v := url.Values{}
	if q.Version != "" {
		v.Set("version", q.Version)
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	for _, f := range schema.Fields {
		v.Add("field", f.Name+":"+f.Kind.String())
	}
	v["class"] = classes
	resp, err := p.c.send(ctx, http.MethodGet, modelPath(q.Model)+"/predictions", v, nil)
	if err != nil {
		return nil, fmt.Errorf("read prediction log of %s: %w", q.Model, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, failure{fmt.Errorf("read prediction log of %s: %w", q.Model, err)}
	}
	lg, err := predlog.ReadLogged(data, schema, classes)
	if err != nil {
		return nil, failure{fmt.Errorf("read prediction log of %s: %w", q.Model, err)}
	}
	lg.Model, lg.Version = q.Model, q.Version
	return lg, nil
}

// PipelineRuns lists a pipeline's most recent runs, newest first.
func (c *Client) PipelineRuns(ctx context.Context, name string, limit int) ([]pipeline.RunInfo, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(min(limit, web.MaxPageSize)))
	}
	l, err := Call[web.List[pipeline.RunInfo]](ctx, c, http.MethodGet, "/api/v1/pipelines/"+url.PathEscape(name)+"/runs", q, nil)
	if err != nil {
		return nil, fmt.Errorf("pipeline %s: runs: %w", name, err)
	}
	return l.Items, nil
}

// MaskingSalt returns the store's PII salt (editors only), so that a
// client masks PII columns as the server's store does.
func (c *Client) MaskingSalt(ctx context.Context) ([]byte, error) {
	s, err := Call[web.MaskingSalt](ctx, c, http.MethodGet, "/api/v1/governance/masking-salt", nil, nil)
	if err != nil {
		return nil, fmt.Errorf("masking salt: %w", err)
	}
	salt, err := base64.StdEncoding.DecodeString(s.Salt)
	if err != nil || len(salt) < 16 {
		return nil, failure{fmt.Errorf("masking salt: the server sent no salt of 16 bytes or more")}
	}
	return salt, nil
}
