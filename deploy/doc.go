// Package deploy holds Gyre's deployment files — the Kubernetes manifests
// under kubernetes/ (and the Dockerfile at the repository root) — and the
// tests that keep them valid: every manifest parses, has the kinds and
// fields a cluster needs, and probes only endpoints the prediction server
// (internal/serve) really answers. It has no Go API.
package deploy
