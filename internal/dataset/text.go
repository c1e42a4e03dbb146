package dataset

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// short returns the first 12 characters of a digest without its
// "sha256:" prefix.
func short(digest string) string {
	d := strings.TrimPrefix(digest, "sha256:")
	return d[:min(12, len(d))]
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteText writes the result as one line (`gyre data version`): the
// version, whether it is new, its digest and shape.
func (r *Result) WriteText(w io.Writer) error {
	state := "new version"
	if !r.Created {
		state = "unchanged"
	}
	_, err := fmt.Fprintf(w, "%s  %s  %s, %d rows × %d columns\n", r.Ref(), state, short(r.Blob.Digest), r.Summary.Rows, len(r.Summary.Columns))
	return err
}

// WriteVersions writes versions as a table (`gyre data log`).
func WriteVersions(w io.Writer, vs []Version) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tCREATED\tBY\tROWS\tCOLUMNS\tSIZE\tDIGEST\tCLASS\tSOURCE")
	for _, v := range vs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", v.Ref(), v.Created.Local().Format("2006-01-02 15:04"), v.CreatedBy, v.Summary.Rows,
			len(v.Summary.Columns), v.Blob.Size, short(v.Blob.Digest), orDash(string(v.Classification)), v.Source)
	}
	return tw.Flush()
}

// WriteText writes the diff (`gyre data diff`): rows, added and removed
// columns, and each changed column's statistics.
func (d *Diff) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "%s → %s\n", d.From, d.To)
	if d.SameContent {
		_, err := fmt.Fprintln(w, "identical content")
		return err
	}
	fmt.Fprintf(w, "rows: %d → %d (%+d)\n", d.RowsFrom, d.RowsTo, d.RowsTo-d.RowsFrom)
	if len(d.Added) > 0 {
		fmt.Fprintf(w, "added columns: %s\n", strings.Join(d.Added, ", "))
	}
	if len(d.Removed) > 0 {
		fmt.Fprintf(w, "removed columns: %s\n", strings.Join(d.Removed, ", "))
	}
	var err error
	for _, c := range d.Changed {
		fmt.Fprintf(w, "%s:\n", c.Column)
		for _, s := range c.Changes {
			_, err = fmt.Fprintf(w, "  %-9s %s → %s\n", s.Stat, orDash(s.From), orDash(s.To))
		}
	}
	return err
}
