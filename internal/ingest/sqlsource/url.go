package sqlsource

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// ErrBadIdentifier is wrapped by errors for table names that are not plain
// (optionally schema-qualified) SQL identifiers.
var ErrBadIdentifier = errors.New("invalid table name")

// dialect is the database flavour behind a URL.
type dialect int

const (
	sqlite dialect = iota
	postgres
)

// source is a parsed URL.
type source struct {
	dialect dialect
	driver  string // database/sql driver name
	dsn     string // what the driver opens
	display string // the URL with any password redacted, for errors
	table   string // quoted table name, or ""
	query   string
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

// quoteTable validates a table name and returns it quoted.
func quoteTable(name string) (string, error) {
	if !identRE.MatchString(name) || len(name) > 127 {
		return "", fmt.Errorf("%w %q: want letters, digits and underscores, optionally schema.table", ErrBadIdentifier, name)
	}
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = `"` + p + `"`
	}
	return strings.Join(parts, "."), nil
}

// quoteIdent quotes any column name (embedded quotes are doubled).
func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// parseURL splits a source URL into what to open and what to read. When
// forWrite is set, SQLite files are opened read-write and may be created.
func parseURL(raw string, forWrite bool) (*source, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, fmt.Errorf("%q is not a SQL URL (want sqlite://path.db?table=T or postgres://user@host/db?table=T)", raw)
	}
	s := &source{}
	switch strings.ToLower(scheme) {
	case "sqlite", "sqlite3":
		path, rawQuery, _ := strings.Cut(rest, "?")
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			return nil, fmt.Errorf("%s: bad query string: %w", raw, err)
		}
		if path == "" {
			return nil, fmt.Errorf("%s: no database file (want sqlite://path.db)", raw)
		}
		if err := s.takeParams(q); err != nil {
			return nil, fmt.Errorf("%s: %w", raw, err)
		}
		s.dialect, s.driver, s.display = sqlite, "sqlite", raw
		dsn := url.Values{}
		for k, v := range q {
			dsn[k] = v
		}
		dsn.Add("_pragma", "busy_timeout(10000)")
		if forWrite {
			dsn.Set("mode", "rwc")
		} else {
			dsn.Set("mode", "ro")
		}
		s.dsn = "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + dsn.Encode()
	case "postgres", "postgresql":
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("bad PostgreSQL URL: %w", redactErr(err))
		}
		q := u.Query()
		if err := s.takeParams(q); err != nil {
			return nil, fmt.Errorf("%s: %w", u.Redacted(), err)
		}
		if q.Get("connect_timeout") == "" {
			q.Set("connect_timeout", "10")
		}
		if !forWrite {
			// Without an ORDER BY, PostgreSQL returns a freshly loaded table
			// in insertion order only when the scan is neither parallel nor
			// synchronized with another scan of the same table.
			q.Set("max_parallel_workers_per_gather", "0")
			q.Set("synchronize_seqscans", "off")
		}
		u.RawQuery = q.Encode()
		s.dialect, s.driver, s.dsn = postgres, "pgx", u.String()
		u.RawQuery = ""
		s.display = u.Redacted()
	default:
		return nil, fmt.Errorf("unsupported SQL URL scheme %q (want sqlite or postgres)", scheme)
	}
	return s, nil
}

// takeParams removes table= and query= from q.
func (s *source) takeParams(q url.Values) error {
	table, query := q.Get("table"), q.Get("query")
	q.Del("table")
	q.Del("query")
	s.query = strings.TrimSpace(query)
	if table != "" {
		quoted, err := quoteTable(table)
		if err != nil {
			return err
		}
		s.table = quoted
	}
	return nil
}

// what names the table or query for errors.
func (s *source) what() string {
	if s.table != "" {
		return "table " + s.table
	}
	q := s.query
	if len(q) > 80 {
		q = q[:77] + "..."
	}
	return fmt.Sprintf("query %q", q)
}

// redactErr keeps a URL parse error from echoing a password.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
