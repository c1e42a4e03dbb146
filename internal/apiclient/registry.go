package apiclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/web"
)

// Registry is the server's model registry, with registry.Registry's
// methods.
type Registry struct{ c *Client }

// Registry returns the server's model registry.
func (c *Client) Registry() *Registry { return &Registry{c} }

func modelPath(name string) string { return "/api/v1/models/" + url.PathEscape(name) }

func versionPath(name string, version int64) string {
	return fmt.Sprintf("%s/versions/%d", modelPath(name), version)
}

// Models lists the registered models the caller may read.
func (r *Registry) Models(ctx context.Context) ([]registry.Model, error) {
	return all[registry.Model](ctx, r.c, "/api/v1/models")
}

// Model returns one registered model.
func (r *Registry) Model(ctx context.Context, name string) (*registry.Model, error) {
	return Call[registry.Model](ctx, r.c, http.MethodGet, modelPath(name), nil, nil)
}

// Versions lists a model's versions.
func (r *Registry) Versions(ctx context.Context, name string) ([]registry.Version, error) {
	return all[registry.Version](ctx, r.c, modelPath(name)+"/versions")
}

// Resolve resolves a model reference (NAME, NAME/VERSION, NAME@ALIAS,
// models:/...).
func (r *Registry) Resolve(ctx context.Context, ref string) (*registry.Version, error) {
	return Call[registry.Version](ctx, r.c, http.MethodGet, "/api/v1/resolve", url.Values{"ref": {ref}}, nil)
}

// AliasHistory lists every move of a model's aliases.
func (r *Registry) AliasHistory(ctx context.Context, name string) ([]registry.AliasEvent, error) {
	return items[registry.AliasEvent](ctx, r.c, modelPath(name)+"/alias-history")
}

// ErrNoBundle is returned by Register when the options give neither a
// bundle to upload nor a run artifact to register.
var ErrNoBundle = errors.New("register: want a bundle to upload (Bundle) or a run's artifact (RunID and BundleRef)")

// Register adds a version: o.Bundle is uploaded, or, with no Bundle, the
// run o.RunID's artifact o.BundleRef (already on the server) is
// registered without sending it again.
func (r *Registry) Register(ctx context.Context, name string, o registry.RegisterOptions) (*registry.Version, error) {
	q := url.Values{}
	if o.RunID != "" {
		q.Set("run_id", o.RunID)
	}
	if o.Description != "" {
		q.Set("description", o.Description)
	}
	for _, d := range o.Datasets {
		q.Add("dataset", fmt.Sprintf("%s@%d", d.Name, d.Version))
	}
	var body any
	switch {
	case o.Bundle != nil:
		body = o.Bundle
	case o.RunID != "" && o.BundleRef.Digest != "":
		q.Set("bundle_digest", o.BundleRef.Digest)
	default:
		return nil, ErrNoBundle
	}
	return Call[registry.Version](ctx, r.c, http.MethodPost, modelPath(name)+"/versions", q, body)
}

// SetAlias points an alias at a version.
func (r *Registry) SetAlias(ctx context.Context, name, alias string, version int64) error {
	return r.c.Do(ctx, http.MethodPut, modelPath(name)+"/aliases/"+url.PathEscape(alias), nil, web.SetAliasRequest{Version: version}, nil)
}

// DeleteAlias removes an alias.
func (r *Registry) DeleteAlias(ctx context.Context, name, alias string) error {
	return r.c.Do(ctx, http.MethodDelete, modelPath(name)+"/aliases/"+url.PathEscape(alias), nil, nil, nil)
}

// DeleteVersion deletes a model version.
func (r *Registry) DeleteVersion(ctx context.Context, name string, version int64) error {
	return r.c.Do(ctx, http.MethodDelete, versionPath(name, version), nil, nil, nil)
}

// DeleteModel deletes a model with all its versions.
func (r *Registry) DeleteModel(ctx context.Context, name string) error {
	return r.c.Do(ctx, http.MethodDelete, modelPath(name), nil, nil, nil)
}

// OpenBundle downloads a version's bundle.
func (r *Registry) OpenBundle(ctx context.Context, v *registry.Version) (io.ReadCloser, error) {
	rc, err := r.c.open(ctx, versionPath(v.Model, v.Version)+"/bundle")
	if err != nil {
		return nil, fmt.Errorf("model %s: download bundle: %w", v.Ref(), err)
	}
	return rc, nil
}

// Lineage traces a model reference to its run and data set versions.
func (r *Registry) Lineage(ctx context.Context, ref string) (*web.Lineage, error) {
	return Call[web.Lineage](ctx, r.c, http.MethodGet, "/api/v1/lineage", url.Values{"ref": {ref}}, nil)
}
