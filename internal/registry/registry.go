package registry

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/validate"
)

// Errors callers can match with errors.Is.
var (
	// ErrNotFound: no such model, version or alias.
	ErrNotFound = errors.New("not found")
	// ErrInvalidName: a model or alias name breaks the naming rules.
	ErrInvalidName = errors.New("invalid name")
	// ErrInvalidRef: a model reference is malformed.
	ErrInvalidRef = errors.New("invalid model reference")
	// ErrExists: a registered model with that name exists already.
	ErrExists = errors.New("already exists")
	// ErrInvalid: a value breaks a rule (a stage, a tag key); the message
	// says which.
	ErrInvalid = errors.New("invalid")
)

// Registry manages registered models.
type Registry struct {
	db    *sqlstore.DB
	blobs blob.Store
	// User is recorded as the author of versions and alias moves made by a
	// local command; New takes it from [audit.LocalUser]. Writes through the
	// team server are attributed to its authenticated actor instead.
	User string
	// Now returns the current time; tests may replace it.
	Now func() time.Time
}

// New returns a Registry over db (metadata) and blobs (bundles).
func New(db *sqlstore.DB, blobs blob.Store) *Registry {
	return &Registry{db: db, blobs: blobs, User: audit.LocalUser(), Now: time.Now}
}

// author returns the name a write is attributed to: the team server's
// authenticated actor when the context carries one, else r.User.
func (r *Registry) author(ctx context.Context) string {
	if a := audit.ActorFrom(ctx); a.Kind != audit.KindLocal {
		return a.Name
	}
	return r.User
}

// CheckName validates a model or alias name: 1 to 128 letters, digits, '-',
// '_' or '.', starting with a letter or digit.
func CheckName(kind, name string) error {
	if name == "" || len(name) > 128 {
		return fmt.Errorf("%s name %q: want 1 to 128 characters: %w", kind, name, ErrInvalidName)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || (i > 0 && (c == '-' || c == '_' || c == '.'))
		if !ok {
			return fmt.Errorf("%s name %q: character %q at %d: want letters, digits, '-', '_' or '.', starting with a letter or digit: %w", kind, name, c, i, ErrInvalidName)
		}
	}
	return nil
}

// Model is a registered model.
type Model struct {
	Name          string            `json:"name"`
	Description   string            `json:"description,omitempty"`
	Tags          map[string]string `json:"tags,omitempty"`
	LatestVersion int64             `json:"latest_version"`
	Aliases       map[string]int64  `json:"aliases,omitempty"`
	// Classification is public, internal or pii; empty when unclassified.
	Classification validate.Classification `json:"classification,omitempty"`
	Created        time.Time               `json:"created"`
	Updated        time.Time               `json:"updated"`
}

// DatasetVersion names a data set version a model version was trained on.
type DatasetVersion struct {
	Name    string `json:"name"`
	Version int64  `json:"version"`
}

// Stages of a model version (MLflow's, kept for MLflow clients; aliases
// are Gyre's way to promote).
const (
	StageNone       = "None"
	StageStaging    = "Staging"
	StageProduction = "Production"
	StageArchived   = "Archived"
)

// Version is one registered version of a model.
type Version struct {
	Model   string   `json:"model"`
	Version int64    `json:"version"`
	Bundle  blob.Ref `json:"bundle"`
	// Source is where an MLflow client said the model's files are
	// ("runs:/ID/model", "mlflow-artifacts:/..."); empty for versions
	// registered by Gyre. A version whose Bundle digest is empty holds no
	// Gyre bundle and cannot be served by Gyre.
	Source      string            `json:"source,omitempty"`
	RunID       string            `json:"run_id,omitempty"`
	RunLink     string            `json:"run_link,omitempty"`
	Description string            `json:"description,omitempty"`
	Stage       string            `json:"stage"`
	Tags        map[string]string `json:"tags,omitempty"`
	Datasets    []DatasetVersion  `json:"datasets,omitempty"`
	Aliases     []string          `json:"aliases,omitempty"`
	Created     time.Time         `json:"created"`
	Updated     time.Time         `json:"updated"`
	CreatedBy   string            `json:"created_by,omitempty"`
}

// Ref returns the version's canonical reference, NAME/VERSION.
func (v *Version) Ref() string { return v.Model + "/" + strconv.FormatInt(v.Version, 10) }

// AliasEvent is one entry of the alias history. From or To is 0 when the
// alias was created or removed.
type AliasEvent struct {
	Model string    `json:"model"`
	Alias string    `json:"alias"`
	From  int64     `json:"from_version,omitempty"`
	To    int64     `json:"to_version,omitempty"`
	User  string    `json:"user"`
	Time  time.Time `json:"time"`
}

// RegisterOptions describes a new version.
type RegisterOptions struct {
	// Bundle is read to the end and stored as a blob. Leave nil and set
	// BundleRef when the bundle is already in the blob store, or leave
	// both empty and set Source for a version whose files Gyre does not
	// hold (registered by an MLflow client).
	Bundle    io.Reader
	BundleRef blob.Ref
	// Source is the model's location as an MLflow client names it.
	Source string
	// RunID is the run that produced the model (optional); RunLink a URL
	// to it.
	RunID   string
	RunLink string
	// Datasets are the data set versions it was trained on.
	Datasets []DatasetVersion
	// Tags are the version's tags.
	Tags map[string]string
	// Description of the version; ModelDescription sets the model's
	// description when the model is created by this call.
	Description      string
	ModelDescription string
}

// versionAudit is a version's audited creation.
type versionAudit struct {
	Version  int64             `json:"version"`
	Digest   string            `json:"digest,omitempty"`
	Size     int64             `json:"size,omitempty"`
	Source   string            `json:"source,omitempty"`
	RunID    string            `json:"run_id,omitempty"`
	Datasets []DatasetVersion  `json:"datasets,omitempty"`
	Tags     map[string]string `json:"tags,omitempty"`
	User     string            `json:"user"`
}

// Register stores the bundle and adds a new version of the named model,
// creating the model on first use.
func (r *Registry) Register(ctx context.Context, name string, o RegisterOptions) (*Version, error) {
	if err := CheckName("model", name); err != nil {
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	for k := range o.Tags {
		if k == "" {
			return nil, fmt.Errorf("register %s: empty tag key: %w", name, ErrInvalid)
		}
	}
	ref := o.BundleRef
	switch {
	case o.Bundle != nil:
		var err error
		if ref, err = r.blobs.Put(ctx, o.Bundle); err != nil {
			return nil, fmt.Errorf("register %s: store bundle: %w", name, err)
		}
	case ref.Digest == "" && o.Source != "":
		// Files held elsewhere: the version records where.
	default:
		if _, err := blob.ParseDigest(ref.Digest); err != nil {
			return nil, fmt.Errorf("register %s: %w", name, err)
		}
		// The bundle must exist before a version may point at it.
		st, err := r.blobs.Stat(ctx, ref.Digest)
		if err != nil {
			return nil, fmt.Errorf("register %s: bundle: %w", name, err)
		}
		ref.Size = st.Size
	}
	now := r.Now().UnixMilli()
	user := r.author(ctx)
	var version int64
	err := r.db.Write(ctx, func(tx *sqlstore.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO registered_models (name, description, latest_version, created_ms, updated_ms)
			VALUES (?, ?, 0, ?, ?) ON CONFLICT (name) DO NOTHING`, name, o.ModelDescription, now, now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			if err := audit.Record(ctx, tx, "model.create", "model", name, nil, map[string]string{"description": o.ModelDescription}); err != nil {
				return err
			}
		}
		// The UPDATE takes the model row's write lock (PostgreSQL) inside
		// the single-writer transaction (SQLite): numbers never collide.
		if err := tx.QueryRowContext(ctx, "UPDATE registered_models SET latest_version = latest_version + 1, updated_ms = ? WHERE name = ? RETURNING latest_version",
			now, name).Scan(&version); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO model_versions (model, version, digest, size, run_id, description, created_ms, created_by,
			source, stage, updated_ms, run_link) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			name, version, ref.Digest, ref.Size, o.RunID, o.Description, now, user, o.Source, StageNone, now, o.RunLink); err != nil {
			return err
		}
		for _, d := range o.Datasets {
			if _, err := tx.ExecContext(ctx, `INSERT INTO model_version_datasets (model, version, dataset, dataset_version) VALUES (?, ?, ?, ?)
				ON CONFLICT DO NOTHING`, name, version, d.Name, d.Version); err != nil {
				return err
			}
		}
		for k, v := range o.Tags {
			if _, err := tx.ExecContext(ctx, "INSERT INTO model_version_tags (model, version, key, value) VALUES (?, ?, ?, ?)", name, version, k, v); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, "model.version.create", "model", name, nil, versionAudit{Version: version, Digest: ref.Digest,
			Size: ref.Size, Source: o.Source, RunID: o.RunID, Datasets: o.Datasets, Tags: o.Tags, User: user})
	})
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	return r.Version(ctx, name, version)
}

// Models lists registered models by name.
func (r *Registry) Models(ctx context.Context) ([]Model, error) {
	rows, err := r.db.QueryContext(ctx, "SELECT name FROM registered_models ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("list models: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list models: %w", err)
		}
		names = append(names, n)
	}
	rows.Close()
	out := []Model{}
	for _, n := range names {
		m, err := r.Model(ctx, n)
		if errors.Is(err, ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	return out, nil
}

// Model returns a registered model with its tags and aliases.
func (r *Registry) Model(ctx context.Context, name string) (*Model, error) {
	m := &Model{Name: name, Tags: map[string]string{}, Aliases: map[string]int64{}}
	var c, u int64
	err := r.db.QueryRowContext(ctx, "SELECT description, latest_version, created_ms, updated_ms, classification FROM registered_models WHERE name = ?", name).
		Scan(&m.Description, &m.LatestVersion, &c, &u, &m.Classification)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("model %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	m.Created, m.Updated = time.UnixMilli(c).UTC(), time.UnixMilli(u).UTC()
	if err := scanPairs(ctx, r.db, "SELECT key, value FROM model_tags WHERE model = ?", name, func(k, v string) { m.Tags[k] = v }); err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	err = scanPairs(ctx, r.db, "SELECT alias, version FROM model_aliases WHERE model = ?", name, func(a, v string) {
		m.Aliases[a], _ = strconv.ParseInt(v, 10, 64)
	})
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	return m, nil
}

// scanPairs runs a query returning two columns and hands each row to f as
// text.
func scanPairs(ctx context.Context, db *sqlstore.DB, q string, arg any, f func(a, b string)) error {
	rows, err := db.QueryContext(ctx, q, arg)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var a, b string
		if err := rows.Scan(&a, &b); err != nil {
			return err
		}
		f(a, b)
	}
	return rows.Err()
}

// Versions lists a model's versions, newest first.
func (r *Registry) Versions(ctx context.Context, name string) ([]Version, error) {
	if _, err := r.Model(ctx, name); err != nil {
		return nil, err
	}
	rows, err := r.db.QueryContext(ctx, "SELECT version FROM model_versions WHERE model = ? ORDER BY version DESC", name)
	if err != nil {
		return nil, fmt.Errorf("versions of %s: %w", name, err)
	}
	var vs []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return nil, err
		}
		vs = append(vs, v)
	}
	rows.Close()
	out := []Version{}
	for _, v := range vs {
		mv, err := r.Version(ctx, name, v)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *mv)
	}
	return out, nil
}

// Version returns one version with its data sets, tags and aliases.
func (r *Registry) Version(ctx context.Context, name string, version int64) (*Version, error) {
	v := &Version{Model: name, Version: version, Tags: map[string]string{}}
	var c, u int64
	err := r.db.QueryRowContext(ctx, `SELECT digest, size, run_id, description, created_ms, created_by, source, stage, updated_ms, run_link
		FROM model_versions WHERE model = ? AND version = ?`, name, version).Scan(&v.Bundle.Digest, &v.Bundle.Size, &v.RunID,
		&v.Description, &c, &v.CreatedBy, &v.Source, &v.Stage, &u, &v.RunLink)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("model %s version %d: %w", name, version, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("model %s version %d: %w", name, version, err)
	}
	v.Created, v.Updated = time.UnixMilli(c).UTC(), time.UnixMilli(u).UTC()
	rows, err := r.db.QueryContext(ctx, "SELECT dataset, dataset_version FROM model_version_datasets WHERE model = ? AND version = ? ORDER BY dataset, dataset_version", name, version)
	if err != nil {
		return nil, fmt.Errorf("model %s version %d: %w", name, version, err)
	}
	for rows.Next() {
		var d DatasetVersion
		if err := rows.Scan(&d.Name, &d.Version); err == nil {
			v.Datasets = append(v.Datasets, d)
		}
	}
	rows.Close()
	rows, err = r.db.QueryContext(ctx, "SELECT alias FROM model_aliases WHERE model = ? AND version = ? ORDER BY alias", name, version)
	if err != nil {
		return nil, fmt.Errorf("model %s version %d: %w", name, version, err)
	}
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err == nil {
			v.Aliases = append(v.Aliases, a)
		}
	}
	rows.Close()
	rows, err = r.db.QueryContext(ctx, "SELECT key, value FROM model_version_tags WHERE model = ? AND version = ?", name, version)
	if err != nil {
		return nil, fmt.Errorf("model %s version %d: %w", name, version, err)
	}
	for rows.Next() {
		var k, val string
		if err := rows.Scan(&k, &val); err == nil {
			v.Tags[k] = val
		}
	}
	rows.Close()
	return v, nil
}

// ErrNoBundle reports a version registered by an MLflow client whose files
// Gyre does not hold.
var ErrNoBundle = errors.New("version holds no Gyre bundle")

// OpenBundle opens a version's bundle bytes (verified against the digest
// while reading).
func (r *Registry) OpenBundle(ctx context.Context, v *Version) (io.ReadCloser, error) {
	if v.Bundle.Digest == "" {
		return nil, fmt.Errorf("open bundle of %s: registered from %s: %w", v.Ref(), v.Source, ErrNoBundle)
	}
	rc, err := r.blobs.Get(ctx, v.Bundle.Digest)
	if err != nil {
		return nil, fmt.Errorf("open bundle of %s: %w", v.Ref(), err)
	}
	return rc, nil
}

// newEventID returns a time-ordered identifier: nanoseconds since the
// epoch in fixed-width hex, then random bits to keep it unique.
func newEventID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%016x", time.Now().UnixNano()) + hex.EncodeToString(b[:])
}

// SetAlias points alias at version, recording the move in the audit trail
// and the alias history.
func (r *Registry) SetAlias(ctx context.Context, name, alias string, version int64) error {
	if err := CheckName("alias", alias); err != nil {
		return fmt.Errorf("alias %s@%s: %w", name, alias, err)
	}
	if _, err := strconv.ParseInt(alias, 10, 64); err == nil {
		return fmt.Errorf("alias %s@%s: an alias cannot be a number (it would read as a version): %w", name, alias, ErrInvalidName)
	}
	now := r.Now().UnixMilli()
	user := r.author(ctx)
	err := r.db.Write(ctx, func(tx *sqlstore.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM model_versions WHERE model = ? AND version = ?", name, version).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("model %s version %d: %w", name, version, ErrNotFound)
		}
		var from sql.NullInt64
		err := tx.QueryRowContext(ctx, "SELECT version FROM model_aliases WHERE model = ? AND alias = ?", name, alias).Scan(&from)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if from.Valid && from.Int64 == version {
			return nil // no move, no event
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO model_aliases (model, alias, version) VALUES (?, ?, ?)
			ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version`, name, alias, version); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE registered_models SET updated_ms = ? WHERE name = ?", now, name); err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `INSERT INTO model_alias_events (id, model, alias, from_version, to_version, user_name, ts_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, newEventID(), name, alias, from, version, user, now); err != nil {
			return err
		}
		var before any
		if from.Valid {
			before = map[string]int64{alias: from.Int64}
		}
		return audit.Record(ctx, tx, "model.alias.set", "model", name, before, map[string]int64{alias: version})
	})
	if err != nil {
		return fmt.Errorf("alias %s@%s -> %d: %w", name, alias, version, err)
	}
	return nil
}

// DeleteAlias removes an alias, recording it in the audit trail and the
// alias history.
func (r *Registry) DeleteAlias(ctx context.Context, name, alias string) error {
	now := r.Now().UnixMilli()
	user := r.author(ctx)
	err := r.db.Write(ctx, func(tx *sqlstore.Tx) error {
		var from int64
		err := tx.QueryRowContext(ctx, "SELECT version FROM model_aliases WHERE model = ? AND alias = ?", name, alias).Scan(&from)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("alias %s@%s: %w", name, alias, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM model_aliases WHERE model = ? AND alias = ?", name, alias); err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `INSERT INTO model_alias_events (id, model, alias, from_version, to_version, user_name, ts_ms)
			VALUES (?, ?, ?, ?, NULL, ?, ?)`, newEventID(), name, alias, from, user, now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, "model.alias.delete", "model", name, map[string]int64{alias: from}, nil)
	})
	if err != nil {
		return fmt.Errorf("unalias %s@%s: %w", name, alias, err)
	}
	return nil
}

// AliasHistory returns a model's alias moves, oldest first.
func (r *Registry) AliasHistory(ctx context.Context, name string) ([]AliasEvent, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT alias, from_version, to_version, user_name, ts_ms FROM model_alias_events
		WHERE model = ? ORDER BY id`, name)
	if err != nil {
		return nil, fmt.Errorf("alias history of %s: %w", name, err)
	}
	defer rows.Close()
	out := []AliasEvent{}
	for rows.Next() {
		e := AliasEvent{Model: name}
		var from, to sql.NullInt64
		var ts int64
		if err := rows.Scan(&e.Alias, &from, &to, &e.User, &ts); err != nil {
			return nil, fmt.Errorf("alias history of %s: %w", name, err)
		}
		e.From, e.To, e.Time = from.Int64, to.Int64, time.UnixMilli(ts).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// Reference is a parsed model reference.
type Reference struct {
	Name    string
	Version int64  // 0 unless NAME/VERSION
	Alias   string // "" unless NAME@ALIAS
}

// String formats the reference as NAME, NAME/VERSION or NAME@ALIAS.
func (r Reference) String() string {
	switch {
	case r.Version > 0:
		return r.Name + "/" + strconv.FormatInt(r.Version, 10)
	case r.Alias != "":
		return r.Name + "@" + r.Alias
	}
	return r.Name
}

// ParseRef parses NAME, NAME/VERSION, NAME@ALIAS, models:/NAME/VERSION or
// models:/NAME@ALIAS.
func ParseRef(ref string) (Reference, error) {
	s := ref
	if rest, ok := strings.CutPrefix(s, "models:/"); ok {
		s = rest
	}
	var out Reference
	switch {
	case strings.Contains(s, "@"):
		n, a, _ := strings.Cut(s, "@")
		out = Reference{Name: n, Alias: a}
		if err := CheckName("alias", a); err != nil {
			return Reference{}, fmt.Errorf("model reference %q: %w", ref, err)
		}
	case strings.Contains(s, "/"):
		n, v, _ := strings.Cut(s, "/")
		num, err := strconv.ParseInt(v, 10, 64)
		if err != nil || num <= 0 {
			return Reference{}, fmt.Errorf("model reference %q: version %q: want a positive number: %w", ref, v, ErrInvalidRef)
		}
		out = Reference{Name: n, Version: num}
	default:
		out = Reference{Name: s}
	}
	if err := CheckName("model", out.Name); err != nil {
		return Reference{}, fmt.Errorf("model reference %q: want NAME, NAME/VERSION or NAME@ALIAS: %w", ref, err)
	}
	return out, nil
}

// Resolve returns the version a reference names: NAME (latest version),
// NAME/VERSION, NAME@ALIAS, models:/NAME/VERSION or models:/NAME@ALIAS.
func (r *Registry) Resolve(ctx context.Context, ref string) (*Version, error) {
	p, err := ParseRef(ref)
	if err != nil {
		return nil, fmt.Errorf("resolve: %w", err)
	}
	v := p.Version
	switch {
	case p.Alias != "":
		err := r.db.QueryRowContext(ctx, "SELECT version FROM model_aliases WHERE model = ? AND alias = ?", p.Name, p.Alias).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			if _, merr := r.Model(ctx, p.Name); merr != nil {
				return nil, fmt.Errorf("resolve %s: %w", ref, merr)
			}
			return nil, fmt.Errorf("resolve %s: model %s has no alias %q: %w", ref, p.Name, p.Alias, ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", ref, err)
		}
	case v == 0:
		err := r.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM model_versions WHERE model = ?", p.Name).Scan(&v)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", ref, err)
		}
		if v == 0 {
			if _, merr := r.Model(ctx, p.Name); merr != nil {
				return nil, fmt.Errorf("resolve %s: %w", ref, merr)
			}
			return nil, fmt.Errorf("resolve %s: model %s has no versions: %w", ref, p.Name, ErrNotFound)
		}
	}
	mv, err := r.Version(ctx, p.Name, v)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", ref, err)
	}
	return mv, nil
}
