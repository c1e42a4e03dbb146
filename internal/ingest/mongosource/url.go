package mongosource

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/gyre-ml/gyre/internal/ingest"
)

// DefaultSample is how many documents decide the field types when neither
// &sample= nor Options.InferRows says.
const DefaultSample = 10000

// source is a parsed mongodb:// URL.
type source struct {
	uri        string // for the driver: our parameters removed
	display    string // for messages: credentials removed
	db, coll   string
	filter     bson.D
	projection bson.D
	sample     int
	explode    bool   // arrays as positional columns a.0, a.1 (else JSON text)
	batch      int32  // documents per reply; 0: the server's default
	replace    bool   // writing: replace an existing collection
	password   string // from password-env= or password-file=
	hasPass    bool
}

// ourParams are the query parameters Gyre reads; the driver gets the rest.
var ourParams = []string{"collection", "filter", "projection", "sample", "arrays", "batch", "replace", "password-env", "password-file"}

// parseURL reads a mongodb:// or mongodb+srv:// URL.
func parseURL(raw string, write bool) (*source, error) {
	display := ingest.Redact(raw)
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("mongodb: bad URL %s: %v", display, redactErr(err, raw, display))
	}
	s := &source{display: display}
	q := u.Query()
	s.db = strings.Trim(u.Path, "/")
	if s.db == "" || strings.Contains(s.db, "/") {
		return nil, fmt.Errorf("mongodb %s: want the database as the URL's path (mongodb://HOST:PORT/DB?collection=C)", display)
	}
	s.coll = q.Get("collection")
	if s.coll == "" {
		return nil, fmt.Errorf("mongodb %s: want ?collection=NAME", display)
	}
	if v := q.Get("filter"); v != "" {
		if write {
			return nil, fmt.Errorf("mongodb %s: filter= only applies to reading", display)
		}
		if err := bson.UnmarshalExtJSON([]byte(v), false, &s.filter); err != nil {
			return nil, fmt.Errorf("mongodb %s: filter= is not a JSON document: %v", display, err)
		}
	}
	if v := q.Get("projection"); v != "" {
		if err := bson.UnmarshalExtJSON([]byte(v), false, &s.projection); err != nil {
			return nil, fmt.Errorf("mongodb %s: projection= is not a JSON document: %v", display, err)
		}
	}
	if v := q.Get("sample"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("mongodb %s: sample=%q: want a positive number of documents", display, v)
		}
		s.sample = n
	}
	switch v := q.Get("arrays"); v {
	case "", "json":
	case "explode":
		s.explode = true
	default:
		return nil, fmt.Errorf("mongodb %s: arrays=%q: want json (arrays as JSON text) or explode (one column per position)", display, v)
	}
	if v := q.Get("batch"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 1<<20 {
			return nil, fmt.Errorf("mongodb %s: batch=%q: want a positive number of documents", display, v)
		}
		s.batch = int32(n)
	}
	if v := q.Get("replace"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("mongodb %s: replace=%q: want true or false", display, v)
		}
		s.replace = b
	}
	if s.password, s.hasPass, err = ingest.QuerySecret(q, "password"); err != nil {
		return nil, fmt.Errorf("mongodb %s: %w", display, err)
	}
	if s.hasPass && (u.User == nil || u.User.Username() == "") {
		return nil, fmt.Errorf("mongodb %s: a password was given but no user (mongodb://USER@HOST/DB?...&password-env=VAR)", display)
	}
	for _, p := range ourParams {
		q.Del(p)
	}
	u.RawQuery = q.Encode()
	u.Path = "/"
	if q.Get("authSource") == "" && u.User != nil {
		// Credentials belong to the database named in the path, as in a
		// plain MongoDB URI; keep that meaning after moving the path.
		q.Set("authSource", s.db)
		u.RawQuery = q.Encode()
	}
	s.uri = u.String()
	return s, nil
}

// redactErr replaces the raw URL in an error message by its display form.
func redactErr(err error, raw, display string) error {
	if err == nil {
		return nil
	}
	m := err.Error()
	if raw != display && strings.Contains(m, raw) {
		return errors.New(strings.ReplaceAll(m, raw, display))
	}
	if u, perr := url.Parse(raw); perr == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" && strings.Contains(m, p) {
			return errors.New(strings.ReplaceAll(m, p, "xxxxx"))
		}
	}
	return err
}
