package kafkasource

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// schemaRegistry is a Confluent schema registry that a source reads
// schemas from and a destination registers its schema with.
type schemaRegistry struct {
	base       string // URL without a trailing slash
	user, pass string
	client     *http.Client
}

// newSchemaRegistry checks &registry=URL (http or https, no credentials in
// the URL) and reads the password of &registry-user from the environment
// variable passEnv.
func newSchemaRegistry(display, registry, user, passEnv string) (*schemaRegistry, error) {
	u, err := url.Parse(registry)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("kafka %s: registry=%q: want the schema registry's http(s) URL", display, registry)
	}
	if u.User != nil {
		return nil, fmt.Errorf("kafka %s: credentials in the registry URL are refused: give &registry-user=NAME and &registry-password-env=VAR", display)
	}
	r := &schemaRegistry{base: strings.TrimRight(registry, "/"), user: user, client: &http.Client{Timeout: 30 * time.Second}}
	if passEnv != "" {
		p, ok := os.LookupEnv(passEnv)
		if !ok {
			return nil, fmt.Errorf("kafka %s: registry-password-env=%s: the environment variable is not set", display, passEnv)
		}
		r.pass = p
	}
	return r, nil
}

// registryError is the error part of every registry answer.
type registryError struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

// call sends a GET (body nil) or a POST of the JSON body to path, reads at
// most limit bytes of the answer and decodes them into ans, whose error part
// is failure. It returns the HTTP status and an error when the request
// fails, the answer is not JSON or the status is not 200 (naming the
// registry's error code and message).
func (r *schemaRegistry) call(ctx context.Context, path string, body []byte, limit int64, ans any, failure *registryError) (int, error) {
	method, rd := http.MethodGet, io.Reader(nil)
	if body != nil {
		method, rd = http.MethodPost, bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	}
	req.Header.Set("Accept", "application/vnd.schemaregistry.v1+json, application/json")
	if r.user != "" {
		req.SetBasicAuth(r.user, r.pass)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return resp.StatusCode, err
	}
	if err := json.Unmarshal(b, ans); err != nil {
		return resp.StatusCode, fmt.Errorf("HTTP %d, not a schema registry answer: %.200s", resp.StatusCode, b)
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, fmt.Errorf("HTTP %d: error %d: %s", resp.StatusCode, failure.ErrorCode, failure.Message)
	}
	return resp.StatusCode, nil
}
