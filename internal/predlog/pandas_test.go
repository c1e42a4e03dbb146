package predlog

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/sqlstore"
)

// TestPandasReadsLog reads a logged batch's Parquet file with pandas
// (GYRE_TEST_PYTHON, default /usr/bin/python3). It skips when pandas has no
// Parquet engine (pyarrow or fastparquet): Debian 12 packages neither.
func TestPandasReadsLog(t *testing.T) {
	py := os.Getenv("GYRE_TEST_PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	probe := exec.Command(py, "-c", "import pandas\ntry:\n import pyarrow\nexcept ImportError:\n import fastparquet")
	if err := probe.Run(); err != nil {
		t.Skipf("%s has no pandas with a Parquet engine (pyarrow or fastparquet): %v", py, err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	blobs, err := blob.OpenDir(filepath.Join(dir, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlstore.Open(ctx, filepath.Join(dir, "gyre.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l := New(db, blobs)
	schema := frame.Schema{Fields: []frame.Field{{Name: "x", Kind: frame.KindFloat}, {Name: "c", Kind: frame.KindCategorical}, {Name: "__n", Kind: frame.KindInt}}}
	b := NewBuilder("titanic", "3", schema, []string{"0", "1"})
	t0 := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	in := frame.MustNew(frame.NewFloat("x", []float64{1.5, 2.5}), frame.NewCategorical("c", []string{"a", "b"}, []bool{false, true}), frame.NewInt("__n", []int64{7, 8}))
	b.AddFrame("req1", t0, in, &bundle.Prediction{Values: []float64{1, 0}, Classes: []string{"0", "1"}, Proba: []float64{.25, .75, .9, .1}})
	if err := l.LogPredictions(ctx, b.Batch()); err != nil {
		t.Fatal(err)
	}
	var digest string
	if err := db.QueryRowContext(ctx, "SELECT digest FROM prediction_log").Scan(&digest); err != nil {
		t.Fatal(err)
	}
	hex := strings.TrimPrefix(digest, "sha256:")
	path := filepath.Join(dir, "artifacts", "sha256", hex[:2], hex[2:])
	script := `import sys, pandas
df = pandas.read_parquet(sys.argv[1])
print(list(df.columns))
print(str(df["__time"][0]), df["__model"][0], df["__version"][0], df["__request_id"][1], int(df["__row"][1]))
print(df["x"].tolist(), df["c"].isna().tolist(), df["__input___n"].tolist(), df["__prediction"].tolist(), df["__proba_1"].tolist())
`
	out, err := exec.Command(py, "-c", script, path).CombinedOutput()
	if err != nil {
		t.Fatalf("pandas: %v\n%s", err, out)
	}
	want := `['__time', '__model', '__version', '__request_id', '__row', 'x', 'c', '__input___n', '__prediction', '__proba_0', '__proba_1']
2026-04-01 12:00:00+00:00 titanic 3 req1 1
[1.5, 2.5] [False, True] [7, 8] ['1', '0'] [0.75, 0.1]
`
	if string(out) != want {
		t.Errorf("pandas read:\n%s\nwant:\n%s", out, want)
	}
}
