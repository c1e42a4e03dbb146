package bundle

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// ExplainSummary is an explanation's summary (`gyre explain --json`):
// what was explained, the mean bias and each feature's contributions.
type ExplainSummary struct {
	Model   string                `json:"model"`
	Member  string                `json:"member"`
	Output  string                `json:"output"`
	Rows    int                   `json:"rows"`
	Bias    float64               `json:"mean_bias"`
	Summary []FeatureContribution `json:"summary"`
	Out     string                `json:"out,omitempty"`
	Note    string                `json:"note,omitempty"`
	// Top is how many features WriteText lists (0: all).
	Top int `json:"-"`
}

// SummaryOf summarises e, an explanation of the model reference ref of
// b; an ensemble's summary notes which member it explains.
func (e *Explanation) SummaryOf(b *Bundle, ref string) *ExplainSummary {
	ex := &ExplainSummary{Model: ref, Member: e.Member, Output: e.Output, Rows: e.Rows, Bias: e.Bias, Summary: e.Summary}
	if len(b.Members) > 1 {
		ex.Note = fmt.Sprintf("the model is an ensemble; this explains its %s member (weight %.2f)", e.Member, e.Weight)
	}
	return ex
}

// WriteText writes the summary: what the contributions add up to, the
// note, and the Top features ranked by mean absolute contribution.
func (ex *ExplainSummary) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "%s (%s) on %d rows: contributions to the %s; mean bias %.4f\n", ex.Model, ex.Member, ex.Rows, ex.Output, ex.Bias)
	if ex.Note != "" {
		fmt.Fprintf(w, "note: %s\n", ex.Note)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "rank\tfeature\tmean |contribution|\tmean contribution")
	for i, s := range ex.Summary {
		if ex.Top > 0 && i == ex.Top {
			break
		}
		fmt.Fprintf(tw, "%d\t%s\t%.4f\t%+.4f\n", i+1, s.Feature, s.MeanAbs, s.MeanContrib)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if ex.Out != "" {
		_, err := fmt.Fprintf(w, "wrote per-row contributions to %s\n", ex.Out)
		return err
	}
	return nil
}
