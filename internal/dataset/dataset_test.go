package dataset_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/profile"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
)

// eachCatalog runs f on a catalog over each store sqlstoretest runs, with a
// directory artifact store.
func eachCatalog(t *testing.T, f func(t *testing.T, cat *dataset.Catalog)) {
	sqlstoretest.Run(t, func(t *testing.T, db *sqlstore.DB) {
		bs, err := blob.OpenDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		f(t, dataset.New(db, bs))
	})
}

// titanic is the example training file's content; the test is skipped
// without it.
func titanic(t *testing.T) []byte {
	src, err := os.ReadFile("../../examples/data/titanic/titanic.train.csv")
	if err != nil {
		t.Skip("example data missing:", err)
	}
	return src
}

// readCounted writes src to a temporary titanic.csv and reads it, and makes
// cat count its summaries that read a file: the number is in *reads.
func readCounted(t *testing.T, cat *dataset.Catalog, src []byte) (path string, f *frame.Frame, reads *int) {
	t.Helper()
	reads = new(int)
	cat.Summarize = func(ctx context.Context, path string) (*dataset.Summary, error) {
		*reads++
		return dataset.Summarize(ctx, path)
	}
	path = filepath.Join(t.TempDir(), "titanic.csv")
	os.WriteFile(path, src, 0o644)
	f, err := ingest.Read(context.Background(), path, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return path, f, reads
}

func TestVersionLogDiffGet(t *testing.T) {
	ctx := context.Background()
	src := titanic(t)
	eachCatalog(t, func(t *testing.T, cat *dataset.Catalog) {
		dir := t.TempDir()
		path := filepath.Join(dir, "titanic.csv")
		os.WriteFile(path, src, 0o644)

		r1, err := cat.Version(ctx, path, "titanic")
		if err != nil {
			t.Fatal(err)
		}
		if !r1.Created || r1.Version.Version != 1 || r1.Summary.Rows < 100 || len(r1.Summary.Columns) < 5 || r1.Summary.Note != "" {
			t.Fatalf("first version = %+v", r1)
		}
		// Unchanged file: same version, digest from the size+mtime cache.
		r2, err := cat.Version(ctx, path, "titanic")
		if err != nil || r2.Created || !r2.Cached || r2.Version.Version != 1 {
			t.Fatalf("re-version unchanged = %+v, %v; want version 1, cached, not created", r2, err)
		}
		// Drop half the rows and the last column.
		lines := strings.Split(strings.TrimSpace(string(src)), "\n")
		var b strings.Builder
		for i, l := range lines[:len(lines)/2] {
			_ = i
			b.WriteString(l[:strings.LastIndexByte(l, ',')] + "\n")
		}
		os.WriteFile(path, []byte(b.String()), 0o644)
		os.Chtimes(path, time.Now().Add(time.Minute), time.Now().Add(time.Minute))
		r3, err := cat.Version(ctx, path, "titanic")
		if err != nil || !r3.Created || r3.Version.Version != 2 || r3.Cached {
			t.Fatalf("changed file = %+v, %v; want a new version 2", r3, err)
		}
		log, err := cat.Log(ctx, "titanic")
		if err != nil || len(log) != 2 || log[0].Version != 2 {
			t.Fatalf("Log = %+v, %v", log, err)
		}
		d, err := cat.Diff(ctx, "titanic@1", "titanic@2")
		if err != nil {
			t.Fatal(err)
		}
		if d.SameContent || d.RowsTo >= d.RowsFrom || len(d.Removed) != 1 || len(d.Changed) == 0 {
			t.Errorf("Diff = %+v; want fewer rows, one removed column, changed stats", d)
		}
		out := filepath.Join(dir, "out.csv")
		if _, err := cat.Export(ctx, "titanic@1", out); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(out); string(got) != string(src) {
			t.Error("Export of version 1 differs from the original bytes")
		}
		for _, ref := range []string{"titanic@3", "nope"} {
			if _, err := cat.Get(ctx, ref); !errors.Is(err, dataset.ErrNotFound) {
				t.Errorf("Get(%q) = %v; want ErrNotFound", ref, err)
			}
		}
		for _, name := range []string{"../x", "a/b", ""} {
			if _, err := cat.Version(ctx, path, name); !errors.Is(err, dataset.ErrInvalidName) {
				t.Errorf("Version as %q: %v; want ErrInvalidName", name, err)
			}
		}
		// A non-tabular file is still versioned, with a note.
		bin := filepath.Join(dir, "blob.bin")
		os.WriteFile(bin, []byte{0, 1, 2, 3, 0xff}, 0o644)
		rb, err := cat.Version(ctx, bin, "raw")
		if err != nil || !rb.Created {
			t.Fatalf("binary file: %+v, %v", rb, err)
		}
	})
}

// TestVersionSummarisesFrameRead checks that versioning a file under
// WithRead summarises the frame already read instead of reading the file
// again, and that a file changed since then is read again.
func TestVersionSummarisesFrameRead(t *testing.T) {
	ctx := context.Background()
	src := titanic(t)
	eachCatalog(t, func(t *testing.T, cat *dataset.Catalog) {
		path, f, reads := readCounted(t, cat, src)
		rctx := dataset.WithRead(ctx, path, f)
		r1, err := cat.Version(rctx, path, "titanic")
		if err != nil {
			t.Fatal(err)
		}
		want, err := dataset.Summarize(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if *reads != 0 || r1.Summary.Rows != int64(f.NumRows()) || len(r1.Summary.Columns) != len(want.Columns) || r1.Summary.Columns[1].Missing != want.Columns[1].Missing {
			t.Fatalf("summary from the frame read: %d file reads, %+v, want %+v", *reads, r1.Summary, *want)
		}
		lines := strings.Split(strings.TrimSpace(string(src)), "\n")
		os.WriteFile(path, []byte(strings.Join(lines[:len(lines)/2], "\n")+"\n"), 0o644)
		os.Chtimes(path, time.Now().Add(time.Minute), time.Now().Add(time.Minute))
		r2, err := cat.Version(rctx, path, "titanic")
		if err != nil {
			t.Fatal(err)
		}
		if *reads != 1 || r2.Summary.Rows != int64(len(lines)/2-1) {
			t.Fatalf("changed file: %d file reads, %d rows; want it read again, %d rows", *reads, r2.Summary.Rows, len(lines)/2-1)
		}
	})
}

// TestVersionSummarisesProfileGiven checks that versioning a file under
// WithReadProfile summarises the profile given (a drift reference's:
// another seed, a target) instead of profiling the frame, with the same
// summary as reading the file again.
func TestVersionSummarisesProfileGiven(t *testing.T) {
	ctx := context.Background()
	src := titanic(t)
	eachCatalog(t, func(t *testing.T, cat *dataset.Catalog) {
		path, f, reads := readCounted(t, cat, src)
		profiled := 0
		prof := func() (*profile.Profile, error) {
			profiled++
			return profile.Compute(ctx, f, profile.Options{Target: "Survived", NoRelations: true, Seed: 1})
		}
		r, err := cat.Version(dataset.WithReadProfile(ctx, path, f, prof), path, "titanic")
		if err != nil {
			t.Fatal(err)
		}
		want, err := dataset.Summarize(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if *reads != 0 || profiled != 1 || !reflect.DeepEqual(r.Summary, *want) {
			t.Fatalf("summary of the profile given: %d file reads, %d profiles, %+v, want %+v", *reads, profiled, r.Summary, *want)
		}
	})
}
