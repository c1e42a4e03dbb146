package ingest

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/gyre-ml/gyre/internal/awscred"
	"github.com/gyre-ml/gyre/internal/frame"
)

// readS3 downloads s3://bucket/key[?endpoint=host:port&insecure=true&region=R]
// to a temporary file named like the key (its extension picks the format)
// and reads it.
func readS3(ctx context.Context, source string, opt Options) (*frame.Frame, error) {
	local, name, cleanup, err := fetchS3(ctx, source)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	return readFile(ctx, local, name, opt, fmtUnknown)
}

// streamS3 downloads an S3 object as readS3 does and streams it.
func streamS3(ctx context.Context, source string, opt Options, chunkRows int, fn func(*Chunk) error) error {
	local, name, cleanup, err := fetchS3(ctx, source)
	if err != nil {
		return err
	}
	defer cleanup()
	return streamFile(ctx, local, name, opt, chunkRows, fmtUnknown, fn)
}

// fetchS3 downloads s3://bucket/key to a temporary file named like the key
// and returns its path, the source's name for errors (without the query)
// and a function that removes the file. Without ?endpoint= the endpoint is
// AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (as the AWS SDKs read them), else
// s3.amazonaws.com; without ?region= the region is AWS_REGION or
// AWS_DEFAULT_REGION, else found from the bucket.
func fetchS3(ctx context.Context, source string) (local, name string, cleanup func(), err error) {
	u, err := url.Parse(source)
	if err != nil || u.Host == "" || strings.Trim(u.Path, "/") == "" {
		return "", "", nil, fmt.Errorf("read %s: want s3://bucket/key[?endpoint=host:port&insecure=true&region=R]", Redact(source))
	}
	q := u.Query()
	endpoint := q.Get("endpoint")
	insecure := false
	if v := q.Get("insecure"); v != "" {
		if insecure, err = strconv.ParseBool(v); err != nil {
			return "", "", nil, fmt.Errorf("read %s: insecure=%q: want true or false", Redact(source), v)
		}
	}
	lookup := minio.BucketLookupAuto
	if endpoint != "" {
		lookup = minio.BucketLookupPath // S3-compatible servers (MinIO) address buckets by path
	} else if env := firstEnv("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"); env != "" {
		eu, perr := url.Parse(env)
		if perr != nil || eu.Host == "" {
			return "", "", nil, fmt.Errorf("read %s: AWS_ENDPOINT_URL %q: want a URL such as https://host:port", Redact(source), env)
		}
		endpoint, insecure, lookup = eu.Host, eu.Scheme == "http", minio.BucketLookupPath
	} else {
		endpoint = "s3.amazonaws.com"
	}
	region := q.Get("region")
	if region == "" {
		region = firstEnv("AWS_REGION", "AWS_DEFAULT_REGION")
	}
	client, err := minio.New(endpoint, &minio.Options{Creds: awscred.Chain(), Secure: !insecure, Region: region, BucketLookup: lookup})
	if err != nil {
		return "", "", nil, fmt.Errorf("read %s: %w", Redact(source), err)
	}
	key := strings.TrimPrefix(u.Path, "/")
	name = "s3://" + u.Host + "/" + key
	obj, err := client.GetObject(ctx, u.Host, key, minio.GetObjectOptions{})
	if err != nil {
		return "", "", nil, fmt.Errorf("read %s: %w", name, err)
	}
	defer obj.Close()
	dir, err := os.MkdirTemp("", "gyre-s3-")
	if err != nil {
		return "", "", nil, fmt.Errorf("read %s: %w", name, err)
	}
	cleanup = func() { os.RemoveAll(dir) }
	local = filepath.Join(dir, path.Base(key))
	fh, err := os.Create(local)
	if err != nil {
		cleanup()
		return "", "", nil, fmt.Errorf("read %s: %w", name, err)
	}
	if _, err := io.Copy(fh, obj); err != nil {
		fh.Close()
		cleanup()
		if r := minio.ToErrorResponse(err); r.Code != "" {
			return "", "", nil, fmt.Errorf("read %s: %s: %s", name, r.Code, r.Message)
		}
		return "", "", nil, fmt.Errorf("read %s: %w", name, err)
	}
	if err := fh.Close(); err != nil {
		cleanup()
		return "", "", nil, fmt.Errorf("read %s: %w", name, err)
	}
	return local, name, cleanup, nil
}

// firstEnv returns the first of the environment variables that is set.
func firstEnv(keys ...string) string {
	for _, k := range keys {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}
