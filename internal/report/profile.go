package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/gyre-ml/gyre/internal/profile"
)

// maxColumnSections bounds the per-column sections of a profile page.
const maxColumnSections = 300

// Tone of a profile severity.
func severityTone(s profile.Severity) Tone {
	switch s {
	case profile.Error:
		return Bad
	case profile.Warn:
		return Warning
	}
	return Info
}

// ProfilePage builds the exploratory data analysis page of a profile:
// overview cards, warnings, target, correlations, missing values, the most
// correlated pairs and one section per column.
func ProfilePage(p *profile.Profile) *Page {
	pg := &Page{Title: "Data profile", Generated: time.Now()}
	if p.Source != "" {
		pg.Title = "Data profile: " + p.Source
	}
	nNum, nCat, cells, missing := 0, 0, 0, 0
	for _, c := range p.Columns {
		if c.IsNumeric() {
			nNum++
		} else {
			nCat++
		}
		cells += p.Rows
		missing += c.Missing
	}
	pg.Subtitle = fmt.Sprintf("%s rows × %d columns (%d numeric, %d categorical)", commas(p.Rows), len(p.Columns), nNum, nCat)
	if p.Target != "" {
		pg.Subtitle += " · target " + p.Target
	}
	nWarn := 0
	for _, w := range p.Warnings {
		if w.Severity != profile.Info {
			nWarn++
		}
	}
	missTone, dupTone, warnTone := Good, Good, Good
	if share(missing, cells) > 0.05 {
		missTone = Warning
	}
	if p.DuplicateRows > 0 {
		dupTone = Info
	}
	if nWarn > 0 {
		warnTone = Warning
	}
	ov := pg.AddSection("Overview")
	ov.Add(Cards{
		{Label: "Rows", Value: commas(p.Rows)},
		{Label: "Columns", Value: strconv.Itoa(len(p.Columns)), Note: fmt.Sprintf("%d numeric · %d categorical", nNum, nCat)},
		{Label: "Missing cells", Value: pctStr(share(missing, cells)), Note: commas(missing) + " cells", Tone: missTone},
		{Label: "Duplicate rows", Value: commas(p.DuplicateRows), Note: pctStr(share(p.DuplicateRows, p.Rows)), Tone: dupTone},
		{Label: "Warnings", Value: strconv.Itoa(nWarn), Note: fmt.Sprintf("%d notes", len(p.Warnings)-nWarn), Tone: warnTone},
	})
	ov.Add(columnTable(p))

	ws := pg.AddSection("Warnings")
	if nWarn > 0 {
		ws.Badge, ws.Tone = strconv.Itoa(nWarn), Warning
	}
	var wl Warnings
	for _, w := range p.Warnings {
		wl = append(wl, Card{Label: string(w.Severity), Value: w.Message, Note: w.Column, Tone: severityTone(w.Severity)})
	}
	ws.Add(wl)

	if p.TargetSummary != nil {
		targetSection(pg, p)
	}
	if r := p.Relations; r != nil && (len(r.Numeric) > 1 || len(r.Categorical) > 1) {
		cs := pg.AddSection("Correlations")
		note := fmt.Sprintf("Computed on %s rows", commas(r.SampleRows))
		if r.SampleRows < p.Rows {
			note += " (a seeded random sample)"
		}
		cs.Add(Note{Text: note + "; pairwise complete observations."})
		var blocks []Block
		if len(r.Numeric) > 1 {
			h := 120 + 22*len(r.Numeric)
			blocks = append(blocks,
				Chart{Title: "Pearson (numeric)", Height: h, Option: Heatmap(r.Numeric, r.Numeric, floats(r.Pearson), -1, 1)},
				Chart{Title: "Spearman (numeric, rank)", Height: h, Option: Heatmap(r.Numeric, r.Numeric, floats(r.Spearman), -1, 1)})
		}
		if len(r.Categorical) > 1 {
			h := 120 + 22*len(r.Categorical)
			blocks = append(blocks, Chart{Title: "Cramér's V (categorical)", Height: h, Option: Heatmap(r.Categorical, r.Categorical, floats(r.CramersV), 0, 1)})
		}
		if len(r.Numeric) > 0 && len(r.Categorical) > 0 {
			h := 120 + 22*len(r.Numeric)
			blocks = append(blocks, Chart{Title: "Correlation ratio η (numeric given categorical)", Height: h, Option: Heatmap(r.Categorical, r.Numeric, floats(r.CorrelationRatio), 0, 1)})
		}
		cs.Add(Grid{Columns: 2, Blocks: blocks})
	}
	if len(p.Scatter) > 0 {
		ss := pg.AddSection("Most correlated pairs")
		var blocks []Block
		for _, s := range p.Scatter {
			blocks = append(blocks, Chart{Title: fmt.Sprintf("%s vs %s (Pearson %.3f, %d sampled points)", s.Y, s.X, s.Pearson, len(s.Points)), Height: 300, Option: Scatter(s.Points, s.X, s.Y)})
		}
		ss.Add(Grid{Columns: min(3, len(blocks)), Blocks: blocks})
	}
	if m := p.Missing; m != nil && len(p.Columns) > 0 {
		ms := pg.AddSection("Missing values")
		names := make([]string, len(p.Columns))
		shares := make([]float64, len(p.Columns))
		for i, c := range p.Columns {
			names[i] = c.Name
			shares[i] = math.Round(1000*c.MissingShare) / 10
		}
		chunks := 0
		if len(m.Share) > 0 {
			chunks = len(m.Share[0])
		}
		labels := make([]string, chunks)
		for k := range labels {
			labels[k] = commas(k*m.ChunkRows+1) + "–" + commas(min(p.Rows, (k+1)*m.ChunkRows))
		}
		ms.Add(Grid{Columns: 2, Blocks: []Block{
			Chart{Title: "Missing share per column (%)", Height: 120 + 18*len(names), Option: Bars(names, []Series{{Name: "missing %", Values: shares}}, BarOptions{Horizontal: true})},
			Chart{Title: fmt.Sprintf("Missing share by row chunk (%s rows per chunk)", commas(m.ChunkRows)), Height: 120 + 18*len(names), Option: Heatmap(labels, names, m.Share, 0, 1)},
		}})
	}
	for i := range p.Columns {
		if i >= maxColumnSections {
			pg.AddSection("More columns").Add(Note{Text: fmt.Sprintf("%d more columns are summarised in the overview table only.", len(p.Columns)-maxColumnSections)})
			break
		}
		columnSection(pg, p, &p.Columns[i])
	}
	return pg
}

func floats(m [][]profile.Float) [][]float64 {
	out := make([][]float64, len(m))
	for i, r := range m {
		out[i] = make([]float64, len(r))
		for j, v := range r {
			out[i][j] = float64(v)
		}
	}
	return out
}

func columnTable(p *profile.Profile) Table {
	t := Table{Columns: []string{"column", "type", "missing", "distinct", "mean / top", "min", "max", "flags"}, Numeric: map[int]bool{2: true, 3: true, 5: true, 6: true}, Compact: true}
	for _, c := range p.Columns {
		top, lo, hi := "", "", ""
		if n := c.Numeric; n != nil {
			top, lo, hi = FormatNumber(n.Mean), FormatNumber(n.Min), FormatNumber(n.Max)
		} else if cat := c.Categories; cat != nil && len(cat.Counts) > 0 {
			top = fmt.Sprintf("%s (%s)", cat.Counts[0].Value, pctStr(share(cat.Counts[0].Count, c.Count)))
		}
		flags := flagsOf(p, &c)
		tone := Neutral
		if flags != "" {
			tone = Info
		}
		dist := commas(c.Distinct)
		if c.DistinctApprox {
			dist = "≈" + dist
		}
		t.Rows = append(t.Rows, []Cell{
			{Text: c.Name, Link: Anchor("col-" + c.Name)}, {Text: c.Kind.String()},
			{Text: pctStr(c.MissingShare), Bar: c.MissingShare}, {Text: dist}, {Text: top}, {Text: lo}, {Text: hi}, {Text: flags, Tone: tone},
		})
	}
	return t
}

func flagsOf(p *profile.Profile, c *profile.Column) string {
	var f []string
	if c.Name == p.Target {
		f = append(f, "target")
	}
	if c.Count == 0 {
		f = append(f, "all missing")
	}
	if c.Constant {
		f = append(f, "constant")
	}
	if c.NearConstant {
		f = append(f, "near-constant")
	}
	if c.LikelyID {
		f = append(f, "ID-like")
	}
	if c.HighCardinality {
		f = append(f, "high cardinality")
	}
	if c.Numeric != nil && math.Abs(c.Numeric.Skewness) >= 2 {
		f = append(f, "skewed")
	}
	for _, w := range p.Warnings {
		if w.Kind == "leakage" && w.Column == c.Name {
			f = append(f, "leakage?")
		}
	}
	out := ""
	for i, s := range f {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}

func targetSection(pg *Page, p *profile.Profile) {
	ts := p.TargetSummary
	s := pg.AddSection("Target: " + ts.Name)
	var blocks []Block
	if ts.Classification {
		blocks = append(blocks, Chart{Title: "Class balance", Height: 100 + 26*len(ts.Classes), Option: Bars(ts.Classes, []Series{{Name: "rows", Values: intsF(ts.ClassCounts)}}, BarOptions{Horizontal: true})})
	} else if ts.Histogram != nil {
		blocks = append(blocks, Chart{Title: "Target distribution", Option: Histogram(ts.Histogram.Edges, ts.Histogram.Counts, ts.Name)})
	}
	type fm struct {
		name string
		mi   float64
		as   float64
		meth string
	}
	var feats []fm
	for _, c := range p.Columns {
		if c.Target != nil {
			feats = append(feats, fm{c.Name, c.Target.MutualInformation, float64(c.Target.Association), c.Target.AssociationMethod})
		}
	}
	sort.SliceStable(feats, func(i, j int) bool { return feats[i].mi > feats[j].mi })
	names := make([]string, len(feats))
	mis := make([]float64, len(feats))
	for i, f := range feats {
		names[i], mis[i] = f.name, math.Round(f.mi*10000)/10000
	}
	if len(feats) > 0 {
		blocks = append(blocks, Chart{Title: "Mutual information with the target (nats)", Height: 100 + 20*len(feats), Option: Bars(names, []Series{{Name: "mutual information", Values: mis}}, BarOptions{Horizontal: true})})
	}
	s.Add(Grid{Columns: 2, Blocks: blocks})
	t := Table{Columns: []string{"feature", "mutual information", "association", "statistic"}, Numeric: map[int]bool{1: true, 2: true}, Compact: true}
	maxMI := 0.0
	for _, f := range feats {
		maxMI = math.Max(maxMI, f.mi)
	}
	for _, f := range feats {
		bar := 0.0
		if maxMI > 0 {
			bar = f.mi / maxMI
		}
		t.Rows = append(t.Rows, []Cell{{Text: f.name, Link: Anchor("col-" + f.name)}, {Text: strconv.FormatFloat(f.mi, 'f', 4, 64), Bar: bar}, {Text: fmtAssoc(f.as)}, {Text: f.meth}})
	}
	s.Add(t)
}

func fmtAssoc(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

func columnSection(pg *Page, p *profile.Profile, c *profile.Column) {
	s := &Section{ID: Anchor("col-" + c.Name), Title: c.Name, Sub: true}
	pg.Sections = append(pg.Sections, s)
	if f := flagsOf(p, c); f != "" {
		s.Badge, s.Tone = f, Info
	}
	for _, w := range p.Warnings {
		if w.Column == c.Name && w.Severity != profile.Info {
			s.Tone = Warning
		}
	}
	cards := Cards{
		{Label: "Type", Value: c.Kind.String()},
		{Label: "Missing", Value: pctStr(c.MissingShare), Note: commas(c.Missing) + " rows"},
		{Label: "Distinct", Value: commas(c.Distinct), Note: pctStr(share(c.Distinct, c.Count)) + " of values"},
	}
	if c.Count == 0 {
		s.Add(cards, Note{Text: "Every value is missing.", Tone: Bad})
		return
	}
	var blocks []Block
	if n := c.Numeric; n != nil {
		cards = append(cards, Card{Label: "Mean", Value: FormatNumber(n.Mean), Note: "std " + FormatNumber(n.Std)},
			Card{Label: "Zeros", Value: pctStr(share(n.Zeros, c.Count))},
			Card{Label: "Outliers", Value: commas(n.OutliersIQR), Note: fmt.Sprintf("IQR rule · %s with |z|>3", commas(n.OutliersZ))})
		stats := Table{Columns: []string{"statistic", "value"}, Numeric: map[int]bool{1: true}, Compact: true}
		add := func(k string, v float64) { stats.Rows = append(stats.Rows, Texts(k, FormatNumber(v))) }
		add("min", n.Min)
		for i, q := range profile.QuantileLevels {
			add(fmt.Sprintf("p%g", q*100), n.Quantiles[i])
		}
		add("max", n.Max)
		add("mean", n.Mean)
		add("std", n.Std)
		stats.Rows = append(stats.Rows, Texts("skewness", strconv.FormatFloat(n.Skewness, 'f', 3, 64)))
		if !n.QuantilesExact {
			stats.Rows = append(stats.Rows, Texts("quantiles", fmt.Sprintf("sketch, rank error < %.1f%%", 100*profile.KLLRankError)))
		}
		blocks = append(blocks, Chart{Title: "Histogram", Option: Histogram(n.Histogram.Edges, n.Histogram.Counts, c.Name)}, stats)
	} else if cat := c.Categories; cat != nil {
		top := cat.Counts[:min(20, len(cat.Counts))]
		names := make([]string, len(top))
		vals := make([]float64, len(top))
		rest := c.Count
		for i, cc := range top {
			names[i], vals[i] = cc.Value, float64(cc.Count)
			rest -= cc.Count
		}
		if rest > 0 {
			names = append(names, fmt.Sprintf("(%d others)", c.Distinct-len(top)))
			vals = append(vals, float64(rest))
		}
		cards = append(cards, Card{Label: "Top", Value: top[0].Value, Note: pctStr(share(top[0].Count, c.Count))},
			Card{Label: "Rare categories", Value: commas(cat.Rare), Note: "share < 1%"})
		blocks = append(blocks, Chart{Title: "Top categories", Height: 90 + 22*len(names), Option: Bars(names, []Series{{Name: "rows", Values: vals}}, BarOptions{Horizontal: true})})
	}
	if ft := c.Target; ft != nil && p.TargetSummary != nil {
		title := fmt.Sprintf("Target by %s (MI %.4f nats)", c.Name, ft.MutualInformation)
		if p.TargetSummary.Classification && len(ft.ClassCounts) > 0 {
			classes := p.TargetSummary.Classes
			var series []Series
			for k := range ft.ClassCounts[0] {
				name := strconv.Itoa(k)
				if k < len(classes) {
					name = classes[k]
				}
				v := make([]float64, len(ft.Groups))
				for g := range ft.Groups {
					v[g] = float64(ft.ClassCounts[g][k])
				}
				series = append(series, Series{Name: name, Values: v})
			}
			blocks = append(blocks, Chart{Title: title + " · class share per group", Height: 300, Option: Bars(ft.Groups, series, BarOptions{Percent: true, Legend: true})})
		} else if len(ft.Mean) > 0 {
			v := make([]float64, len(ft.Mean))
			for i, m := range ft.Mean {
				v[i] = float64(m)
			}
			blocks = append(blocks, Chart{Title: title + " · mean target per group", Option: Lines(ft.Groups, []Series{{Name: "mean " + p.Target, Values: v}}, "")})
		}
	}
	s.Add(cards, Grid{Columns: min(3, max(1, len(blocks))), Blocks: blocks})
}

func intsF(v []int) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func share(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func pctStr(v float64) string {
	switch {
	case v == 0:
		return "0%"
	case v < 0.001:
		return "<0.1%"
	}
	return strconv.FormatFloat(100*v, 'f', 1, 64) + "%"
}

// commas formats an integer with thousands separators.
func commas(n int) string {
	s := strconv.Itoa(n)
	neg := ""
	if n < 0 {
		neg, s = "-", s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return neg + s
}
