package predlog

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
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
	path, _ := loggedFile(t)
	script := `import sys, pandas
df = pandas.read_parquet(sys.argv[1])
print(list(df.columns))
print(str(df["__time"][0]), df["__model"][0], df["__version"][0], df["__request_id"][1], int(df["__row"][1]), int(df["__latency_ns"][1]))
print(df["x"].tolist(), df["c"].isna().tolist(), df["__input___n"].tolist(), df["__prediction"].tolist(), df["__proba_1"].tolist())
`
	out, err := exec.Command(py, "-c", script, path).CombinedOutput()
	if err != nil {
		t.Fatalf("pandas: %v\n%s", err, out)
	}
	want := `['__time', '__model', '__version', '__request_id', '__row', '__latency_ns', 'x', 'c', '__input___n', '__prediction', '__proba_0', '__proba_1']
2026-04-01 12:00:00+00:00 titanic 3 req1 1 2500000
[1.5, 2.5] [False, True] [7, 8] ['1', '0'] [0.75, 0.1]
`
	if string(out) != want {
		t.Errorf("pandas read:\n%s\nwant:\n%s", out, want)
	}
}

// loggedFile logs one classifier batch (a float, a categorical with a
// missing value, an input named with two underscores) and labels for its
// two rows, and returns the paths of the batch's and the labels' Parquet
// files in the artifact store.
func loggedFile(t *testing.T) (batch, labels string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	l := sqliteLog(t, dir)
	schema := frame.Schema{Fields: []frame.Field{{Name: "x", Kind: frame.KindFloat}, {Name: "c", Kind: frame.KindCategorical}, {Name: "__n", Kind: frame.KindInt}}}
	b := NewBuilder("titanic", "3", schema, []string{"0", "1"})
	t0 := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	in := frame.MustNew(frame.NewFloat("x", []float64{1.5, 2.5}), frame.NewCategorical("c", []string{"a", "b"}, []bool{false, true}), frame.NewInt("__n", []int64{7, 8}))
	b.AddTimedFrame("req1", t0, 2500*time.Microsecond, in, &bundle.Prediction{Values: []float64{1, 0}, Classes: []string{"0", "1"}, Proba: []float64{.25, .75, .9, .1}})
	if err := l.LogPredictions(ctx, b.Batch()); err != nil {
		t.Fatal(err)
	}
	t1 := t0.Add(90 * time.Minute)
	if err := l.LogFeedback(ctx, []Feedback{{Model: "titanic", RequestID: "req1", Row: 1, Label: "1", Time: t1}, {Model: "titanic", RequestID: "req1", Row: 0, Label: "1", Time: t1}}); err != nil {
		t.Fatal(err)
	}
	path := func(table string) string {
		var digest string
		if err := l.db.QueryRowContext(ctx, "SELECT digest FROM "+table).Scan(&digest); err != nil {
			t.Fatal(err)
		}
		hex := strings.TrimPrefix(digest, "sha256:")
		return filepath.Join(dir, "artifacts", "sha256", hex[:2], hex[2:])
	}
	return path("prediction_log"), path("feedback_log")
}

// TestHyparquetReadsLog reads a logged batch's and its labels' Parquet
// files with hyparquet,
// a JavaScript Parquet reader written apart from Gyre's (with
// hyparquet-compressors for zstd), in node. The packages come from
// GYRE_NODE_MODULES or the repository's .cache/node/node_modules, where
// .ci/run installs them; the test skips without node or them.
func TestHyparquetReadsLog(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node")
	}
	var modules string
	for _, d := range []string{os.Getenv("GYRE_NODE_MODULES"), filepath.Join("..", "..", ".cache", "node", "node_modules")} {
		if d == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "hyparquet-compressors", "package.json")); err == nil {
			modules, _ = filepath.Abs(d)
			break
		}
	}
	if modules == "" {
		t.Skip("hyparquet is not installed (.ci/run installs it into .cache/node)")
	}
	batch, labels := loggedFile(t)
	script := `import { readFileSync } from 'node:fs'
const m = process.argv[2]
const { parquetReadObjects, parquetMetadata } = await import(m + '/hyparquet/src/index.js')
const { compressors } = await import(m + '/hyparquet-compressors/src/index.js')
const time = t => t instanceof Date ? t.toISOString() : String(t)
for (const [path, row] of [
  [process.argv[3], o => [time(o.__time), o.__model, o.__version, o.__request_id, Number(o.__row), Number(o.__latency_ns), o.x, o.c ?? null, Number(o.__input___n), o.__prediction, o.__proba_1]],
  [process.argv[4], o => [time(o.__time), o.__model, o.__request_id, Number(o.__row), o.__label]],
]) {
  const buf = readFileSync(path)
  const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
  const meta = parquetMetadata(file)
  const codecs = [...new Set(meta.row_groups.flatMap(g => g.columns.map(c => c.meta_data.codec)))]
  const rows = await parquetReadObjects({ file, compressors })
  console.log(JSON.stringify({ columns: meta.schema.slice(1).map(s => s.name), codecs, rows: rows.map(row) }))
}
`
	sp := filepath.Join(t.TempDir(), "read.mjs")
	if err := os.WriteFile(sp, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, sp, modules, batch, labels).CombinedOutput()
	if err != nil {
		t.Fatalf("hyparquet: %v\n%s", err, out)
	}
	want := `{"columns":["__time","__model","__version","__request_id","__row","__latency_ns","x","c","__input___n","__prediction","__proba_0","__proba_1"],"codecs":["ZSTD"],` +
		`"rows":[["2026-04-01T12:00:00.000Z","titanic","3","req1",0,2500000,1.5,"a",7,"1",0.75],["2026-04-01T12:00:00.000Z","titanic","3","req1",1,2500000,2.5,null,8,"0",0.1]]}` + "\n" +
		`{"columns":["__time","__model","__request_id","__row","__label"],"codecs":["ZSTD"],` +
		`"rows":[["2026-04-01T13:30:00.000Z","titanic","req1",1,"1"],["2026-04-01T13:30:00.000Z","titanic","req1",0,"1"]]}`
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("hyparquet read:\n%s\nwant:\n%s", got, want)
	}
}
