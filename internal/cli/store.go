package cli

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/apiclient"
	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/track"
	"github.com/gyre-ml/gyre/internal/workspace"
)

// What the commands work against (package workspace): the local stores
// or a team server, behind the same interfaces.
type (
	backend = workspace.Backend
	stores  = workspace.Stores
	admin   = workspace.Accounts
)

// locations returns the store locations the global flags give.
func (a *App) locations() workspace.Locations {
	return workspace.Locations{Store: a.Store, Artifacts: a.Artifacts}
}

// storeLocations returns the metadata and artifact store locations
// (workspace.Locations.Resolve).
func (a *App) storeLocations() (db, artifacts string) { return a.locations().Resolve() }

// openStores opens the local metadata and artifact stores. Callers close
// them. Commands that can work through a team server call openBackend.
func (a *App) openStores(ctx context.Context) (*stores, error) {
	st, err := a.locations().Open(ctx, Version)
	return st, failed(err)
}

// openBackend returns the team server's API when one is configured, else
// the local store.
func (a *App) openBackend(ctx context.Context) (*backend, error) {
	if a.serverURL() != "" {
		c, err := a.client()
		if err != nil {
			return nil, err
		}
		return workspace.Remote(c), nil
	}
	st, err := a.openStores(ctx)
	if err != nil {
		return nil, err
	}
	return workspace.Local(st), nil
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
// team server is configured (exit 2), saying why: it never opens a local
// store behind the server's back.
func (a *App) localOnly(command, why string) error {
	if a.serverURL() != "" {
		return usageErrorf("%s: works on the local store only, not through the team server %s: %s (run it on the server's machine against its --store, or unset --server/GYRE_SERVER, or use --server local)", command, a.serverURL(), why)
	}
	return nil
}

// serverURL returns the team server the CLI works against: --server, else
// GYRE_SERVER; "" (or "local") for the local store.
func (a *App) serverURL() string { return workspace.ServerURL(a.Server) }

// client returns the API client for the configured server, with the token
// from GYRE_TOKEN or the one `gyre login` stored for that server.
func (a *App) client() (*apiclient.Client, error) {
	base := a.serverURL()
	tok, err := workspace.Token(base)
	if err != nil {
		return nil, err
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
