package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/track"
	"github.com/gyre-ml/gyre/internal/web"
)

// apiClient talks to a team server's /api/v1.
type apiClient struct {
	base  string // server URL without a trailing slash
	token string
	http  *http.Client
}

// serverError is an error answered by the server (its envelope), so the
// exit code follows the kind: input and permission errors are 2, server
// failures 1.
type serverError struct {
	status int
	env    web.Error
}

func (e *serverError) Error() string {
	msg := e.env.Message
	if e.env.Field != "" && !strings.Contains(msg, e.env.Field) {
		msg += " (field " + e.env.Field + ")"
	}
	switch e.env.Kind {
	case web.KindUnauthenticated:
		msg += ": run gyre login " + "SERVER_URL, or set GYRE_TOKEN"
	}
	return fmt.Sprintf("server: %s", msg)
}

// Is lets errors.Is match the stores' sentinels on the server's answer, so
// that commands treat "not found" alike, local or remote.
func (e *serverError) Is(target error) bool {
	switch e.env.Kind {
	case web.KindNotFound:
		return target == track.ErrNotFound || target == registry.ErrNotFound || target == dataset.ErrNotFound
	case web.KindUnauthenticated:
		return target == access.ErrUnauthenticated
	case web.KindForbidden:
		return target == access.ErrForbidden
	}
	return false
}

// serverURL returns the team server the CLI works against: --server, else
// GYRE_SERVER; "" (or "local") for the local store.
func (a *App) serverURL() string {
	s := a.Server
	if s == "" {
		s = os.Getenv("GYRE_SERVER")
	}
	if s == "local" {
		return ""
	}
	return strings.TrimRight(s, "/")
}

// client returns the API client for the configured server, with the token
// from GYRE_TOKEN or the one `gyre login` stored for that server.
func (a *App) client() (*apiClient, error) {
	base := a.serverURL()
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageErrorf("server %q: want an http:// or https:// URL (--server or GYRE_SERVER)", base)
	}
	tok := os.Getenv("GYRE_TOKEN")
	if tok == "" {
		cfg, err := loadLogins()
		if err != nil {
			return nil, err
		}
		tok = cfg.Servers[base].Token
	}
	return newAPIClient(base, tok), nil
}

func newAPIClient(base, token string) *apiClient {
	return &apiClient{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{Timeout: 10 * time.Minute}}
}

// do sends a request to path (with query) and decodes a JSON answer into
// out (nil to discard). body is JSON-encoded unless it is an io.Reader,
// which is sent as bytes.
func (c *apiClient) do(ctx context.Context, method, path string, q url.Values, body, out any) error {
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
		return failed(fmt.Errorf("server %s %s: decode answer: %w", method, path, err))
	}
	return nil
}

// call sends a request and decodes its JSON answer into a new T.
func call[T any](ctx context.Context, c *apiClient, method, path string, q url.Values, body any) (*T, error) {
	v := new(T)
	if err := c.do(ctx, method, path, q, body, v); err != nil {
		return nil, err
	}
	return v, nil
}

// items returns the items of an unpaged list endpoint.
func items[T any](ctx context.Context, c *apiClient, path string) ([]T, error) {
	l, err := call[web.List[T]](ctx, c, http.MethodGet, path, nil, nil)
	if err != nil {
		return nil, err
	}
	return l.Items, nil
}

// send sends a request and returns a successful response, or the server's
// error.
func (c *apiClient) send(ctx context.Context, method, path string, q url.Values, body any) (*http.Response, error) {
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
			return nil, failed(fmt.Errorf("server %s %s: encode request: %w", method, path, err))
		}
		rd, ct = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, usageErrorf("server %s %s: %v", method, path, err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("User-Agent", "gyre/"+Version)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, failed(fmt.Errorf("server %s: %w", c.base, err))
	}
	if resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var env web.Envelope
	if json.Unmarshal(b, &env) != nil || env.Error == nil {
		return nil, failed(fmt.Errorf("server %s %s: %s: %.200s", method, path, resp.Status, b))
	}
	se := &serverError{status: resp.StatusCode, env: *env.Error}
	if resp.StatusCode >= 500 {
		return nil, failed(se)
	}
	return nil, se
}

// logins is the file `gyre login` writes: a token per server URL.
type logins struct {
	Servers map[string]login `json:"servers"`
}

type login struct {
	User  string    `json:"user,omitempty"`
	Token string    `json:"token"`
	Saved time.Time `json:"saved"`
}

// loginsPath is os.UserConfigDir()/gyre/logins.json.
func loginsPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", failed(fmt.Errorf("find the user config directory: %w", err))
	}
	return filepath.Join(dir, "gyre", "logins.json"), nil
}

func loadLogins() (*logins, error) {
	p, err := loginsPath()
	if err != nil {
		return nil, err
	}
	l := &logins{Servers: map[string]login{}}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, failed(fmt.Errorf("read logins %s: %w", p, err))
	}
	if err := json.Unmarshal(b, l); err != nil {
		return nil, fmt.Errorf("read logins %s: %w (remove it and run gyre login again)", p, err)
	}
	if l.Servers == nil {
		l.Servers = map[string]login{}
	}
	return l, nil
}

// save writes the logins file with mode 0600 in a 0700 directory, through
// a temp file renamed into place.
func (l *logins) save() error {
	p, err := loginsPath()
	if err != nil {
		return err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return failed(fmt.Errorf("save login: %w", err))
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return failed(fmt.Errorf("save login: %w", err))
	}
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return failed(err)
	}
	f, err := os.CreateTemp(dir, ".logins-*")
	if err != nil {
		return failed(fmt.Errorf("save login: %w", err))
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return failed(fmt.Errorf("save login: %w", err))
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return failed(fmt.Errorf("save login: %w", err))
	}
	if err := f.Close(); err != nil {
		return failed(fmt.Errorf("save login: %w", err))
	}
	if err := os.Rename(f.Name(), p); err != nil {
		return failed(fmt.Errorf("save login: %w", err))
	}
	return nil
}
