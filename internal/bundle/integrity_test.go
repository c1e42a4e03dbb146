package bundle_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/bundle"
)

func TestIntegrity(t *testing.T) {
	legacy, err := os.ReadFile("testdata/legacy-titanic-tree.gyre")
	if err != nil {
		t.Fatal(err)
	}
	old, err := bundle.Decode(legacy)
	if err != nil {
		t.Fatalf("a bundle written before integrity records no longer loads: %v", err)
	}
	if old.Integrity.Digest != "" || old.Integrity.Signed() || !old.Integrity.Legacy || old.Manifest.Format >= bundle.FormatVersion {
		t.Errorf("legacy bundle: format %d, integrity %+v", old.Manifest.Format, old.Integrity)
	}
	if w := old.Warning(); !strings.Contains(w, "no integrity record") {
		t.Errorf("legacy bundle warning %q", w)
	}
	data, err := old.Encode()
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Decode(data)
	if err != nil || b.Integrity.Digest == "" || b.Integrity.Legacy || b.Warning() != "" || b.Manifest.Format != bundle.FormatVersion {
		t.Fatalf("re-saved: %v %+v (format %d, warning %q)", err, b.Integrity, b.Manifest.Format, b.Warning())
	}
	for _, c := range []struct {
		name, entry string
		edit        func([]byte) []byte
		want        string
	}{
		{"classes edited", "manifest.json", func(m []byte) []byte {
			return bytes.Replace(m, []byte(`"classes": [
    "0",
    "1"
  ]`), []byte(`"classes": [
    "1",
    "0"
  ]`), 1)
		}, "manifest.json was edited"},
		{"file list deleted", "manifest.json", func(m []byte) []byte {
			i := bytes.Index(m, []byte(`"files"`))
			return append(append([]byte{}, m[:i]...), []byte(`"files": {}}`)...)
		}, "manifest.json was edited"},
		{"model changed", "members/0/model.bin", func(m []byte) []byte { m[len(m)-1] ^= 1; return m }, "members/0/model.bin was changed"},
		{"entry removed", "profile.json", func([]byte) []byte { return nil }, "profile.json is missing"},
	} {
		bad := rewriteEntry(t, data, c.entry, c.edit)
		if bytes.Equal(bad, data) {
			t.Fatalf("%s: the edit changed nothing", c.name)
		}
		if _, err := bundle.Decode(bad); !errors.Is(err, bundle.ErrCorrupt) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	// Without the integrity record, a manifest with no file list is
	// refused rather than read unverified.
	stripped := rewriteEntry(t, rewriteEntry(t, data, "integrity.json", func([]byte) []byte { return nil }), "manifest.json", func(m []byte) []byte {
		i := bytes.Index(m, []byte(`"files"`))
		return append(append([]byte{}, m[:i]...), []byte(`"files": {}}`)...)
	})
	if _, err := bundle.Decode(stripped); !errors.Is(err, bundle.ErrCorrupt) {
		t.Errorf("no record and no file list: %v", err)
	}
	// A current-format bundle whose record was deleted is refused even
	// when its manifest's file list is intact and its classes untouched:
	// the record is what covers the manifest, so its absence is not
	// taken for a legacy bundle.
	deleted := rewriteEntry(t, data, "integrity.json", func([]byte) []byte { return nil })
	if _, err := bundle.Decode(deleted); !errors.Is(err, bundle.ErrCorrupt) || !strings.Contains(err.Error(), "integrity.json is missing") {
		t.Errorf("format %d without integrity.json: %v", bundle.FormatVersion, err)
	}
	// ... and so is one whose record was deleted and classes swapped.
	swapped := rewriteEntry(t, deleted, "manifest.json", func(m []byte) []byte {
		return bytes.Replace(m, []byte(`"0",
    "1"`), []byte(`"1",
    "0"`), 1)
	})
	if bytes.Equal(swapped, deleted) {
		t.Fatal("the classes edit changed nothing")
	}
	if _, err := bundle.Decode(swapped); !errors.Is(err, bundle.ErrCorrupt) {
		t.Errorf("record deleted and classes swapped: %v", err)
	}
}

func TestSignAndVerify(t *testing.T) {
	dir := t.TempDir()
	privPEM, pubPEM, err := bundle.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "k"), privPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "k.pub"), pubPEM, 0o644)
	priv, err := bundle.ReadPrivateKey(filepath.Join(dir, "k"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := bundle.ReadPublicKey(filepath.Join(dir, "k.pub"))
	if err != nil {
		t.Fatal(err)
	}
	_, otherPEM, _ := bundle.GenerateKey()
	os.WriteFile(filepath.Join(dir, "o.pub"), otherPEM, 0o644)
	other, _ := bundle.ReadPublicKey(filepath.Join(dir, "o.pub"))

	legacy, _ := os.ReadFile("testdata/legacy-titanic-tree.gyre")
	unsigned, _ := bundle.Decode(legacy)
	if err := unsigned.Verify(pub); !errors.Is(err, bundle.ErrUnsigned) {
		t.Errorf("unsigned: %v", err)
	}
	signed, err := bundle.Sign(legacy, priv)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Decode(signed)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Verify(pub); err != nil {
		t.Errorf("signed: %v", err)
	}
	if err := b.Verify(other); !errors.Is(err, bundle.ErrSignature) {
		t.Errorf("another key: %v", err)
	}
	// Tampering with a signed bundle breaks its digest; re-computing the
	// record (as an attacker without the key can) drops the signature.
	tampered := rewriteEntry(t, signed, "members/0/model.bin", func(m []byte) []byte { m[0] ^= 1; return m })
	if _, err := bundle.Decode(tampered); !errors.Is(err, bundle.ErrCorrupt) {
		t.Errorf("tampered signed bundle: %v", err)
	}
	if _, err := bundle.Sign(tampered, priv); err == nil {
		t.Errorf("a tampered bundle was signed")
	}
}

// TestWriteKeyPair writes a readable pair with a private file only its
// owner reads, and never replaces an existing key.
func TestWriteKeyPair(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "release")
	priv, pub, err := bundle.WriteKeyPair(prefix)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(priv); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("%s: %v, mode %v; want 0600", priv, err, st.Mode().Perm())
	}
	k, err := bundle.ReadPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	p, err := bundle.ReadPublicKey(pub)
	if err != nil || !p.Equal(k.Public()) {
		t.Errorf("public key %s: %v, or not the private key's", pub, err)
	}
	var ke *bundle.KeyFileError
	if _, _, err := bundle.WriteKeyPair(prefix); !errors.As(err, &ke) || !errors.Is(err, os.ErrExist) {
		t.Errorf("over an existing key: %v, want a *KeyFileError for an existing file", err)
	}
	if k2, err := bundle.ReadPrivateKey(priv); err != nil || !k2.Equal(k) {
		t.Errorf("the existing private key changed: %v", err)
	}
}
