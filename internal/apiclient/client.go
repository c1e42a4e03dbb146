// Package apiclient is the one client of a team server's /api/v1 (gyre
// server). Its Tracker, Registry, Datasets, Audit and Accounts have the
// same methods, with the same types, as the local stores the CLI opens
// (track, registry, dataset, audit, access), so a command works through
// the server by being handed these instead: the server authenticates,
// checks roles and audits every write. Errors the server answers are
// *Error, which errors.Is matches against the stores' own sentinels (a 404
// is track.ErrNotFound, registry.ErrNotFound and dataset.ErrNotFound).
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/track"
	"github.com/gyre-ml/gyre/internal/web"
)

// Client talks to one team server.
type Client struct {
	base  string // server URL without a trailing slash
	token string
	// HTTP is the client requests go through (a 10-minute timeout: bundle
	// and data uploads can be large).
	HTTP *http.Client
	// UserAgent is sent with every request.
	UserAgent string
}

// ErrBadURL is returned by New for a server URL that is not http(s).
var ErrBadURL = errors.New("want an http:// or https:// URL")

// New returns a client of the server at base, sending token (if any) as a
// Bearer credential.
func New(base, token string) (*Client, error) {
	base = strings.TrimRight(base, "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server %q: %w", base, ErrBadURL)
	}
	return &Client{base: base, token: token, HTTP: &http.Client{Timeout: 10 * time.Minute}, UserAgent: "gyre"}, nil
}

// BasicAuth makes the client send user and password as Basic credentials
// instead of its token (gyre login --user).
func (c *Client) BasicAuth(user, pass string) { c.HTTP.Transport = basicAuth{user: user, pass: pass} }

// String is the server's URL.
func (c *Client) String() string { return c.base }

// Error is an error answered by the server: its status and error envelope.
type Error struct {
	Status int
	Env    web.Error
}

func (e *Error) Error() string {
	msg := e.Env.Message
	if e.Env.Field != "" && !strings.Contains(msg, e.Env.Field) {
		msg += " (field " + e.Env.Field + ")"
	}
	if e.Env.Kind == web.KindUnauthenticated {
		msg += ": run gyre login SERVER_URL, or set GYRE_TOKEN"
	}
	return "server: " + msg
}

// Is lets errors.Is match the stores' sentinels on the server's answer, so
// that callers treat "not found" alike, local or remote.
func (e *Error) Is(target error) bool {
	switch e.Env.Kind {
	case web.KindNotFound:
		return target == track.ErrNotFound || target == registry.ErrNotFound || target == dataset.ErrNotFound
	case web.KindUnauthenticated:
		return target == access.ErrUnauthenticated
	case web.KindForbidden:
		return target == access.ErrForbidden
	}
	return false
}

// Failure reports a failure of the server (5xx) rather than of the
// request.
func (e *Error) Failure() bool { return e.Status >= 500 }

// failure is an error reaching or understanding the server.
type failure struct{ err error }

func (f failure) Error() string { return f.err.Error() }
func (f failure) Unwrap() error { return f.err }

// Failure marks the error as the server's or the network's, not the
// request's.
func (failure) Failure() bool { return true }

// Do sends a request to path (with query q) and decodes a JSON answer into
// out (nil to discard). body is JSON-encoded unless it is an io.Reader,
// which is sent as bytes.
func (c *Client) Do(ctx context.Context, method, path string, q url.Values, body, out any) error {
	resp, err := c.send(ctx, method, path, q, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return failure{fmt.Errorf("server %s %s: decode answer: %w", method, path, err)}
	}
	return nil
}

// Call sends a request and decodes its JSON answer into a new T.
func Call[T any](ctx context.Context, c *Client, method, path string, q url.Values, body any) (*T, error) {
	v := new(T)
	if err := c.Do(ctx, method, path, q, body, v); err != nil {
		return nil, err
	}
	return v, nil
}

// items returns the items of an unpaged list endpoint.
func items[T any](ctx context.Context, c *Client, path string) ([]T, error) {
	l, err := Call[web.List[T]](ctx, c, http.MethodGet, path, nil, nil)
	if err != nil {
		return nil, err
	}
	return l.Items, nil
}

// all pages through a list endpoint.
func all[T any](ctx context.Context, c *Client, path string) ([]T, error) {
	var out []T
	q := url.Values{"max_results": {strconv.Itoa(web.MaxPageSize)}}
	for {
		l, err := Call[web.List[T]](ctx, c, http.MethodGet, path, q, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, l.Items...)
		if l.NextPageToken == "" {
			return out, nil
		}
		q.Set("page_token", l.NextPageToken)
	}
}

// open sends a GET and returns the answer's body, for downloads.
func (c *Client) open(ctx context.Context, path string) (io.ReadCloser, error) {
	resp, err := c.send(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// send sends a request and returns a successful response, or the server's
// error.
func (c *Client) send(ctx context.Context, method, path string, q url.Values, body any) (*http.Response, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd, ct = b, "application/octet-stream"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("server %s %s: encode request: %w", method, path, err)
		}
		rd, ct = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("server %s %s: %w", method, path, err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("User-Agent", c.UserAgent)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, failure{fmt.Errorf("server %s: %w", c.base, err)}
	}
	if resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var env web.Envelope
	if json.Unmarshal(b, &env) != nil || env.Error == nil {
		return nil, failure{fmt.Errorf("server %s %s: %s: %.200s", method, path, resp.Status, b)}
	}
	return nil, &Error{Status: resp.StatusCode, Env: *env.Error}
}

// basicAuth sends Basic credentials on every request.
type basicAuth struct{ user, pass string }

func (b basicAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.SetBasicAuth(b.user, b.pass)
	return http.DefaultTransport.RoundTrip(r)
}
