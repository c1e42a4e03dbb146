package registry

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Detail is a model with its versions and alias history (`gyre models
// show NAME`).
type Detail struct {
	AliasHistory []AliasEvent `json:"alias_history"`
	Model        *Model       `json:"model"`
	Versions     []Version    `json:"versions"`
}

// newTable returns a writer of a table on w with the header row written,
// columns aligned two spaces apart; the caller flushes it.
func newTable(w io.Writer, columns ...string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(columns, "\t"))
	return tw
}

// WriteModels writes registered models as a table (`gyre models list`),
// or says there are none and how to register one.
func WriteModels(w io.Writer, ms []Model) error {
	if len(ms) == 0 {
		_, err := fmt.Fprintln(w, "no registered models (gyre models register NAME BUNDLE)")
		return err
	}
	tw := newTable(w, "MODEL", "LATEST", "ALIASES", "UPDATED", "CLASS", "DESCRIPTION")
	for _, m := range ms {
		class := string(m.Classification)
		if class == "" {
			class = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", m.Name, m.LatestVersion, aliasList(m.Aliases), m.Updated.Local().Format("2006-01-02 15:04"),
			class, m.Description)
	}
	return tw.Flush()
}

// aliasList writes aliases as "alias→version", sorted, comma-separated.
func aliasList(m map[string]int64) string {
	var s []string
	for a, v := range m {
		s = append(s, a+"→"+strconv.FormatInt(v, 10))
	}
	sort.Strings(s)
	return strings.Join(s, ",")
}

// WriteText writes the model, a table of its versions and its alias
// history.
func (d *Detail) WriteText(w io.Writer) error {
	m := d.Model
	fmt.Fprintf(w, "model %s: %s\n", m.Name, m.Description)
	if m.Classification != "" {
		fmt.Fprintf(w, "classification: %s\n", m.Classification)
	}
	tw := newTable(w, "VERSION", "ALIASES", "RUN", "CREATED", "BY", "BUNDLE")
	for _, v := range d.Versions {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", v.Version, strings.Join(v.Aliases, ","), Short(v.RunID), v.Created.Local().Format("2006-01-02 15:04"), v.CreatedBy, Short(strings.TrimPrefix(v.Bundle.Digest, "sha256:")))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(d.AliasHistory) > 0 {
		fmt.Fprintln(w, "alias history:")
		for _, h := range d.AliasHistory {
			fmt.Fprintf(w, "  %s  %-12s %s → %s  by %s\n", h.Time.Local().Format(time.DateTime), h.Alias, verOrDash(h.From), verOrDash(h.To), h.User)
		}
	}
	return nil
}

func verOrDash(v int64) string {
	if v == 0 {
		return "-"
	}
	return strconv.FormatInt(v, 10)
}

// Short returns the first 12 characters of an identifier or digest, the
// length the commands show.
func Short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// WriteText writes the version: its bundle, creation, run, aliases and
// data sets.
func (v *Version) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "model     %s\nversion   %d\nbundle    %s (%d bytes)\ncreated   %s by %s\n", v.Model, v.Version, v.Bundle.Digest, v.Bundle.Size,
		v.Created.Local().Format(time.RFC3339), v.CreatedBy)
	if v.RunID != "" {
		fmt.Fprintf(w, "run       %s\n", v.RunID)
	}
	if len(v.Aliases) > 0 {
		fmt.Fprintf(w, "aliases   %s\n", strings.Join(v.Aliases, ", "))
	}
	var err error
	for _, d := range v.Datasets {
		_, err = fmt.Fprintf(w, "data set  %s@%d\n", d.Name, d.Version)
	}
	return err
}
