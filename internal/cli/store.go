package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/track"
)

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

// openStores opens the metadata and artifact stores. Callers close them.
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
	if errors.As(err, &fe) {
		return err
	}
	var se *serverError
	if errors.As(err, &se) {
		return err // the client already chose the exit code by status
	}
	return failed(err)
}

// withStores adapts a command body that needs the stores: it opens them
// from the global flags and environment, runs fn, and closes them.
func (a *App) withStores(fn func(cmd *cobra.Command, args []string, st *stores) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		st, err := a.openStores(cmd.Context())
		if err != nil {
			return err
		}
		defer st.Close()
		return fn(cmd, args, st)
	}
}
