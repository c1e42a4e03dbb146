// Package retention is Gyre's garbage collector (gyre gc, POST /api/v1/gc):
// it applies a retention horizon to the store.
//
// Collect deletes, when older than the horizon:
//   - run trees (a root run and its descendants) in which every run has
//     ended before the horizon and none is referenced by a model version
//     that is kept; the pipeline step cache entries that name a deleted run
//     go with them (the next pipeline run recomputes those steps);
//   - with KeepAliased, model versions created before the horizon that have
//     no alias, no Staging or Production stage and are not their model's
//     latest version (without it, model versions are never deleted, and
//     neither is anything their lineage references);
//   - prediction-log batches whose newest row is older than the horizon,
//     and the feedback files whose labels no kept batch can join
//     (predlog.Log.Expire);
//
// It also compacts the prediction log's feedback (predlog.Log.Compact): a
// model's runs of small feedback files become one file each, audited; the
// replaced files are unreferenced from then on, and deleted by a later
// collection once older than Grace, so a monitor reading beside gc never
// misses a file it listed. Then it deletes:
//   - blobs of the artifact store that nothing references any more: those
//     the deleted rows referenced, and those written more than Grace ago
//     that nothing ever referenced (a killed data version or upload);
//   - temporary files older than Grace that killed processes left: the
//     blob store's tmp/ and gyre-* entries of the system temp directory
//     (spools of predict's and ingest's inputs, upload and bundle files).
//
// Data set versions are never deleted. Each deletion of a row or blob is
// recorded in the audit trail inside the write transaction that does it;
// what a deletion checks (no alias appeared, the run tree has not grown)
// is checked again inside that transaction, so gc can run beside writers.
// A blob is only deleted when its time (refreshed by every put of the same
// content) is older than the collection's start, so content a writer has
// just put again is spared.
package retention

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/predlog"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/track"
)

// DefaultGrace is how old an unreferenced blob or a temporary file must be
// before it is collected when Options.Grace is zero: longer than any write
// that puts a blob and then references it (a distributed search keeps its
// data blob unreferenced while it runs).
const DefaultGrace = 24 * time.Hour

// Options says what Collect deletes.
type Options struct {
	// OlderThan is the horizon's age: things older than now-OlderThan are
	// candidates. It must be positive.
	OlderThan time.Duration
	// KeepAliased also prunes old model versions, keeping every version
	// with an alias or a Staging/Production stage and each model's latest.
	KeepAliased bool
	// DryRun reports what would be deleted and deletes nothing.
	DryRun bool
	// Grace is the minimum age of a never-referenced blob or a temporary
	// file (DefaultGrace when zero).
	Grace time.Duration
	// TempDir is the temporary directory to clean (os.TempDir() when
	// empty; "-" cleans none).
	TempDir string
	// Now is the current time (time.Now when nil).
	Now func() time.Time
}

// Run is a deleted run.
type Run struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	// Parent is empty for a root run.
	Parent string `json:"parent,omitempty"`
}

// Version is a deleted model version.
type Version struct {
	Model   string `json:"model"`
	Version int64  `json:"version"`
}

// Report is what Collect deleted (or with DryRun would delete).
type Report struct {
	DryRun   bool                   `json:"dry_run"`
	Horizon  time.Time              `json:"horizon"`
	Runs     []Run                  `json:"runs"`
	Versions []Version              `json:"versions"`
	Batches  []predlog.ExpiredBatch `json:"prediction_batches"`
	// Feedback lists the feedback files deleted, Labels counts their
	// labels.
	Feedback []predlog.ExpiredLabels `json:"feedback_files"`
	Labels   int64                   `json:"feedback_labels"`
	// Compacted lists the merges of small feedback files.
	Compacted []predlog.Compacted `json:"feedback_compacted"`
	Blobs     []blob.Ref          `json:"blobs"`
	// BlobBytes is the blobs' total size.
	BlobBytes int64 `json:"blob_bytes"`
	// TempFiles are the temporary files and directories removed.
	TempFiles []string `json:"temp_files"`
	// Failed runs marked so (their process had died) before collecting.
	Reaped []string `json:"reaped,omitempty"`
}

// Collector holds the stores Collect works on.
type Collector struct {
	DB    *sqlstore.DB
	Blobs blob.Store
	// Tracker marks dead runs FAILED first (track.Tracker.ReapDead); nil
	// skips that.
	Tracker *track.Tracker
	// Log is the prediction log; nil leaves it alone.
	Log *predlog.Log
}

// ErrInvalid marks bad options.
var ErrInvalid = errors.New("invalid retention options")

// Collect applies the retention horizon (see the package comment).
func (c *Collector) Collect(ctx context.Context, o Options) (*Report, error) {
	if o.OlderThan <= 0 {
		return nil, fmt.Errorf("gc: older-than %v: %w: want a positive age such as 90d", o.OlderThan, ErrInvalid)
	}
	if o.Grace < 0 {
		return nil, fmt.Errorf("gc: grace %v: %w: want a positive duration", o.Grace, ErrInvalid)
	}
	if o.Grace == 0 {
		o.Grace = DefaultGrace
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	start := o.Now()
	rep := &Report{DryRun: o.DryRun, Horizon: start.Add(-o.OlderThan).UTC(),
		Runs: []Run{}, Versions: []Version{}, Batches: []predlog.ExpiredBatch{}, Feedback: []predlog.ExpiredLabels{}, Compacted: []predlog.Compacted{}, Blobs: []blob.Ref{}, TempFiles: []string{}}
	horizon := rep.Horizon.UnixMilli()
	if c.Tracker != nil && !o.DryRun {
		ids, err := c.Tracker.ReapDead(ctx)
		if err != nil {
			return nil, fmt.Errorf("gc: %w", err)
		}
		rep.Reaped = ids
	}
	p, err := c.plan(ctx, horizon, o.KeepAliased)
	if err != nil {
		return nil, fmt.Errorf("gc: plan: %w", err)
	}
	var refsBefore map[string]bool
	if c.Blobs != nil {
		if refsBefore, err = c.referenced(ctx, newPlan()); err != nil {
			return nil, fmt.Errorf("gc: %w", err)
		}
	}
	if o.DryRun {
		rep.Versions = p.versions
		for _, tr := range p.trees {
			rep.Runs = append(rep.Runs, tr...)
		}
	} else {
		if err := c.deleteVersions(ctx, p, horizon, rep); err != nil {
			return rep, fmt.Errorf("gc: %w", err)
		}
		if err := c.deleteRuns(ctx, p, horizon, rep); err != nil {
			return rep, fmt.Errorf("gc: %w", err)
		}
	}
	var compactErr error
	if c.Log != nil {
		exp, err := c.Log.Expire(ctx, rep.Horizon, o.DryRun)
		if err != nil {
			return rep, fmt.Errorf("gc: %w", err)
		}
		rep.Batches = append(rep.Batches, exp.Batches...)
		rep.Feedback = append(rep.Feedback, exp.Feedback...)
		rep.Labels = exp.Labels
		for _, b := range exp.Batches {
			p.doomedBatches[b.Digest] = true
		}
		for _, f := range exp.Feedback {
			p.doomedBatches[f.Digest] = true
		}
		// a failed merge does not stop the collection; it is reported last
		comp, err := c.Log.Compact(ctx, "", o.DryRun)
		rep.Compacted = append(rep.Compacted, comp...)
		compactErr = err
		for _, m := range comp {
			for _, f := range m.From {
				delete(refsBefore, f.Digest) // merged away: kept until Grace has passed
			}
		}
	}
	if err := c.sweepBlobs(ctx, p, refsBefore, o, start, rep); err != nil {
		return rep, fmt.Errorf("gc: %w", err)
	}
	if err := c.sweepTemp(ctx, o, start, rep); err != nil {
		return rep, fmt.Errorf("gc: %w", err)
	}
	if compactErr != nil {
		return rep, fmt.Errorf("gc: %w", compactErr)
	}
	return rep, nil
}

// plan is what the store's rows say to delete.
type plan struct {
	versions []Version
	// trees are the run trees to delete, root first.
	trees [][]Run
	// doomed* are the rows whose blob references do not count.
	doomedRuns     map[string]bool
	doomedVersions map[Version]bool
	doomedBatches  map[string]bool // prediction batches and feedback files
}

func newPlan() *plan {
	return &plan{doomedRuns: map[string]bool{}, doomedVersions: map[Version]bool{}, doomedBatches: map[string]bool{}}
}

type runRow struct {
	Run
	old bool // ended before the horizon
}

func (c *Collector) plan(ctx context.Context, horizon int64, keepAliased bool) (*plan, error) {
	p := newPlan()
	// Versions and the runs kept versions protect.
	protected := map[string]bool{}
	aliased := map[Version]bool{}
	rows, err := c.DB.QueryContext(ctx, "SELECT model, version FROM model_aliases")
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var v Version
		if err := rows.Scan(&v.Model, &v.Version); err != nil {
			rows.Close()
			return nil, err
		}
		aliased[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = c.DB.QueryContext(ctx, `SELECT v.model, v.version, v.run_id, v.created_ms, v.stage,
		(SELECT MAX(w.version) FROM model_versions w WHERE w.model = v.model) FROM model_versions v ORDER BY v.model, v.version`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var v Version
		var runID, stage string
		var created, latest int64
		if err := rows.Scan(&v.Model, &v.Version, &runID, &created, &stage, &latest); err != nil {
			rows.Close()
			return nil, err
		}
		if keepAliased && prunable(created, horizon, stage, v.Version, latest, aliased[v]) {
			p.versions = append(p.versions, v)
			p.doomedVersions[v] = true
			continue
		}
		if runID != "" {
			protected[runID] = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Run trees.
	var all []*runRow
	byID := map[string]*runRow{}
	children := map[string][]string{}
	rows, err = c.DB.QueryContext(ctx, "SELECT id, COALESCE(parent_id, ''), name, status, start_ms, end_ms FROM runs ORDER BY start_ms, id")
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		r := &runRow{}
		var start int64
		var end *int64
		if err := rows.Scan(&r.ID, &r.Parent, &r.Name, &r.Status, &start, &end); err != nil {
			rows.Close()
			return nil, err
		}
		r.old = ended(r.Status) && end != nil && *end < horizon && start < horizon
		all = append(all, r)
		byID[r.ID] = r
		children[r.Parent] = append(children[r.Parent], r.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, r := range all {
		if r.Parent != "" && byID[r.Parent] != nil {
			continue // not a root
		}
		tree, ok := []Run{}, true
		todo := []string{r.ID}
		for len(todo) > 0 && ok {
			cur := byID[todo[0]]
			todo = append(todo[1:], children[cur.ID]...)
			ok = cur.old && !protected[cur.ID]
			tree = append(tree, cur.Run)
		}
		if ok {
			p.trees = append(p.trees, tree)
			for _, m := range tree {
				p.doomedRuns[m.ID] = true
			}
		}
	}
	return p, nil
}

// prunable reports whether a model version may go under KeepAliased.
func prunable(created, horizon int64, stage string, version, latest int64, aliased bool) bool {
	return created < horizon && !aliased && version != latest && stage != "Staging" && stage != "Production"
}

func ended(status string) bool {
	return status == string(track.StatusFinished) || status == string(track.StatusFailed) || status == string(track.StatusKilled)
}

// deleteVersions deletes the planned versions, each in its own transaction
// that checks again that it may go.
func (c *Collector) deleteVersions(ctx context.Context, p *plan, horizon int64, rep *Report) error {
	user := audit.ActorFrom(ctx).Name
	for _, v := range p.versions {
		gone := false
		err := c.DB.Write(ctx, func(tx *sqlstore.Tx) error {
			gone = false
			var created, latest, aliases int64
			var stage string
			err := tx.QueryRowContext(ctx, `SELECT v.created_ms, v.stage,
				(SELECT MAX(w.version) FROM model_versions w WHERE w.model = v.model),
				(SELECT COUNT(*) FROM model_aliases a WHERE a.model = v.model AND a.version = v.version)
				FROM model_versions v WHERE v.model = ? AND v.version = ?`, v.Model, v.Version).Scan(&created, &stage, &latest, &aliases)
			if err != nil || !prunable(created, horizon, stage, v.Version, latest, aliases > 0) {
				return nil // gone meanwhile, or now kept
			}
			gone = true
			return registry.DeleteVersionTx(ctx, tx, v.Model, v.Version, user, time.Now().UnixMilli())
		})
		if err != nil {
			return fmt.Errorf("delete model %s version %d: %w", v.Model, v.Version, err)
		}
		if gone {
			rep.Versions = append(rep.Versions, v)
		} else {
			delete(p.doomedVersions, v)
		}
	}
	return nil
}

// treesPerTx bounds the run trees one transaction deletes.
const treesPerTx = 64

// deleteRuns deletes the planned run trees, checking each again inside the
// transaction: still ended before the horizon, not grown, and not
// referenced by a model version.
func (c *Collector) deleteRuns(ctx context.Context, p *plan, horizon int64, rep *Report) error {
	for lo := 0; lo < len(p.trees); lo += treesPerTx {
		chunk := p.trees[lo:min(lo+treesPerTx, len(p.trees))]
		var done [][]Run
		err := c.DB.Write(ctx, func(tx *sqlstore.Tx) error {
			done = done[:0]
			for _, tree := range chunk {
				ok, err := stillDoomed(ctx, tx, tree, horizon)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
				for _, r := range tree {
					if _, err := tx.ExecContext(ctx, "DELETE FROM pipeline_steps WHERE run_id = ?", r.ID); err != nil {
						return err
					}
				}
				if _, err := track.PurgeTx(ctx, tx, tree[0].ID); err != nil {
					return err
				}
				done = append(done, tree)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("delete runs: %w", err)
		}
		kept := map[string]bool{}
		for _, tree := range chunk {
			for _, r := range tree {
				kept[r.ID] = true
			}
		}
		for _, tree := range done {
			rep.Runs = append(rep.Runs, tree...)
			for _, r := range tree {
				delete(kept, r.ID)
			}
		}
		for id := range kept {
			delete(p.doomedRuns, id)
		}
	}
	return nil
}

// stillDoomed checks a planned tree inside the deleting transaction.
func stillDoomed(ctx context.Context, tx *sqlstore.Tx, tree []Run, horizon int64) (bool, error) {
	ids := make([]any, len(tree))
	for i, r := range tree {
		ids[i] = r.ID
	}
	in := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + ")"
	var live, grown, referenced int64
	err := tx.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM runs WHERE id IN `+in+` AND (status NOT IN ('FINISHED', 'FAILED', 'KILLED') OR end_ms IS NULL OR end_ms >= ?)),
		(SELECT COUNT(*) FROM runs WHERE parent_id IN `+in+` AND id NOT IN `+in+`),
		(SELECT COUNT(*) FROM model_versions WHERE run_id IN `+in+`)`,
		slices.Concat(ids, []any{horizon}, ids, ids, ids)...).Scan(&live, &grown, &referenced)
	if err != nil {
		return false, err
	}
	// Versions this collection deleted are gone already: a version that
	// references the tree now is kept, and so is the tree.
	return live == 0 && grown == 0 && referenced == 0, nil
}

// digestPattern finds blob digests in JSON (pipeline step outputs).
var digestPattern = regexp.MustCompile(`sha256:[0-9a-f]{64}`)

// referenced returns every blob digest the store's rows reference, except
// through the doomed rows of p (a dry run's view of after the deletions).
func (c *Collector) referenced(ctx context.Context, p *plan) (map[string]bool, error) {
	refs := map[string]bool{}
	scan := func(q string, keep func(owner []string, digest string) bool) error {
		rows, err := c.DB.QueryContext(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		vals := make([]string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			last := vals[len(vals)-1]
			if keep(vals[:len(vals)-1], last) {
				for _, d := range digestPattern.FindAllString(last, -1) {
					refs[d] = true
				}
			}
		}
		return rows.Err()
	}
	byRun := func(o []string, _ string) bool { return !p.doomedRuns[o[0]] }
	queries := []struct {
		q    string
		keep func([]string, string) bool
	}{
		{"SELECT run_id, digest FROM run_artifacts", byRun},
		{"SELECT run_id, digest FROM run_inputs", byRun},
		{"SELECT run_id, output FROM pipeline_steps", byRun},
		{"SELECT model, CAST(version AS TEXT), digest FROM model_versions", func(o []string, _ string) bool {
			var v int64
			fmt.Sscan(o[1], &v)
			return !p.doomedVersions[Version{o[0], v}]
		}},
		{"SELECT digest FROM dataset_versions", func([]string, string) bool { return true }},
		{"SELECT digest FROM prediction_log", func(_ []string, d string) bool { return !p.doomedBatches[d] }},
		{"SELECT digest FROM feedback_log", func(_ []string, d string) bool { return !p.doomedBatches[d] }},
	}
	for _, q := range queries {
		if err := scan(q.q, q.keep); err != nil {
			return nil, fmt.Errorf("list references: %w", err)
		}
	}
	return refs, nil
}

// blobsPerTx bounds the blob deletions one audit transaction records.
const blobsPerTx = 256

// sweepBlobs deletes the blobs nothing references any more and that were
// written before the collection started: those the deleted rows
// referenced (refsBefore, the references before the deletions), and those
// nothing ever referenced once they are older than the grace.
func (c *Collector) sweepBlobs(ctx context.Context, p *plan, refsBefore map[string]bool, o Options, start time.Time, rep *Report) error {
	l, ok := c.Blobs.(blob.Lister)
	if c.Blobs == nil || !ok {
		return nil
	}
	refs, err := c.referenced(ctx, p)
	if err != nil {
		return err
	}
	graceCut := start.Add(-o.Grace)
	var doomed []blob.Ref
	err = l.List(ctx, func(ob blob.Object) error {
		if refs[ob.Digest] || !ob.Modified.Before(start) {
			return nil
		}
		if ob.Modified.Before(graceCut) || refsBefore[ob.Digest] {
			doomed = append(doomed, ob.Ref)
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(doomed, func(a, b blob.Ref) int { return strings.Compare(a.Digest, b.Digest) })
	if o.DryRun {
		rep.Blobs = doomed
		for _, b := range doomed {
			rep.BlobBytes += b.Size
		}
		return nil
	}
	for lo := 0; lo < len(doomed); lo += blobsPerTx {
		chunk := doomed[lo:min(lo+blobsPerTx, len(doomed))]
		// The audit records the deletion before it happens: a crash in
		// between leaves a recorded blob that the next collection
		// deletes (and records) again.
		err := c.DB.Write(ctx, func(tx *sqlstore.Tx) error {
			for _, b := range chunk {
				if _, err := tx.ExecContext(ctx, "DELETE FROM file_digests WHERE digest = ?", b.Digest); err != nil {
					return err
				}
				if err := audit.Record(ctx, tx, "blob.delete", "blob", b.Digest, map[string]int64{"size": b.Size}, nil); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("record blob deletions: %w", err)
		}
		for _, b := range chunk {
			if err := c.Blobs.Delete(ctx, b.Digest); err != nil {
				return err
			}
			rep.Blobs = append(rep.Blobs, b)
			rep.BlobBytes += b.Size
		}
	}
	return nil
}

// tempRemover is a blob store whose interrupted puts leave temporary files
// (blob.Dir).
type tempRemover interface {
	RemoveTemp(ctx context.Context, before time.Time) ([]string, error)
}

// sweepTemp removes temporary files older than the grace.
func (c *Collector) sweepTemp(ctx context.Context, o Options, start time.Time, rep *Report) error {
	cut := start.Add(-o.Grace)
	if tr, ok := c.Blobs.(tempRemover); ok && !o.DryRun {
		removed, err := tr.RemoveTemp(ctx, cut)
		rep.TempFiles = append(rep.TempFiles, removed...)
		if err != nil {
			return err
		}
	}
	dir := o.TempDir
	if dir == "-" {
		return nil
	}
	if dir == "" {
		dir = os.TempDir()
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("clean %s: %w", dir, err)
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "gyre-") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if !ownedStale(p, cut) {
			continue
		}
		if !o.DryRun {
			if err := os.RemoveAll(p); err != nil {
				return fmt.Errorf("clean %s: %w", dir, err)
			}
		}
		rep.TempFiles = append(rep.TempFiles, p)
	}
	return nil
}

// ownedStale reports whether p (a file, or a directory and everything in
// it) is this user's and was last written before cut.
func ownedStale(p string, cut time.Time) bool {
	stale := true
	err := filepath.WalkDir(p, func(q string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if !fi.ModTime().Before(cut) || !ownedByMe(fi) {
			stale = false
			return filepath.SkipAll
		}
		return nil
	})
	return err == nil && stale
}
