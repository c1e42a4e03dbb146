package web

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// WriteText writes the lineage as a tree (`gyre lineage`): the model
// version, the run that made it with its provenance, params and metrics,
// the data set versions it was trained on, and what could not be found.
func (l *Lineage) WriteText(w io.Writer) error {
	v := l.Model
	fmt.Fprintf(w, "model %s", v.Ref())
	if len(v.Aliases) > 0 {
		fmt.Fprintf(w, " (%v)", v.Aliases)
	}
	if l.Classification != "" {
		fmt.Fprintf(w, " [%s]", l.Classification)
	}
	fmt.Fprintf(w, "  bundle %s, registered %s by %s\n", shortDigest(v.Bundle.Digest), v.Created.Local().Format("2006-01-02 15:04"), v.CreatedBy)
	if r := l.Run; r != nil {
		fmt.Fprintf(w, "  ← run %s  experiment %s, %s, %s\n", r.ID, r.Experiment, r.Status, r.Start.Local().Format("2006-01-02 15:04:05"))
		if r.Command != "" {
			fmt.Fprintf(w, "      command      %s\n", r.Command)
		}
		fmt.Fprintf(w, "      gyre         %s\n", orDash(r.GyreVersion))
		fmt.Fprintf(w, "      git commit   %s\n", orDash(r.GitCommit))
		for _, k := range sortedKeys(r.Params) {
			fmt.Fprintf(w, "      param        %s = %s\n", k, r.Params[k])
		}
		for _, k := range sortedKeys(r.Metrics) {
			fmt.Fprintf(w, "      metric       %s = %.6g\n", k, r.Metrics[k])
		}
	}
	for _, d := range l.Datasets {
		class := ""
		if d.Classification != "" {
			class = " [" + string(d.Classification) + "]"
		}
		fmt.Fprintf(w, "  ← data set %s%s  %s, %d rows × %d columns, %s\n", d.Ref(), class, shortDigest(d.Blob.Digest), d.Summary.Rows, len(d.Summary.Columns), d.Source)
	}
	var err error
	for _, m := range l.Missing {
		_, err = fmt.Fprintf(w, "  ← missing: %s\n", m)
	}
	return err
}

// shortDigest is the first 12 hex digits of a "sha256:..." digest.
func shortDigest(digest string) string {
	d := strings.TrimPrefix(digest, "sha256:")
	return d[:min(12, len(d))]
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
