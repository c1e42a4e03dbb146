package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Dir is a [Store] in a local directory.
type Dir struct {
	root string
}

// OpenDir returns the store rooted at dir, creating the directory when
// missing.
func OpenDir(dir string) (*Dir, error) {
	if dir == "" {
		return nil, errors.New("open blob store: empty directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open blob store %s: %w", dir, err)
	}
	for _, d := range []string{abs, filepath.Join(abs, "tmp"), filepath.Join(abs, "sha256")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("open blob store %s: %w", dir, err)
		}
	}
	return &Dir{root: abs}, nil
}

// String returns the directory.
func (d *Dir) String() string { return d.root }

func (d *Dir) path(hexDigest string) string {
	return filepath.Join(d.root, "sha256", hexDigest[:2], hexDigest[2:])
}

// Put implements [Store]: temporary file, fsync, rename, directory fsync.
func (d *Dir) Put(ctx context.Context, r io.Reader) (Ref, error) {
	tmp, err := os.CreateTemp(filepath.Join(d.root, "tmp"), "put-*")
	if err != nil {
		return Ref{}, fmt.Errorf("put blob in %s: %w", d.root, err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name()) // no-op after a successful rename
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, r})
	if err != nil {
		return Ref{}, fmt.Errorf("put blob in %s: %w", d.root, err)
	}
	if err := tmp.Sync(); err != nil {
		return Ref{}, fmt.Errorf("put blob in %s: %w", d.root, err)
	}
	if err := tmp.Close(); err != nil {
		return Ref{}, fmt.Errorf("put blob in %s: %w", d.root, err)
	}
	hx := hex.EncodeToString(h.Sum(nil))
	ref := Ref{Digest: digestPrefix + hx, Size: n}
	final := d.path(hx)
	if fi, err := os.Stat(final); err == nil && fi.Size() == n {
		// Already stored: refresh its time so that a collector sparing
		// recent objects spares it until the caller references it.
		now := time.Now()
		if err := os.Chtimes(final, now, now); err != nil {
			return Ref{}, fmt.Errorf("put blob %s: %w", ref.Digest, err)
		}
		return ref, nil
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return Ref{}, fmt.Errorf("put blob %s: %w", ref.Digest, err)
	}
	// Owner-only and read-only: blobs are private to the store's owner
	// and immutable.
	if err := os.Chmod(tmp.Name(), 0o400); err != nil {
		return Ref{}, fmt.Errorf("put blob %s: %w", ref.Digest, err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return Ref{}, fmt.Errorf("put blob %s: %w", ref.Digest, err)
	}
	if err := syncDir(filepath.Dir(final)); err != nil {
		return Ref{}, fmt.Errorf("put blob %s: %w", ref.Digest, err)
	}
	return ref, nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Get implements [Store].
func (d *Dir) Get(ctx context.Context, digest string) (io.ReadCloser, error) {
	hx, err := ParseDigest(digest)
	if err != nil {
		return nil, fmt.Errorf("get blob: %w", err)
	}
	f, err := os.Open(d.path(hx))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("get blob %s from %s: %w", digest, d.root, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get blob %s: %w", digest, err)
	}
	return newVerifyingReader(f, digest, hx), nil
}

// Stat implements [Store].
func (d *Dir) Stat(ctx context.Context, digest string) (Ref, error) {
	hx, err := ParseDigest(digest)
	if err != nil {
		return Ref{}, fmt.Errorf("stat blob: %w", err)
	}
	fi, err := os.Stat(d.path(hx))
	if errors.Is(err, fs.ErrNotExist) {
		return Ref{}, fmt.Errorf("stat blob %s in %s: %w", digest, d.root, ErrNotFound)
	}
	if err != nil {
		return Ref{}, fmt.Errorf("stat blob %s: %w", digest, err)
	}
	return Ref{Digest: digest, Size: fi.Size()}, nil
}

// Delete implements [Store].
func (d *Dir) Delete(ctx context.Context, digest string) error {
	hx, err := ParseDigest(digest)
	if err != nil {
		return fmt.Errorf("delete blob: %w", err)
	}
	if err := os.Remove(d.path(hx)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete blob %s: %w", digest, err)
	}
	return nil
}

// List implements [Lister]: it walks the sha256 fan-out directories.
func (d *Dir) List(ctx context.Context, fn func(Object) error) error {
	top := filepath.Join(d.root, "sha256")
	fans, err := os.ReadDir(top)
	if err != nil {
		return fmt.Errorf("list blobs in %s: %w", d.root, err)
	}
	for _, fan := range fans {
		if !fan.IsDir() || len(fan.Name()) != 2 {
			continue
		}
		ents, err := os.ReadDir(filepath.Join(top, fan.Name()))
		if err != nil {
			return fmt.Errorf("list blobs in %s: %w", d.root, err)
		}
		for _, e := range ents {
			if err := ctx.Err(); err != nil {
				return err
			}
			digest := digestPrefix + fan.Name() + e.Name()
			if _, err := ParseDigest(digest); err != nil || !e.Type().IsRegular() {
				continue // not an object of this store
			}
			fi, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted meanwhile
			}
			if err != nil {
				return fmt.Errorf("list blobs in %s: %w", d.root, err)
			}
			if err := fn(Object{Ref: Ref{Digest: digest, Size: fi.Size()}, Modified: fi.ModTime()}); err != nil {
				return err
			}
		}
	}
	return nil
}

// RemoveTemp removes the temporary files of puts that were interrupted
// (a killed process leaves them in the store's tmp directory) last
// written before before, and returns their paths.
func (d *Dir) RemoveTemp(ctx context.Context, before time.Time) ([]string, error) {
	dir := filepath.Join(d.root, "tmp")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("clean blob store %s: %w", d.root, err)
	}
	var removed []string
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() || !fi.ModTime().Before(before) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, fmt.Errorf("clean blob store %s: %w", d.root, err)
		}
		removed = append(removed, p)
	}
	return removed, nil
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

var (
	_ Store  = (*Dir)(nil)
	_ Lister = (*Dir)(nil)
)
