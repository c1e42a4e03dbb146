package cli

import (
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
