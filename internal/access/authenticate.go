package access

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// Authenticate returns the principal a request's credentials name:
//
//   - "Authorization: Bearer TOKEN" with a Gyre API token (what MLflow
//     clients send from MLFLOW_TRACKING_TOKEN);
//   - HTTP Basic with a user name and either the user's password or one of
//     the account's tokens (what MLflow clients send from
//     MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD).
//
// A request without credentials gets (nil, nil): the server decides whether
// anonymous callers may read. Wrong, unknown, expired or revoked
// credentials give an error wrapping ErrUnauthenticated.
func (s *Store) Authenticate(r *http.Request) (*Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, nil
	}
	return s.AuthenticateHeader(r.Context(), h)
}

// AuthenticateHeader authenticates an Authorization header value; see
// [Store.Authenticate].
func (s *Store) AuthenticateHeader(ctx context.Context, h string) (*Principal, error) {
	scheme, cred, _ := strings.Cut(strings.TrimSpace(h), " ")
	cred = strings.TrimSpace(cred)
	switch strings.ToLower(scheme) {
	case "bearer":
		return s.AuthenticateToken(ctx, cred)
	case "basic":
		r := http.Request{Header: http.Header{"Authorization": {"Basic " + cred}}}
		user, pass, ok := r.BasicAuth()
		if !ok || user == "" {
			return nil, fmt.Errorf("basic credentials: malformed: %w", ErrUnauthenticated)
		}
		if strings.HasPrefix(pass, tokenPrefix) && len(pass) == tokenLen {
			p, err := s.AuthenticateToken(ctx, pass)
			if err != nil {
				return nil, err
			}
			if p.Name != user {
				return nil, fmt.Errorf("basic credentials: the token is not %s's: %w", user, ErrUnauthenticated)
			}
			return p, nil
		}
		return s.AuthenticatePassword(ctx, user, pass)
	}
	return nil, fmt.Errorf("authorization scheme %q: want Bearer or Basic: %w", scheme, ErrUnauthenticated)
}
