package workspace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

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

// The stores the commands read and write. The local store's services
// (track.Tracker, registry.Registry, dataset.Catalog) have these methods,
// and so have a team server's (apiclient): through a server every command
// goes through its API, which authenticates, checks roles and audits.
type (
	// Runs is the run store.
	Runs interface {
		Search(ctx context.Context, o track.SearchOptions) (*track.Page, error)
		Get(ctx context.Context, id string) (*track.RunInfo, error)
		Delete(ctx context.Context, id string) error
	}
	// Models is the model registry.
	Models interface {
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
	// Data is the data set catalog.
	Data interface {
		Datasets(ctx context.Context) ([]dataset.Info, error)
		Log(ctx context.Context, name string) ([]dataset.Version, error)
		Get(ctx context.Context, ref string) (*dataset.Version, error)
		Version(ctx context.Context, path, name string) (*dataset.Result, error)
		Diff(ctx context.Context, a, b string) (*dataset.Diff, error)
		Export(ctx context.Context, ref, out string) (*dataset.Version, error)
	}
	// AuditTrail reads the audit trail.
	AuditTrail interface {
		List(ctx context.Context, q audit.Query) ([]audit.Entry, string, error)
	}
)

// Backend is what a command works against: the local store, or a team
// server through its API. Local is the opened local store (nil through a
// server), for the commands that only run on the machine holding it.
type Backend struct {
	Runs     Runs
	Models   Models
	Data     Data
	Audit    AuditTrail
	Accounts Accounts
	// StartRun starts a tracked run.
	StartRun func(ctx context.Context, o track.RunOptions) (trainlog.Run, error)
	// Lineage traces a model reference to its run and data set versions.
	Lineage func(ctx context.Context, ref string) (*web.Lineage, error)
	// Where says what the commands work against, for messages.
	Where string
	Local *Stores
	// Client is the team server's API client (nil for the local store).
	Client *apiclient.Client
}

// Close closes the local store, if one is open.
func (b *Backend) Close() error {
	if b.Local != nil {
		return b.Local.Close()
	}
	return nil
}

// Stores bundles the opened metadata and artifact stores with the
// services built on them.
type Stores struct {
	DB       *sqlstore.DB
	Blobs    blob.Store
	Tracker  *track.Tracker
	Registry *registry.Registry
	Datasets *dataset.Catalog
}

// Close closes the metadata store.
func (s *Stores) Close() error { return s.DB.Close() }

// Locations are the metadata and artifact stores as given by flags
// (--store, --artifacts); empty fields fall back to the environment.
type Locations struct {
	Store, Artifacts string
}

// Resolve returns the metadata and artifact store locations: the given
// ones, else GYRE_STORE/GYRE_ARTIFACTS, else $GYRE_HOME/gyre.db and
// $GYRE_HOME/artifacts with GYRE_HOME defaulting to ./.gyre.
func (l Locations) Resolve() (db, artifacts string) {
	home := os.Getenv("GYRE_HOME")
	if home == "" {
		home = ".gyre"
	}
	db, artifacts = l.Store, l.Artifacts
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

// Open opens the local metadata and artifact stores; runs record version
// as the Gyre version that made them. The caller closes them.
func (l Locations) Open(ctx context.Context, version string) (*Stores, error) {
	dbLoc, artLoc := l.Resolve()
	db, err := sqlstore.Open(ctx, dbLoc)
	if err != nil {
		return nil, err
	}
	bs, err := blob.Open(ctx, artLoc)
	if err != nil {
		db.Close()
		return nil, err
	}
	tr := track.New(db, bs)
	tr.Version = version
	return &Stores{DB: db, Blobs: bs, Tracker: tr, Registry: registry.New(db, bs), Datasets: dataset.New(db, bs)}, nil
}

// Local is the backend of the opened local stores; closing it closes
// them.
func Local(st *Stores) *Backend {
	return &Backend{Runs: st.Tracker, Models: st.Registry, Data: st.Datasets, Audit: localAudit{st.DB}, Accounts: LocalAccounts{access.New(st.DB)},
		StartRun: func(ctx context.Context, o track.RunOptions) (trainlog.Run, error) { return st.Tracker.Start(ctx, o) },
		Lineage: func(ctx context.Context, ref string) (*web.Lineage, error) {
			return web.TraceLineage(ctx, st.Tracker, st.Registry, st.Datasets, ref)
		}, Where: st.DB.String(), Local: st}
}

// Remote is the backend of a team server through its API.
func Remote(c *apiclient.Client) *Backend {
	tr := c.Tracker()
	return &Backend{Runs: tr, Models: c.Registry(), Data: c.Datasets(), Audit: c.Audit(), Accounts: c.Accounts(),
		StartRun: func(ctx context.Context, o track.RunOptions) (trainlog.Run, error) { return tr.Start(ctx, o) },
		Lineage:  c.Registry().Lineage, Where: c.String(), Client: c}
}

// localAudit is the local store's audit trail.
type localAudit struct{ db *sqlstore.DB }

func (l localAudit) List(ctx context.Context, q audit.Query) ([]audit.Entry, string, error) {
	return audit.List(ctx, l.db, q)
}

// ServerURL returns the team server to work against: flag, else
// GYRE_SERVER, without a trailing slash; "" (also for "local") for the
// local store.
func ServerURL(flag string) string {
	s := flag
	if s == "" {
		s = os.Getenv("GYRE_SERVER")
	}
	if s == "local" {
		return ""
	}
	return strings.TrimRight(s, "/")
}

// Token returns the token for the server at base: GYRE_TOKEN, else the one
// `gyre login` stored for it ("" when there is none).
func Token(base string) (string, error) {
	if tok := os.Getenv("GYRE_TOKEN"); tok != "" {
		return tok, nil
	}
	cfg, err := apiclient.LoadLogins()
	if err != nil {
		return "", err
	}
	return cfg.Token(base, time.Now())
}

// RegisterFile registers the bundle file at path as a new version of name.
func (b *Backend) RegisterFile(ctx context.Context, name, path string, o registry.RegisterOptions) (*registry.Version, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	defer f.Close()
	o.Bundle = f
	return b.Models.Register(ctx, name, o)
}

// ErrRemoteNote is a run note asked of a backend whose run store cannot
// log into an existing run (a team server: MLflow's set-tag does it).
var ErrRemoteNote = errors.New("a run note needs the local run store (a team server takes the tag through MLflow's set-tag)")

// NoteError is a note that could not be stored on its run.
type NoteError struct {
	RunID string
	Err   error
}

func (e *NoteError) Error() string { return e.Err.Error() }
func (e *NoteError) Unwrap() error { return e.Err }

// Note sets run id's note (track.NoteTag) to text, or with appendNote adds
// text to the note it has on a new line. It returns the run's full id and
// the note stored.
func (b *Backend) Note(ctx context.Context, id, text string, appendNote bool) (runID, note string, err error) {
	rs, ok := b.Runs.(interface {
		Resume(ctx context.Context, id string) (*track.Run, error)
	})
	if !ok {
		return "", "", ErrRemoteNote
	}
	info, err := b.Runs.Get(ctx, id)
	if err != nil {
		return "", "", err
	}
	if appendNote && info.Tags[track.NoteTag] != "" {
		text = info.Tags[track.NoteTag] + "\n" + text
	}
	run, err := rs.Resume(ctx, info.ID)
	if err != nil {
		return "", "", err
	}
	if err := run.SetTag(ctx, track.NoteTag, text); err != nil {
		return "", "", &NoteError{RunID: info.ID, Err: err}
	}
	return info.ID, text, nil
}
