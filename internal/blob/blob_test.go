package blob_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/blob/blobtest"
)

// EnvS3 names the variable holding an s3:// URL of a test server (CI starts
// MinIO and sets it).
const EnvS3 = "GYRE_TEST_S3"

func TestDirConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, err := blob.Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestS3Conformance(t *testing.T) {
	base := os.Getenv(EnvS3)
	if base == "" {
		t.Skipf("set %s=s3://bucket?endpoint=127.0.0.1:9000&insecure=true to test against S3-compatible storage", EnvS3)
	}
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, err := blob.Open(context.Background(), withPrefix(base, "test-"+randomHex()))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// withPrefix adds a path prefix to an s3:// URL so each test has its own
// key space.
func withPrefix(u, p string) string {
	base, q, _ := strings.Cut(u, "?")
	return strings.TrimRight(base, "/") + "/" + p + "?" + q
}

func randomHex() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func TestDirCorruptObjectDetected(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := blob.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := s.Put(ctx, strings.NewReader("precious bytes"))
	if err != nil {
		t.Fatal(err)
	}
	hx := strings.TrimPrefix(ref.Digest, "sha256:")
	p := filepath.Join(dir, "sha256", hx[:2], hx[2:])
	os.Chmod(p, 0o644)
	if err := os.WriteFile(p, []byte("precious bytez"), 0o644); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(ctx, ref.Digest)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadAll(rc); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("reading a corrupted object: err = %v; want a corruption error", err)
	}
	// No temporary files are left behind by successful puts.
	if ents, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(ents) != 0 {
		t.Fatalf("tmp holds %d files after successful puts", len(ents))
	}
}

func TestOpenErrors(t *testing.T) {
	for _, loc := range []string{"", "ftp://x/y", "s3://"} {
		if _, err := blob.Open(context.Background(), loc); err == nil {
			t.Errorf("Open(%q) succeeded; want an error", loc)
		}
	}
}

// TestDirPutRefreshesAndRemoveTemp: putting content already stored
// refreshes its time (a collector spares it), and RemoveTemp clears what
// a killed put left in tmp/ while sparing a put in progress.
func TestDirPutRefreshesAndRemoveTemp(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := blob.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := s.Put(ctx, strings.NewReader("same bytes"))
	if err != nil {
		t.Fatal(err)
	}
	hx, _ := blob.ParseDigest(ref.Digest)
	obj := filepath.Join(dir, "sha256", hx[:2], hx[2:])
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(obj, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, strings.NewReader("same bytes")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(obj); time.Since(fi.ModTime()) > time.Minute {
		t.Errorf("a second put left the object's time at %v", fi.ModTime())
	}
	stale := filepath.Join(dir, "tmp", "put-killed")
	fresh := filepath.Join(dir, "tmp", "put-in-progress")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	removed, err := s.RemoveTemp(ctx, time.Now().Add(-time.Hour))
	if err != nil || len(removed) != 1 || removed[0] != stale {
		t.Fatalf("RemoveTemp = %v, %v; want [%s]", removed, err, stale)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a recent temp file was removed: %v", err)
	}
}
