package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/gyre-ml/gyre/internal/awscred"
)

// S3 is a [Store] in an S3-compatible bucket.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string // "" or ending in "/"
	where  string
}

// OpenS3 opens the store at an s3://bucket/prefix URL. Query parameters:
// endpoint (host:port, default s3.amazonaws.com), insecure (true for plain
// HTTP), region. Credentials come from the standard AWS chain (see
// awscred.Chain). The bucket is created when missing.
func OpenS3(ctx context.Context, location string) (*S3, error) {
	u, err := url.Parse(location)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return nil, fmt.Errorf("open blob store %s: want s3://bucket[/prefix]?endpoint=host:port", location)
	}
	q := u.Query()
	endpoint := q.Get("endpoint")
	if endpoint == "" {
		endpoint = "s3.amazonaws.com"
	}
	insecure := false
	if v := q.Get("insecure"); v != "" {
		if insecure, err = strconv.ParseBool(v); err != nil {
			return nil, fmt.Errorf("open blob store %s: insecure=%q: want true or false", location, v)
		}
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds:        awscred.Chain(),
		Secure:       !insecure,
		Region:       q.Get("region"),
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("open blob store %s: %w", location, err)
	}
	prefix := strings.Trim(u.Path, "/")
	if prefix != "" {
		prefix += "/"
	}
	s := &S3{client: client, bucket: u.Host, prefix: prefix,
		where: "s3://" + u.Host + "/" + prefix + "?endpoint=" + endpoint}
	ok, err := client.BucketExists(ctx, s.bucket)
	if err != nil {
		return nil, fmt.Errorf("open blob store %s: check bucket: %w", s.where, err)
	}
	if !ok {
		err := client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: q.Get("region")})
		if err != nil {
			// Another process may have created it meanwhile.
			if code := minio.ToErrorResponse(err).Code; code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
				return nil, fmt.Errorf("open blob store %s: create bucket: %w", s.where, err)
			}
		}
	}
	return s, nil
}

// String returns the bucket URL without credentials.
func (s *S3) String() string { return s.where }

func (s *S3) key(hexDigest string) string {
	return path.Join(s.prefix+"sha256", hexDigest[:2], hexDigest[2:])
}

// Put implements [Store]. The stream is spooled to a local temporary file
// while it is hashed, then uploaded under its digest in one PUT (multipart
// for large objects); S3 publishes an object only when the upload completes,
// so no partial object is ever visible.
func (s *S3) Put(ctx context.Context, r io.Reader) (Ref, error) {
	tmp, err := os.CreateTemp("", "gyre-blob-*")
	if err != nil {
		return Ref{}, fmt.Errorf("put blob in %s: %w", s.where, err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, r})
	if err != nil {
		return Ref{}, fmt.Errorf("put blob in %s: %w", s.where, err)
	}
	hx := hex.EncodeToString(h.Sum(nil))
	ref := Ref{Digest: digestPrefix + hx, Size: n}
	if info, err := s.client.StatObject(ctx, s.bucket, s.key(hx), minio.StatObjectOptions{}); err == nil && info.Size == n {
		// Already stored: refresh its time (S3 has no touch; a copy onto
		// itself with replaced metadata is one) so that a collector
		// sparing recent objects spares it until the caller references it.
		if time.Since(info.LastModified) > refreshAfter {
			_, err := s.client.CopyObject(ctx,
				minio.CopyDestOptions{Bucket: s.bucket, Object: s.key(hx), ReplaceMetadata: true,
					UserMetadata: map[string]string{"Gyre-Digest": ref.Digest}},
				minio.CopySrcOptions{Bucket: s.bucket, Object: s.key(hx)})
			if err != nil {
				return Ref{}, fmt.Errorf("put blob %s in %s: refresh: %w", ref.Digest, s.where, err)
			}
		}
		return ref, nil
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return Ref{}, fmt.Errorf("put blob %s: %w", ref.Digest, err)
	}
	_, err = s.client.PutObject(ctx, s.bucket, s.key(hx), tmp, n, minio.PutObjectOptions{
		ContentType:  "application/octet-stream",
		UserMetadata: map[string]string{"Gyre-Digest": ref.Digest},
	})
	if err != nil {
		return Ref{}, fmt.Errorf("put blob %s in %s: %w", ref.Digest, s.where, err)
	}
	return ref, nil
}

func isNoSuchKey(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == "NoSuchKey" || code == "NotFound"
}

// refreshAfter is how old an object must be before a put of the same
// content refreshes its time (a collector spares far younger objects).
const refreshAfter = 10 * time.Minute

// List implements [Lister].
func (s *S3) List(ctx context.Context, fn func(Object) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing goroutine when fn fails
	top := s.prefix + "sha256/"
	for info := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: top, Recursive: true}) {
		if info.Err != nil {
			return fmt.Errorf("list blobs in %s: %w", s.where, info.Err)
		}
		digest := digestPrefix + strings.ReplaceAll(strings.TrimPrefix(info.Key, top), "/", "")
		if _, err := ParseDigest(digest); err != nil {
			continue // not an object of this store
		}
		if err := fn(Object{Ref: Ref{Digest: digest, Size: info.Size}, Modified: info.LastModified}); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Get implements [Store].
func (s *S3) Get(ctx context.Context, digest string) (io.ReadCloser, error) {
	hx, err := ParseDigest(digest)
	if err != nil {
		return nil, fmt.Errorf("get blob: %w", err)
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.key(hx), minio.GetObjectOptions{})
	if err == nil {
		_, err = obj.Stat()
	}
	if err != nil {
		if obj != nil {
			obj.Close()
		}
		if isNoSuchKey(err) {
			return nil, fmt.Errorf("get blob %s from %s: %w", digest, s.where, ErrNotFound)
		}
		return nil, fmt.Errorf("get blob %s from %s: %w", digest, s.where, err)
	}
	return newVerifyingReader(obj, digest, hx), nil
}

// Stat implements [Store].
func (s *S3) Stat(ctx context.Context, digest string) (Ref, error) {
	hx, err := ParseDigest(digest)
	if err != nil {
		return Ref{}, fmt.Errorf("stat blob: %w", err)
	}
	info, err := s.client.StatObject(ctx, s.bucket, s.key(hx), minio.StatObjectOptions{})
	if err != nil {
		if isNoSuchKey(err) {
			return Ref{}, fmt.Errorf("stat blob %s in %s: %w", digest, s.where, ErrNotFound)
		}
		return Ref{}, fmt.Errorf("stat blob %s in %s: %w", digest, s.where, err)
	}
	return Ref{Digest: digest, Size: info.Size}, nil
}

// Delete implements [Store].
func (s *S3) Delete(ctx context.Context, digest string) error {
	hx, err := ParseDigest(digest)
	if err != nil {
		return fmt.Errorf("delete blob: %w", err)
	}
	if err := s.client.RemoveObject(ctx, s.bucket, s.key(hx), minio.RemoveObjectOptions{}); err != nil && !isNoSuchKey(err) {
		return fmt.Errorf("delete blob %s from %s: %w", digest, s.where, err)
	}
	return nil
}

var (
	_ Store  = (*S3)(nil)
	_ Lister = (*S3)(nil)
)
