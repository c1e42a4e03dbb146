package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"strings"
	"time"
)

// ErrNotFound is returned (wrapped) when no object has the requested digest.
var ErrNotFound = errors.New("blob not found")

// Ref names a stored object by its content.
type Ref struct {
	// Digest is "sha256:" followed by 64 lower-case hex digits.
	Digest string `json:"digest"`
	// Size is the object's length in bytes.
	Size int64 `json:"size"`
}

// Store is a content-addressed object store. Implementations are safe for
// concurrent use.
type Store interface {
	// Put stores the bytes read from r and returns their reference. Storing
	// content that is already present is cheap and returns the same Ref.
	Put(ctx context.Context, r io.Reader) (Ref, error)
	// Get opens the object with the given digest. The reader fails at end of
	// file if the content does not match the digest. A missing object gives
	// an error wrapping ErrNotFound.
	Get(ctx context.Context, digest string) (io.ReadCloser, error)
	// Stat returns the reference of a stored object, or an error wrapping
	// ErrNotFound.
	Stat(ctx context.Context, digest string) (Ref, error)
	// Delete removes the object; deleting a missing object is not an error.
	Delete(ctx context.Context, digest string) error
	// String describes the store's location without credentials.
	String() string
}

// Object is one stored object as a listing shows it.
type Object struct {
	Ref
	// Modified is when the object was last written, or last put again
	// (a put of content already stored refreshes it, so that a collector
	// sparing recent objects spares content a writer is about to
	// reference).
	Modified time.Time
}

// Lister is a [Store] that can enumerate its objects; every backend here
// implements it (the conformance suite checks), for garbage collection.
type Lister interface {
	// List calls fn for each stored object, in no particular order; an
	// error from fn stops the listing and is returned.
	List(ctx context.Context, fn func(Object) error) error
}

// Exists reports whether s holds an object with the given digest.
func Exists(ctx context.Context, s Store, digest string) (bool, error) {
	_, err := s.Stat(ctx, digest)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Open returns the store at location: a directory path, a file:// URL or an
// s3://bucket/prefix?endpoint=... URL.
func Open(ctx context.Context, location string) (Store, error) {
	switch {
	case strings.TrimSpace(location) == "":
		return nil, errors.New("open blob store: empty location: give a directory or an s3:// URL")
	case strings.HasPrefix(location, "s3://"):
		return OpenS3(ctx, location)
	case strings.HasPrefix(location, "file://"):
		u, err := url.Parse(location)
		if err != nil {
			return nil, fmt.Errorf("open blob store %s: %w", location, err)
		}
		return OpenDir(u.Path)
	case strings.Contains(location, "://"):
		return nil, fmt.Errorf("open blob store %s: unsupported scheme: want a directory, file:// or s3://", location)
	default:
		return OpenDir(location)
	}
}

const digestPrefix = "sha256:"

// ParseDigest checks that d is "sha256:" followed by 64 lower-case hex digits
// and returns the hex part.
func ParseDigest(d string) (string, error) {
	h, ok := strings.CutPrefix(d, digestPrefix)
	if !ok || len(h) != 64 {
		return "", fmt.Errorf("invalid digest %q: want sha256:<64 hex digits>", d)
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "", fmt.Errorf("invalid digest %q: want sha256:<64 lower-case hex digits>", d)
		}
	}
	return h, nil
}

// Digest computes the reference of the bytes read from r without storing
// them.
func Digest(r io.Reader) (Ref, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return Ref{}, fmt.Errorf("digest: %w", err)
	}
	return Ref{Digest: digestPrefix + hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}

// verifyingReader hashes what it reads and fails at EOF on a mismatch.
type verifyingReader struct {
	r      io.ReadCloser
	h      hash.Hash
	want   string
	digest string
	done   bool
}

func newVerifyingReader(r io.ReadCloser, digest, hexWant string) *verifyingReader {
	return &verifyingReader{r: r, h: sha256.New(), want: hexWant, digest: digest}
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF && !v.done {
		v.done = true
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want {
			return n, fmt.Errorf("read blob %s: content hashes to sha256:%s: the object is corrupt", v.digest, got)
		}
	}
	return n, err
}

func (v *verifyingReader) Close() error { return v.r.Close() }
