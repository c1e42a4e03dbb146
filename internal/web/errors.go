package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/audit"
	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/track"
)

// Kind is the typed kind of an API error; each maps to one HTTP status.
type Kind string

// Error kinds.
const (
	KindInvalid          Kind = "invalid_argument"   // 400
	KindUnauthenticated  Kind = "unauthenticated"    // 401
	KindForbidden        Kind = "permission_denied"  // 403
	KindNotFound         Kind = "not_found"          // 404
	KindMethodNotAllowed Kind = "method_not_allowed" // 405
	KindConflict         Kind = "conflict"           // 409
	KindTooLarge         Kind = "too_large"          // 413
	KindUnsupported      Kind = "unsupported_media"  // 415
	KindInternal         Kind = "internal"           // 500
	KindUnavailable      Kind = "unavailable"        // 503
)

// Status returns the HTTP status of the kind.
func (k Kind) Status() int {
	switch k {
	case KindInvalid:
		return http.StatusBadRequest
	case KindUnauthenticated:
		return http.StatusUnauthorized
	case KindForbidden:
		return http.StatusForbidden
	case KindNotFound:
		return http.StatusNotFound
	case KindMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case KindConflict:
		return http.StatusConflict
	case KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case KindUnsupported:
		return http.StatusUnsupportedMediaType
	case KindUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// Error is an API error: what the envelope carries.
type Error struct {
	Kind    Kind   `json:"kind"`
	Message string `json:"message"`
	// Field names the request field at fault ("name", "metrics[3].value",
	// "page_token"), when one is.
	Field string `json:"field,omitempty"`
	// RequestID is the request's id, to find it in the server's log.
	RequestID string `json:"request_id,omitempty"`
	err       error
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.err }

// Envelope is the body of every error response.
type Envelope struct {
	Error *Error `json:"error"`
}

// errorf makes an API error of a kind about a field.
func errorf(kind Kind, field, format string, a ...any) *Error {
	err := fmt.Errorf(format, a...)
	return &Error{Kind: kind, Field: field, Message: err.Error(), err: err}
}

// invalid wraps a validation error from a store package as a 400 naming
// the field.
func invalid(field string, err error) *Error {
	return &Error{Kind: KindInvalid, Field: field, Message: err.Error(), err: err}
}

// classify maps an error from the stores or access to an API error.
func classify(err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	kind := KindInternal
	switch {
	case errors.Is(err, access.ErrUnauthenticated):
		kind = KindUnauthenticated
	case errors.Is(err, access.ErrForbidden):
		kind = KindForbidden
	case errors.Is(err, track.ErrNotFound), errors.Is(err, registry.ErrNotFound), errors.Is(err, dataset.ErrNotFound),
		errors.Is(err, access.ErrNotFound), errors.Is(err, blob.ErrNotFound):
		kind = KindNotFound
	case errors.Is(err, access.ErrExists), errors.Is(err, track.ErrParamChanged), errors.Is(err, access.ErrBootstrapped):
		kind = KindConflict
	case errors.Is(err, access.ErrInvalid), errors.Is(err, access.ErrInvalidRole), errors.Is(err, registry.ErrInvalidName),
		errors.Is(err, registry.ErrInvalidRef), errors.Is(err, dataset.ErrInvalidName), errors.Is(err, track.ErrAmbiguous),
		errors.Is(err, audit.ErrBadPageToken), errors.Is(err, track.ErrBadPageToken):
		kind = KindInvalid
	}
	var fe *track.FilterError
	if errors.As(err, &fe) {
		return &Error{Kind: KindInvalid, Field: "filter", Message: err.Error(), err: err}
	}
	if errors.Is(err, audit.ErrBadPageToken) || errors.Is(err, track.ErrBadPageToken) {
		return &Error{Kind: KindInvalid, Field: "page_token", Message: err.Error(), err: err}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		kind = KindTooLarge
	}
	return &Error{Kind: kind, Message: err.Error(), err: err}
}

// writeError writes err in the envelope. Internal errors are logged with
// the request id and answered without their detail.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := *classify(err)
	e.RequestID = requestID(r.Context())
	if e.Kind == KindInternal {
		logFrom(r.Context()).Error("internal error", "err", err.Error())
		e.Message = "internal error (request " + e.RequestID + "; the server log has the detail)"
	}
	if e.Kind == KindUnauthenticated {
		w.Header().Set("WWW-Authenticate", `Bearer realm="gyre", Basic realm="gyre"`)
	}
	writeJSON(w, e.Kind.Status(), Envelope{Error: &e})
}

// writeJSON writes v as JSON with a status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"kind":"internal","message":"encode response: ` + jsonEscape(err.Error()) + `"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}
