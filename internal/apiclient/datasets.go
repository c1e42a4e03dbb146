package apiclient

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"

	"github.com/gyre-ml/gyre/internal/dataset"
)

// Datasets is the server's data set catalog, with dataset.Catalog's
// methods.
type Datasets struct{ c *Client }

// Datasets returns the server's data set catalog.
func (c *Client) Datasets() *Datasets { return &Datasets{c} }

func datasetPath(name string) string { return "/api/v1/datasets/" + url.PathEscape(name) }

// Datasets lists the data sets.
func (d *Datasets) Datasets(ctx context.Context) ([]dataset.Info, error) {
	return all[dataset.Info](ctx, d.c, "/api/v1/datasets")
}

// Log lists a data set's versions, newest first.
func (d *Datasets) Log(ctx context.Context, name string) ([]dataset.Version, error) {
	return all[dataset.Version](ctx, d.c, datasetPath(name)+"/versions")
}

// Get returns a version by NAME or NAME@VERSION (the latest for NAME).
func (d *Datasets) Get(ctx context.Context, ref string) (*dataset.Version, error) {
	name, v, err := dataset.ParseRef(ref)
	if err != nil {
		return nil, err
	}
	if v == 0 {
		vs, err := d.Log(ctx, name)
		if err != nil {
			return nil, err
		}
		if len(vs) == 0 {
			return nil, fmt.Errorf("data set %s: %w", name, dataset.ErrNotFound)
		}
		return &vs[0], nil
	}
	return Call[dataset.Version](ctx, d.c, http.MethodGet, fmt.Sprintf("%s/versions/%d", datasetPath(name), v), nil, nil)
}

// Version uploads the file at path as a new version of the named data set;
// the server returns the latest version when the content is unchanged.
func (d *Datasets) Version(ctx context.Context, path, name string) (*dataset.Result, error) {
	if err := dataset.CheckName(name); err != nil {
		return nil, fmt.Errorf("version %s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("version %s: %w", path, err)
	}
	f, err := os.Open(abs)
	if err != nil {
		return nil, fmt.Errorf("version %s: %w", path, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("version %s: not a regular file", path)
	}
	res, err := Call[dataset.Result](ctx, d.c, http.MethodPost, datasetPath(name)+"/versions", url.Values{"source": {abs}}, f)
	if err != nil {
		return nil, fmt.Errorf("version %s as %s: %w", path, name, err)
	}
	return res, nil
}

// Diff compares two versions (NAME@V references of one data set).
func (d *Datasets) Diff(ctx context.Context, a, b string) (*dataset.Diff, error) {
	na, va, err := dataset.ParseRef(a)
	if err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	nb, vb, err := dataset.ParseRef(b)
	if err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	if na != nb || va == 0 || vb == 0 {
		return nil, fmt.Errorf("diff %s %s: through a server, compare two numbered versions of one data set (NAME@V1 NAME@V2)", a, b)
	}
	q := url.Values{"from": {fmt.Sprint(va)}, "to": {fmt.Sprint(vb)}}
	return Call[dataset.Diff](ctx, d.c, http.MethodGet, datasetPath(na)+"/diff", q, nil)
}

// Export downloads a version's bytes to out atomically (a temporary file,
// then rename).
func (d *Datasets) Export(ctx context.Context, ref, out string) (*dataset.Version, error) {
	v, err := d.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	rc, err := d.c.open(ctx, fmt.Sprintf("%s/versions/%d/data", datasetPath(v.Name), v.Version))
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", ref, err)
	}
	defer rc.Close()
	h := sha256.New()
	if err := writeFile(out, io.TeeReader(rc, h), func() error {
		if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != v.Blob.Digest {
			return fmt.Errorf("downloaded %s, want %s (a short or damaged answer)", got, v.Blob.Digest)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("get %s into %s: %w", ref, out, err)
	}
	return v, nil
}

// writeFile writes rd to path through a temporary file renamed into place
// when check, called after the copy, passes.
func writeFile(path string, rd io.Reader, check func() error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".gyre-get-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, rd); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := check(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
