package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/dataprep"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
)

const (
	titanicRecipe     = "../../examples/recipes/titanic.yaml"
	titanicPrepSource = "../../examples/data/titanic/titanic.train.csv"
)

// runGyre executes the CLI and returns exit code, stdout and stderr.
func runGyre(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// TestSplitThenPrepareTitanic is the acceptance test: split the
// Titanic data, fit the recipe on the training part, apply the saved fitted
// recipe to validation and test, and check clean, encoded, aligned output.
func TestSplitThenPrepareTitanic(t *testing.T) {
	dir := t.TempDir()
	source := titanicPrepSource
	if _, err := os.Stat("/work/shared/datasets/titanic/titanic.train.csv"); err == nil {
		source = "/work/shared/datasets/titanic/titanic.train.csv"
	}
	code, out, errs := runGyre(t, "split", source, "--stratify", "Survived", "--seed", "7", "--out-dir", dir, "--json")
	if code != 0 {
		t.Fatalf("split exit %d: %s %s", code, out, errs)
	}
	var sr dataprep.SplitResult
	if err := json.Unmarshal([]byte(out), &sr); err != nil {
		t.Fatalf("split --json: %v\n%s", err, out)
	}
	if len(sr.Parts) != 3 || sr.Parts[0].Rows+sr.Parts[1].Rows+sr.Parts[2].Rows != sr.Rows || sr.Rows != 713 {
		t.Fatalf("split parts %+v of %d rows", sr.Parts, sr.Rows)
	}
	fitted := filepath.Join(dir, "titanic.fitted.json")
	var names []string
	for i, part := range []string{"train", "valid", "test"} {
		in := sr.Parts[i].Path
		dest := filepath.Join(dir, part+".clean.parquet")
		args := []string{"prepare", in, "--out", dest, "--json"}
		if i == 0 {
			args = append(args, "--recipe", titanicRecipe, "--save-fitted", fitted)
		} else {
			args = append(args, "--fitted", fitted)
		}
		code, out, errs := runGyre(t, args...)
		if code != 0 {
			t.Fatalf("prepare %s exit %d: %s %s", part, code, out, errs)
		}
		var pr dataprep.PrepareResult
		if err := json.Unmarshal([]byte(out), &pr); err != nil {
			t.Fatalf("prepare --json: %v\n%s", err, out)
		}
		if pr.Missing != 0 || pr.RowsOut != sr.Parts[i].Rows {
			t.Errorf("%s: %d missing, %d rows (want 0, %d)", part, pr.Missing, pr.RowsOut, sr.Parts[i].Rows)
		}
		f, err := ingest.Read(t.Context(), dest, ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range f.Columns() {
			if c.NullCount() > 0 {
				t.Errorf("%s: column %q has %d missing values", part, c.Name(), c.NullCount())
			}
			if c.Kind() == frame.KindString || c.Kind() == frame.KindCategorical {
				t.Errorf("%s: column %q is still %s", part, c.Name(), c.Kind())
			}
		}
		if i == 0 {
			names = f.Names()
			for _, want := range []string{"Sex=male", "Embarked=s", "Age_missing", "Survived"} {
				if f.Index(want) < 0 {
					t.Errorf("train output lacks %q: %v", want, names)
				}
			}
		} else if !reflect.DeepEqual(f.Names(), names) {
			t.Errorf("%s columns differ from train:\n got %v\nwant %v", part, f.Names(), names)
		}
	}
	if b, err := os.ReadFile(fitted); err != nil || !strings.Contains(string(b), `"onehot"`) {
		t.Errorf("fitted recipe not recorded: %v", err)
	}

	// Fitting on one file and applying to another in one go matches --fitted.
	alt := filepath.Join(dir, "test.alt.parquet")
	if code, _, errs := runGyre(t, "prepare", sr.Parts[2].Path, "--recipe", titanicRecipe,
		"--fit-on", sr.Parts[0].Path, "--out", alt); code != 0 {
		t.Fatalf("prepare --fit-on: %s", errs)
	}
	a, _ := ingest.Read(t.Context(), alt, ingest.Options{})
	b, _ := ingest.Read(t.Context(), filepath.Join(dir, "test.clean.parquet"), ingest.Options{})
	if !reflect.DeepEqual(a.Names(), b.Names()) || a.NumRows() != b.NumRows() {
		t.Errorf("--fit-on output differs from --fitted output")
	}
}

func TestPrepareSplitErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("target: Survived\nsteps:\n  - step: impute\n    stratgy: mean\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
		text string
	}{
		{[]string{"prepare", titanicPrepSource, "--recipe", bad, "--out", filepath.Join(dir, "o.csv")}, 2, "bad.yaml:4"},
		{[]string{"prepare", titanicPrepSource, "--out", filepath.Join(dir, "o.csv")}, 2, "--recipe"},
		{[]string{"prepare", titanicPrepSource, "--recipe", titanicRecipe}, 2, "--out"},
		{[]string{"split", titanicPrepSource, "--out-dir", dir, "--train", "0.9"}, 2, "sum to 1"},
		{[]string{"split", titanicPrepSource, "--out-dir", dir, "--stratify", "Nope"}, 2, "Nope"},
		{[]string{"split", titanicPrepSource, "--out-dir", dir, "--stratify", "Sex", "--group", "Pclass"}, 2, "only one"},
	}
	for _, tt := range tests {
		code, _, errs := runGyre(t, tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.text) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tt.args, code, errs, tt.code, tt.text)
		}
	}
}
