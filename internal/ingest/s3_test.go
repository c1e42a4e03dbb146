package ingest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// testBucket is the S3-compatible server of GYRE_TEST_S3 (MinIO, as .ci/run
// starts it; the test skips without it): its URL and query, a client, the
// credentials, and the URL's bucket, created when missing.
func testBucket(t *testing.T) (u *url.URL, q url.Values, client *minio.Client, user, pass string) {
	t.Helper()
	loc := os.Getenv("GYRE_TEST_S3")
	if loc == "" {
		t.Skip("GYRE_TEST_S3 not set (see .ci/run)")
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	q = u.Query()
	user, pass = os.Getenv("MINIO_ROOT_USER"), os.Getenv("MINIO_ROOT_PASSWORD")
	if user == "" {
		user, pass = "minioadmin", "minioadmin"
	}
	ctx := context.Background()
	client, err = minio.New(q.Get("endpoint"), &minio.Options{Creds: credentials.NewStaticV4(user, pass, ""), Secure: q.Get("insecure") != "true", BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := client.BucketExists(ctx, u.Host); !ok {
		if err := client.MakeBucket(ctx, u.Host, minio.MakeBucketOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return u, q, client, user, pass
}

// TestReadS3 reads titanic from an S3-compatible server (MinIO, from
// GYRE_TEST_S3 as .ci/run starts it), first with credentials in the
// environment, then with none there and a shared credentials file
// instead (the AWS chain's second source).
func TestReadS3(t *testing.T) {
	ctx := context.Background()
	u, q, client, user, pass := testBucket(t)
	src := "../../examples/data/titanic/titanic.train.csv"
	if _, err := client.FPutObject(ctx, u.Host, "ingest-test/titanic.csv", src, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	want, err := Read(ctx, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s3url := "s3://" + u.Host + "/ingest-test/titanic.csv?" + q.Encode()
	check := func(how string) {
		t.Helper()
		got, err := Read(ctx, s3url, Options{})
		if err != nil {
			t.Fatalf("%s: %v", how, err)
		}
		if got.NumRows() != want.NumRows() || strings.Join(got.Names(), ",") != strings.Join(want.Names(), ",") || got.Columns()[1].Format(5) != want.Columns()[1].Format(5) {
			t.Errorf("%s: %d rows %v", how, got.NumRows(), got.Names())
		}
	}
	t.Setenv("AWS_ACCESS_KEY_ID", user)
	t.Setenv("AWS_SECRET_ACCESS_KEY", pass)
	check("environment")
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	file := filepath.Join(t.TempDir(), "credentials")
	os.WriteFile(file, []byte("[default]\naws_access_key_id = nobody\naws_secret_access_key = wrong\n\n[gyre]\naws_access_key_id = "+user+"\naws_secret_access_key = "+pass+"\n"), 0o600)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", file)
	t.Setenv("AWS_PROFILE", "gyre")
	check("shared credentials file")
	t.Setenv("AWS_PROFILE", "default")
	if _, err := Read(ctx, s3url, Options{}); err == nil || !strings.Contains(err.Error(), "s3://"+u.Host+"/ingest-test/titanic.csv") {
		t.Errorf("wrong credentials: %v, want an error naming the object", err)
	}
}

// TestStreamS3 streams S3 objects (a CSV and a Feather v2 file) as Stream
// streams local files, with the endpoint and region from the AWS SDKs'
// environment variables instead of the URL's query.
func TestStreamS3(t *testing.T) {
	ctx := context.Background()
	u, q, client, user, pass := testBucket(t)
	t.Setenv("AWS_ACCESS_KEY_ID", user)
	t.Setenv("AWS_SECRET_ACCESS_KEY", pass)
	scheme := "https"
	if q.Get("insecure") == "true" {
		scheme = "http"
	}
	t.Setenv("AWS_ENDPOINT_URL", scheme+"://"+q.Get("endpoint"))
	t.Setenv("AWS_REGION", "us-east-1")
	for _, tc := range []struct {
		src, key string
		rows     int
	}{
		{"../../examples/data/titanic/titanic.train.csv", "ingest-test/stream/titanic.csv", 0},
		{"../../testdata/ingest/arrow/lz4.feather", "ingest-test/stream/trees.feather", 900},
	} {
		if _, err := client.FPutObject(ctx, u.Host, tc.key, tc.src, minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
		want, err := Read(ctx, tc.src, Options{})
		if err != nil {
			t.Fatal(err)
		}
		rows := 0
		err = Stream(ctx, "s3://"+u.Host+"/"+tc.key, Options{}, 100, func(c *Chunk) error {
			if strings.Join(c.Frame.Names(), ",") != strings.Join(want.Names(), ",") {
				t.Fatalf("%s: columns %v", tc.key, c.Frame.Names())
			}
			rows += c.Frame.NumRows()
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", tc.key, err)
		}
		if rows != want.NumRows() || tc.rows != 0 && rows != tc.rows {
			t.Errorf("%s: %d rows streamed, want %d", tc.key, rows, want.NumRows())
		}
	}
	err := Stream(ctx, "s3://"+u.Host+"/ingest-test/stream/none.csv", Options{}, 0, func(*Chunk) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "s3://"+u.Host+"/ingest-test/stream/none.csv") {
		t.Errorf("a missing object: %v", err)
	}
}

// TestReadS3Roles reads with no key in the environment or in files, from
// each role source of the chain, served by stand-ins speaking their
// protocols and handing out the server's key: the ECS/EKS container
// endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI), the EC2 instance
// metadata service (IMDSv2 at AWS_EC2_METADATA_SERVICE_ENDPOINT), and IRSA
// web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, STS
// AssumeRoleWithWebIdentity at AWS_ENDPOINT_URL_STS).
func TestReadS3Roles(t *testing.T) {
	ctx := context.Background()
	u, q, client, user, pass := testBucket(t)
	if _, err := client.FPutObject(ctx, u.Host, "ingest-test/roles.csv", "../../examples/data/titanic/titanic.train.csv", minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	s3url := "s3://" + u.Host + "/ingest-test/roles.csv?" + q.Encode()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY",
		"AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_EC2_METADATA_SERVICE_ENDPOINT"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "none"))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "none"))
	expires := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	creds := fmt.Sprintf(`{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":%q,"SecretAccessKey":%q,"Token":"","Expiration":%q}`, user, pass, expires)
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch {
		case r.URL.Path == "/ecs/creds":
			io.WriteString(w, creds)
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
			io.WriteString(w, "imds-token")
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/":
			if r.Header.Get("X-aws-ec2-metadata-token") != "imds-token" {
				http.Error(w, "no token", http.StatusUnauthorized)
				return
			}
			io.WriteString(w, "gyre-role")
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/gyre-role":
			io.WriteString(w, creds)
		case r.URL.Path == "/sts/":
			r.ParseForm()
			if r.Form.Get("Action") != "AssumeRoleWithWebIdentity" || r.Form.Get("WebIdentityToken") != "pod-token" || r.Form.Get("RoleArn") != "arn:aws:iam::1:role/gyre" {
				http.Error(w, "bad request "+r.Form.Encode(), http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "text/xml")
			fmt.Fprintf(w, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken></SessionToken><Expiration>%s</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`, user, pass, expires)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	tokenFile := filepath.Join(home, "token")
	os.WriteFile(tokenFile, []byte("pod-token"), 0o600)
	for _, c := range []struct {
		name string
		env  map[string]string
	}{
		{"container endpoint", map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": srv.URL + "/ecs/creds"}},
		{"instance metadata", map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT": srv.URL}},
		{"web identity", map[string]string{"AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": "arn:aws:iam::1:role/gyre", "AWS_ENDPOINT_URL_STS": srv.URL + "/sts/"}},
	} {
		for k, v := range c.env {
			t.Setenv(k, v)
		}
		before := hits.Load()
		f, err := Read(ctx, s3url, Options{})
		if err != nil || f.NumRows() != 713 {
			t.Errorf("%s: %v", c.name, err)
		} else if hits.Load() == before {
			t.Errorf("%s: the role source was not asked", c.name)
		}
		for k := range c.env {
			os.Unsetenv(k)
		}
	}
}
