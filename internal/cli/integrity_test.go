package cli

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSignedServing: keygen, sign, and a server given the public key
// refuses an unsigned or tampered bundle before it listens.
func TestSignedServing(t *testing.T) {
	dir := isolate(t)
	model := tinyBundle(t)
	prefix := filepath.Join(dir, "release")
	if code, _, errs := runCLI(t, "models", "keygen", prefix); code != 0 {
		t.Fatalf("keygen: %d %s", code, errs)
	}
	if st, err := os.Stat(prefix + ".key"); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v (%v), want 0600", st.Mode(), err)
	}
	if code, _, _ := runCLI(t, "models", "keygen", prefix); code != 2 {
		t.Errorf("keygen over an existing key: exit %d, want 2", code)
	}
	code, _, errs := runCLI(t, "serve", model, "--verify-key", prefix+".pub", "--addr", "127.0.0.1:0")
	if code != 2 || !strings.Contains(errs, "not signed") {
		t.Errorf("unsigned bundle served: %d %s", code, errs)
	}
	signed := filepath.Join(dir, "signed.gyre")
	if code, out, errs := runCLI(t, "models", "sign", model, "--key", prefix+".key", "--out", signed); code != 0 || !strings.Contains(out, "signed") {
		t.Fatalf("sign: %d %s %s", code, out, errs)
	}
	// A different key's server refuses it.
	other := filepath.Join(dir, "other")
	runCLI(t, "models", "keygen", other)
	code, _, errs = runCLI(t, "serve", signed, "--verify-key", other+".pub", "--addr", "127.0.0.1:0")
	if code != 2 || !strings.Contains(errs, "does not verify") {
		t.Errorf("bundle signed by another key: %d %s", code, errs)
	}
}

// TestStorePermissions: the store's database and blobs are the owner's
// only.
func TestStorePermissions(t *testing.T) {
	dir := isolate(t)
	if code, _, errs := runCLI(t, "data", "version", titanicTrain, "--name", "titanic"); code != 0 {
		t.Fatalf("data version: %d %s", code, errs)
	}
	home := filepath.Join(dir, ".gyre")
	err := filepath.WalkDir(home, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, _ := d.Info()
		if mode := st.Mode().Perm(); mode&0o077 != 0 {
			t.Errorf("%s: mode %v is open to others", p, mode)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
