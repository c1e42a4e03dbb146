package cli

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"github.com/gyre-ml/gyre/internal/workspace"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/registry"
)

// resolvedModel is a model reference resolved to a loaded bundle.
type resolvedModel struct {
	Bundle *bundle.Bundle
	// Name is the model's name: the registered name, or the bundle file's
	// base name without extension.
	Name string
	// Version is the registry version, or "file" for a bundle path.
	Version string
	// Ref is the reference as given.
	Ref string
	// Registry marks registry references (watched for hot reload when they
	// name an alias or the latest version).
	Registry bool
}

// loadBundle resolves a model reference: a bundle file path, or a registry
// reference (NAME, NAME/VERSION, NAME@ALIAS, models:/NAME/VERSION,
// models:/NAME@ALIAS). It returns the bundle and a display reference.
func (a *App) loadBundle(ctx context.Context, ref string) (*bundle.Bundle, string, error) {
	m, err := a.resolveModel(ctx, ref)
	if err != nil {
		return nil, "", err
	}
	if m.Registry {
		return m.Bundle, m.Name + "/" + m.Version, nil
	}
	return m.Bundle, ref, nil
}

func (a *App) resolveModel(ctx context.Context, ref string) (*resolvedModel, error) {
	st, statErr := os.Stat(ref)
	if statErr == nil && !st.IsDir() || strings.HasSuffix(ref, ".gyre") {
		b, err := bundle.Load(ref)
		if err != nil {
			return nil, err
		}
		if w := b.Warning(); w != "" {
			fmt.Fprintf(a.Stderr, "warning: %s: %s\n", ref, w)
		}
		name := strings.TrimSuffix(filepath.Base(ref), filepath.Ext(ref))
		return &resolvedModel{Bundle: b, Name: name, Version: "file", Ref: ref}, nil
	}
	if _, err := registry.ParseRef(ref); err != nil {
		return nil, fmt.Errorf("model %q: not a bundle file, and %w", ref, err)
	}
	b, err := a.openBackend(ctx)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	return (&registryModels{reg: b.Models}).load(ctx, ref)
}

// registryModels loads bundles from the registry, caching the last loaded
// version per reference so that re-resolving an unchanged alias costs one
// query, not a bundle download.
type registryModels struct {
	reg   workspace.Models
	mu    sync.Mutex
	cache map[string]*resolvedModel
	// keys, when set, are the public keys a bundle must be signed with
	// (gyre serve --verify-key): checked on every load, hot reloads too.
	keys []ed25519.PublicKey
}

func (r *registryModels) load(ctx context.Context, ref string) (*resolvedModel, error) {
	v, err := r.reg.Resolve(ctx, ref)
	if err != nil {
		return nil, storeError(err)
	}
	version := strconv.FormatInt(v.Version, 10)
	r.mu.Lock()
	if m, ok := r.cache[ref]; ok && m.Version == version {
		r.mu.Unlock()
		return m, nil
	}
	r.mu.Unlock()
	rc, err := r.reg.OpenBundle(ctx, v)
	if err != nil {
		return nil, failed(err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return nil, failed(fmt.Errorf("read bundle of %s: %w", v.Ref(), err))
	}
	b, err := bundle.Decode(data)
	if err != nil {
		return nil, failed(fmt.Errorf("model %s: %w", v.Ref(), err))
	}
	if len(r.keys) > 0 {
		if err := b.Verify(r.keys...); err != nil {
			return nil, usageErrorf("model %s: %v", v.Ref(), err)
		}
	}
	p, _ := registry.ParseRef(ref)
	m := &resolvedModel{Bundle: b, Name: v.Model, Version: version, Ref: ref, Registry: p.Version == 0}
	r.mu.Lock()
	if r.cache == nil {
		r.cache = map[string]*resolvedModel{}
	}
	r.cache[ref] = m
	r.mu.Unlock()
	return m, nil
}

// Resolve implements serve.Resolver.
func (r *registryModels) Resolve(ctx context.Context, ref string) (*bundle.Bundle, string, error) {
	m, err := r.load(ctx, ref)
	if err != nil {
		return nil, "", err
	}
	return m.Bundle, m.Version, nil
}
