package audit

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteEntries writes entries as a table (`gyre audit`): time, who, from
// where, the action, the resource and the change, then how to fetch the
// next page when next is set.
func WriteEntries(w io.Writer, es []Entry, next string) error {
	if len(es) == 0 {
		_, err := fmt.Fprintln(w, "no audit entries")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tWHO\tFROM\tACTION\tRESOURCE\tCHANGE")
	for _, e := range es {
		from := e.Actor.Remote
		if from == "" {
			from = e.Actor.Kind
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s:%s\t%s\n", e.Time.Local().Format("2006-01-02 15:04:05"), e.Actor.Name, from,
			e.Action, e.ResourceKind, e.Resource, e.Change())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if next != "" {
		_, err := fmt.Fprintf(w, "more entries: --page-token %s\n", next)
		return err
	}
	return nil
}

// Change renders before → after compactly ("+ after" for a creation,
// "- before" for a deletion), each side clipped to 60 characters.
func (e Entry) Change() string {
	b, a := strings.TrimSpace(string(e.Before)), strings.TrimSpace(string(e.After))
	clip := func(s string) string {
		if len(s) > 60 {
			return s[:57] + "..."
		}
		return s
	}
	switch {
	case b == "" && a == "":
		return ""
	case b == "":
		return "+ " + clip(a)
	case a == "":
		return "- " + clip(b)
	}
	return clip(b) + " → " + clip(a)
}
