package workspace

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/registry"
)

// Model is a model reference resolved to a loaded bundle.
type Model struct {
	Bundle *bundle.Bundle
	// Name is the model's name: the registered name, or the bundle file's
	// base name without extension.
	Name string
	// Version is the registry version, or "file" for a bundle path.
	Version string
	// Ref is the reference as given.
	Ref string
	// Registry marks registry references that follow the registry (an
	// alias or the latest version): watched for hot reload.
	Registry bool
}

// IsBundleFile reports whether ref names a bundle file (an existing file,
// or a path ending in .gyre) rather than a registry reference.
func IsBundleFile(ref string) bool {
	st, err := os.Stat(ref)
	return err == nil && !st.IsDir() || strings.HasSuffix(ref, ".gyre")
}

// LoadFile loads the bundle file at path as a Model of version "file".
func LoadFile(path string) (*Model, error) {
	b, err := bundle.Load(path)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	return &Model{Bundle: b, Name: name, Version: "file", Ref: path}, nil
}

// Loader loads bundles from a registry, caching the last loaded version
// per reference so that re-resolving an unchanged alias costs one query,
// not a bundle download. It is safe for concurrent use.
//
// Load's errors: the registry's own (a reference not found, ...) as they
// are; a bundle that cannot be read or decoded a *BundleError (a failure);
// a bundle not signed with Keys a *VerifyError (an input error).
type Loader struct {
	Models Models
	// Keys, when set, are the public keys a bundle must be signed with
	// (gyre serve --verify-key): checked on every load, hot reloads too.
	Keys []ed25519.PublicKey

	mu    sync.Mutex
	cache map[string]*Model
}

// BundleError is a registered bundle that could not be read or decoded.
type BundleError struct{ Err error }

func (e *BundleError) Error() string { return e.Err.Error() }
func (e *BundleError) Unwrap() error { return e.Err }

// Failure marks the error as not the input's fault (exit code 1).
func (e *BundleError) Failure() bool { return true }

// VerifyError is a registered bundle not signed with any of the Loader's
// keys.
type VerifyError struct {
	Ref string
	Err error
}

func (e *VerifyError) Error() string { return fmt.Sprintf("model %s: %v", e.Ref, e.Err) }
func (e *VerifyError) Unwrap() error { return e.Err }

// InputError marks the error as the input's fault (exit code 2).
func (e *VerifyError) InputError() bool { return true }

// Load resolves ref in the registry and returns its bundle, from the cache
// when the reference still resolves to the version loaded last.
func (r *Loader) Load(ctx context.Context, ref string) (*Model, error) {
	v, err := r.Models.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	version := strconv.FormatInt(v.Version, 10)
	r.mu.Lock()
	if m, ok := r.cache[ref]; ok && m.Version == version {
		r.mu.Unlock()
		return m, nil
	}
	r.mu.Unlock()
	rc, err := r.Models.OpenBundle(ctx, v)
	if err != nil {
		return nil, &BundleError{err}
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return nil, &BundleError{fmt.Errorf("read bundle of %s: %w", v.Ref(), err)}
	}
	b, err := bundle.Decode(data)
	if err != nil {
		return nil, &BundleError{fmt.Errorf("model %s: %w", v.Ref(), err)}
	}
	if len(r.Keys) > 0 {
		if err := b.Verify(r.Keys...); err != nil {
			return nil, &VerifyError{Ref: v.Ref(), Err: err}
		}
	}
	p, _ := registry.ParseRef(ref)
	m := &Model{Bundle: b, Name: v.Model, Version: version, Ref: ref, Registry: p.Version == 0}
	r.mu.Lock()
	if r.cache == nil {
		r.cache = map[string]*Model{}
	}
	r.cache[ref] = m
	r.mu.Unlock()
	return m, nil
}

// Resolve implements serve.Resolver.
func (r *Loader) Resolve(ctx context.Context, ref string) (*bundle.Bundle, string, error) {
	m, err := r.Load(ctx, ref)
	if err != nil {
		return nil, "", err
	}
	return m.Bundle, m.Version, nil
}

// Show returns what `gyre models show` prints for ref: the version a
// reference with a version or an alias names, or else the model's detail
// (its versions and alias history).
func (b *Backend) Show(ctx context.Context, ref string) (*registry.Version, *registry.Detail, error) {
	r, err := registry.ParseRef(ref)
	if err != nil {
		return nil, nil, err
	}
	if r.Version > 0 || r.Alias != "" {
		v, err := b.Models.Resolve(ctx, ref)
		return v, nil, err
	}
	m, err := b.Models.Model(ctx, r.Name)
	if err != nil {
		return nil, nil, err
	}
	vs, err := b.Models.Versions(ctx, r.Name)
	if err != nil {
		return nil, nil, err
	}
	hist, err := b.Models.AliasHistory(ctx, r.Name)
	if err != nil {
		return nil, nil, err
	}
	return nil, &registry.Detail{Model: m, Versions: vs, AliasHistory: hist}, nil
}

// DatasetError is a data set version to link that cannot be found.
type DatasetError struct{ Err error }

func (e *DatasetError) Error() string { return e.Err.Error() }
func (e *DatasetError) Unwrap() error { return e.Err }

// Provenance fills o's run and data sets for registering a bundle: the
// run runID names (when given) with the data sets it logged, then the data
// set versions refs name (NAME@VERSION; one not found a *DatasetError).
func (b *Backend) Provenance(ctx context.Context, o *registry.RegisterOptions, runID string, refs []string) error {
	if runID != "" {
		r, err := b.Runs.Get(ctx, runID)
		if err != nil {
			return err
		}
		o.RunID = r.ID
		for _, d := range r.Datasets {
			o.Datasets = append(o.Datasets, registry.DatasetVersion{Name: d.Name, Version: d.Version})
		}
	}
	for _, d := range refs {
		v, err := b.Data.Get(ctx, d)
		if err != nil {
			return &DatasetError{err}
		}
		o.Datasets = append(o.Datasets, registry.DatasetVersion{Name: v.Name, Version: v.Version})
	}
	return nil
}
