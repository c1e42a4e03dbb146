package monitor

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/gyre-ml/gyre/internal/report"
	"github.com/gyre-ml/gyre/internal/validate"
)

// Page builds the HTML report: verdict cards, alerts, performance over time,
// the drift table and reference-versus-current distributions per feature
// (drifted first).
func (r *Report) Page() *report.Page {
	name := r.Model
	if r.Version != "" {
		name += " version " + r.Version
	}
	pg := &report.Page{Title: "Monitoring: " + name, Generated: time.Now().UTC(),
		Subtitle: fmt.Sprintf("%d rows · task %s · target %s", r.Rows, r.Task, r.Target)}
	if !r.Start.IsZero() {
		pg.Subtitle += fmt.Sprintf(" · %s – %s", r.Start.Format(time.RFC3339), r.End.Format(time.RFC3339))
	}
	s := pg.AddSection("Summary")
	cards := report.Cards{{Label: "alerts", Value: strconv.Itoa(len(r.Alerts)), Tone: toneIf(len(r.Alerts) > 0, report.Bad, report.Good)}}
	if d := r.Drift; d != nil {
		cards = append(cards, report.Card{Label: "drifted features", Value: fmt.Sprintf("%d / %d", d.Drifted, d.Tested),
			Note: fmt.Sprintf("data-set drift at %.0f%%", 100*d.DriftShare), Tone: toneIf(d.DatasetDrift, report.Bad, report.Good)})
	}
	if pd := r.PredictionDrift; pd != nil {
		cards = append(cards, report.Card{Label: "prediction drift", Value: report.FormatNumber(float64(pd.Statistic)),
			Note: string(pd.Method), Tone: toneIf(pd.Drifted, report.Bad, report.Good)})
	}
	if p := r.Performance; p != nil {
		cards = append(cards, report.Card{Label: p.Metric + " (labelled)", Value: report.FormatNumber(p.Value),
			Note: fmt.Sprintf("%d labels · training %s", p.Labeled, num(float64(p.Reference)))})
	}
	if e := r.Estimated; e != nil {
		cards = append(cards, report.Card{Label: "estimated roc_auc (CBPE)", Value: report.FormatNumber(e.ROCAUC), Note: "training " + num(float64(e.RefROCAUC))})
	}
	s.Add(cards)
	if len(r.Alerts) > 0 {
		as := pg.AddSection("Alerts")
		as.Badge, as.Tone = strconv.Itoa(len(r.Alerts)), report.Bad
		t := report.Table{Columns: []string{"kind", "alert"}}
		for _, a := range r.Alerts {
			t.Rows = append(t.Rows, []report.Cell{{Text: a.Kind, Tone: report.Bad}, {Text: a.Message}})
		}
		as.Add(t)
	}
	if p := r.Performance; p != nil && len(p.Windows) > 0 {
		ps := pg.AddSection("Performance over time")
		labels, vals, ref := make([]string, len(p.Windows)), make([]float64, len(p.Windows)), make([]float64, len(p.Windows))
		for i, w := range p.Windows {
			labels[i], vals[i], ref[i] = w.Start.Format("2006-01-02 15:04"), float64(w.Value), float64(p.Reference)
		}
		series := []report.Series{{Name: p.Metric, Values: clean(vals)}}
		if !math.IsNaN(float64(p.Reference)) {
			series = append(series, report.Series{Name: "training", Values: clean(ref)})
		}
		ps.Add(report.Chart{Title: p.Metric + " per window (from feedback labels)", Option: report.Lines(labels, series, p.Metric)})
	}
	if e := r.Estimated; e != nil && len(e.Windows) > 0 {
		es := pg.AddSection("Estimated performance")
		labels, vals := make([]string, len(e.Windows)), make([]float64, len(e.Windows))
		for i, w := range e.Windows {
			labels[i], vals[i] = w.Start.Format("2006-01-02 15:04"), float64(w.Value)
		}
		es.Add(report.Note{Text: "Confidence-based performance estimation (CBPE): the ROC AUC expected if the model's probabilities are calibrated. It needs no labels."},
			report.Chart{Title: "expected roc_auc per window", Option: report.Lines(labels, []report.Series{{Name: "expected roc_auc", Values: clean(vals)}}, "roc_auc")})
	}
	if d := r.Drift; d != nil {
		ds := pg.AddSection("Data drift")
		if d.Drifted > 0 {
			ds.Badge, ds.Tone = strconv.Itoa(d.Drifted), report.Bad
		}
		q := map[string]Quality{}
		for _, x := range r.Quality {
			q[x.Column] = x
		}
		t := report.Table{Columns: []string{"feature", "method", "statistic", "threshold", "drift", "missing", "out of range", "unseen"}, Numeric: map[int]bool{2: true, 3: true, 5: true, 6: true, 7: true}}
		for _, row := range driftRows(r) {
			qq := q[row.Column]
			t.Rows = append(t.Rows, []report.Cell{{Text: row.Column, Link: report.Anchor("drift-" + row.Column)}, {Text: row.Method}, {Text: row.Statistic}, {Text: row.Threshold},
				{Text: row.Drift, Tone: toneIf(row.Drift == "DRIFT", report.Bad, report.Neutral)},
				{Text: fmt.Sprintf("%.1f%%", 100*qq.MissingShare)}, {Text: strconv.Itoa(qq.OutOfRange)}, {Text: strconv.Itoa(qq.Unseen)}})
		}
		ds.Add(t)
		cols := append(d.Columns[:0:0], d.Columns...)
		if pd := r.PredictionDrift; pd != nil {
			p := *pd
			p.Column = "prediction (" + r.Target + ")"
			cols = append([]validate.ColumnDrift{p}, cols...)
		}
		for _, c := range cols {
			if len(c.Bins) == 0 {
				continue
			}
			fs := pg.AddSection(c.Column)
			fs.ID, fs.Sub = report.Anchor("drift-"+c.Column), true
			if c.Drifted {
				fs.Badge, fs.Tone = "drift", report.Bad
			}
			opt := report.BarOptions{Legend: true}
			h := 280
			if len(c.Bins) > 12 {
				opt.Horizontal, h = true, 110+28*len(c.Bins)
			}
			fs.Add(report.Chart{Title: fmt.Sprintf("%s %s = %.4g (threshold %g) · share of values (%%)", c.Method, c.StatisticName, float64(c.Statistic), c.Threshold),
				Height: h, Option: report.Bars(c.Bins, []report.Series{{Name: "reference", Values: pct(c.Ref)}, {Name: "current", Values: pct(c.Cur)}}, opt)})
		}
	}
	return pg
}

func toneIf(c bool, yes, no report.Tone) report.Tone {
	if c {
		return yes
	}
	return no
}

func pct(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = 100 * x
	}
	return out
}

// clean replaces NaN (no value) with 0 so that charts marshal; windows
// without enough rows show as gaps in the table, not in the chart.
func clean(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			out[i] = x
		}
	}
	return out
}
