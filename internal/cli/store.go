package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/apiclient"
	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/track"
	"github.com/gyre-ml/gyre/internal/trainlog"
	"github.com/gyre-ml/gyre/internal/web"
)

// The stores the commands read and write, declared here where they are
// used. The local store's services (track.Tracker, registry.Registry,
// dataset.Catalog) have these methods, and so have a team server's
// (apiclient): with --server or GYRE_SERVER every command goes through the
// server, which authenticates, checks roles and audits.
type (
	runStore interface {
		Search(ctx context.Context, o track.SearchOptions) (*track.Page, error)
		Get(ctx context.Context, id string) (*track.RunInfo, error)
		Delete(ctx context.Context, id string) error
	}
	modelStore interface {
		Models(ctx context.Context) ([]registry.Model, error)
		Model(ctx context.Context, name string) (*registry.Model, error)
		Versions(ctx context.Context, name string) ([]registry.Version, error)
		Resolve(ctx context.Context, ref string) (*registry.Version, error)
		OpenBundle(ctx context.Context, v *registry.Version) (io.ReadCloser, error)
		AliasHistory(ctx context.Context, name string) ([]registry.AliasEvent, error)
		Register(ctx context.Context, name string, o registry.RegisterOptions) (*registry.Version, error)
		SetAlias(ctx context.Context, name, alias string, version int64) error
		DeleteAlias(ctx context.Context, name, alias string) error
		DeleteVersion(ctx context.Context, name string, version int64) error
		DeleteModel(ctx context.Context, name string) error
	}
	dataStore interface {
		Datasets(ctx context.Context) ([]dataset.Info, error)
		Log(ctx context.Context, name string) ([]dataset.Version, error)
		Get(ctx context.Context, ref string) (*dataset.Version, error)
		Version(ctx context.Context, path, name string) (*dataset.Result, error)
		Diff(ctx context.Context, a, b string) (*dataset.Diff, error)
		Export(ctx context.Context, ref, out string) (*dataset.Version, error)
	}
	auditTrail interface {
		List(ctx context.Context, q audit.Query) ([]audit.Entry, string, error)
	}
)

// backend is what a command works against: the local store, or a team
// server through its API. Local is the opened local store (nil through a
// server), for the commands that only run on the machine holding it.
type backend struct {
	Runs     runStore
	Models   modelStore
	Data     dataStore
	Audit    auditTrail
	Accounts admin
	// StartRun starts a tracked run.
	StartRun func(ctx context.Context, o track.RunOptions) (trainlog.Run, error)
	// Lineage traces a model reference to its run and data set versions.
	Lineage func(ctx context.Context, ref string) (*web.Lineage, error)
	// Where says what the commands work against, for messages.
	Where string
	Local *stores
}

// Close closes the local store, if one is open.
func (b *backend) Close() error {
	if b.Local != nil {
		return b.Local.Close()
	}
	return nil
}

// stores bundles the opened metadata and artifact stores with the
// services built on them.
type stores struct {
	DB       *sqlstore.DB
	Blobs    blob.Store
	Tracker  *track.Tracker
	Registry *registry.Registry
	Datasets *dataset.Catalog
}

// Close closes the metadata store.
func (s *stores) Close() error { return s.DB.Close() }

// storeLocations returns the metadata and artifact store locations: the
// --store/--artifacts flags, else GYRE_STORE/GYRE_ARTIFACTS, else
// $GYRE_HOME/gyre.db and $GYRE_HOME/artifacts with GYRE_HOME defaulting to
// ./.gyre.
func (a *App) storeLocations() (db, artifacts string) {
	home := os.Getenv("GYRE_HOME")
	if home == "" {
		home = ".gyre"
	}
	db, artifacts = a.Store, a.Artifacts
	if db == "" {
		db = os.Getenv("GYRE_STORE")
	}
	if db == "" {
		db = filepath.Join(home, "gyre.db")
	}
	if artifacts == "" {
		artifacts = os.Getenv("GYRE_ARTIFACTS")
	}
	if artifacts == "" {
		artifacts = filepath.Join(home, "artifacts")
	}
	return db, artifacts
}

// openStores opens the local metadata and artifact stores. Callers close
// them. Commands that can work through a team server call openBackend.
func (a *App) openStores(ctx context.Context) (*stores, error) {
	dbLoc, artLoc := a.storeLocations()
	db, err := sqlstore.Open(ctx, dbLoc)
	if err != nil {
		return nil, failed(err)
	}
	bs, err := blob.Open(ctx, artLoc)
	if err != nil {
		db.Close()
		return nil, failed(err)
	}
	tr := track.New(db, bs)
	tr.Version = Version
	return &stores{DB: db, Blobs: bs, Tracker: tr, Registry: registry.New(db, bs), Datasets: dataset.New(db, bs)}, nil
}

// openBackend returns the team server's API when one is configured, else
// the local store.
func (a *App) openBackend(ctx context.Context) (*backend, error) {
	if a.serverURL() != "" {
		c, err := a.client()
		if err != nil {
			return nil, err
		}
		tr := c.Tracker()
		return &backend{Runs: tr, Models: c.Registry(), Data: c.Datasets(), Audit: c.Audit(), Accounts: c.Accounts(),
			StartRun: func(ctx context.Context, o track.RunOptions) (trainlog.Run, error) { return tr.Start(ctx, o) },
			Lineage:  c.Registry().Lineage, Where: c.String()}, nil
	}
	st, err := a.openStores(ctx)
	if err != nil {
		return nil, err
	}
	return &backend{Runs: st.Tracker, Models: st.Registry, Data: st.Datasets, Audit: localAudit{st.DB}, Accounts: localAdmin{access.New(st.DB)},
		StartRun: func(ctx context.Context, o track.RunOptions) (trainlog.Run, error) { return st.Tracker.Start(ctx, o) },
		Lineage: func(ctx context.Context, ref string) (*web.Lineage, error) {
			return web.TraceLineage(ctx, st.Tracker, st.Registry, st.Datasets, ref)
		}, Where: st.DB.String(), Local: st}, nil
}

// withBackend adapts a command body that reads or writes the store: it
// opens the backend from the global flags and environment, runs fn, and
// closes it.
func (a *App) withBackend(fn func(cmd *cobra.Command, args []string, b *backend) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		b, err := a.openBackend(cmd.Context())
		if err != nil {
			return err
		}
		defer b.Close()
		return fn(cmd, args, b)
	}
}

// localOnly refuses a command that works on the local store only when a
// team server is configured.
func (a *App) localOnly(command string) error {
	if a.serverURL() != "" {
		return usageErrorf("%s: works on the local store only, not through a team server (unset --server/GYRE_SERVER, or use --server local)", command)
	}
	return nil
}

// localAudit is the local store's audit trail.
type localAudit struct{ db *sqlstore.DB }

func (l localAudit) List(ctx context.Context, q audit.Query) ([]audit.Entry, string, error) {
	return audit.List(ctx, l.db, q)
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
func (a *App) client() (*apiclient.Client, error) {
	base := a.serverURL()
	tok := os.Getenv("GYRE_TOKEN")
	if tok == "" {
		cfg, err := apiclient.LoadLogins()
		if err != nil {
			return nil, err
		}
		tok = cfg.Servers[base].Token
	}
	return newClient(base, tok)
}

func newClient(base, token string) (*apiclient.Client, error) {
	c, err := apiclient.New(base, token)
	if err != nil {
		return nil, usageErrorf("%v (--server or GYRE_SERVER)", err)
	}
	c.UserAgent = "gyre/" + Version
	return c, nil
}

// storeError maps "not found" and invalid-name errors to input errors
// (exit 2) and the rest to failures (exit 1).
func storeError(err error) error {
	if err == nil {
		return nil
	}
	for _, e := range []error{track.ErrNotFound, track.ErrAmbiguous, track.ErrParamChanged, registry.ErrNotFound, registry.ErrInvalidName,
		registry.ErrInvalidRef, dataset.ErrNotFound, dataset.ErrInvalidName, blob.ErrNotFound} {
		if errors.Is(err, e) {
			return err
		}
	}
	var fe *track.FilterError
	var se *apiclient.Error
	if errors.As(err, &fe) || errors.As(err, &se) {
		return err // a server error's exit code follows its status (ExitCode)
	}
	return failed(err)
}

// failure is what ExitCode reads on errors of lower packages that are not
// the input's fault (apiclient's 5xx and network errors).
type failure interface{ Failure() bool }

// registerFile registers the bundle file at path as a new version of name.
func (b *backend) registerFile(ctx context.Context, name, path string, o registry.RegisterOptions) (*registry.Version, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	defer f.Close()
	o.Bundle = f
	return b.Models.Register(ctx, name, o)
}
