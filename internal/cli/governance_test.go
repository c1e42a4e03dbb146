package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// titanicPII declares titanic's passenger names and tickets personal data.
const titanicPII = `version: 1
allow_extra_columns: true
columns:
  - {name: Name, type: string, pii: hash}
  - {name: Ticket, type: string, pii: drop}
`

// TestProfileMasksPII: with a contract, the EDA report holds no passenger
// name (hashes instead) and no Ticket column; without it, the names are
// there (the test would pass vacuously otherwise).
func TestProfileMasksPII(t *testing.T) {
	dir := isolate(t)
	contract := filepath.Join(dir, "contract.yaml")
	if err := os.WriteFile(contract, []byte(titanicPII), 0o600); err != nil {
		t.Fatal(err)
	}
	plain, masked := filepath.Join(dir, "plain.html"), filepath.Join(dir, "masked.html")
	if code, out, errs := runCLI(t, "profile", titanicTrain, "--html", plain, "-q"); code != 0 {
		t.Fatalf("profile: %d %s %s", code, out, errs)
	}
	if code, out, errs := runCLI(t, "profile", titanicTrain, "--contract", contract, "--html", masked, "--json", "-q"); code != 0 {
		t.Fatalf("profile --contract: %d %s %s", code, out, errs)
	} else if strings.Contains(out, "Moran, Mr. Daniel J") || !strings.Contains(out, "pii:") {
		t.Error("the JSON profile shows a passenger name or no hash")
	}
	p, _ := os.ReadFile(plain)
	m, _ := os.ReadFile(masked)
	if !strings.Contains(string(p), `"Ticket"`) {
		t.Fatal("the plain report has no Ticket column: the check below would be vacuous")
	}
	for _, leak := range []string{"Moran, Mr. Daniel J", `"Ticket"`, "PC 17612"} {
		if strings.Contains(string(m), leak) {
			t.Errorf("masked report contains %q", leak)
		}
	}
	if code, _, errs := runCLI(t, "profile", titanicTrain, "--contract", filepath.Join(dir, "missing.yaml")); code != 2 || !strings.Contains(errs, "missing.yaml") {
		t.Errorf("missing contract: exit %d, %s", code, errs)
	}
}

// TestClassifyCLI: classifications set from the CLI show in data log and
// models list; a bad class is exit 2 naming the choices.
func TestClassifyCLI(t *testing.T) {
	isolate(t)
	if code, out, errs := runCLI(t, "data", "version", titanicTrain, "--name", "titanic"); code != 0 {
		t.Fatalf("data version: %d %s %s", code, out, errs)
	}
	if code, out, errs := runCLI(t, "data", "classify", "titanic", "pii"); code != 0 || !strings.Contains(out, "titanic@1: pii") {
		t.Fatalf("data classify: %d %q %s", code, out, errs)
	}
	if _, out, _ := runCLI(t, "data", "log", "titanic"); !strings.Contains(out, "pii") {
		t.Errorf("data log does not show the class:\n%s", out)
	}
	if code, _, errs := runCLI(t, "data", "classify", "titanic", "secret"); code != 2 || !strings.Contains(errs, "public, internal or pii") {
		t.Errorf("bad class: exit %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "models", "classify", "nosuch", "pii"); code != 2 {
		t.Errorf("unknown model: exit %d %s", code, errs)
	}
}

// titanicPIIValidate adds a hashed column with allowed categories, whose
// values not allowed are named (hashed) in the findings.
const titanicPIIValidate = titanicPII + `  - {name: Embarked, type: string, categories: [S, C], max_out_of_range_share: 1, pii: hash}
`

// TestValidateMasksPII: validate's findings, JSON and HTML report name no
// value of a PII column: hashed values (the same hashes as profile's), a
// dropped column absent; a saved reference holding a PII column unmasked is
// refused, one saved with the contract is taken.
func TestValidateMasksPII(t *testing.T) {
	dir := isolate(t)
	contract := filepath.Join(dir, "contract.yaml")
	if err := os.WriteFile(contract, []byte(titanicPIIValidate), 0o600); err != nil {
		t.Fatal(err)
	}
	test := filepath.Join(filepath.Dir(titanicTrain), "titanic.test.csv")
	code, out, errs := runCLI(t, "validate", test, "--contract", contract, "--json")
	if code != 0 {
		t.Fatalf("validate --contract: %d %s %s", code, out, errs)
	}
	var rep struct {
		Findings []struct{ Check, Column, Message string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range rep.Findings {
		if f.Check == "new_category" && f.Column == "Embarked" {
			found = true
			if !strings.Contains(f.Message, `"pii:`) || strings.Contains(f.Message, `"Q"`) {
				t.Errorf("Embarked's finding names a raw value or no hash: %s", f.Message)
			}
		}
	}
	if !found {
		t.Fatalf("no new_category finding on Embarked (Q is not allowed): %s", out)
	}
	page := filepath.Join(dir, "drift.html")
	if code, out, errs := runCLI(t, "validate", test, "--against", titanicTrain, "--contract", contract, "--html", page, "-q"); code > 1 {
		t.Fatalf("validate --against --contract: %d %s %s", code, out, errs)
	}
	plain := filepath.Join(dir, "plain.html")
	if code, out, errs := runCLI(t, "validate", test, "--against", titanicTrain, "--html", plain, "-q"); code > 1 {
		t.Fatalf("validate --against: %d %s %s", code, out, errs)
	}
	m, _ := os.ReadFile(page)
	p, _ := os.ReadFile(plain)
	for _, leak := range []string{"Ticket", `"220845"`} {
		if !strings.Contains(string(p), leak) {
			t.Fatalf("the unmasked report lacks %q: the check below would be vacuous", leak)
		}
		if strings.Contains(string(m), leak) {
			t.Errorf("the masked report contains %q", leak)
		}
	}
	raw, masked := filepath.Join(dir, "raw.json"), filepath.Join(dir, "masked.json")
	runCLI(t, "profile", titanicTrain, "--save", raw, "-q")
	runCLI(t, "profile", titanicTrain, "--contract", contract, "--save", masked, "-q")
	if code, _, errs := runCLI(t, "validate", test, "--against", raw, "--contract", contract); code != 2 || !strings.Contains(errs, "unmasked") {
		t.Errorf("a raw saved reference: exit %d, %s", code, errs)
	}
	if code, out, errs := runCLI(t, "validate", test, "--against", masked, "--contract", contract, "--json"); code > 1 || strings.Contains(out, "Moran, Mr. James") {
		t.Errorf("a masked saved reference: exit %d, %.300s %s", code, out, errs)
	}
}
