package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const adultDir = "../../examples/data/adult/"

func gyreRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func adultPath(t *testing.T, split string) string {
	p := adultDir + "adult." + split + ".csv"
	if _, err := os.Stat(p); err != nil {
		p = "/work/shared/datasets/adult/adult." + split + ".csv"
		if _, err := os.Stat(p); err != nil {
			t.Skip("adult data set not available")
		}
	}
	return p
}

// brokenAdult writes adult's test split with age doubled and the workclass
// "Private" relabelled.
func brokenAdult(t *testing.T) string {
	fh, err := os.Open(adultPath(t, "test"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	recs, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	age, wc := slices.Index(recs[0], "age"), slices.Index(recs[0], "workclass")
	for _, r := range recs[1:] {
		v, _ := strconv.Atoi(r[age])
		r[age] = strconv.Itoa(2 * v)
		if r[wc] == "Private" {
			r[wc] = "Private-sector"
		}
	}
	path := filepath.Join(t.TempDir(), "broken.csv")
	out, _ := os.Create(path)
	w := csv.NewWriter(out)
	_ = w.WriteAll(recs)
	out.Close()
	return path
}

// TestValidateAdult: adult's test split passes against its train split; a
// copy with one numeric column doubled and one category relabelled fails
// (exit 1) naming exactly those columns, against the data file and against
// a saved profile; the HTML report is written.
func TestValidateAdult(t *testing.T) {
	train, test := adultPath(t, "train"), adultPath(t, "test")
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref.json")
	code, _, stderr := gyreRun(t, "profile", train, "--target", "class", "--save", ref, "--html", filepath.Join(dir, "eda.html"), "-q")
	if code != 0 {
		t.Fatalf("profile: exit %d: %s", code, stderr)
	}
	code, out, stderr := gyreRun(t, "validate", test, "--against", train, "--target", "class", "-q")
	if code != 0 {
		t.Fatalf("test vs train: exit %d\n%s%s", code, out, stderr)
	}
	broken := brokenAdult(t)
	for _, reference := range []string{train, ref} {
		html := filepath.Join(dir, "drift.html")
		code, out, stderr = gyreRun(t, "validate", broken, "--against", reference, "--json", "--html", html, "-q")
		if code != 1 {
			t.Fatalf("broken vs %s: exit %d, want 1\n%s", reference, code, stderr)
		}
		dec := json.NewDecoder(strings.NewReader(out))
		var rep struct {
			Passed   bool
			Findings []struct{ Check, Column, Severity string }
		}
		if err := dec.Decode(&rep); err != nil {
			t.Fatal(err)
		}
		var failed []string
		for _, f := range rep.Findings {
			if f.Severity == "error" {
				failed = append(failed, f.Column)
			}
		}
		slices.Sort(failed)
		if rep.Passed || strings.Join(failed, ",") != "age,workclass" {
			t.Errorf("broken vs %s: failed columns %v, want [age workclass]", reference, failed)
		}
		if !strings.Contains(stderr, "age, workclass") {
			t.Errorf("error message does not name the columns: %s", stderr)
		}
		if st, err := os.Stat(html); err != nil || st.Size() < 100000 {
			t.Errorf("html report not written: %v", err)
		}
	}
}

func TestValidateContractAndErrors(t *testing.T) {
	train, test := adultPath(t, "train"), adultPath(t, "test")
	dir := t.TempDir()
	code, out, stderr := gyreRun(t, "validate", "--derive", train)
	if code != 0 {
		t.Fatalf("derive: exit %d: %s", code, stderr)
	}
	contract := filepath.Join(dir, "contract.yaml")
	derived := out
	os.WriteFile(contract, []byte(derived), 0o644)
	if code, out, stderr = gyreRun(t, "validate", test, "--contract", contract); code != 0 {
		t.Fatalf("test vs derived contract: exit %d\n%s%s", code, out, stderr)
	}
	if code, _, _ = gyreRun(t, "validate", brokenAdult(t), "--contract", contract); code != 1 {
		t.Errorf("broken vs contract: exit %d, want 1", code)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(strings.Replace(derived, "max_missing_share", "max_missing_shares", 1)), 0o644)
	code, _, stderr = gyreRun(t, "validate", test, "--contract", bad)
	if code != 2 || !strings.Contains(stderr, "line ") || !strings.Contains(stderr, "max_missing_shares") {
		t.Errorf("typo in contract: exit %d, %s", code, stderr)
	}
	other := filepath.Join(dir, "other.csv")
	os.WriteFile(other, []byte("a,b\n1,2\n3,4\n"), 0o644)
	code, _, stderr = gyreRun(t, "validate", other, "--against", train)
	if code != 2 || !strings.Contains(stderr, "no column in common") {
		t.Errorf("no overlap: exit %d, %s", code, stderr)
	}
	if code, _, _ = gyreRun(t, "validate", test); code != 2 {
		t.Errorf("no --against/--contract: exit %d, want 2", code)
	}
	if code, _, _ = gyreRun(t, "validate", test, "--against", train, "--method", "age=nope"); code != 2 {
		t.Errorf("bad --method: exit %d, want 2", code)
	}
	if code, _, stderr = gyreRun(t, "profile", train, "--target", "nope", "-q"); code != 2 || !strings.Contains(stderr, "nope") {
		t.Errorf("unknown target: exit %d, %s", code, stderr)
	}
	allMissing := filepath.Join(dir, "missing.csv")
	os.WriteFile(allMissing, []byte("a,b\n1,\n2,\n3,\n"), 0o644)
	if code, out, stderr = gyreRun(t, "profile", allMissing, "--json", "-q"); code != 0 || !strings.Contains(out, "all_missing") {
		t.Errorf("all-missing column: exit %d, %s %s", code, out, stderr)
	}
}
