package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/ingest"
)

const (
	adultTrainCSV = "../../examples/data/adult/adult.train.csv"
	adultTestCSV  = "../../examples/data/adult/adult.test.csv"
)

// trainAdult trains a small GBDT bundle on adult.
func trainAdult(t *testing.T, dir string) string {
	t.Helper()
	model := filepath.Join(dir, "adult.gyre")
	code, out, errs := runCLI(t, "train", adultTrainCSV, "--target", "class", "--learner", "gbdt", "--set", "n_estimators=30", "--out", model, "--json")
	if code != 0 {
		t.Fatalf("train exit %d: %s %s", code, out, errs)
	}
	return model
}

// TestPredictStreamsLikeWholeFrame checks that streamed, chunked, parallel
// scoring writes exactly what bundle.Predict gives on the whole test set, in
// order, for every output format.
func TestPredictStreamsLikeWholeFrame(t *testing.T) {
	dir := isolate(t)
	model := trainAdult(t, dir)
	b, err := bundle.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	test, err := ingest.Read(t.Context(), adultTestCSV, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := b.Predict(test)
	if err != nil {
		t.Fatal(err)
	}
	k := len(want.Classes)
	for _, ext := range []string{".csv", ".parquet", ".jsonl"} {
		t.Run(ext, func(t *testing.T) {
			out := filepath.Join(dir, "p"+ext)
			code, stdout, errs := runCLI(t, "predict", model, adultTestCSV, "--out", out, "--chunk-rows", "700", "--json")
			if code != 0 {
				t.Fatalf("predict exit %d: %s", code, errs)
			}
			var res predictResult
			if err := json.Unmarshal([]byte(stdout), &res); err != nil {
				t.Fatalf("--json: %v: %s", err, stdout)
			}
			if res.Rows != test.NumRows() || res.RowsPerSecond <= 0 {
				t.Errorf("--json: %+v", res)
			}
			got, err := ingest.Read(t.Context(), out, ingest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got.NumRows() != test.NumRows() || got.NumCols() != 1+k {
				t.Fatalf("output %dx%d, want %dx%d", got.NumRows(), got.NumCols(), test.NumRows(), 1+k)
			}
			pred, _ := got.Column("prediction")
			for i := 0; i < test.NumRows(); i++ {
				if pred.Format(i) != want.Label(i) {
					t.Fatalf("row %d: prediction %q, want %q", i, pred.Format(i), want.Label(i))
				}
				for c, name := range want.Classes {
					col, err := got.Column("proba_" + name)
					if err != nil {
						t.Fatal(err)
					}
					v, _ := strconv.ParseFloat(col.Format(i), 64)
					if v != want.Proba[i*k+c] {
						t.Fatalf("row %d class %s: %v, want %v", i, name, v, want.Proba[i*k+c])
					}
				}
			}
		})
	}
	// --keep-input keeps every input column (the target too) before the
	// predictions.
	out := filepath.Join(dir, "keep.csv")
	if code, _, errs := runCLI(t, "predict", model, adultTestCSV, "--out", out, "--keep-input", "--chunk-rows", "3000"); code != 0 {
		t.Fatalf("predict --keep-input exit %d: %s", code, errs)
	}
	got, err := ingest.Read(t.Context(), out, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got.NumCols() != test.NumCols()+1+k || got.Names()[0] != "age" || got.Names()[test.NumCols()] != "prediction" {
		t.Errorf("--keep-input columns %v", got.Names())
	}
	// Without --out, CSV goes to stdout.
	code, stdout, errs := runCLI(t, "predict", model, adultTestCSV)
	if code != 0 {
		t.Fatalf("predict to stdout exit %d: %s", code, errs)
	}
	if lines := strings.Count(stdout, "\n"); lines != test.NumRows()+1 || !strings.HasPrefix(stdout, "prediction,proba_") {
		t.Errorf("stdout: %d lines, starts %q", lines, stdout[:min(len(stdout), 40)])
	}
}

// TestPredictBadRowLeavesNoOutput: a malformed value deep in the file fails
// with its line and column, exit code 2, and no output file.
func TestPredictBadRowLeavesNoOutput(t *testing.T) {
	dir := isolate(t)
	model := trainAdult(t, dir)
	data, err := os.ReadFile(adultTestCSV)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	fields := strings.Split(lines[7999], ",")
	fields[0] = "forty" // age
	lines[7999] = strings.Join(fields, ",")
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{".csv", ".parquet"} {
		out := filepath.Join(dir, "out"+ext)
		code, _, errs := runCLI(t, "predict", model, bad, "--out", out, "--chunk-rows", "500")
		if code != 2 {
			t.Errorf("exit %d, want 2: %s", code, errs)
		}
		if !strings.Contains(errs, ":8000:") || !strings.Contains(errs, `"age"`) || !strings.Contains(errs, "forty") {
			t.Errorf("error does not name line 8000, column age and the value: %s", errs)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "out") || strings.HasPrefix(e.Name(), ".out") {
			t.Errorf("left %s behind", e.Name())
		}
	}
	// A source without a column the model needs is an input error naming it.
	code, _, errs := runCLI(t, "predict", model, titanicTest, "--out", filepath.Join(dir, "x.csv"))
	if code != 2 || !strings.Contains(errs, "age") {
		t.Errorf("missing column: exit %d: %s", code, errs)
	}
}

// TestBundlePredictConcurrent checks that bundle.Predict is safe for
// concurrent use (run with -race) and gives the same answer on every
// goroutine.
func TestBundlePredictConcurrent(t *testing.T) {
	dir := isolate(t)
	b, err := bundle.Load(trainAdult(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	test, err := ingest.Read(t.Context(), adultTestCSV, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := b.Predict(test)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]string, 4)
	for g := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := b.Predict(test)
			if err != nil {
				errs[g] = err.Error()
				return
			}
			for i := range p.Proba {
				if p.Proba[i] != want.Proba[i] {
					errs[g] = "probabilities differ"
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != "" {
			t.Error(e)
		}
	}
}
