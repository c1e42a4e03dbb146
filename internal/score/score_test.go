package score_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/ingest"
	_ "github.com/gyre-ml/gyre/internal/learn/all" // the built-in learners
	"github.com/gyre-ml/gyre/internal/score"
	"github.com/gyre-ml/gyre/internal/train"
	"github.com/gyre-ml/gyre/internal/train/traintest"
)

const (
	trainCSV = "../../examples/data/adult/adult.train.csv"
	testCSV  = "../../examples/data/adult/adult.test.csv"
)

func fitAdult(t *testing.T) *bundle.Bundle {
	t.Helper()
	return traintest.Fit(t, trainCSV, "class", train.Options{Learner: "gbdt", Params: map[string]string{"n_estimators": "20"}, Seed: 1})
}

// TestStreamInOrder scores the test set in chunks of 700 rows on 4 workers
// and checks every output row is the whole-frame prediction of its input
// row, in order.
func TestStreamInOrder(t *testing.T) {
	b := fitAdult(t)
	whole, err := ingest.Read(t.Context(), testCSV, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := b.Predict(whole)
	if err != nil {
		t.Fatal(err)
	}
	// JSON Lines is cut at exactly ChunkRows lines: 14 chunks.
	src := filepath.Join(t.TempDir(), "test.jsonl")
	if err := ingest.Write(t.Context(), whole, src); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := ingest.NewChunkWriter(&buf, "csv")
	if err != nil {
		t.Fatal(err)
	}
	var calls int
	var last int64
	st, err := score.Stream(t.Context(), b, src, w, score.Options{
		Ingest: ingest.Options{Schema: score.Schema(b), Columns: b.Manifest.Input.Names()}, ChunkRows: 700, Workers: 4,
		Progress: func(done, total int64) {
			if done < last {
				t.Errorf("progress went back from %d to %d", last, done)
			}
			calls, last = calls+1, done
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if st.Unseen == nil || calls != (whole.NumRows()+699)/700 {
		t.Errorf("stats %+v, %d progress calls for %d rows", st, calls, whole.NumRows())
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != whole.NumRows()+1 || !strings.HasPrefix(lines[0], "prediction,proba_") {
		t.Fatalf("%d lines, header %q", len(lines), lines[0])
	}
	for i, line := range lines[1:] {
		f := strings.Split(line, ",")
		p1, _ := strconv.ParseFloat(f[2], 64)
		if strings.Trim(f[0], `"`) != want.Label(i) || p1 != want.Proba[2*i+1] {
			t.Fatalf("row %d: %q, want %s,%v", i, line, want.Label(i), want.Proba[2*i+1])
		}
	}
}

// TestStreamErrors: a bad value is the source's error (naming its line);
// a writer that fails is an OutputError.
func TestStreamErrors(t *testing.T) {
	b := fitAdult(t)
	w, err := ingest.NewChunkWriter(failWriter{}, "csv")
	if err != nil {
		t.Fatal(err)
	}
	_, err = score.Stream(t.Context(), b, testCSV, w, score.Options{Ingest: ingest.Options{Schema: score.Schema(b)}, ChunkRows: 50})
	var oe *score.OutputError
	if !errors.As(err, &oe) {
		t.Errorf("failing writer: %v, want an OutputError", err)
	}
	lines := strings.Split(readFile(t, testCSV), "\n")
	f := strings.Split(lines[7999], ",")
	f[0] = "three" // age
	lines[7999] = strings.Join(f, ",")
	src := strings.Join(lines, "\n")
	w, _ = ingest.NewChunkWriter(&bytes.Buffer{}, "csv")
	_, err = score.Stream(t.Context(), b, "-", w, score.Options{Ingest: ingest.Options{Stdin: strings.NewReader(src), Schema: score.Schema(b)}, ChunkRows: 500})
	if err == nil || errors.As(err, &oe) || !strings.Contains(err.Error(), "three") || !strings.Contains(err.Error(), ":8000:") {
		t.Errorf("bad value: %v, want an input error naming it", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
