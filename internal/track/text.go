package track

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// NoteTag is where a run's note is kept: MLflow's convention, which its UI
// (and Gyre's) shows as the run's description.
const NoteTag = "mlflow.note.content"

// newTable returns a writer of a table on w, columns aligned two spaces
// apart; the caller flushes it.
func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

// WriteTable writes the page as a table (`gyre runs list`): one row per
// run, child runs marked, with the given extra columns (metrics.KEY,
// params.KEY, tags.KEY; by default up to three metrics and three params
// the runs have), and how to fetch the next page.
func (p *Page) WriteTable(w io.Writer, columns []string) error {
	if len(p.Runs) == 0 {
		_, err := fmt.Fprintln(w, "no runs")
		return err
	}
	if len(columns) == 0 {
		columns = DefaultColumns(p.Runs)
	}
	tw := newTable(w)
	fmt.Fprintf(tw, "RUN\tEXPERIMENT\tSTATUS\tSTARTED\tDURATION")
	for _, c := range columns {
		fmt.Fprintf(tw, "\t%s", c)
	}
	fmt.Fprintln(tw)
	for _, r := range p.Runs {
		id := r.ID[:12]
		if r.ParentID != "" {
			id = "└ " + id
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s", id, r.Experiment, r.Status, r.Start.Local().Format("2006-01-02 15:04:05"), r.Duration().Round(time.Millisecond))
		for _, c := range columns {
			fmt.Fprintf(tw, "\t%s", r.Column(c))
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if p.NextPageToken != "" {
		_, err := fmt.Fprintf(w, "more runs: --page-token %s\n", p.NextPageToken)
		return err
	}
	return nil
}

// DefaultColumns picks up to three metrics and three params present in the
// runs, the most common first.
func DefaultColumns(runs []RunInfo) []string {
	mc, pc := map[string]int{}, map[string]int{}
	for _, r := range runs {
		for k := range r.Metrics {
			mc[k]++
		}
		for k := range r.Params {
			pc[k]++
		}
	}
	top := func(m map[string]int, prefix string) []string {
		ks := make([]string, 0, len(m))
		for k := range m {
			ks = append(ks, k)
		}
		sort.Slice(ks, func(i, j int) bool {
			if m[ks[i]] != m[ks[j]] {
				return m[ks[i]] > m[ks[j]]
			}
			return ks[i] < ks[j]
		})
		if len(ks) > 3 {
			ks = ks[:3]
		}
		for i := range ks {
			ks[i] = prefix + ks[i]
		}
		return ks
	}
	return append(top(mc, "metrics."), top(pc, "params.")...)
}

// Column returns the run's value of a column metrics.KEY, params.KEY or
// tags.KEY as text ("" when the run lacks it).
func (r *RunInfo) Column(col string) string {
	ent, key, _ := strings.Cut(col, ".")
	switch ent {
	case "metrics":
		if v, ok := r.Metrics[key]; ok {
			return strconv.FormatFloat(v, 'g', 5, 64)
		}
	case "params":
		return r.Params[key]
	case "tags":
		return r.Tags[key]
	}
	return ""
}

// WriteText writes the run as text (`gyre runs show`): identity and
// provenance, then params, metrics and tags sorted by key, data sets and
// artifacts.
func (r *RunInfo) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "run         %s\nexperiment  %s\nstatus      %s\nstarted     %s (%s)\n", r.ID, r.Experiment, r.Status,
		r.Start.Local().Format(time.RFC3339), r.Duration().Round(time.Millisecond))
	for _, kv := range [][2]string{{"name", r.Name}, {"parent", r.ParentID}, {"command", r.Command}, {"gyre", r.GyreVersion}, {"git commit", r.GitCommit}, {"user", r.User}} {
		if kv[1] != "" {
			fmt.Fprintf(w, "%-11s %s\n", kv[0], kv[1])
		}
	}
	section := func(title string, m map[string]string) {
		if len(m) == 0 {
			return
		}
		fmt.Fprintf(w, "%s:\n", title)
		ks := make([]string, 0, len(m))
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			fmt.Fprintf(w, "  %-24s %s\n", k, m[k])
		}
	}
	section("params", r.Params)
	ms := map[string]string{}
	for k, v := range r.Metrics {
		ms[k] = strconv.FormatFloat(v, 'g', 6, 64)
	}
	section("metrics", ms)
	section("tags", r.Tags)
	for _, d := range r.Datasets {
		fmt.Fprintf(w, "data set    %s@%d %s\n", d.Name, d.Version, d.Role)
	}
	var err error
	for _, a := range r.Artifacts {
		_, err = fmt.Fprintf(w, "artifact    %s %s (%d bytes)\n", a.Name, a.Digest, a.Size)
	}
	return err
}

// WriteTable writes the comparison side by side (`gyre runs compare`): a
// column per run, the highest value of a metric that differs marked "*";
// params that are the same in every run are left out unless all is set.
func (c Comparison) WriteTable(w io.Writer, all bool) error {
	tw := newTable(w)
	fmt.Fprint(tw, "KEY")
	for _, id := range c.RunIDs {
		fmt.Fprintf(tw, "\t%s", id[:min(12, len(id))])
	}
	fmt.Fprintln(tw)
	rows := func(prefix string, rs []ComparisonRow) {
		for _, row := range rs {
			if !all && !row.Differs && prefix == "params." {
				continue
			}
			fmt.Fprintf(tw, "%s%s", prefix, row.Key)
			for i, v := range row.Values {
				if i == row.Best && row.Differs {
					v += " *"
				}
				fmt.Fprintf(tw, "\t%s", v)
			}
			fmt.Fprintln(tw)
		}
	}
	rows("params.", c.Params)
	rows("metrics.", c.Metrics)
	if err := tw.Flush(); err != nil {
		return err
	}
	if !all {
		_, err := fmt.Fprintln(w, "(identical params hidden: --all shows them; * marks the highest metric)")
		return err
	}
	return nil
}
