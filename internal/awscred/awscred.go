// Package awscred is the standard AWS credential chain, shared by the two
// S3 clients (blob's artifact store and ingest's s3:// source), which sit
// in one layer and do not import each other.
package awscred

import (
	"net/http"
	"os"

	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Chain is the standard AWS credential chain, in the order the AWS SDKs
// use: the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), then MinIO's (MINIO_ROOT_USER/MINIO_ROOT_PASSWORD),
// then the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or
// ~/.aws/credentials, profile AWS_PROFILE), then a role: IRSA web identity
// (AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN), the ECS container
// endpoint or the EC2 instance profile (the STS and metadata endpoints
// from AWS_ENDPOINT_URL_STS and AWS_EC2_METADATA_SERVICE_ENDPOINT, as the
// SDKs read them). With none of them, requests are anonymous (public
// buckets).
func Chain() *credentials.Credentials {
	return credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.EnvMinio{},
		&credentials.FileAWSCredentials{},
		&credentials.IAM{Client: &http.Client{Transport: http.DefaultTransport}, Endpoint: roleEndpoint()},
	})
}

// roleEndpoint is the endpoint the AWS SDKs' variables name for the role
// in use: AWS_ENDPOINT_URL_STS (else AWS_ENDPOINT_URL) for IRSA web
// identity, AWS_EC2_METADATA_SERVICE_ENDPOINT for the instance profile;
// "" leaves the default (regional STS, 169.254.169.254, the ECS
// container endpoint).
func roleEndpoint() string {
	switch {
	case os.Getenv("AWS_WEB_IDENTITY_TOKEN_FILE") != "":
		if e := os.Getenv("AWS_ENDPOINT_URL_STS"); e != "" {
			return e
		}
		return os.Getenv("AWS_ENDPOINT_URL")
	case os.Getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") != "" || os.Getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI") != "":
		return ""
	}
	return os.Getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT")
}
