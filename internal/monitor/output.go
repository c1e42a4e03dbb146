package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes the report as a plain-text summary and tables.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	name := r.Model
	if r.Version != "" {
		name += "/" + r.Version
	}
	fmt.Fprintf(&b, "monitor %s: %d rows", name, r.Rows)
	if !r.Start.IsZero() {
		fmt.Fprintf(&b, " from %s to %s", r.Start.Format(time.RFC3339), r.End.Format(time.RFC3339))
	}
	b.WriteString("\n")
	if d := r.Drift; d != nil {
		fmt.Fprintf(&b, "data drift: %d of %d features drifted (share %.2f, data-set drift at %.2f): %s\n", d.Drifted, d.Tested, d.Share, d.DriftShare, yesNo(d.DatasetDrift))
	}
	if pd := r.PredictionDrift; pd != nil {
		fmt.Fprintf(&b, "prediction drift: %s %s = %.4g (threshold %.4g): %s\n", pd.Method, pd.StatisticName, float64(pd.Statistic), pd.Threshold, yesNo(pd.Drifted))
	}
	if p := r.Performance; p != nil {
		fmt.Fprintf(&b, "performance: %s = %.4g on %d labelled rows (training %s)\n", p.Metric, p.Value, p.Labeled, num(float64(p.Reference)))
	}
	if e := r.Estimated; e != nil {
		fmt.Fprintf(&b, "estimated (CBPE, no labels): accuracy %.4f (training %s), roc_auc %.4f (training %s)\n", e.Accuracy, num(float64(e.RefAccuracy)), e.ROCAUC, num(float64(e.RefROCAUC)))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nfeature\tmethod\tstatistic\tthreshold\tdrift\tmissing\tout of range\tunseen")
	q := map[string]Quality{}
	for _, x := range r.Quality {
		q[x.Column] = x
	}
	if r.Drift != nil {
		cols := append([]ColumnDriftRow(nil), driftRows(r)...)
		for _, c := range cols {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.3f\t%d\t%d\n", c.Column, c.Method, c.Statistic, c.Threshold, c.Drift, q[c.Column].MissingShare, q[c.Column].OutOfRange, q[c.Column].Unseen)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if p := r.Performance; p != nil && len(p.Windows) > 0 {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "\nwindow start\trows\t%s\n", p.Metric)
		for _, win := range p.Windows {
			fmt.Fprintf(tw, "%s\t%d\t%s\n", win.Start.Format(time.RFC3339), win.Rows, num(float64(win.Value)))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(r.Alerts) == 0 {
		_, err := io.WriteString(w, "\nno alerts\n")
		return err
	}
	fmt.Fprintf(w, "\n%d alert(s):\n", len(r.Alerts))
	for _, a := range r.Alerts {
		fmt.Fprintf(w, "  [%s] %s\n", a.Kind, a.Message)
	}
	return nil
}

// ColumnDriftRow is one feature's drift rendered as text.
type ColumnDriftRow struct {
	Column, Method, Statistic, Threshold, Drift string
}

// driftRows renders the drift table, drifted columns first.
func driftRows(r *Report) []ColumnDriftRow {
	cols := append(r.Drift.Columns[:0:0], r.Drift.Columns...)
	sort.SliceStable(cols, func(i, j int) bool { return cols[i].Drifted && !cols[j].Drifted })
	out := make([]ColumnDriftRow, len(cols))
	for i, c := range cols {
		row := ColumnDriftRow{Column: c.Column, Method: string(c.Method), Statistic: num(float64(c.Statistic)), Threshold: num(c.Threshold), Drift: yesNo(c.Drifted)}
		if c.Skipped != "" {
			row.Method, row.Statistic, row.Threshold, row.Drift = "-", "-", "-", "skipped: "+c.Skipped
		}
		out[i] = row
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "DRIFT"
	}
	return "ok"
}

func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// WriteGauges writes the report as Prometheus gauges labelled with the
// model name: drift statistic and flag per feature, the data-set drift share,
// prediction drift, measured and estimated performance, and the alert count.
func (r *Report) WriteGauges(w io.Writer) {
	m := promLabel(r.Model)
	if d := r.Drift; d != nil {
		fmt.Fprintf(w, "# HELP gyre_drift_share Share of drifted features in the monitoring window.\n# TYPE gyre_drift_share gauge\n")
		fmt.Fprintf(w, "gyre_drift_share{model=%s} %g\n", m, d.Share)
		fmt.Fprintf(w, "# HELP gyre_feature_drift_score Drift statistic per feature (p-value or distance, see method).\n# TYPE gyre_feature_drift_score gauge\n")
		for _, c := range d.Columns {
			if c.Skipped == "" && !math.IsNaN(float64(c.Statistic)) {
				fmt.Fprintf(w, "gyre_feature_drift_score{model=%s,feature=%s,method=%s} %g\n", m, promLabel(c.Column), promLabel(string(c.Method)), float64(c.Statistic))
			}
		}
		fmt.Fprintf(w, "# HELP gyre_feature_drifted Whether a feature drifted (1) or not (0).\n# TYPE gyre_feature_drifted gauge\n")
		for _, c := range d.Columns {
			if c.Skipped == "" {
				fmt.Fprintf(w, "gyre_feature_drifted{model=%s,feature=%s} %d\n", m, promLabel(c.Column), b2i(c.Drifted))
			}
		}
	}
	if pd := r.PredictionDrift; pd != nil {
		fmt.Fprintf(w, "# HELP gyre_prediction_drift_score Drift statistic of the predictions against the training target.\n# TYPE gyre_prediction_drift_score gauge\n")
		fmt.Fprintf(w, "gyre_prediction_drift_score{model=%s,method=%s} %g\n", m, promLabel(string(pd.Method)), float64(pd.Statistic))
	}
	if p := r.Performance; p != nil && !math.IsNaN(p.Value) {
		fmt.Fprintf(w, "# HELP gyre_performance Performance measured from feedback labels.\n# TYPE gyre_performance gauge\n")
		fmt.Fprintf(w, "gyre_performance{model=%s,metric=%s} %g\n", m, promLabel(p.Metric), p.Value)
	}
	if e := r.Estimated; e != nil {
		fmt.Fprintf(w, "# HELP gyre_estimated_performance Label-free performance estimate (CBPE).\n# TYPE gyre_estimated_performance gauge\n")
		if !math.IsNaN(e.Accuracy) {
			fmt.Fprintf(w, "gyre_estimated_performance{model=%s,metric=\"accuracy\"} %g\n", m, e.Accuracy)
		}
		if !math.IsNaN(e.ROCAUC) {
			fmt.Fprintf(w, "gyre_estimated_performance{model=%s,metric=\"roc_auc\"} %g\n", m, e.ROCAUC)
		}
	}
	fmt.Fprintf(w, "# HELP gyre_monitor_alerts Monitoring alerts firing.\n# TYPE gyre_monitor_alerts gauge\n")
	fmt.Fprintf(w, "gyre_monitor_alerts{model=%s} %d\n", m, len(r.Alerts))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func promLabel(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// Webhook posts alerts as JSON.
type Webhook struct {
	// URL receives a POST with the Alert payload.
	URL string
	// Client is the HTTP client (default: 10 s timeout).
	Client *http.Client
	// Retries is the number of retries after a failed attempt (default 3);
	// the pause doubles from Backoff (default 500 ms).
	Retries int
	Backoff time.Duration
}

// Payload is the JSON body a webhook receives.
type Payload struct {
	Model   string    `json:"model"`
	Version string    `json:"version,omitempty"`
	Time    time.Time `json:"time"`
	Alerts  []Alert   `json:"alerts"`
	// Summary is the one-line text of the alerts.
	Summary string `json:"summary"`
	// Report is the full report.
	Report *Report `json:"report,omitempty"`
}

// Notify posts the report's alerts. A 5xx answer, 429 or a network error is
// retried with exponential backoff; a 4xx is final.
func (h *Webhook) Notify(ctx context.Context, r *Report) error {
	msgs := make([]string, len(r.Alerts))
	for i, a := range r.Alerts {
		msgs[i] = a.Message
	}
	body, err := json.Marshal(Payload{Model: r.Model, Version: r.Version, Time: time.Now().UTC(), Alerts: r.Alerts, Summary: strings.Join(msgs, "; "), Report: r})
	if err != nil {
		return fmt.Errorf("webhook %s: %w", h.URL, err)
	}
	client := h.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	retries, pause := h.Retries, h.Backoff
	if retries <= 0 {
		retries = 3
	}
	if pause <= 0 {
		pause = 500 * time.Millisecond
	}
	var last error
	for attempt := 0; attempt <= retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("webhook %s: %w (last error: %v)", h.URL, ctx.Err(), last)
			case <-time.After(pause):
			}
			pause *= 2
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("webhook %s: %w", h.URL, err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "gyre-monitor")
		resp, err := client.Do(req)
		if err != nil {
			last = err
			continue
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		switch {
		case resp.StatusCode < 300:
			return nil
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			last = fmt.Errorf("status %s", resp.Status)
		default:
			return fmt.Errorf("webhook %s: status %s (not retried)", h.URL, resp.Status)
		}
	}
	return fmt.Errorf("webhook %s: gave up after %d attempts: %w", h.URL, retries+1, last)
}
