package report

import (
	"fmt"
	"strconv"
	"time"

	"github.com/gyre-ml/gyre/internal/validate"
)

// ValidationPage builds the page of a validation report: verdict, findings
// and, against a reference, the drift table with reference-versus-current
// distributions of every tested column (drifted first).
func ValidationPage(r *validate.Report) *Page {
	pg := &Page{Title: "Data validation", Generated: time.Now()}
	if r.Source != "" {
		pg.Title += ": " + r.Source
	}
	if r.Reference != "" {
		pg.Subtitle = "against " + r.Reference + " · "
	}
	pg.Subtitle += commas(r.Rows) + " rows"
	verdict, tone := "PASSED", Good
	if !r.Passed {
		verdict, tone = "FAILED", Bad
	}
	sum := pg.AddSection("Summary")
	sum.Badge, sum.Tone = verdict, tone
	errTone, warnTone := Good, Good
	if r.Errors > 0 {
		errTone = Bad
	}
	if r.Warnings > 0 {
		warnTone = Warning
	}
	cards := Cards{
		{Label: "Verdict", Value: verdict, Tone: tone},
		{Label: "Errors", Value: strconv.Itoa(r.Errors), Tone: errTone},
		{Label: "Warnings", Value: strconv.Itoa(r.Warnings), Tone: warnTone},
		{Label: "Rows", Value: commas(r.Rows)},
	}
	if d := r.Drift; d != nil {
		dt := Good
		if d.DatasetDrift {
			dt = Bad
		} else if d.Drifted > 0 {
			dt = Warning
		}
		cards = append(cards, Card{Label: "Drifted columns", Value: fmt.Sprintf("%d / %d", d.Drifted, d.Tested), Note: fmt.Sprintf("data set drift at %.0f%%", 100*d.DriftShare), Tone: dt})
	}
	sum.Add(cards)
	fs := pg.AddSection("Findings")
	var wl Warnings
	for _, f := range r.Findings {
		wl = append(wl, Card{Label: string(f.Severity), Value: f.Message, Note: f.Column, Tone: severityTone(f.Severity)})
	}
	fs.Add(wl)
	d := r.Drift
	if d == nil {
		return pg
	}
	ds := pg.AddSection("Drift")
	ds.Add(Note{Text: "Evidently's defaults: reference ≤ 1000 rows — KS (numeric), chi-square (categorical), z-test (binary), drift when p < 0.05; larger references — Wasserstein distance normed by the reference std (numeric) and Jensen–Shannon distance (categorical), drift when ≥ 0.1."})
	t := Table{Columns: []string{"column", "type", "method", "statistic", "threshold", "drift"}, Numeric: map[int]bool{3: true, 4: true}, Compact: true}
	var order []int
	for i, c := range d.Columns {
		if c.Drifted {
			order = append(order, i)
		}
	}
	for i, c := range d.Columns {
		if !c.Drifted {
			order = append(order, i)
		}
	}
	for _, i := range order {
		c := d.Columns[i]
		if c.Skipped != "" {
			t.Rows = append(t.Rows, []Cell{{Text: c.Column}, {Text: c.Kind.String()}, {Text: "–"}, {Text: "–"}, {Text: "–"}, {Text: "skipped: " + c.Skipped}})
			continue
		}
		verdict := Cell{Text: "no", Tone: Good}
		if c.Drifted {
			verdict = Cell{Text: "DRIFT", Tone: Bad}
		}
		link := ""
		if len(c.Bins) > 0 {
			link = Anchor("drift-" + c.Column)
		}
		t.Rows = append(t.Rows, []Cell{{Text: c.Column, Link: link}, {Text: c.Kind.String()}, {Text: string(c.Method)},
			{Text: strconv.FormatFloat(float64(c.Statistic), 'g', 4, 64)}, {Text: strconv.FormatFloat(c.Threshold, 'g', 4, 64)}, verdict})
	}
	ds.Add(t)
	shown := 0
	for _, i := range order {
		c := d.Columns[i]
		if len(c.Bins) == 0 || shown >= 60 {
			continue
		}
		shown++
		s := &Section{ID: Anchor("drift-" + c.Column), Title: c.Column, Sub: true}
		if c.Drifted {
			s.Badge, s.Tone = "drift", Bad
		}
		pct := func(v []float64) []float64 {
			out := make([]float64, len(v))
			for i, x := range v {
				out[i] = float64(int(x*10000+0.5)) / 100
			}
			return out
		}
		opt := BarOptions{Legend: true}
		h := 280
		if c.Kind != 0 && !isNumericKind(c) {
			opt.Horizontal = true
			h = 110 + 28*len(c.Bins)
		}
		s.Add(Chart{Title: fmt.Sprintf("%s: %s %s = %.4g (threshold %g) · share of values (%%)", c.Column, c.Method, c.StatisticName, float64(c.Statistic), c.Threshold), Height: h,
			Option: Bars(c.Bins, []Series{{Name: "reference", Values: pct(c.Ref)}, {Name: "current", Values: pct(c.Cur)}}, opt)})
		pg.Sections = append(pg.Sections, s)
	}
	return pg
}

func isNumericKind(c validate.ColumnDrift) bool {
	return c.Kind.Numeric() || c.Kind.String() == "time"
}
