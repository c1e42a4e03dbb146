// Package blob stores immutable byte objects by content: an object's name is
// the SHA-256 digest of its bytes ("sha256:<64 hex>"), so equal content is
// stored once and a reference can always be checked against what it names.
//
// Two backends implement [Store], chosen by [Open] from a URL:
//
//   - a local directory (a plain path or file:///path), the default: objects
//     live at <dir>/sha256/<2 hex>/<62 hex>. Put writes to a temporary file in
//     <dir>/tmp, fsyncs it, renames it into place and fsyncs the directory, so
//     an object is either absent or complete: a crash leaves at most an
//     orphaned temporary file, never a half-written object.
//   - S3-compatible object storage (s3://bucket/prefix?endpoint=host:port&
//     insecure=true&region=...), through minio-go with path-style addressing.
//     Credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or
//     MINIO_ROOT_USER/MINIO_ROOT_PASSWORD. The bucket is created when missing.
//     Put first spools the stream to a local temporary file while hashing it
//     (the key is the digest, known only at the end), then uploads it with a
//     single PutObject, or a multipart upload for large objects. S3 makes an
//     object visible only when its PUT or CompleteMultipartUpload succeeds, so
//     an interrupted upload never leaves a partial object under its key.
//
// Get verifies the digest while reading: a reader returned by Get reports an
// error at end of file if the bytes do not hash to the requested digest, so
// corruption never passes silently.
//
// The conformance suite in package blobtest runs against every backend.
package blob
