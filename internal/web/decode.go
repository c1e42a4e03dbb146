package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/track"
)

// MaxJSONBody bounds a JSON request body.
const MaxJSONBody = 8 << 20

// decodeJSON decodes a request body into v: one JSON object, known fields
// only, at most MaxJSONBody bytes. Errors name the field at fault.
func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return errorf(KindUnsupported, "", "content type %q: want application/json", ct)
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxJSONBody+1))
	if err != nil {
		return errorf(KindInvalid, "", "read request body: %w", err)
	}
	if len(body) > MaxJSONBody {
		return errorf(KindTooLarge, "", "request body over %d bytes", MaxJSONBody)
	}
	return decodeBody(body, v)
}

// decodeBody is decodeJSON's decoder, separate for the fuzz tests.
func decodeBody(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errorf(KindInvalid, "", "empty request body: want a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return errorf(KindInvalid, "", "request body: want one JSON object, found more after it")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(KindInvalid, "", "request body: unexpected data after the JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return errorf(KindInvalid, te.Field, "field %q: got JSON %s, want %s", te.Field, te.Value, te.Type)
	case errors.As(err, &se):
		return errorf(KindInvalid, "", "request body: malformed JSON at byte %d: %v", se.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errorf(KindInvalid, "", "request body: truncated JSON")
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		f = strings.Trim(f, `"`)
		return errorf(KindInvalid, f, "unknown field %q", f)
	}
	return errorf(KindInvalid, "", "request body: %s", strings.TrimPrefix(msg, "json: "))
}

// page is a list request's paging: max_results and page_token.
type page struct {
	Limit int
	Token string
}

// DefaultPageSize and MaxPageSize bound max_results.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

func pageParams(r *http.Request) (page, error) {
	q := r.URL.Query()
	p := page{Limit: DefaultPageSize, Token: q.Get("page_token")}
	if s := q.Get("max_results"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPageSize {
			return p, errorf(KindInvalid, "max_results", "max_results %q: want a whole number from 1 to %d", s, MaxPageSize)
		}
		p.Limit = n
	}
	return p, nil
}

// offsetToken and parseOffset page lists held in memory, with track's
// offset tokens; a bad token is an invalid_argument naming page_token.
func offsetToken(next int) string { return track.EncodePageToken(next) }

func parseOffset(tok string) (int, error) {
	if tok == "" {
		return 0, nil
	}
	n, err := track.DecodePageToken(tok)
	if err != nil {
		return 0, &Error{Kind: KindInvalid, Field: "page_token", Message: fmt.Sprintf("page token %q was not issued by this server", tok), err: err}
	}
	return n, nil
}

// paginate cuts one page from items.
func paginate[T any](items []T, p page) ([]T, string, error) {
	off, err := parseOffset(p.Token)
	if err != nil {
		return nil, "", err
	}
	if off > len(items) {
		off = len(items)
	}
	end := min(off+p.Limit, len(items))
	next := ""
	if end < len(items) {
		next = offsetToken(end)
	}
	return items[off:end], next, nil
}

// checkName validates a model, data set or alias name from the path:
// registry's rules (letters, digits, '-', '_', '.', starting with a letter
// or digit), which refuse "..", "/" and anything absolute or encoded.
func checkName(field, name string) error {
	if err := registry.CheckName(field, name); err != nil {
		return invalid(field, err)
	}
	return nil
}

// checkRunID validates a run id or id prefix: hexadecimal digits.
func checkRunID(id string) error {
	if id == "" || len(id) > 64 {
		return errorf(KindInvalid, "run_id", "run id %q: want 1 to 64 hexadecimal digits", id)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return errorf(KindInvalid, "run_id", "run id %q: character %q at %d: want hexadecimal digits", id, c, i)
		}
	}
	return nil
}

// checkKey validates a metric, param or tag key or an experiment name:
// track's rules, and MLflow's rule that a key must not read differently as
// a path ("a/../b", "..", "/abs", "a//b"), since keys can become file names
// in clients' artifact trees.
func checkKey(field, key string) error {
	if err := track.CheckKey(field, key); err != nil {
		return invalid(field, err)
	}
	if pathNotUnique(key) || strings.ContainsRune(key, '\\') {
		return errorf(KindInvalid, field, "%s %q: would resolve to another name as a path; want no '..', '.', leading '/', '//' or backslash", field, key)
	}
	return nil
}

// pathNotUnique is MLflow's _path_not_unique.
func pathNotUnique(name string) bool {
	norm := path.Clean(name)
	return norm != name || norm == "." || strings.HasPrefix(norm, "..") || strings.HasPrefix(norm, "/")
}

// CheckArtifactPath validates an artifact path: relative, slash-separated,
// no empty, "." or ".." segment, no backslash or control character, at most
// 250 bytes of UTF-8. The server applies it to every artifact path, also
// after URL decoding, so "../", absolute and encoded paths never reach a
// store.
func CheckArtifactPath(p string) error {
	if p == "" || len(p) > 250 {
		return errorf(KindInvalid, "path", "artifact path %q: want 1 to 250 bytes of UTF-8", p)
	}
	if err := track.CheckRelPath(p); err != nil {
		return invalid("path", err)
	}
	return nil
}

// parseSince parses a time bound of a query parameter (see [ParseWhen];
// dates are UTC).
func parseSince(field, s string, now time.Time) (time.Time, error) {
	t, err := ParseWhen(s, now, time.UTC)
	if err != nil {
		return time.Time{}, errorf(KindInvalid, field, "%s %v", field, err)
	}
	return t, nil
}

// ParseWhen parses a time bound: RFC 3339, a date (2006-01-02, midnight in
// loc) or an age back from now ("90d", "12h", "30m"); "" is the zero time.
func ParseWhen(s string, now time.Time, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return t, nil
	}
	d, err := ParseAge(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want RFC 3339, a date (2006-01-02) or an age like 90d or 12h", s)
	}
	return now.Add(-d), nil
}

// ParseAge parses an age: a Go duration ("12h", "30m") or a whole number of
// days or weeks ("90d", "2w").
func ParseAge(s string) (time.Duration, error) {
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.ParseInt(n, 10, 64)
			if err != nil || v < 0 || v > 100*365 {
				return 0, fmt.Errorf("age %q: want a whole number of days or weeks", s)
			}
			return time.Duration(v) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("age %q: want a duration like 90d, 2w, 12h or 30m", s)
	}
	return d, nil
}
