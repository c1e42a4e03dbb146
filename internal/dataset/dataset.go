package dataset

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/profile"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/validate"
)

// Errors callers can match with errors.Is.
var (
	ErrNotFound    = errors.New("not found")
	ErrInvalidName = errors.New("invalid data set name")
)

// Catalog records data set versions.
type Catalog struct {
	db    *sqlstore.DB
	blobs blob.Store
	// User is recorded as the author of versions made by a local command;
	// New takes it from [audit.LocalUser]. Versions made through the team
	// server are attributed to its authenticated actor instead.
	User string
	// Now returns the current time; tests may replace it.
	Now func() time.Time
	// Summarize computes a file's summary; default reads it with
	// ingest.Read and profiles it; a file read already (WithRead) is
	// summarised from its frame instead. A failure leaves the summary
	// empty (the bytes are still versioned).
	Summarize func(ctx context.Context, path string) (*Summary, error)
}

// New returns a Catalog over db and blobs.
func New(db *sqlstore.DB, blobs blob.Store) *Catalog {
	return &Catalog{db: db, blobs: blobs, User: audit.LocalUser(), Now: time.Now, Summarize: Summarize}
}

// author returns the name a write is attributed to: the team server's
// authenticated actor when the context carries one, else c.User.
func (c *Catalog) author(ctx context.Context) string {
	if a := audit.ActorFrom(ctx); a.Kind != audit.KindLocal {
		return a.Name
	}
	return c.User
}

// CheckName validates a data set name: 1 to 128 letters, digits, '-', '_'
// or '.', starting with a letter or digit.
func CheckName(name string) error {
	if name == "" || len(name) > 128 {
		return fmt.Errorf("data set name %q: want 1 to 128 characters: %w", name, ErrInvalidName)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || i > 0 && (c == '-' || c == '_' || c == '.')) {
			return fmt.Errorf("data set name %q: character %q at %d: want letters, digits, '-', '_' or '.', starting with a letter or digit: %w", name, c, i, ErrInvalidName)
		}
	}
	return nil
}

// Summary describes a version's content.
type Summary struct {
	Rows    int64           `json:"rows"`
	Columns []ColumnSummary `json:"columns"`
	// Note explains a missing summary (the file could not be read as a
	// table).
	Note string `json:"note,omitempty"`
}

// ColumnSummary is one column's schema and statistics.
type ColumnSummary struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	Missing  int64    `json:"missing"`
	Distinct int64    `json:"distinct"`
	Mean     *float64 `json:"mean,omitempty"`
	Std      *float64 `json:"std,omitempty"`
	Min      *float64 `json:"min,omitempty"`
	Max      *float64 `json:"max,omitempty"`
	Top      string   `json:"top,omitempty"`
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// Summarize reads path with ingest.Read and summarises it with
// profile.Compute.
func Summarize(ctx context.Context, path string) (*Summary, error) {
	f, err := ingest.Read(ctx, path, ingest.Options{})
	if err != nil {
		return nil, err
	}
	return SummarizeFrame(ctx, f, path)
}

// readKey is the context key of WithRead.
type readKey struct{}

// readFrame is a frame read from the file abs while it had this size and
// modification time, and, when prof is set, the function that returns its
// profile.
type readFrame struct {
	abs     string
	size    int64
	mtimeNS int64
	f       *frame.Frame
	prof    func() (*profile.Profile, error)
}

// WithRead returns ctx carrying f, the frame read from the file at path:
// a Catalog versioning that file under the returned context summarises f
// instead of reading and parsing the file a second time (gyre train has
// read it already; the second read also held a second copy of the data
// beside the fit; issue 24). The file counts as the one f was read from
// while its size and modification time are those WithRead sees; ctx is
// returned unchanged when path cannot be stat'ed.
func WithRead(ctx context.Context, path string, f *frame.Frame) context.Context {
	abs, err := filepath.Abs(path)
	if err != nil || f == nil {
		return ctx
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return ctx
	}
	return context.WithValue(ctx, readKey{}, &readFrame{abs: abs, size: fi.Size(), mtimeNS: fi.ModTime().UnixNano(), f: f})
}

// WithReadProfile is WithRead with the profile of f given by prof: a
// Catalog versioning the file summarises the profile prof returns
// (SummaryOf) instead of profiling f itself, so a caller that profiles
// the same rows anyway (gyre train's drift reference, computed once for
// both through a sync.OnceValues) does not profile them twice. prof
// must profile every row of f; an error it returns is the summary's.
func WithReadProfile(ctx context.Context, path string, f *frame.Frame, prof func() (*profile.Profile, error)) context.Context {
	ctx = WithRead(ctx, path, f)
	if rf, ok := ctx.Value(readKey{}).(*readFrame); ok && rf.f == f && prof != nil {
		rf.prof = prof
	}
	return ctx
}

// readOf returns what WithRead attached to ctx for file abs, if the file
// still has the size and modification time it was read with.
func readOf(ctx context.Context, abs string) *readFrame {
	rf, ok := ctx.Value(readKey{}).(*readFrame)
	if !ok || rf.abs != abs {
		return nil
	}
	if fi, err := os.Stat(abs); err != nil || fi.Size() != rf.size || fi.ModTime().UnixNano() != rf.mtimeNS {
		return nil
	}
	return rf
}

// SummarizeFrame summarises f, read from path, with profile.Compute.
func SummarizeFrame(ctx context.Context, f *frame.Frame, path string) (*Summary, error) {
	p, err := profile.Compute(ctx, f, profile.Options{NoRelations: true, Source: path})
	if err != nil {
		return nil, err
	}
	return SummaryOf(p), nil
}

// SummaryOf is the summary of a profile of a data set's rows (every one
// of them: a sample's profile summarises the sample). Its fields are the
// profile's exact ones (counts, moments, extremes, the most frequent
// category), the same under any profile.Options seed or target.
func SummaryOf(p *profile.Profile) *Summary {
	s := &Summary{Rows: int64(p.Rows)}
	for _, c := range p.Columns {
		cs := ColumnSummary{Name: c.Name, Kind: c.Kind.String(), Missing: int64(c.Missing), Distinct: int64(c.Distinct)}
		if c.Numeric != nil {
			cs.Mean, cs.Std, cs.Min, cs.Max = finite(c.Numeric.Mean), finite(c.Numeric.Std), finite(c.Numeric.Min), finite(c.Numeric.Max)
		}
		if c.Categories != nil && len(c.Categories.Counts) > 0 {
			cs.Top = c.Categories.Counts[0].Value
		}
		s.Columns = append(s.Columns, cs)
	}
	return s
}

// Version is one recorded version of a data set.
type Version struct {
	Name      string    `json:"name"`
	Version   int64     `json:"version"`
	Blob      blob.Ref  `json:"blob"`
	Source    string    `json:"source"`
	Format    string    `json:"format"`
	Summary   Summary   `json:"summary"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by,omitempty"`
	// Classification is public, internal or pii; empty when unclassified.
	// A new version inherits the previous version's.
	Classification validate.Classification `json:"classification,omitempty"`
}

// Ref returns NAME@VERSION.
func (v *Version) Ref() string { return v.Name + "@" + strconv.FormatInt(v.Version, 10) }

// ParseRef splits NAME or NAME@VERSION (version 0 means latest).
func ParseRef(ref string) (string, int64, error) {
	name, v, has := strings.Cut(ref, "@")
	if err := CheckName(name); err != nil {
		return "", 0, fmt.Errorf("data set reference %q: %w", ref, err)
	}
	if !has || v == "latest" {
		return name, 0, nil
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(v, "v"), 10, 64)
	if err != nil || n <= 0 {
		return "", 0, fmt.Errorf("data set reference %q: version %q: want a positive number, as in %s@3", ref, v, name)
	}
	return name, n, nil
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return h
}

// digestFile returns the file's blob reference, from the size+mtime cache
// when valid, storing the bytes in the blob store when they are not there.
// It reports whether the cache was used.
func (c *Catalog) digestFile(ctx context.Context, abs string, fi os.FileInfo) (blob.Ref, bool, error) {
	host := hostname()
	var digest string
	err := c.db.QueryRowContext(ctx, "SELECT digest FROM file_digests WHERE host = ? AND path = ? AND size = ? AND mtime_ns = ?",
		host, abs, fi.Size(), fi.ModTime().UnixNano()).Scan(&digest)
	if err == nil {
		if ok, _ := blob.Exists(ctx, c.blobs, digest); ok {
			return blob.Ref{Digest: digest, Size: fi.Size()}, true, nil
		}
	} else if !errors.Is(err, sql.ErrNoRows) {
		return blob.Ref{}, false, err
	}
	f, err := os.Open(abs)
	if err != nil {
		return blob.Ref{}, false, err
	}
	defer f.Close()
	ref, err := c.blobs.Put(ctx, f)
	if err != nil {
		return blob.Ref{}, false, err
	}
	err = c.db.Write(ctx, func(tx *sqlstore.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO file_digests (host, path, size, mtime_ns, digest) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (host, path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, digest = excluded.digest`,
			host, abs, fi.Size(), fi.ModTime().UnixNano(), ref.Digest)
		return err
	})
	return ref, false, err
}

// Result is what Version did.
type Result struct {
	*Version
	// Created is false when the content equals the latest version's.
	Created bool `json:"created"`
	// Cached is true when the size+mtime cache spared rehashing the file.
	Cached bool `json:"cached"`
}

// Version snapshots the file at path as a new version of the named data set,
// or returns the latest version when its content is unchanged.
func (c *Catalog) Version(ctx context.Context, path, name string) (*Result, error) {
	if err := CheckName(name); err != nil {
		return nil, fmt.Errorf("version %s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("version %s: %w", path, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("version %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("version %s: not a regular file", path)
	}
	ref, cached, err := c.digestFile(ctx, abs, fi)
	if err != nil {
		return nil, fmt.Errorf("version %s: %w", path, err)
	}
	return c.record(ctx, name, path, abs, abs, "", ref, cached)
}

// Snapshot versions the file at path, the data pulled from source (a URL,
// credentials already removed) and written there, as a new version of the
// named data set, or returns the latest version when its content is
// unchanged. The version records source as its origin and the file's
// extension as its format; the file itself is not kept.
func (c *Catalog) Snapshot(ctx context.Context, name, source, path string) (*Result, error) {
	if err := CheckName(name); err != nil {
		return nil, fmt.Errorf("version %s: %w", source, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("version %s: %w", source, err)
	}
	defer f.Close()
	ref, err := c.blobs.Put(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("version %s: %w", source, err)
	}
	return c.record(ctx, name, source, path, source, strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), "."), ref, false)
}

// Upload stores the bytes read from r as a new version of the named data
// set (or returns the latest version when they are its content), recorded
// as coming from source: the file's location where it was read (the team
// server's clients send theirs), whose extension gives the format.
func (c *Catalog) Upload(ctx context.Context, name, source string, r io.Reader) (*Result, error) {
	if err := CheckName(name); err != nil {
		return nil, fmt.Errorf("version %s: %w", source, err)
	}
	base := filepath.Base(filepath.Clean("/" + source)) // keeps the extensions, never a directory
	if base == string(filepath.Separator) {
		base = "upload"
	}
	tmp, err := os.CreateTemp("", "gyre-dataset-*-"+base)
	if err != nil {
		return nil, fmt.Errorf("version %s: %w", source, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := io.Copy(tmp, r); err != nil {
		return nil, fmt.Errorf("version %s: read: %w", source, err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("version %s: %w", source, err)
	}
	ref, err := c.blobs.Put(ctx, tmp)
	if err != nil {
		return nil, fmt.Errorf("version %s: %w", source, err)
	}
	return c.record(ctx, name, source, tmp.Name(), source, "", ref, false)
}

// record makes ref (the bytes of file, named path in messages) a new
// version of name from source, unless it is the latest version's content;
// format "" is taken from source's extension.
func (c *Catalog) record(ctx context.Context, name, path, file, source, format string, ref blob.Ref, cached bool) (*Result, error) {
	if latest, err := c.Get(ctx, name); err == nil && latest.Blob.Digest == ref.Digest {
		return &Result{Version: latest, Cached: cached}, nil
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("version %s: %w", path, err)
	}
	var sum Summary
	if c.Summarize != nil {
		summarize := c.Summarize
		if rf := readOf(ctx, file); rf != nil && rf.prof != nil {
			summarize = func(context.Context, string) (*Summary, error) {
				p, err := rf.prof()
				if err != nil {
					return nil, err
				}
				return SummaryOf(p), nil
			}
		} else if rf != nil {
			summarize = func(ctx context.Context, path string) (*Summary, error) { return SummarizeFrame(ctx, rf.f, path) }
		}
		s, err := summarize(ctx, file)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("version %s: %w", path, ctx.Err())
			}
			sum.Note = "not summarised: " + err.Error()
			sum.Rows = -1
		} else {
			sum = *s
		}
	}
	sumJSON, err := json.Marshal(sum)
	if err != nil {
		return nil, fmt.Errorf("version %s: %w", path, err)
	}
	if format == "" {
		format = strings.TrimPrefix(strings.ToLower(filepath.Ext(source)), ".")
	}
	now := c.Now().UnixMilli()
	user := c.author(ctx)
	var version int64
	err = c.db.Write(ctx, func(tx *sqlstore.Tx) error {
		res, err := tx.ExecContext(ctx, "INSERT INTO datasets (name, latest_version, created_ms) VALUES (?, 0, ?) ON CONFLICT (name) DO NOTHING", name, now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			if err := audit.Record(ctx, tx, "dataset.create", "dataset", name, nil, map[string]string{"name": name}); err != nil {
				return err
			}
		}
		// Same content as the latest version committed meanwhile: reuse it.
		var last sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT v.digest FROM datasets d LEFT JOIN dataset_versions v ON v.dataset = d.name AND v.version = d.latest_version
			WHERE d.name = ?`, name).Scan(&last); err != nil {
			return err
		}
		if last.Valid && last.String == ref.Digest {
			return nil
		}
		if err := tx.QueryRowContext(ctx, "UPDATE datasets SET latest_version = latest_version + 1 WHERE name = ? RETURNING latest_version", name).Scan(&version); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO dataset_versions (dataset, version, digest, size, source, format, num_rows, summary, created_ms, created_by, classification)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, COALESCE((SELECT p.classification FROM dataset_versions p WHERE p.dataset = ? AND p.version = ?), ''))`,
			name, version, ref.Digest, ref.Size, source, format, sum.Rows, string(sumJSON), now, user, name, version-1); err != nil {
			return err
		}
		var before any
		if last.Valid {
			before = map[string]string{"digest": last.String}
		}
		return audit.Record(ctx, tx, "dataset.version.create", "dataset", name, before, map[string]any{"version": version,
			"digest": ref.Digest, "size": ref.Size, "source": source, "format": format, "rows": sum.Rows, "user": user})
	})
	if err != nil {
		return nil, fmt.Errorf("version %s as %s: %w", path, name, err)
	}
	if version == 0 {
		v, err := c.Get(ctx, name)
		if err != nil {
			return nil, err
		}
		return &Result{Version: v, Cached: cached}, nil
	}
	v, err := c.Get(ctx, name+"@"+strconv.FormatInt(version, 10))
	if err != nil {
		return nil, err
	}
	return &Result{Version: v, Created: true, Cached: cached}, nil
}

const versionCols = "dataset, version, digest, size, source, format, summary, created_ms, created_by, classification"

func scanVersion(sc interface{ Scan(...any) error }) (*Version, error) {
	v := &Version{}
	var sum string
	var ms int64
	if err := sc.Scan(&v.Name, &v.Version, &v.Blob.Digest, &v.Blob.Size, &v.Source, &v.Format, &sum, &ms, &v.CreatedBy, &v.Classification); err != nil {
		return nil, err
	}
	v.Created = time.UnixMilli(ms).UTC()
	if sum != "" {
		if err := json.Unmarshal([]byte(sum), &v.Summary); err != nil {
			return nil, fmt.Errorf("data set %s@%d: bad summary: %w", v.Name, v.Version, err)
		}
	}
	return v, nil
}

// Classify sets the classification of the version ref names (NAME is the
// latest; public, internal or pii, "" to clear), recorded in the audit
// trail, and returns the version. Later versions inherit it.
func (c *Catalog) Classify(ctx context.Context, ref string, cl validate.Classification) (*Version, error) {
	if _, err := validate.ParseClassification(string(cl)); err != nil {
		return nil, fmt.Errorf("classify data set %s: %w", ref, err)
	}
	v, err := c.Get(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("classify data set %s: %w", ref, err)
	}
	err = c.db.Write(ctx, func(tx *sqlstore.Tx) error {
		var old string
		if err := tx.QueryRowContext(ctx, "SELECT classification FROM dataset_versions WHERE dataset = ? AND version = ?", v.Name, v.Version).Scan(&old); err != nil {
			return err
		}
		if old == string(cl) {
			return nil
		}
		if _, err := tx.ExecContext(ctx, "UPDATE dataset_versions SET classification = ? WHERE dataset = ? AND version = ?", string(cl), v.Name, v.Version); err != nil {
			return err
		}
		return audit.Record(ctx, tx, "dataset.classify", "dataset", v.Name,
			map[string]any{"version": v.Version, "classification": old}, map[string]any{"version": v.Version, "classification": string(cl)})
	})
	if err != nil {
		return nil, fmt.Errorf("classify data set %s: %w", v.Ref(), err)
	}
	v.Classification = cl
	return v, nil
}

// Get returns the version a reference names: NAME (latest) or NAME@VERSION.
func (c *Catalog) Get(ctx context.Context, ref string) (*Version, error) {
	name, n, err := ParseRef(ref)
	if err != nil {
		return nil, err
	}
	var row *sql.Row
	if n == 0 {
		row = c.db.QueryRowContext(ctx, "SELECT "+versionCols+" FROM dataset_versions WHERE dataset = ? ORDER BY version DESC LIMIT 1", name)
	} else {
		row = c.db.QueryRowContext(ctx, "SELECT "+versionCols+" FROM dataset_versions WHERE dataset = ? AND version = ?", name, n)
	}
	v, err := scanVersion(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("data set %s: %w", ref, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("data set %s: %w", ref, err)
	}
	return v, nil
}

// Log lists a data set's versions, newest first.
func (c *Catalog) Log(ctx context.Context, name string) ([]Version, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	rows, err := c.db.QueryContext(ctx, "SELECT "+versionCols+" FROM dataset_versions WHERE dataset = ? ORDER BY version DESC", name)
	if err != nil {
		return nil, fmt.Errorf("log %s: %w", name, err)
	}
	defer rows.Close()
	var out []Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("log %s: %w", name, err)
		}
		out = append(out, *v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("log %s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("log %s: %w", name, ErrNotFound)
	}
	return out, nil
}

// Export writes a version's bytes to out atomically (temporary file, then
// rename), verifying the digest.
func (c *Catalog) Export(ctx context.Context, ref, out string) (*Version, error) {
	v, err := c.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	rc, err := c.blobs.Get(ctx, v.Blob.Digest)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", ref, err)
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(filepath.Dir(out), ".gyre-get-*")
	if err != nil {
		return nil, fmt.Errorf("get %s into %s: %w", ref, out, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, rc); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("get %s into %s: %w", ref, out, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("get %s into %s: %w", ref, out, err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return nil, fmt.Errorf("get %s into %s: %w", ref, out, err)
	}
	return v, nil
}

// Diff compares two versions.
type Diff struct {
	From, To string
	// SameContent is true when both versions hold identical bytes.
	SameContent bool         `json:"same_content"`
	RowsFrom    int64        `json:"rows_from"`
	RowsTo      int64        `json:"rows_to"`
	Added       []string     `json:"added_columns,omitempty"`
	Removed     []string     `json:"removed_columns,omitempty"`
	Changed     []ColumnDiff `json:"changed_columns,omitempty"`
}

// ColumnDiff lists a column's changed statistics.
type ColumnDiff struct {
	Column  string       `json:"column"`
	Changes []StatChange `json:"changes"`
}

// StatChange is one statistic's old and new value, formatted.
type StatChange struct {
	Stat string `json:"stat"`
	From string `json:"from"`
	To   string `json:"to"`
}

// Diff compares versions a and b (references NAME@V).
func (c *Catalog) Diff(ctx context.Context, a, b string) (*Diff, error) {
	va, err := c.Get(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	vb, err := c.Get(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	d := &Diff{From: va.Ref(), To: vb.Ref(), SameContent: va.Blob.Digest == vb.Blob.Digest, RowsFrom: va.Summary.Rows, RowsTo: vb.Summary.Rows}
	old := map[string]ColumnSummary{}
	for _, col := range va.Summary.Columns {
		old[col.Name] = col
	}
	seen := map[string]bool{}
	for _, nc := range vb.Summary.Columns {
		seen[nc.Name] = true
		oc, ok := old[nc.Name]
		if !ok {
			d.Added = append(d.Added, nc.Name)
			continue
		}
		var ch []StatChange
		add := func(stat, from, to string) {
			if from != to {
				ch = append(ch, StatChange{stat, from, to})
			}
		}
		add("kind", oc.Kind, nc.Kind)
		add("missing", strconv.FormatInt(oc.Missing, 10), strconv.FormatInt(nc.Missing, 10))
		add("distinct", strconv.FormatInt(oc.Distinct, 10), strconv.FormatInt(nc.Distinct, 10))
		add("mean", fmtp(oc.Mean), fmtp(nc.Mean))
		add("std", fmtp(oc.Std), fmtp(nc.Std))
		add("min", fmtp(oc.Min), fmtp(nc.Min))
		add("max", fmtp(oc.Max), fmtp(nc.Max))
		add("top", oc.Top, nc.Top)
		if len(ch) > 0 {
			d.Changed = append(d.Changed, ColumnDiff{Column: nc.Name, Changes: ch})
		}
	}
	for _, oc := range va.Summary.Columns {
		if !seen[oc.Name] {
			d.Removed = append(d.Removed, oc.Name)
		}
	}
	return d, nil
}

func fmtp(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'g', 6, 64)
}
