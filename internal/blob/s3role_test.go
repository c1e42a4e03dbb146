package blob_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/blob"
)

// TestS3Roles opens the artifact store with no key in the environment or
// in files, once from the EC2 instance metadata service (IMDSv2 at
// AWS_EC2_METADATA_SERVICE_ENDPOINT) and once from IRSA web identity (STS
// AssumeRoleWithWebIdentity at AWS_ENDPOINT_URL_STS), both stand-ins
// handing out the server's key, and writes and reads a blob.
func TestS3Roles(t *testing.T) {
	base := os.Getenv(EnvS3)
	if base == "" {
		t.Skipf("set %s to test against S3-compatible storage", EnvS3)
	}
	user, pass := os.Getenv("MINIO_ROOT_USER"), os.Getenv("MINIO_ROOT_PASSWORD")
	if user == "" {
		user, pass = "minioadmin", "minioadmin"
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY",
		"AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_EC2_METADATA_SERVICE_ENDPOINT"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "none"))
	expires := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/latest/api/token":
			io.WriteString(w, "imds-token")
		case "/latest/meta-data/iam/security-credentials/":
			io.WriteString(w, "gyre-role")
		case "/latest/meta-data/iam/security-credentials/gyre-role":
			fmt.Fprintf(w, `{"Code":"Success","AccessKeyId":%q,"SecretAccessKey":%q,"Token":"","Expiration":%q}`, user, pass, expires)
		case "/sts/":
			r.ParseForm()
			if r.Form.Get("WebIdentityToken") != "pod-token" {
				http.Error(w, "bad token", http.StatusBadRequest)
				return
			}
			fmt.Fprintf(w, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken></SessionToken><Expiration>%s</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`, user, pass, expires)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	token := filepath.Join(home, "token")
	os.WriteFile(token, []byte("pod-token"), 0o600)
	for name, env := range map[string]map[string]string{
		"instance metadata": {"AWS_EC2_METADATA_SERVICE_ENDPOINT": srv.URL},
		"web identity":      {"AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ROLE_ARN": "arn:aws:iam::1:role/gyre", "AWS_ENDPOINT_URL_STS": srv.URL + "/sts/"},
	} {
		for k, v := range env {
			t.Setenv(k, v)
		}
		ctx := context.Background()
		s, err := blob.Open(ctx, withPrefix(base, "role-"+randomHex()))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ref, err := s.Put(ctx, bytes.NewReader([]byte("role "+name)))
		if err != nil {
			t.Fatalf("%s: put: %v", name, err)
		}
		rc, err := s.Get(ctx, ref.Digest)
		if err != nil {
			t.Fatalf("%s: get: %v", name, err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if string(got) != "role "+name {
			t.Errorf("%s: read back %q", name, got)
		}
		for k := range env {
			os.Unsetenv(k)
		}
	}
}
