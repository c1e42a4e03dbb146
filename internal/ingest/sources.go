package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest/httpsource"
	"github.com/gyre-ml/gyre/internal/ingest/parquetio"
)

func readParquet(path, name string) (*frame.Frame, error) {
	f, err := parquetio.ReadFile(path)
	if err != nil {
		if name != path {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		return nil, err
	}
	return f, nil
}

// HTTPError is a non-2xx answer to a download.
type HTTPError struct {
	URL    string
	Status string
}

// Error names the status and the URL.
func (e *HTTPError) Error() string { return fmt.Sprintf("download %s: HTTP %s", e.URL, e.Status) }

// InputError marks the error as the input's fault (exit code 2 in the CLI).
func (e *HTTPError) InputError() bool { return true }

// readHTTP downloads a URL to a temp file (bounded by time and size) and reads
// it by the URL path's extension, else the Content-Type, else by sniffing.
func readHTTP(ctx context.Context, source string, opt Options) (*frame.Frame, error) {
	path, forced, cleanup, err := download(ctx, source, opt)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	return readFile(ctx, path, Redact(source), opt, forced)
}

// download fetches a URL into a temporary file (bounded by
// Options.HTTPTimeout and Options.MaxDownload) and returns its path, the
// format the URL's extension or Content-Type names (fmtUnknown: sniff), and a
// function that removes the file.
func download(ctx context.Context, source string, opt Options) (file string, forced format, cleanup func(), err error) {
	if opt.API.Paginate != "" || opt.API.Items != "" {
		return pullAPI(ctx, source, opt)
	}
	shown := Redact(source)
	timeout := opt.HTTPTimeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	limit := opt.MaxDownload
	if limit <= 0 {
		limit = 4 << 30
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, source, nil)
	if err != nil {
		return "", 0, nil, fmt.Errorf("download %s: %w", shown, err)
	}
	req.Header.Set("User-Agent", "gyre")
	for name, env := range opt.API.HeaderEnv {
		v, ok := os.LookupEnv(env)
		if !ok {
			return "", 0, nil, fmt.Errorf("download %s: header %s: the environment variable %s is not set", shown, name, env)
		}
		req.Header.Set(name, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // it quotes the URL, credentials and all
		}
		return "", 0, nil, fmt.Errorf("download %s: %w", shown, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", 0, nil, &HTTPError{URL: shown, Status: resp.Status}
	}
	if resp.ContentLength > limit {
		return "", 0, nil, fmt.Errorf("download %s: %d bytes is more than the %d-byte limit", shown, resp.ContentLength, limit)
	}
	u, _ := url.Parse(source)
	base := path.Base(u.Path)
	forced, gz, tab := formatOf(base)
	if forced == fmtUnknown {
		forced = formatOfContentType(resp.Header.Get("Content-Type"))
	}
	ext := ""
	if tab {
		ext = ".tsv"
	}
	if gz {
		ext += ".gz"
	}
	tmp, err := os.CreateTemp("", "gyre-download-*"+ext)
	if err != nil {
		return "", 0, nil, fmt.Errorf("download %s: %w", shown, err)
	}
	cleanup = func() { os.Remove(tmp.Name()) }
	n, err := io.Copy(tmp, io.LimitReader(resp.Body, limit+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return "", 0, nil, fmt.Errorf("download %s: %w", shown, err)
	}
	if n > limit {
		cleanup()
		return "", 0, nil, fmt.Errorf("download %s: more than the %d-byte limit", shown, limit)
	}
	return tmp.Name(), forced, cleanup, nil
}

// pullAPI pulls every page of a paged JSON API (opt.API) into a temporary
// JSON Lines file, through package httpsource.
func pullAPI(ctx context.Context, source string, opt Options) (string, format, func(), error) {
	tmp, err := os.CreateTemp("", "gyre-pull-*.jsonl")
	if err != nil {
		return "", 0, nil, fmt.Errorf("pull %s: %w", Redact(source), err)
	}
	cleanup := func() { os.Remove(tmp.Name()) }
	o := opt.API
	o.Redact = Redact
	st, err := httpsource.Pull(ctx, source, o, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return "", 0, nil, err
	}
	if opt.Warn != nil && st.Retries > 0 {
		opt.warnf("pull %s: %d pages, %d records, %d retried requests", Redact(source), st.Pages, st.Records, st.Retries)
	}
	return tmp.Name(), fmtJSONL, cleanup, nil
}

func formatOfContentType(ct string) format {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmtUnknown
	}
	switch {
	case mt == "text/csv", mt == "text/tab-separated-values", mt == "application/csv":
		return fmtCSV
	case strings.Contains(mt, "ndjson"), strings.Contains(mt, "jsonl"), strings.Contains(mt, "json-seq"), mt == "application/json":
		return fmtJSONL
	case strings.Contains(mt, "parquet"):
		return fmtParquet
	case strings.HasPrefix(mt, "application/vnd.apache.arrow."):
		return fmtArrow
	}
	return fmtUnknown
}
