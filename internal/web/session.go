package web

import (
	"fmt"
	"net/http"

	"github.com/gyre-ml/gyre/internal/access"
)

// SessionCookie names the cookie that carries a browser session: an API
// token minted at login by the web UI (internal/web/ui), sent back by the
// browser on every request. It is HttpOnly and SameSite=Strict; requests
// authenticated by it that change state must also pass net/http's
// cross-origin protection (Sec-Fetch-Site / Origin), so another site cannot
// make a logged-in browser write.
const SessionCookie = "gyre_session"

// crossOrigin refuses cross-origin state-changing browser requests.
var crossOrigin = http.NewCrossOriginProtection()

// authenticate returns the principal of a request's credentials: the
// Authorization header when present (API clients), else the session cookie
// (browsers). Without either it returns (nil, nil).
func (s *Server) authenticate(r *http.Request) (*access.Principal, error) {
	if r.Header.Get("Authorization") != "" {
		return s.o.Access.Authenticate(r)
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	if err := crossOrigin.Check(r); err != nil {
		return nil, fmt.Errorf("%s %s: a cross-origin request with the session cookie: %w", r.Method, r.URL.Path, access.ErrForbidden)
	}
	p, err := s.o.Access.AuthenticateToken(r.Context(), c.Value)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	return p, nil
}
