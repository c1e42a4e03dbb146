package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/gyre-ml/gyre/internal/profile"
)

// WriteProfileText writes a profile for people: its size, a table of the
// columns' summaries, the target's classes and the warnings.
func WriteProfileText(w io.Writer, p *profile.Profile) {
	fmt.Fprintf(w, "%d rows × %d columns, %d duplicate rows\n\n", p.Rows, len(p.Columns), p.DuplicateRows)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COLUMN\tTYPE\tMISSING\tDISTINCT\tMEAN/TOP\tMIN\tMEDIAN\tMAX")
	for _, c := range p.Columns {
		top, lo, med, hi := "", "", "", ""
		if n := c.Numeric; n != nil {
			top, lo, med, hi = FormatNumber(n.Mean), FormatNumber(n.Min), FormatNumber(n.Quantiles[3]), FormatNumber(n.Max)
		} else if cat := c.Categories; cat != nil && len(cat.Counts) > 0 {
			top = cat.Counts[0].Value
		}
		dist := fmt.Sprint(c.Distinct)
		if c.DistinctApprox {
			dist = "≈" + dist
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f%%\t%s\t%s\t%s\t%s\t%s\n", c.Name, c.Kind, 100*c.MissingShare, dist, top, lo, med, hi)
	}
	tw.Flush()
	if t := p.TargetSummary; t != nil && t.Classification {
		var parts []string
		for i, c := range t.Classes {
			parts = append(parts, fmt.Sprintf("%s %d", c, t.ClassCounts[i]))
		}
		fmt.Fprintf(w, "\ntarget %s: %s\n", t.Name, strings.Join(parts, ", "))
	}
	if len(p.Warnings) > 0 {
		fmt.Fprintln(w, "\nwarnings:")
		for _, x := range p.Warnings {
			fmt.Fprintf(w, "  %-7s %s\n", x.Severity, x.Message)
		}
	}
}
