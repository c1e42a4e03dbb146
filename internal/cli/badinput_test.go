package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/train"
)

// TestBadInput: each case of the bad-input list is refused with exit 2
// and a message naming what is wrong, before any long work starts.
func TestBadInput(t *testing.T) {
	dir := isolate(t)
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	u := utf16.Encode([]rune("a,b,y\n1,2,0\n3,4,1\n5,6,0\n"))
	u16 := make([]byte, 0, 2*len(u))
	for _, x := range u {
		u16 = append(u16, byte(x), byte(x>>8))
	}
	header := write("header.csv", "a,b\n")
	constant := write("const.csv", "a,b,y\n1,2,5\n3,4,5\n5,6,5\n7,8,5\n")
	nul := write("nul.csv", "a,b\n1,\x002\n3,4\n")
	dup := write("dup.csv", "a,a,y\n1,2,0\n3,4,1\n")
	utf := write("u16.csv", string(u16))
	random := write("random.gyre", strings.Repeat("\x8f\x01garbage", 40))
	// A real bundle cut short.
	good := filepath.Join(dir, "good.gyre")
	if code, _, errs := runCLI(t, "train", titanicTrain, "--target", "Survived", "--learner", "decision_tree", "--out", good, "--json"); code != 0 {
		t.Fatalf("train: %d %s", code, errs)
	}
	data, _ := os.ReadFile(good)
	truncated := write("truncated.gyre", string(data[:len(data)/2]))
	missingDir := filepath.Join(dir, "no", "such", "dir")

	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"register random bytes", []string{"models", "register", "r1", random}, "not a valid Gyre bundle"},
		{"register a truncated bundle", []string{"models", "register", "r2", truncated}, "not a valid Gyre bundle"},
		{"register name checked before training", []string{"train", titanicTrain, "--target", "Survived", "--register", "../evil"}, `"../evil"`},
		{"automl register name", []string{"automl", titanicTrain, "--target", "Survived", "--register", "../evil"}, `"../evil"`},
		{"budget 0s", []string{"automl", titanicTrain, "--target", "Survived", "--budget", "0s"}, "--budget"},
		{"constant target", []string{"train", constant, "--target", "y"}, `one value "5" in all 4 rows`},
		{"header-only profile", []string{"profile", header}, "no data rows"},
		{"header-only split", []string{"split", header, "--out-dir", filepath.Join(dir, "parts")}, "no data rows"},
		{"bins 0", []string{"profile", titanicTrain, "--bins", "0"}, "--bins 0"},
		{"NUL bytes", []string{"data", "inspect", nul}, "NUL byte"},
		{"duplicate header", []string{"data", "inspect", dup}, "--rename-duplicates"},
		{"train bad --out", []string{"train", titanicTrain, "--target", "Survived", "--out", filepath.Join(missingDir, "m.gyre")}, "does not exist"},
		{"automl bad --out", []string{"automl", titanicTrain, "--target", "Survived", "--trials", "1", "--out", filepath.Join(missingDir, "m.gyre")}, "does not exist"},
		{"predict bad --out", []string{"predict", good, titanicTest, "--out", filepath.Join(missingDir, "p.csv")}, "p.csv"},
		{"convert bad output", []string{"data", "convert", titanicTrain, filepath.Join(missingDir, "x.parquet")}, "x.parquet"},
		{"profile bad --html", []string{"profile", titanicTrain, "--html", filepath.Join(missingDir, "x.html")}, "x.html"},
		{"automl unknown learner", []string{"automl", titanicTrain, "--target", "Survived", "--trials", "2", "--learners", "nope"}, `unknown learner "nope"`},
		{"automl learner without a space", []string{"automl", titanicTrain, "--target", "Survived", "--trials", "2", "--learners", "kmeans"}, "kmeans"},
		{"serve negative body limit", []string{"serve", good, "--max-body-bytes", "-1"}, "--max-body-bytes -1"},
		{"train unknown learner", []string{"train", titanicTrain, "--target", "Survived", "--learner", "nope"}, `unknown learner "nope"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			code, _, errs := runCLI(t, c.args...)
			if code != 2 || !strings.Contains(errs, c.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 naming %q", code, errs, c.want)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v: the input should be refused before the work", d)
			}
		})
	}
	// Accepted with the flag or transcoded: duplicates with
	// --rename-duplicates, UTF-16 without a byte-order mark.
	if code, out, errs := runCLI(t, "--rename-duplicates", "data", "inspect", dup); code != 0 || !strings.Contains(out, "a.1") {
		t.Errorf("--rename-duplicates: %d %s %s", code, out, errs)
	}
	if code, out, errs := runCLI(t, "data", "inspect", utf); code != 0 || !strings.Contains(out, "3 rows × 3 columns") {
		t.Errorf("UTF-16 without BOM: %d %s %s", code, out, errs)
	}
}

// TestPipelineInputExitCodes: a pipeline whose source or target is missing
// exits 2 (the project is wrong), not 1.
func TestPipelineInputExitCodes(t *testing.T) {
	dir := isolate(t)
	src, err := filepath.Abs(titanicTrain)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct{ source, target string }{
		"missing source": {filepath.Join(dir, "missing.csv"), "Survived"},
		"missing target": {src, "nope"},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".yaml")
		yaml := "version: 1\nname: t\nproblem:\n  target: " + c.target + "\ndata:\n  source: " + c.source + "\n"
		if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errs := runCLI(t, "pipeline", "run", p)
		if code != 2 {
			t.Errorf("%s: exit %d (%s), want 2", name, code, errs)
		}
	}
}

// tinyBundle writes a small real bundle (a decision tree on titanic) and
// returns its path.
func tinyBundle(t *testing.T) string {
	t.Helper()
	f, err := ingest.Read(t.Context(), titanicTrain, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := train.NewProblem(f, "Survived", learn.TaskInvalid)
	if err != nil {
		t.Fatal(err)
	}
	b, err := train.Fit(t.Context(), p, train.Options{Learner: "decision_tree"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.gyre")
	if err := b.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}
