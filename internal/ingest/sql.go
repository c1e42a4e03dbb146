package ingest

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest/sqlsource"
)

// readSQL reads a sqlite:// or postgres:// URL naming a table (?table=T) or a
// query (?query=...) through package sqlsource.
func readSQL(ctx context.Context, source string) (*frame.Frame, error) {
	return sqlsource.Read(ctx, source)
}

// isSQLURL reports whether dest names a SQL database.
func isSQLURL(dest string) bool {
	low := strings.ToLower(dest)
	for _, p := range []string{"sqlite://", "sqlite3://", "postgres://", "postgresql://"} {
		if strings.HasPrefix(low, p) {
			return true
		}
	}
	return false
}

// writeSQL writes f as a new table, named by the URL's ?table=.
func writeSQL(ctx context.Context, f *frame.Frame, dest string) error {
	u, err := url.Parse(dest)
	if err != nil {
		return fmt.Errorf("write %s: %w", dest, err)
	}
	table := u.Query().Get("table")
	if table == "" {
		return fmt.Errorf("write %s: %w: name the table to create with ?table=NAME", redactURL(dest), ErrFormat)
	}
	return sqlsource.Write(ctx, dest, table, f)
}

// redactURL hides a URL's password in messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "the database URL"
	}
	return u.Redacted()
}
