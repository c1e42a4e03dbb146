package retention_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/frame/frametest"
	"github.com/gyre-ml/gyre/internal/predlog"
	"github.com/gyre-ml/gyre/internal/predlog/predlogtest"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/retention"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
	"github.com/gyre-ml/gyre/internal/track"
)

// testBlobs is MinIO for the PostgreSQL backend when GYRE_TEST_S3 is set
// (as CI does), else a directory.
func testBlobs(t *testing.T, backend string) blob.Store {
	t.Helper()
	if u := os.Getenv("GYRE_TEST_S3"); u != "" && backend == "postgres" {
		// A key space of its own: gc deletes what nothing in its store
		// references, so stores must not share one.
		base, q, _ := strings.Cut(u, "?")
		bs, err := blob.Open(context.Background(), strings.TrimRight(base, "/")+"/retention-"+track.NewID()[:12]+"?"+q)
		if err != nil {
			t.Fatal(err)
		}
		return bs
	}
	bs, err := blob.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

func TestCollect(t *testing.T) {
	for _, b := range sqlstoretest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { testCollect(t, b) })
	}
}

// world is a store with something of every kind gc decides about.
type world struct {
	db    *sqlstore.DB
	blobs blob.Store
	log   *predlog.Log
	// runs by role; blobs by role.
	runs   map[string]string
	refs   map[string]string
	batch  []string // old, recent prediction batch digests
	labels string   // the old model's feedback file
	tmp    string
}

// The collection runs "now"+200 days with a 90-day horizon: what is made
// at the real now is old, what is made with the clock set 150 days ahead
// is recent.
var (
	realNow = time.Now()
	gcNow   = realNow.Add(200 * 24 * time.Hour)
	recent  = realNow.Add(150 * 24 * time.Hour)
)

func build(t *testing.T, b sqlstoretest.Backend) *world {
	ctx := context.Background()
	w := &world{db: sqlstoretest.Open(t, b), runs: map[string]string{}, refs: map[string]string{}}
	w.blobs = testBlobs(t, b.Name)
	tr := track.New(w.db, w.blobs)
	reg := registry.New(w.db, w.blobs)
	start := func(role, parent string, at time.Time) *track.Run {
		tr.Now = func() time.Time { return at }
		r, err := tr.Start(ctx, track.RunOptions{Experiment: "adult", ParentID: parent, Name: role})
		if err != nil {
			t.Fatal(err)
		}
		ref, err := r.LogArtifact(ctx, "notes.txt", strings.NewReader("artifact of "+role))
		if err != nil {
			t.Fatal(err)
		}
		if err := r.End(ctx, track.StatusFinished); err != nil {
			t.Fatal(err)
		}
		w.runs[role], w.refs[role] = r.ID(), ref.Digest
		return r
	}
	start("old", "", realNow)
	parent := start("aliased", "", realNow)
	start("aliased-trial", parent.ID(), realNow)
	start("pruned", "", realNow)
	start("latest", "", realNow)
	start("recent", "", recent)
	oldParent := start("old-parent", "", realNow)
	start("recent-child", oldParent.ID(), recent)
	// A run still running (logged through the server: no process) is kept.
	tr.Now = time.Now
	live, err := tr.Start(audit.WithActor(ctx, audit.Actor{Name: "bob", Kind: audit.KindUser}), track.RunOptions{Experiment: "adult"})
	if err != nil {
		t.Fatal(err)
	}
	w.runs["running"] = live.ID()
	// Model m: v1 aliased (its run's trial protects the tree), v2 old and
	// bare (pruned with --keep-aliased), v3 the latest.
	reg.Now = func() time.Time { return realNow }
	for i, role := range []string{"aliased-trial", "pruned", "latest"} {
		v, err := reg.Register(ctx, "m", registry.RegisterOptions{Bundle: strings.NewReader("bundle " + role), RunID: w.runs[role]})
		if err != nil || v.Version != int64(i+1) {
			t.Fatalf("register: %v %v", v, err)
		}
		w.refs["bundle-"+role] = v.Bundle.Digest
	}
	if err := reg.SetAlias(ctx, "m", "champion", 1); err != nil {
		t.Fatal(err)
	}
	// A pipeline step cached on the old run goes with it.
	if err := w.db.Write(ctx, func(tx *sqlstore.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO pipeline_steps (pipeline, step, cache_key, output, run_id, created_ms) VALUES ('p', 'train', 'k', '{}', ?, 0)`, w.runs["old"])
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// The prediction log: one old batch, one recent, labelled.
	w.log = predlog.New(w.db, w.blobs)
	feats := frametest.Synthetic(20, 1, 0)
	y := make([]float64, 20)
	// (Two served names: predlogtest numbers requests from r0 in each.)
	for model, at := range map[string]time.Time{"m-old": realNow, "m": recent} {
		if _, err := predlogtest.Log(ctx, w.log, model, feats, y, at, time.Minute, 20); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := w.db.QueryContext(ctx, "SELECT digest FROM prediction_log ORDER BY max_time_ms")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var d string
		rows.Scan(&d)
		w.batch = append(w.batch, d)
	}
	rows.Close()
	if err := w.db.QueryRowContext(ctx, "SELECT digest FROM feedback_log WHERE model = 'm-old'").Scan(&w.labels); err != nil {
		t.Fatal(err)
	}
	// An orphan blob (a killed data version put it, then died).
	orphan, err := w.blobs.Put(ctx, strings.NewReader("bytes of a killed data version"))
	if err != nil {
		t.Fatal(err)
	}
	w.refs["orphan"] = orphan.Digest
	// Temp files: a killed predict's spool, and someone else's file.
	w.tmp = t.TempDir()
	for _, name := range []string{"gyre-stdin-123", "other-tool"} {
		if err := os.WriteFile(filepath.Join(w.tmp, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func testCollect(t *testing.T, b sqlstoretest.Backend) {
	ctx := context.Background()
	w := build(t, b)
	c := &retention.Collector{DB: w.db, Blobs: w.blobs, Tracker: track.New(w.db, w.blobs), Log: w.log}
	opts := retention.Options{OlderThan: 90 * 24 * time.Hour, KeepAliased: true, TempDir: w.tmp, Now: func() time.Time { return gcNow }}

	// A dry run says what goes and deletes nothing.
	dry := opts
	dry.DryRun = true
	rep, err := c.Collect(ctx, dry)
	if err != nil {
		t.Fatal(err)
	}
	check(t, w, rep)
	if n := count(t, w.db, "SELECT COUNT(*) FROM runs"); n != 9 {
		t.Fatalf("dry run left %d runs; want 9", n)
	}
	if _, err := os.Stat(filepath.Join(w.tmp, "gyre-stdin-123")); err != nil {
		t.Fatalf("dry run removed a temp file: %v", err)
	}

	rep, err = c.Collect(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	check(t, w, rep)
	tr := track.New(w.db, w.blobs)
	for role, id := range w.runs {
		_, err := tr.Get(ctx, id)
		gone := role == "old" || role == "pruned"
		if gone != (err != nil) {
			t.Errorf("run %s: Get error %v; want gone=%v", role, err, gone)
		}
	}
	for role, d := range w.refs {
		ok, err := blob.Exists(ctx, w.blobs, d)
		gone := role == "old" || role == "pruned" || role == "orphan" || role == "bundle-pruned"
		if err != nil || ok == gone {
			t.Errorf("blob of %s: exists=%v (%v); want gone=%v", role, ok, err, gone)
		}
	}
	if ok, _ := blob.Exists(ctx, w.blobs, w.batch[0]); ok {
		t.Error("the old prediction batch's file is still stored")
	}
	if ok, _ := blob.Exists(ctx, w.blobs, w.batch[1]); !ok {
		t.Error("the recent prediction batch's file was deleted")
	}
	vs, err := registry.New(w.db, w.blobs).Versions(ctx, "m")
	if err != nil || len(vs) != 2 || vs[0].Version+vs[1].Version != 4 {
		t.Errorf("versions left: %+v %v; want 1 and 3", vs, err)
	}
	if n := count(t, w.db, "SELECT COUNT(*) FROM pipeline_steps"); n != 0 {
		t.Errorf("%d pipeline cache rows name a deleted run", n)
	}
	if ok, _ := blob.Exists(ctx, w.blobs, w.labels); ok {
		t.Error("the old labels' file is still stored")
	}
	if n := count(t, w.db, "SELECT COALESCE(SUM(n), 0) FROM feedback_log"); n != 20 {
		t.Errorf("%d labels left; want the recent batch's 20", n)
	}
	if _, err := os.Stat(filepath.Join(w.tmp, "gyre-stdin-123")); err == nil {
		t.Error("the killed process's temp file is still there")
	}
	if _, err := os.Stat(filepath.Join(w.tmp, "other-tool")); err != nil {
		t.Errorf("another tool's temp file was removed: %v", err)
	}
	// Every deletion is in the audit trail.
	entries, _, err := audit.List(ctx, w.db, audit.Query{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, e := range entries {
		got[e.Action]++
	}
	for action, n := range map[string]int{"run.purge": 2, "model.version.delete": 1, "prediction_log.batch.delete": 1,
		"prediction_log.feedback.delete": 1, "blob.delete": 6} {
		if got[action] != n {
			t.Errorf("audit has %d %s entries; want %d (all: %v)", got[action], action, n, got)
		}
	}
	// A second collection finds nothing more.
	again, err := c.Collect(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Runs)+len(again.Versions)+len(again.Batches)+len(again.Blobs) != 0 {
		t.Errorf("second collection deleted %+v", again)
	}
}

// check asserts the report's runs, versions, batches and blobs.
func check(t *testing.T, w *world, rep *retention.Report) {
	t.Helper()
	var runs []string
	for _, r := range rep.Runs {
		runs = append(runs, r.ID)
	}
	want := []string{w.runs["old"], w.runs["pruned"]}
	slices.Sort(runs)
	slices.Sort(want)
	if !slices.Equal(runs, want) {
		t.Errorf("runs %v; want old and pruned %v", runs, want)
	}
	if len(rep.Versions) != 1 || rep.Versions[0] != (retention.Version{Model: "m", Version: 2}) {
		t.Errorf("versions %v; want m v2", rep.Versions)
	}
	if len(rep.Batches) != 1 || rep.Batches[0].Digest != w.batch[0] || rep.Labels != 20 {
		t.Errorf("batches %v, labels %d; want the old batch and its 20 labels", rep.Batches, rep.Labels)
	}
	if len(rep.Feedback) != 1 || rep.Feedback[0].Digest != w.labels || rep.Feedback[0].Model != "m-old" || rep.Feedback[0].Labels != 20 {
		t.Errorf("feedback files %+v; want the old labels' file (%s)", rep.Feedback, w.labels)
	}
	var blobs []string
	for _, r := range rep.Blobs {
		blobs = append(blobs, r.Digest)
	}
	wantBlobs := []string{w.refs["old"], w.refs["pruned"], w.refs["bundle-pruned"], w.refs["orphan"], w.batch[0], w.labels}
	slices.Sort(blobs)
	slices.Sort(wantBlobs)
	if !slices.Equal(blobs, wantBlobs) {
		t.Errorf("blobs %v; want %v", blobs, wantBlobs)
	}
	if !slices.Contains(rep.TempFiles, filepath.Join(w.tmp, "gyre-stdin-123")) || slices.Contains(rep.TempFiles, filepath.Join(w.tmp, "other-tool")) {
		t.Errorf("temp files %v", rep.TempFiles)
	}
}

func count(t *testing.T, db *sqlstore.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCollectCompactsFeedback has gc merge a model's small feedback files
// into one, audited, the labels read the same; the files merged away stay
// until a collection past the grace period deletes them.
func TestCollectCompactsFeedback(t *testing.T) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "gyre.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	blobs := testBlobs(t, "sqlite")
	l := predlog.New(db, blobs)
	l.CompactAfter = -1
	feats := frametest.Synthetic(40, 1, 0)
	y := make([]float64, 40)
	t0 := time.Now().Add(-time.Hour)
	if _, err := predlogtest.Log(ctx, l, "m", feats, y, t0, time.Minute, 5); err != nil {
		t.Fatal(err)
	}
	var old []string
	rows, err := db.QueryContext(ctx, "SELECT digest FROM feedback_log")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var d string
		rows.Scan(&d)
		old = append(old, d)
	}
	rows.Close()
	read := func() []string {
		t.Helper()
		lg, err := l.Read(ctx, predlog.Query{Model: "m", Since: t0}, feats.Schema(), nil)
		if err != nil || lg.Labeled != 40 {
			t.Fatalf("read: %v, %d labelled", err, lg.Labeled)
		}
		return lg.Labels
	}
	before := read()
	c := &retention.Collector{DB: db, Blobs: blobs, Log: l}
	opts := retention.Options{OlderThan: 90 * 24 * time.Hour, TempDir: "-"}
	rep, err := c.Collect(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(old) != 8 || len(rep.Compacted) != 1 || len(rep.Compacted[0].From) != 8 || rep.Compacted[0].Into.Labels != 40 || len(rep.Blobs) != 0 {
		t.Fatalf("%d files; compacted %+v, blobs deleted %v", len(old), rep.Compacted, rep.Blobs)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM feedback_log"); n != 1 {
		t.Errorf("%d feedback files after gc, want 1", n)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM audit_log WHERE action = 'prediction_log.feedback.compact'"); n != 1 {
		t.Errorf("%d audit entries of the merge, want 1", n)
	}
	if after := read(); !slices.Equal(after, before) {
		t.Errorf("labels %q after gc, %q before", after, before)
	}
	for _, d := range old {
		if ok, err := blob.Exists(ctx, blobs, d); !ok || err != nil {
			t.Errorf("merged file %s deleted within the grace period: %v", d, err)
		}
	}
	opts.Now = func() time.Time { return time.Now().Add(2 * retention.DefaultGrace) }
	if rep, err = c.Collect(ctx, opts); err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for _, r := range rep.Blobs {
		deleted = append(deleted, r.Digest)
	}
	slices.Sort(deleted)
	slices.Sort(old)
	if !slices.Equal(deleted, old) || len(rep.Compacted) != 0 {
		t.Errorf("past the grace period deleted %v, compacted %+v; want the merged files %v", deleted, rep.Compacted, old)
	}
	if after := read(); !slices.Equal(after, before) {
		t.Errorf("labels %q after the second gc, %q before", after, before)
	}
}
