package ui

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/web"
)

// crossOrigin refuses logins posted from another site (login CSRF).
var crossOrigin = http.NewCrossOriginProtection()

// safeNext keeps a post-login destination on this server: a path, never
// a URL to another host ("//evil", "/\evil").
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.HasPrefix(next, "/login") {
		return "/experiments"
	}
	return next
}

func (u *UI) loginPage(w http.ResponseWriter, r *http.Request) {
	v := u.view(r, "Log in", "", "login")
	v.Next = safeNext(r.URL.Query().Get("next"))
	u.write(w, http.StatusOK, "login", v)
}

// login checks a user name with a password, or an API token, and starts a
// session: a new token of the account's, expiring after SessionTTL, kept
// in an HttpOnly cookie. The token is an ordinary one (listed with the
// account's tokens as "web session", revoked at logout), so a session is
// audited and revocable like any other credential.
func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	v := u.view(r, "Log in", "", "login")
	if err := crossOrigin.Check(r); err != nil {
		v.Error = "This login came from another site and was refused."
		u.write(w, http.StatusForbidden, "login", v)
		return
	}
	if err := r.ParseForm(); err != nil {
		v.Error = "The login form could not be read."
		u.write(w, http.StatusBadRequest, "login", v)
		return
	}
	v.Next = safeNext(r.PostForm.Get("next"))
	name, secret := strings.TrimSpace(r.PostForm.Get("name")), r.PostForm.Get("password")
	var p *access.Principal
	var err error
	switch {
	case secret == "":
		err = errors.New("give a password or an API token")
	case strings.HasPrefix(secret, "gyre_"):
		p, err = u.o.Access.AuthenticateToken(r.Context(), secret)
		if err == nil && name != "" && p.Name != name {
			err = errors.New("the token is not " + name + "'s")
		}
	case name == "":
		err = errors.New("give your user name with your password")
	default:
		p, err = u.o.Access.AuthenticatePassword(r.Context(), name, secret)
	}
	if err != nil {
		u.o.Logger.Info("ui: login refused", "name", name, "remote", r.RemoteAddr, "err", err.Error())
		v.Error = "Wrong name, password or token."
		if !errors.Is(err, access.ErrUnauthenticated) {
			v.Error = "Login failed: " + err.Error()
		}
		u.write(w, http.StatusUnauthorized, "login", v)
		return
	}
	tok, _, err := u.o.Access.CreateToken(r.Context(), p.Name, access.TokenOptions{Description: "web session", Expires: u.o.Access.Now().Add(u.o.SessionTTL)})
	if err != nil {
		u.o.Logger.Error("ui: start session", "name", p.Name, "err", err.Error())
		v.Error = "The session could not be started; see the server log."
		u.write(w, http.StatusInternalServerError, "login", v)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: web.SessionCookie, Value: tok, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: int(u.o.SessionTTL.Seconds())})
	http.Redirect(w, r, v.Next, http.StatusSeeOther)
}

// logout revokes the session's token and drops the cookie.
func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(web.SessionCookie); err == nil {
		if id, ok := tokenID(c.Value); ok {
			if err := u.o.Access.RevokeToken(r.Context(), id); err != nil {
				u.o.Logger.Warn("ui: revoke session", "err", err.Error())
			}
		}
	}
	http.SetCookie(w, &http.Cookie{Name: web.SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// tokenID returns the public id of a token secret (gyre_ID_SECRET).
func tokenID(secret string) (string, bool) {
	rest, ok := strings.CutPrefix(secret, "gyre_")
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, "_")
	return id, ok && id != ""
}
