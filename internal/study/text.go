package study

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes the study for people to w, and its warnings to warn.
func (r *Report) WriteText(w, warnw io.Writer) {
	fmt.Fprintf(w, "study of %q: %s, %d rows, %d features (%.1fs)\n", r.Target, r.Task, r.Rows, r.Features, r.Seconds)
	if r.Dropped > 0 {
		fmt.Fprintf(w, "dropped %d rows with a missing target\n", r.Dropped)
	}
	for _, e := range r.Excluded {
		fmt.Fprintf(w, "excluded column %s: %s\n", e.Column, e.Reason)
	}
	if len(r.Classes) > 0 {
		fmt.Fprintf(w, "\nclasses (largest/smallest %.1f×):\n", r.Imbalance)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for i, c := range r.Classes {
			if i == 12 {
				fmt.Fprintf(tw, "…\t%d more\t\n", len(r.Classes)-i)
				break
			}
			fmt.Fprintf(tw, "  %s\t%d\t%.1f %%\n", c.Name, c.Count, 100*c.Share)
		}
		tw.Flush()
	}
	if len(r.Curve) > 0 {
		fmt.Fprintf(w, "\nlearning curve (%s, %s; ± the spread over repeats):\n", r.CurveMetric, r.CurveModel)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  train rows\tscore\tdummy")
		for _, p := range r.Curve {
			fmt.Fprintf(tw, "  %d\t%.4f ± %.4f\t%.4f\n", p.Rows, p.Mean, p.Spread, p.Dummy)
		}
		tw.Flush()
	}
	if r.CurveCut != "" {
		fmt.Fprintf(w, "learning curve: %s\n", r.CurveCut)
	}
	fmt.Fprintf(w, "more data would help: %s: %s\n", r.MoreData.Answer, r.MoreData.Reason)
	if len(r.SingleFeature) > 0 {
		var parts []string
		for _, s := range r.SingleFeature[:min(5, len(r.SingleFeature))] {
			parts = append(parts, fmt.Sprintf("%s %.3f", s.Feature, s.Score))
		}
		fmt.Fprintf(w, "best single features (%s): %s\n", r.SingleFeatureMetric, strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "\nsuggested metric: %s (%s)\n", r.Metric.Choice, r.Metric.Reason)
	fmt.Fprintf(w, "suggested validation: %s (%s)\n", r.Validation.Choice, r.Validation.Reason)
	for _, warn := range r.Warnings {
		fmt.Fprintf(warnw, "warning: %s\n", warn)
	}
}
