package cassandrasource

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gocql/gocql"

	"github.com/gyre-ml/gyre/internal/ingest"
)

// Defaults for the URL's tuning parameters.
const (
	// DefaultPort is the native protocol's port.
	DefaultPort = 9042
	// DefaultPage is how many rows one page (one request) returns.
	DefaultPage = 5000
	// DefaultSplits is how many token ranges a table scan is cut into.
	DefaultSplits = 16
	// DefaultParallel is how many token ranges are read at once.
	DefaultParallel = 4
)

// source is a parsed cassandra:// URL.
type source struct {
	display        string   // the URL with credentials removed, for messages
	hosts          []string // host or host:port
	keyspace       string
	table          string
	where          string
	columns        []string // &columns=: the only columns to read (nil: all)
	allowFiltering bool
	splits         int // token ranges; 1: one plain scan
	splitsSet      bool
	parallel       int
	page           int
	consistency    gocql.Consistency
	dc             string
	user, password string
	hasPass        bool
	tls            bool
	timeout        time.Duration
}

// parseURL reads cassandra://[USER@]HOST[:PORT][,HOST[:PORT]...]/KEYSPACE?table=T&....
func parseURL(raw string) (*source, error) {
	display := ingest.Redact(raw)
	s := &source{display: display, splits: DefaultSplits, parallel: DefaultParallel, page: DefaultPage,
		consistency: gocql.LocalOne, timeout: 30 * time.Second}
	rest, ok := strings.CutPrefix(raw, "cassandra://")
	if !ok {
		return nil, fmt.Errorf("cassandra %s: want a cassandra:// URL", display)
	}
	authority, path, _ := strings.Cut(rest, "/")
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		ui := authority[:at]
		authority = authority[at+1:]
		if strings.Contains(ui, ":") {
			return nil, fmt.Errorf("cassandra %s: a password in the URL is refused: give it with &password-env=VAR or &password-file=PATH", display)
		}
		u, err := url.PathUnescape(ui)
		if err != nil {
			return nil, fmt.Errorf("cassandra %s: bad user name: %v", display, err)
		}
		s.user = u
	}
	for _, h := range strings.Split(authority, ",") {
		if h == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(h); err != nil {
			if strings.Contains(err.Error(), "missing port") {
				h = net.JoinHostPort(strings.Trim(h, "[]"), strconv.Itoa(DefaultPort))
			} else {
				return nil, fmt.Errorf("cassandra %s: bad host %q: %v", display, h, err)
			}
		}
		s.hosts = append(s.hosts, h)
	}
	if len(s.hosts) == 0 {
		return nil, fmt.Errorf("cassandra %s: want a host (cassandra://HOST[:PORT]/KEYSPACE?table=T)", display)
	}
	u, err := url.Parse("cassandra://h/" + path)
	if err != nil {
		return nil, fmt.Errorf("cassandra %s: bad URL: %v", display, err)
	}
	s.keyspace = strings.Trim(u.Path, "/")
	if s.keyspace == "" || strings.Contains(s.keyspace, "/") {
		return nil, fmt.Errorf("cassandra %s: want the keyspace as the URL's path (cassandra://HOST/KEYSPACE?table=T)", display)
	}
	q := u.Query()
	for k := range q {
		if !known[k] {
			return nil, fmt.Errorf("cassandra %s: unknown parameter %q (known: table, where, columns, allow-filtering, splits, parallel, page, consistency, dc, password-env, password-file, tls, timeout)", display, k)
		}
	}
	s.table = q.Get("table")
	if s.table == "" {
		return nil, fmt.Errorf("cassandra %s: want ?table=NAME", display)
	}
	s.where = strings.TrimSpace(q.Get("where"))
	if v := q.Get("columns"); v != "" {
		for _, c := range strings.Split(v, ",") {
			if c = strings.TrimSpace(c); c != "" {
				s.columns = append(s.columns, c)
			}
		}
	}
	if s.allowFiltering, err = boolParam(q, "allow-filtering"); err != nil {
		return nil, fmt.Errorf("cassandra %s: %w", display, err)
	}
	if s.tls, err = boolParam(q, "tls"); err != nil {
		return nil, fmt.Errorf("cassandra %s: %w", display, err)
	}
	for _, p := range []struct {
		name string
		dst  *int
		max  int
	}{{"splits", &s.splits, 1 << 16}, {"parallel", &s.parallel, 256}, {"page", &s.page, 1 << 20}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > p.max {
			return nil, fmt.Errorf("cassandra %s: %s=%q: want a whole number from 1 to %d", display, p.name, v, p.max)
		}
		*p.dst = n
		if p.name == "splits" {
			s.splitsSet = true
		}
	}
	if v := q.Get("consistency"); v != "" {
		c, err := parseConsistency(v)
		if err != nil {
			return nil, fmt.Errorf("cassandra %s: consistency=%q: %w", display, v, err)
		}
		s.consistency = c
	}
	s.dc = q.Get("dc")
	if v := q.Get("timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("cassandra %s: timeout=%q: want a duration such as 30s", display, v)
		}
		s.timeout = d
	}
	if s.password, s.hasPass, err = ingest.QuerySecret(q, "password"); err != nil {
		return nil, fmt.Errorf("cassandra %s: %w", display, err)
	}
	if s.hasPass && s.user == "" {
		return nil, fmt.Errorf("cassandra %s: a password was given but no user (cassandra://USER@HOST/KEYSPACE?...&password-env=VAR)", display)
	}
	return s, nil
}

// known are the query parameters a cassandra:// URL may hold.
var known = map[string]bool{"table": true, "where": true, "columns": true, "allow-filtering": true,
	"splits": true, "parallel": true, "page": true, "consistency": true, "dc": true,
	"password-env": true, "password-file": true, "tls": true, "timeout": true}

func boolParam(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: want true or false", name, v)
	}
	return b, nil
}

func parseConsistency(v string) (gocql.Consistency, error) {
	c, err := gocql.ParseConsistencyWrapper(strings.ReplaceAll(v, "-", "_"))
	if err != nil {
		return 0, fmt.Errorf("want one of ANY, ONE, TWO, THREE, QUORUM, ALL, LOCAL_QUORUM, EACH_QUORUM, LOCAL_ONE")
	}
	return c, nil
}
