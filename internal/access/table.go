package access

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// newTable returns a writer of a table on w with the header row written,
// columns aligned two spaces apart; the caller flushes it.
func newTable(w io.Writer, columns ...string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(columns, "\t"))
	return tw
}

// WriteAccounts writes accounts as a table (`gyre users list`): name,
// kind, whether a password is set, creation day and roles.
func WriteAccounts(w io.Writer, as []Account) error {
	tw := newTable(w, "NAME", "KIND", "PASSWORD", "CREATED", "ROLES")
	for _, a := range as {
		var roles []string
		for _, g := range a.Grants {
			roles = append(roles, g.Role.String()+" on "+g.Resource.String())
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\n", a.Name, a.Kind, a.HasPassword, a.Created.Local().Format("2006-01-02"), strings.Join(roles, ", "))
	}
	return tw.Flush()
}

// WriteTokens writes tokens as a table (`gyre tokens list`), never their
// secrets: each token's state (active, revoked or expired) as of now.
func WriteTokens(w io.Writer, ts []Token, now time.Time) error {
	tw := newTable(w, "ID", "DESCRIPTION", "CREATED", "EXPIRES", "LAST USED", "STATE")
	for _, t := range ts {
		state := "active"
		switch {
		case t.Revoked != nil:
			state = "revoked"
		case !t.Active(now):
			state = "expired"
		}
		desc := t.Description
		if desc == "" {
			desc = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, desc, t.Created.Local().Format("2006-01-02 15:04"), timeOrDash(t.Expires), timeOrDash(t.LastUsed), state)
	}
	return tw.Flush()
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}
