package cli

import (
	"context"
	"fmt"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/workspace"
)

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

// resolveModel loads a bundle file (warning on stderr about an old one),
// or the registered bundle a reference names through the backend.
func (a *App) resolveModel(ctx context.Context, ref string) (*workspace.Model, error) {
	if workspace.IsBundleFile(ref) {
		m, err := workspace.LoadFile(ref)
		if err != nil {
			return nil, err
		}
		if w := m.Bundle.Warning(); w != "" {
			fmt.Fprintf(a.Stderr, "warning: %s: %s\n", ref, w)
		}
		return m, nil
	}
	if _, err := registry.ParseRef(ref); err != nil {
		return nil, fmt.Errorf("model %q: not a bundle file, and %w", ref, err)
	}
	b, err := a.openBackend(ctx)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	m, err := (&workspace.Loader{Models: b.Models}).Load(ctx, ref)
	return m, storeError(err)
}
