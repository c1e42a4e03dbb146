package cli

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/track"
	"github.com/gyre-ml/gyre/internal/web"
)

// metadata is what the commands that read or write tracking, registry,
// data set and audit records call. The local store provides it
// (localMeta), and so does a team server over its API (remoteMeta): with
// --server or GYRE_SERVER the same commands go through the server, which
// authenticates, checks roles and audits.
type metadata interface {
	SearchRuns(ctx context.Context, o track.SearchOptions) (*track.Page, error)
	GetRun(ctx context.Context, id string) (*track.RunInfo, error)
	DeleteRun(ctx context.Context, id string) error

	Models(ctx context.Context) ([]registry.Model, error)
	Model(ctx context.Context, name string) (*registry.Model, error)
	Versions(ctx context.Context, name string) ([]registry.Version, error)
	Resolve(ctx context.Context, ref string) (*registry.Version, error)
	AliasHistory(ctx context.Context, name string) ([]registry.AliasEvent, error)
	// Register adds a version from a bundle file.
	Register(ctx context.Context, name, bundlePath string, o registry.RegisterOptions) (*registry.Version, error)
	SetAlias(ctx context.Context, name, alias string, version int64) error
	DeleteAlias(ctx context.Context, name, alias string) error
	DeleteVersion(ctx context.Context, name string, version int64) error
	DeleteModel(ctx context.Context, name string) error
	Lineage(ctx context.Context, ref string) (*web.Lineage, error)

	Datasets(ctx context.Context) ([]dataset.Info, error)
	DatasetLog(ctx context.Context, name string) ([]dataset.Version, error)
	GetDataset(ctx context.Context, ref string) (*dataset.Version, error)

	Audit(ctx context.Context, q audit.Query) ([]audit.Entry, string, error)

	// Where says what the commands work against, for messages.
	Where() string
	Close() error
}

// openMeta returns the team server's API when one is configured, else the
// local store.
func (a *App) openMeta(ctx context.Context) (metadata, error) {
	if a.serverURL() != "" {
		c, err := a.client()
		if err != nil {
			return nil, err
		}
		return &remoteMeta{c: c}, nil
	}
	st, err := a.openStores(ctx)
	if err != nil {
		return nil, err
	}
	return &localMeta{st: st}, nil
}

// withMeta adapts a command body that needs the metadata.
func (a *App) withMeta(fn func(cmd *cobra.Command, args []string, m metadata) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		m, err := a.openMeta(cmd.Context())
		if err != nil {
			return err
		}
		defer m.Close()
		return fn(cmd, args, m)
	}
}

// localMeta is the local store.
type localMeta struct{ st *stores }

func (l *localMeta) SearchRuns(ctx context.Context, o track.SearchOptions) (*track.Page, error) {
	return l.st.Tracker.Search(ctx, o)
}
func (l *localMeta) GetRun(ctx context.Context, id string) (*track.RunInfo, error) {
	return l.st.Tracker.Get(ctx, id)
}
func (l *localMeta) DeleteRun(ctx context.Context, id string) error {
	return l.st.Tracker.Delete(ctx, id)
}
func (l *localMeta) Models(ctx context.Context) ([]registry.Model, error) {
	return l.st.Registry.Models(ctx)
}
func (l *localMeta) Model(ctx context.Context, name string) (*registry.Model, error) {
	return l.st.Registry.Model(ctx, name)
}
func (l *localMeta) Versions(ctx context.Context, name string) ([]registry.Version, error) {
	return l.st.Registry.Versions(ctx, name)
}
func (l *localMeta) Resolve(ctx context.Context, ref string) (*registry.Version, error) {
	return l.st.Registry.Resolve(ctx, ref)
}
func (l *localMeta) AliasHistory(ctx context.Context, name string) ([]registry.AliasEvent, error) {
	return l.st.Registry.AliasHistory(ctx, name)
}
func (l *localMeta) Register(ctx context.Context, name, path string, o registry.RegisterOptions) (*registry.Version, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	o.Bundle = f
	return l.st.Registry.Register(ctx, name, o)
}
func (l *localMeta) SetAlias(ctx context.Context, name, alias string, version int64) error {
	return l.st.Registry.SetAlias(ctx, name, alias, version)
}
func (l *localMeta) DeleteAlias(ctx context.Context, name, alias string) error {
	return l.st.Registry.DeleteAlias(ctx, name, alias)
}
func (l *localMeta) DeleteVersion(ctx context.Context, name string, version int64) error {
	return l.st.Registry.DeleteVersion(ctx, name, version)
}
func (l *localMeta) DeleteModel(ctx context.Context, name string) error {
	return l.st.Registry.DeleteModel(ctx, name)
}
func (l *localMeta) Lineage(ctx context.Context, ref string) (*web.Lineage, error) {
	return web.TraceLineage(ctx, l.st.Tracker, l.st.Registry, l.st.Datasets, ref)
}
func (l *localMeta) Datasets(ctx context.Context) ([]dataset.Info, error) {
	return l.st.Datasets.Datasets(ctx)
}
func (l *localMeta) DatasetLog(ctx context.Context, name string) ([]dataset.Version, error) {
	return l.st.Datasets.Log(ctx, name)
}
func (l *localMeta) GetDataset(ctx context.Context, ref string) (*dataset.Version, error) {
	return l.st.Datasets.Get(ctx, ref)
}
func (l *localMeta) Audit(ctx context.Context, q audit.Query) ([]audit.Entry, string, error) {
	return audit.List(ctx, l.st.DB, q)
}
func (l *localMeta) Where() string { return l.st.DB.String() }
func (l *localMeta) Close() error  { return l.st.Close() }

// remoteMeta is a team server's /api/v1.
type remoteMeta struct{ c *apiClient }

func (r *remoteMeta) SearchRuns(ctx context.Context, o track.SearchOptions) (*track.Page, error) {
	q := url.Values{}
	for _, e := range o.Experiments {
		q.Add("experiment", e)
	}
	if o.Filter != "" {
		q.Set("filter", o.Filter)
	}
	for _, ob := range o.OrderBy {
		q.Add("order_by", ob)
	}
	if o.Limit > 0 {
		q.Set("max_results", strconv.Itoa(min(o.Limit, web.MaxPageSize)))
	}
	if o.PageToken != "" {
		q.Set("page_token", o.PageToken)
	}
	return call[track.Page](ctx, r.c, "GET", "/api/v1/runs", q, nil)
}

func (r *remoteMeta) GetRun(ctx context.Context, id string) (*track.RunInfo, error) {
	return call[track.RunInfo](ctx, r.c, "GET", "/api/v1/runs/"+url.PathEscape(id), nil, nil)
}

func (r *remoteMeta) DeleteRun(ctx context.Context, id string) error {
	return r.c.do(ctx, "DELETE", "/api/v1/runs/"+url.PathEscape(id), nil, nil, nil)
}

// all pages through a list endpoint.
func all[T any](ctx context.Context, c *apiClient, path string) ([]T, error) {
	var out []T
	q := url.Values{"max_results": {strconv.Itoa(web.MaxPageSize)}}
	for {
		l, err := call[web.List[T]](ctx, c, "GET", path, q, nil)
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

func modelPath(name string) string { return "/api/v1/models/" + url.PathEscape(name) }

func (r *remoteMeta) Models(ctx context.Context) ([]registry.Model, error) {
	return all[registry.Model](ctx, r.c, "/api/v1/models")
}
func (r *remoteMeta) Model(ctx context.Context, name string) (*registry.Model, error) {
	return call[registry.Model](ctx, r.c, "GET", modelPath(name), nil, nil)
}
func (r *remoteMeta) Versions(ctx context.Context, name string) ([]registry.Version, error) {
	return all[registry.Version](ctx, r.c, modelPath(name)+"/versions")
}
func (r *remoteMeta) Resolve(ctx context.Context, ref string) (*registry.Version, error) {
	return call[registry.Version](ctx, r.c, "GET", "/api/v1/resolve", url.Values{"ref": {ref}}, nil)
}
func (r *remoteMeta) AliasHistory(ctx context.Context, name string) ([]registry.AliasEvent, error) {
	return items[registry.AliasEvent](ctx, r.c, modelPath(name)+"/alias-history")
}
func (r *remoteMeta) Register(ctx context.Context, name, path string, o registry.RegisterOptions) (*registry.Version, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
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
	return call[registry.Version](ctx, r.c, "POST", modelPath(name)+"/versions", q, f)
}
func (r *remoteMeta) SetAlias(ctx context.Context, name, alias string, version int64) error {
	return r.c.do(ctx, "PUT", modelPath(name)+"/aliases/"+url.PathEscape(alias), nil, web.SetAliasRequest{Version: version}, nil)
}
func (r *remoteMeta) DeleteAlias(ctx context.Context, name, alias string) error {
	return r.c.do(ctx, "DELETE", modelPath(name)+"/aliases/"+url.PathEscape(alias), nil, nil, nil)
}
func (r *remoteMeta) DeleteVersion(ctx context.Context, name string, version int64) error {
	return r.c.do(ctx, "DELETE", fmt.Sprintf("%s/versions/%d", modelPath(name), version), nil, nil, nil)
}
func (r *remoteMeta) DeleteModel(ctx context.Context, name string) error {
	return r.c.do(ctx, "DELETE", modelPath(name), nil, nil, nil)
}
func (r *remoteMeta) Lineage(ctx context.Context, ref string) (*web.Lineage, error) {
	return call[web.Lineage](ctx, r.c, "GET", "/api/v1/lineage", url.Values{"ref": {ref}}, nil)
}
func (r *remoteMeta) Datasets(ctx context.Context) ([]dataset.Info, error) {
	return all[dataset.Info](ctx, r.c, "/api/v1/datasets")
}
func (r *remoteMeta) DatasetLog(ctx context.Context, name string) ([]dataset.Version, error) {
	return all[dataset.Version](ctx, r.c, "/api/v1/datasets/"+url.PathEscape(name)+"/versions")
}
func (r *remoteMeta) GetDataset(ctx context.Context, ref string) (*dataset.Version, error) {
	name, v, err := dataset.ParseRef(ref)
	if err != nil {
		return nil, err
	}
	if v == 0 {
		vs, err := r.DatasetLog(ctx, name)
		if err != nil {
			return nil, err
		}
		if len(vs) == 0 {
			return nil, fmt.Errorf("data set %s: %w", name, dataset.ErrNotFound)
		}
		return &vs[0], nil
	}
	return call[dataset.Version](ctx, r.c, "GET", fmt.Sprintf("/api/v1/datasets/%s/versions/%d", url.PathEscape(name), v), nil, nil)
}
func (r *remoteMeta) Audit(ctx context.Context, q audit.Query) ([]audit.Entry, string, error) {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.ResourceKind == "model" {
		set("model", q.Resource)
	} else if q.ResourceKind == "experiment" {
		set("experiment", q.Resource)
	} else {
		set("resource_kind", q.ResourceKind)
		set("resource", q.Resource)
	}
	set("user", q.Actor)
	set("action", q.ActionPrefix)
	if !q.Since.IsZero() {
		set("since", q.Since.UTC().Format(time.RFC3339))
	}
	if !q.Until.IsZero() {
		set("until", q.Until.UTC().Format(time.RFC3339))
	}
	if q.Limit > 0 {
		set("max_results", strconv.Itoa(q.Limit))
	}
	set("page_token", q.PageToken)
	l, err := call[web.List[audit.Entry]](ctx, r.c, "GET", "/api/v1/audit", v, nil)
	if err != nil {
		return nil, "", err
	}
	return l.Items, l.NextPageToken, nil
}
func (r *remoteMeta) Where() string { return r.c.base }
func (r *remoteMeta) Close() error  { return nil }

var (
	_ metadata = (*localMeta)(nil)
	_ metadata = (*remoteMeta)(nil)
)
