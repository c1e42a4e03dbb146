package profile

import (
	"fmt"
	"math"
	"sort"
)

// warnings derives the data-set and column warnings of p, keeping any
// already recorded (leakage) and sorting by severity then column order.
func warnings(p *Profile) []Warning {
	out := p.Warnings
	add := func(kind, col string, sev Severity, format string, a ...any) {
		out = append(out, Warning{Kind: kind, Column: col, Severity: sev, Message: fmt.Sprintf(format, a...)})
	}
	if p.Rows == 0 {
		add("empty", "", Error, "the data has no rows")
	}
	if p.DuplicateRows > 0 {
		add("duplicates", "", Info, "%d duplicate rows (%.1f%%)", p.DuplicateRows, pct(p.DuplicateRows, p.Rows))
	}
	for i := range p.Columns {
		c := &p.Columns[i]
		switch {
		case p.Rows > 0 && c.Count == 0:
			add("all_missing", c.Name, Warn, "%s is missing in every row", c.Name)
			continue
		case c.MissingShare >= 0.5:
			add("missing", c.Name, Warn, "%s is missing in %.1f%% of rows", c.Name, 100*c.MissingShare)
		case c.MissingShare >= 0.05:
			add("missing", c.Name, Info, "%s is missing in %.1f%% of rows", c.Name, 100*c.MissingShare)
		}
		if c.Constant {
			add("constant", c.Name, Warn, "%s has a single value: it carries no information", c.Name)
			continue
		}
		if c.NearConstant {
			add("near_constant", c.Name, Info, "%s: one value covers at least 95%% of rows", c.Name)
		}
		if c.LikelyID {
			add("id_like", c.Name, Info, "%s is unique in every row: likely an identifier, exclude it from features", c.Name)
		}
		if c.HighCardinality {
			add("high_cardinality", c.Name, Info, "%s has %d distinct categories", c.Name, c.Distinct)
		}
		if n := c.Numeric; n != nil {
			if math.Abs(n.Skewness) >= 2 {
				add("skew", c.Name, Info, "%s is highly skewed (skewness %.2f): consider a log transform", c.Name, n.Skewness)
			}
			if c.Count > 0 && float64(n.Zeros) >= 0.5*float64(c.Count) && !c.NearConstant {
				add("zeros", c.Name, Info, "%s is zero in %.1f%% of values", c.Name, pct(n.Zeros, c.Count))
			}
		}
	}
	if t := p.TargetSummary; t != nil && t.Classification && len(t.ClassCounts) > 1 {
		lo, hi := math.MaxInt, 0
		for _, k := range t.ClassCounts {
			lo, hi = min(lo, k), max(hi, k)
		}
		if lo > 0 {
			ratio := float64(hi) / float64(lo)
			switch {
			case ratio >= 10:
				add("imbalance", t.Name, Warn, "target %s is imbalanced: majority/minority class ratio %.1f", t.Name, ratio)
			case ratio >= 3:
				add("imbalance", t.Name, Info, "target %s is moderately imbalanced: majority/minority class ratio %.1f", t.Name, ratio)
			}
		}
	}
	rank := map[Severity]int{Error: 0, Warn: 1, Info: 2}
	sort.SliceStable(out, func(i, j int) bool { return rank[out[i].Severity] < rank[out[j].Severity] })
	if out == nil {
		out = []Warning{}
	}
	return out
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}
