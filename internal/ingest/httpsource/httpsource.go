// Package httpsource pulls records from REST APIs that answer JSON in
// pages, for package ingest's http(s):// sources read with a pagination
// mode (gyre's --paginate).
//
// Each page is a JSON array of objects, or an object holding one: the
// array under Options.Items (a dotted path such as "data" or
// "result.items"), else the first field whose value is an array of
// objects. Pull writes every record, in order, as JSON Lines to a writer,
// nested objects flattened to fields named a.b (the fields of a record in
// name order); package ingest reads that as it reads a .jsonl file.
//
// Pagination (Options.Paginate):
//
//	link              follow the Link header's rel="next" URL (RFC 8288; GitHub, GitLab)
//	cursor:FIELD      the page's FIELD (dotted path) holds the next cursor, sent as ?cursor=VALUE;
//	cursor:FIELD:P    ... sent as ?P=VALUE; the pull ends when the field is empty or missing
//	offset            ?offset=N&limit=L, N advanced by the records received; ends on a short page
//	offset:P:L        the same with parameters named P and L
//	page              ?page=1, 2, ...; ends on an empty page
//
// Requests carry the headers of Options.Headers, whose values come from
// environment variables (Options.HeaderEnv: header name → variable name)
// and are never printed: errors name the URL with credentials removed and
// the header names only. Requests are spaced to at most Options.Rate per
// second, and a request answered 429 or 5xx, or failing on the network,
// is retried up to Options.Retries times with exponential backoff (from
// Options.Backoff, doubled each time, honouring Retry-After).
package httpsource

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Options configure a paged pull.
type Options struct {
	// Paginate is the pagination mode (see the package comment); "" reads
	// one page.
	Paginate string
	// Items is the dotted path of the records array in each page ("" to
	// find it).
	Items string
	// HeaderEnv maps a header name to the environment variable holding
	// its value ("Authorization" → "API_TOKEN" with API_TOKEN="Bearer ...").
	HeaderEnv map[string]string
	// Rate is the most requests per second (0: no limit).
	Rate float64
	// Retries is how many times a failed request is retried (default 4;
	// negative: none).
	Retries int
	// Backoff is the first retry's wait (default 500 ms).
	Backoff time.Duration
	// MaxPages bounds the pull (0: no bound).
	MaxPages int
	// Timeout bounds each request (default 1 minute).
	Timeout time.Duration
	// Client is the HTTP client (default http.DefaultClient).
	Client *http.Client
	// Redact, when set, renders URLs for errors (package ingest passes
	// ingest.Redact); by default a URL's password is removed.
	Redact func(string) string
}

// Error is a failed pull: the URL (credentials removed), the page and the
// cause. An input error, exit code 2 in the CLI.
type Error struct {
	URL  string
	Page int
	Err  error
}

// Error renders "pull URL (page N): cause".
func (e *Error) Error() string { return fmt.Sprintf("pull %s (page %d): %v", e.URL, e.Page, e.Err) }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// InputError marks the error as the input's fault.
func (e *Error) InputError() bool { return true }

// Stats summarise a pull.
type Stats struct {
	Pages, Records, Retries int
}

// pager computes the next page's URL from the current one.
type pager struct {
	mode               string
	field, param       string
	offParam, limParam string
	limit, offset      int
	page               int
}

// CheckPaginate reports whether mode is a pagination mode Pull knows
// (link, cursor:FIELD[:PARAM], offset[:OFFSET_PARAM:LIMIT_PARAM], page or
// ""), for configuration read before any pull.
func CheckPaginate(mode string) error {
	_, err := newPager(mode)
	return err
}

func newPager(mode string) (*pager, error) {
	p := &pager{}
	parts := strings.Split(mode, ":")
	switch parts[0] {
	case "", "link", "page":
		p.mode = parts[0]
		if len(parts) > 1 {
			return nil, fmt.Errorf("--paginate %s: %s takes no arguments", mode, parts[0])
		}
	case "cursor":
		if len(parts) < 2 || parts[1] == "" || len(parts) > 3 {
			return nil, fmt.Errorf("--paginate %s: want cursor:FIELD or cursor:FIELD:PARAM", mode)
		}
		p.mode, p.field, p.param = "cursor", parts[1], "cursor"
		if len(parts) == 3 {
			p.param = parts[2]
		}
	case "offset":
		p.mode, p.offParam, p.limParam = "offset", "offset", "limit"
		if len(parts) == 3 {
			p.offParam, p.limParam = parts[1], parts[2]
		} else if len(parts) != 1 {
			return nil, fmt.Errorf("--paginate %s: want offset or offset:OFFSET_PARAM:LIMIT_PARAM", mode)
		}
	default:
		return nil, fmt.Errorf("--paginate %s: want link, cursor:FIELD, offset or page", mode)
	}
	return p, nil
}

// first returns the first page's URL.
func (p *pager) first(u *url.URL) *url.URL {
	q := u.Query()
	switch p.mode {
	case "offset":
		p.limit = 100
		if v, err := strconv.Atoi(q.Get(p.limParam)); err == nil && v > 0 {
			p.limit = v
		}
		p.offset, _ = strconv.Atoi(q.Get(p.offParam))
		q.Set(p.limParam, strconv.Itoa(p.limit))
		q.Set(p.offParam, strconv.Itoa(p.offset))
	case "page":
		p.page = 1
		if v, err := strconv.Atoi(q.Get("page")); err == nil && v > 0 {
			p.page = v
		}
		q.Set("page", strconv.Itoa(p.page))
	default:
		return u
	}
	n := *u
	n.RawQuery = q.Encode()
	return &n
}

// next returns the following page's URL, or nil when the pull is done.
func (p *pager) next(cur *url.URL, h http.Header, body any, records int) (*url.URL, error) {
	if records == 0 && p.mode != "link" {
		return nil, nil
	}
	switch p.mode {
	case "link":
		next := nextLink(h.Get("Link"))
		if next == "" {
			return nil, nil
		}
		n, err := cur.Parse(next)
		if err != nil {
			return nil, fmt.Errorf("the Link header's next URL: %w", err)
		}
		return n, nil
	case "cursor":
		v, ok := lookup(body, p.field)
		if !ok || v == nil || v == "" || v == false {
			return nil, nil
		}
		s, ok := v.(string)
		if !ok {
			s = fmt.Sprint(v)
			if f, isNum := v.(json.Number); isNum {
				s = f.String()
			}
		}
		q := cur.Query()
		q.Set(p.param, s)
		n := *cur
		n.RawQuery = q.Encode()
		return &n, nil
	case "offset":
		if records < p.limit {
			return nil, nil
		}
		p.offset += records
		q := cur.Query()
		q.Set(p.offParam, strconv.Itoa(p.offset))
		n := *cur
		n.RawQuery = q.Encode()
		return &n, nil
	case "page":
		p.page++
		q := cur.Query()
		q.Set("page", strconv.Itoa(p.page))
		n := *cur
		n.RawQuery = q.Encode()
		return &n, nil
	}
	return nil, nil
}

var linkNext = regexp.MustCompile(`<([^>]*)>\s*;[^,]*rel="?next"?`)

func nextLink(h string) string {
	if m := linkNext.FindStringSubmatch(h); m != nil {
		return m[1]
	}
	return ""
}

// lookup follows a dotted path into decoded JSON.
func lookup(v any, path string) (any, bool) {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// Pull fetches every page of source and writes its records to w as JSON
// Lines.
func Pull(ctx context.Context, source string, o Options, w io.Writer) (Stats, error) {
	var st Stats
	redact := o.Redact
	if redact == nil {
		redact = func(s string) string {
			if u, err := url.Parse(s); err == nil {
				return u.Redacted()
			}
			return "the URL"
		}
	}
	shown := redact(source)
	p, err := newPager(o.Paginate)
	if err != nil {
		return st, err
	}
	u, err := url.Parse(source)
	if err != nil {
		return st, fmt.Errorf("pull %s: %w", shown, err)
	}
	headers := http.Header{}
	for name, env := range o.HeaderEnv {
		v, ok := os.LookupEnv(env)
		if !ok {
			return st, fmt.Errorf("pull %s: header %s: the environment variable %s is not set", shown, name, env)
		}
		headers.Set(name, v)
	}
	f := &fetcher{o: o, headers: headers}
	bw := bufio.NewWriterSize(w, 1<<16)
	for cur := p.first(u); cur != nil; {
		if o.MaxPages > 0 && st.Pages >= o.MaxPages {
			break
		}
		st.Pages++
		body, h, retries, err := f.get(ctx, cur)
		st.Retries += retries
		if err != nil {
			return st, &Error{URL: redact(cur.String()), Page: st.Pages, Err: err}
		}
		page, records, err := decodePage(body, o.Items)
		if err != nil {
			return st, &Error{URL: redact(cur.String()), Page: st.Pages, Err: err}
		}
		for _, r := range records {
			bw.Write(r)
			bw.WriteByte('\n')
		}
		st.Records += len(records)
		if cur, err = p.next(cur, h, page, len(records)); err != nil {
			return st, &Error{URL: redact(u.String()), Page: st.Pages, Err: err}
		}
	}
	return st, bw.Flush()
}

// decodePage finds a page's records: compact JSON objects.
func decodePage(body []byte, items string) (any, [][]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var page any
	if err := dec.Decode(&page); err != nil {
		return nil, nil, fmt.Errorf("the answer is not JSON: %w", err)
	}
	arr, ok := page.([]any)
	switch {
	case ok:
	case items != "":
		v, found := lookup(page, items)
		if arr, ok = v.([]any); !found || !ok {
			return nil, nil, fmt.Errorf("no array of records at %q in the answer", items)
		}
	default:
		m, isObj := page.(map[string]any)
		if !isObj {
			return nil, nil, errors.New("the answer is neither an array of records nor an object holding one")
		}
		arr = findRecords(m)
		if arr == nil {
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			return nil, nil, fmt.Errorf("no array of records in the answer (fields: %s): name it with --items", strings.Join(keys, ", "))
		}
	}
	out := make([][]byte, 0, len(arr))
	for i, r := range arr {
		m, isObj := r.(map[string]any)
		if !isObj {
			return nil, nil, fmt.Errorf("record %d is not a JSON object", i+1)
		}
		flat := make(map[string]any, len(m))
		flatten(flat, "", m)
		b, err := json.Marshal(flat)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, b)
	}
	return page, out, nil
}

// flatten copies m into flat with nested objects' fields named a.b;
// arrays stay whole (the JSON Lines reader keeps them as JSON text).
func flatten(flat map[string]any, prefix string, m map[string]any) {
	for k, v := range m {
		if prefix != "" {
			k = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
			flatten(flat, k, sub)
			continue
		}
		flat[k] = v
	}
}

// findRecords returns the first array of objects among m's fields, in the
// order common APIs name them, then any.
func findRecords(m map[string]any) []any {
	for _, k := range []string{"data", "items", "results", "records", "rows", "values", "entries"} {
		if a, ok := m[k].([]any); ok {
			return a
		}
	}
	for _, v := range m {
		if a, ok := v.([]any); ok && len(a) > 0 {
			if _, isObj := a[0].(map[string]any); isObj {
				return a
			}
		}
	}
	return nil
}

// fetcher issues rate-limited, retried GETs.
type fetcher struct {
	o       Options
	headers http.Header
	last    time.Time
}

func (f *fetcher) get(ctx context.Context, u *url.URL) ([]byte, http.Header, int, error) {
	retries := f.o.Retries
	if retries == 0 {
		retries = 4
	}
	backoff := f.o.Backoff
	if backoff <= 0 {
		backoff = 500 * time.Millisecond
	}
	for attempt := 0; ; attempt++ {
		if f.o.Rate > 0 {
			gap := time.Duration(float64(time.Second) / f.o.Rate)
			if wait := time.Until(f.last.Add(gap)); wait > 0 {
				if err := sleep(ctx, wait); err != nil {
					return nil, nil, attempt, err
				}
			}
		}
		f.last = time.Now()
		body, h, retryAfter, err := f.once(ctx, u)
		if err == nil {
			return body, h, attempt, nil
		}
		var perm *permanent
		if errors.As(err, &perm) || attempt >= retries || ctx.Err() != nil {
			if attempt > 0 {
				err = fmt.Errorf("%w (after %d retries)", err, attempt)
			}
			return nil, nil, attempt, err
		}
		wait := backoff << attempt
		if retryAfter > wait {
			wait = retryAfter
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, nil, attempt, err
		}
	}
}

// permanent is an answer not worth retrying (4xx other than 429).
type permanent struct{ status string }

func (p *permanent) Error() string { return "the server answered " + p.status }

func (f *fetcher) once(ctx context.Context, u *url.URL) ([]byte, http.Header, time.Duration, error) {
	timeout := f.o.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, 0, err
	}
	for k, v := range f.headers {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "gyre")
	cl := f.o.Client
	if cl == nil {
		cl = http.DefaultClient
	}
	resp, err := cl.Do(req)
	if err != nil {
		// The client's error quotes the URL: say what failed without it.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, nil, 0, fmt.Errorf("request failed: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, nil, 0, fmt.Errorf("read the answer: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return nil, nil, time.Duration(ra) * time.Second, fmt.Errorf("the server answered %s", resp.Status)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		sent := "no credential headers were sent: give them with --header-env NAME=VAR"
		if len(f.headers) > 0 {
			names := make([]string, 0, len(f.headers))
			for k := range f.headers {
				names = append(names, k)
			}
			sent = "check the credentials in the headers " + strings.Join(names, ", ")
		}
		return nil, nil, 0, &permanent{fmt.Sprintf("%s: %s", resp.Status, sent)}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, nil, 0, &permanent{resp.Status}
	}
	return body, resp.Header, 0, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
