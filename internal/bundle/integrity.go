package bundle

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// Integrity. Every bundle Save writes carries integrity.json: the SHA-256
// of every other archive entry, manifest.json included, and a digest over
// that list (one "sha256-hex  name" line per entry, sorted by name). Decode
// recomputes both, so editing the manifest (its classes, say), deleting
// its file list, or adding, removing or changing any entry is detected.
// The digest may be signed with an Ed25519 key (Sign); a server given the
// public key (Verify) refuses unsigned bundles and bundles whose
// signature does not match. The record is part of format 4: a format 4
// bundle without it is refused. Bundles of older formats, written before
// integrity.json existed, still load when no key is required, provided
// their manifest lists every entry the bundle holds; Integrity.Legacy says
// so and Bundle.Warning words it.

// integrityEntry is the archive entry holding the integrity record.
const integrityEntry = "integrity.json"

// ErrUnsigned: a signature was required and the bundle has none.
var ErrUnsigned = errors.New("bundle is not signed")

// ErrSignature: the bundle's signature does not verify with the key given.
var ErrSignature = errors.New("bundle signature does not verify")

// integrityRecord is integrity.json.
type integrityRecord struct {
	// Version of this record's layout (1).
	Version int `json:"version"`
	// Files maps every other entry, manifest.json included, to its SHA-256.
	Files map[string]string `json:"files"`
	// Digest is the SHA-256 of the sorted file list (see digestOf).
	Digest string `json:"digest"`
	// Signature, when set, is the Ed25519 signature of the digest's bytes.
	Signature string `json:"signature,omitempty"`
	// KeyID names the signing key: the first 8 bytes of the SHA-256 of the
	// public key, in hex.
	KeyID string `json:"key_id,omitempty"`
}

// Integrity is what Decode established about a bundle's integrity.
type Integrity struct {
	// Digest is the hex SHA-256 over every entry's checksum ("" for a
	// bundle written before integrity records).
	Digest string
	// KeyID is the signing key's id ("" when unsigned).
	KeyID string
	// Legacy is set for a bundle of a format before 4 loaded without an
	// integrity record: only its manifest's file list was checked, and
	// the manifest itself is not covered.
	Legacy bool
	// signature is the raw signature of the digest.
	signature []byte
}

// Signed reports whether the bundle carries a signature.
func (i Integrity) Signed() bool { return len(i.signature) > 0 }

// digestOf returns the digest over the entries' checksums.
func digestOf(files map[string]string) []byte {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(files[n])
		b.WriteString("  ")
		b.WriteString(n)
		b.WriteByte('\n')
	}
	sum := sha256.Sum256([]byte(b.String()))
	return sum[:]
}

func sumHex(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// KeyID returns the id integrity records give a public key.
func KeyID(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return hex.EncodeToString(s[:8])
}

// newIntegrity builds the record for the entries (name → bytes), signed
// with priv when it is not nil.
func newIntegrity(entries map[string][]byte, priv ed25519.PrivateKey) ([]byte, error) {
	rec := integrityRecord{Version: 1, Files: make(map[string]string, len(entries))}
	for name, data := range entries {
		if name != integrityEntry {
			rec.Files[name] = sumHex(data)
		}
	}
	d := digestOf(rec.Files)
	rec.Digest = hex.EncodeToString(d)
	if priv != nil {
		rec.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(priv, d))
		rec.KeyID = KeyID(priv.Public().(ed25519.PublicKey))
	}
	return json.MarshalIndent(rec, "", "  ")
}

// checkIntegrity verifies a decoded archive's entries against its
// integrity record, or, for a bundle without one, that the manifest's file
// list covers every entry.
func checkIntegrity(entries map[string][]byte, m *Manifest) (Integrity, error) {
	raw, ok := entries[integrityEntry]
	if !ok {
		if m.Format >= integrityFormat {
			return Integrity{}, fmt.Errorf("%w: %s is missing: a format %d bundle is always written with it, so it was removed; re-export the model from a trusted copy", ErrCorrupt, integrityEntry, m.Format)
		}
		if len(m.Files) == 0 {
			return Integrity{}, fmt.Errorf("%w: manifest.json lists no files and there is no integrity record: the bundle cannot be verified", ErrCorrupt)
		}
		for name := range entries {
			if _, listed := m.Files[name]; !listed && name != "manifest.json" {
				return Integrity{}, fmt.Errorf("%w: entry %s is not in the manifest's file list", ErrCorrupt, name)
			}
		}
		return Integrity{Legacy: true}, nil
	}
	var rec integrityRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return Integrity{}, fmt.Errorf("%w: %s: %v", ErrCorrupt, integrityEntry, err)
	}
	if rec.Version != 1 {
		return Integrity{}, fmt.Errorf("%w: %s version %d is not supported (reads 1): upgrade gyre", ErrCorrupt, integrityEntry, rec.Version)
	}
	for name, data := range entries {
		if name == integrityEntry {
			continue
		}
		want, listed := rec.Files[name]
		if !listed {
			return Integrity{}, fmt.Errorf("%w: entry %s was added after the bundle was written", ErrCorrupt, name)
		}
		if sumHex(data) != want {
			what := "changed"
			if name == "manifest.json" {
				what = "edited (its model, classes or file list no longer match what was saved)"
			}
			return Integrity{}, fmt.Errorf("%w: %s was %s", ErrCorrupt, name, what)
		}
	}
	for name := range rec.Files {
		if _, ok := entries[name]; !ok {
			return Integrity{}, fmt.Errorf("%w: %s is missing", ErrCorrupt, name)
		}
	}
	d := digestOf(rec.Files)
	if hex.EncodeToString(d) != rec.Digest {
		return Integrity{}, fmt.Errorf("%w: %s: the digest does not match its file list", ErrCorrupt, integrityEntry)
	}
	in := Integrity{Digest: rec.Digest, KeyID: rec.KeyID}
	if rec.Signature != "" {
		sig, err := base64.StdEncoding.DecodeString(rec.Signature)
		if err != nil || len(sig) != ed25519.SignatureSize {
			return Integrity{}, fmt.Errorf("%w: %s: the signature is not an Ed25519 signature", ErrCorrupt, integrityEntry)
		}
		in.signature = sig
	}
	return in, nil
}

// Warning returns what a user loading the bundle should be told about its
// integrity, or "": a legacy bundle (format before 4, no integrity record)
// is loaded unverified in its manifest.
func (b *Bundle) Warning() string {
	if !b.Integrity.Legacy {
		return ""
	}
	return fmt.Sprintf("bundle format %d has no integrity record: its entries were checked against the manifest, but the manifest itself (task, classes, input schema) is not covered; sign it (gyre models sign) or re-save it with this Gyre to cover it", b.Manifest.Format)
}

// Verify checks that the bundle is signed by one of keys: ErrUnsigned for
// an unsigned bundle (or one written before integrity records),
// ErrSignature for a signature none of the keys verifies.
func (b *Bundle) Verify(keys ...ed25519.PublicKey) error {
	in := b.Integrity
	if !in.Signed() {
		return fmt.Errorf("verify bundle: %w: sign it with 'gyre models sign'", ErrUnsigned)
	}
	d, err := hex.DecodeString(in.Digest)
	if err != nil {
		return fmt.Errorf("verify bundle: %w", ErrSignature)
	}
	for _, k := range keys {
		if ed25519.Verify(k, d, in.signature) {
			return nil
		}
	}
	return fmt.Errorf("verify bundle: %w with the key given (signed by key %s)", ErrSignature, in.KeyID)
}

// Sign returns the bundle data re-written with a signed integrity record.
// The data is verified first: a corrupt or tampered bundle is not signed.
func Sign(data []byte, priv ed25519.PrivateKey) ([]byte, error) {
	if _, err := Decode(data); err != nil {
		return nil, fmt.Errorf("sign bundle: %w", err)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("sign bundle: %w", err)
	}
	entries := map[string][]byte{}
	var order []string
	var modified time.Time
	for _, f := range zr.File {
		if f.Name == integrityEntry {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("sign bundle: %w", err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("sign bundle: %w", err)
		}
		entries[f.Name] = b
		order = append(order, f.Name)
		modified = f.Modified
	}
	rec, err := newIntegrity(entries, priv)
	if err != nil {
		return nil, fmt.Errorf("sign bundle: %w", err)
	}
	entries[integrityEntry] = rec
	order = append(order, integrityEntry)
	return writeZip(entries, order, modified)
}

// writeZip writes the entries in order as a bundle archive.
func writeZip(entries map[string][]byte, order []string, modified time.Time) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	for _, name := range order {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: modified})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(entries[name]); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// GenerateKey makes an Ed25519 key pair as PEM: the private key (PKCS #8
// framing is not needed: the 32-byte seed, type "GYRE ED25519 PRIVATE
// KEY") and the public key (type "GYRE ED25519 PUBLIC KEY").
func GenerateKey() (private, public []byte, err error) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	private = pem.EncodeToMemory(&pem.Block{Type: "GYRE ED25519 PRIVATE KEY", Bytes: priv.Seed()})
	public = pem.EncodeToMemory(&pem.Block{Type: "GYRE ED25519 PUBLIC KEY", Bytes: pub})
	return private, public, nil
}

// ReadPrivateKey reads a private key file written by GenerateKey.
func ReadPrivateKey(path string) (ed25519.PrivateKey, error) {
	blk, err := readPEM(path, "GYRE ED25519 PRIVATE KEY", ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	return ed25519.NewKeyFromSeed(blk), nil
}

// ReadPublicKey reads a public key file written by GenerateKey.
func ReadPublicKey(path string) (ed25519.PublicKey, error) {
	blk, err := readPEM(path, "GYRE ED25519 PUBLIC KEY", ed25519.PublicKeySize)
	if err != nil {
		return nil, err
	}
	return ed25519.PublicKey(blk), nil
}

func readPEM(path, typ string, size int) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	blk, _ := pem.Decode(data)
	if blk == nil || blk.Type != typ || len(blk.Bytes) != size {
		return nil, fmt.Errorf("read key %s: want a PEM block %q of %d bytes (written by 'gyre models keygen')", path, typ, size)
	}
	return blk.Bytes, nil
}

// KeyFileError is a key file WriteKeyPair could not create: it exists
// (a key is never overwritten), or its directory does not.
type KeyFileError struct{ Err error }

func (e *KeyFileError) Error() string { return e.Err.Error() }
func (e *KeyFileError) Unwrap() error { return e.Err }

// WriteKeyPair generates a key pair (GenerateKey) and writes it to
// prefix.key (the private key, mode 0600) and prefix.pub (0644), refusing
// to replace a file of either name (*KeyFileError).
func WriteKeyPair(prefix string) (private, public string, err error) {
	priv, pub, err := GenerateKey()
	if err != nil {
		return "", "", err
	}
	private, public = prefix+".key", prefix+".pub"
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{{private, priv, 0o600}, {public, pub, 0o644}} {
		fh, err := os.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.mode)
		if err != nil {
			return "", "", &KeyFileError{err}
		}
		if _, err := fh.Write(f.data); err != nil {
			fh.Close()
			return "", "", err
		}
		if err := fh.Close(); err != nil {
			return "", "", err
		}
	}
	return private, public, nil
}
