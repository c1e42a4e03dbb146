package ui_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/web"
)

// TestLoginSession: pages need a session (a browser without one is sent
// to the login page and back), a password or a token starts one, a wrong
// one is refused, logout revokes it, and writes with the cookie from
// another site are refused.
func TestLoginSession(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	resp, err := c.Get(e.URL + "/runs/abc?x=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Fruns%2Fabc%3Fx%3D1" {
		t.Fatalf("page without a session: %d %q, want 303 to the login page", resp.StatusCode, resp.Header.Get("Location"))
	}
	if r := e.login(c, "vic", "wrong"); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d, want 401", r.StatusCode)
	}
	if r := e.login(c, "vic", "password-of-vic"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/models" {
		t.Fatalf("login: %d %q, want 303 to next", r.StatusCode, r.Header.Get("Location"))
	}
	code, body := e.get(c, "/experiments")
	if code != 200 || !strings.Contains(body, `data-user="vic"`) || !strings.Contains(body, `data-can-edit="false"`) {
		t.Fatalf("experiments as vic: %d\n%s", code, body)
	}
	if strings.Contains(body, `href="/admin"`) {
		t.Error("a viewer sees the Admin link")
	}
	if code, _ := e.get(c, "/admin"); code != http.StatusForbidden {
		t.Errorf("/admin as a viewer: %d, want 403", code)
	}
	// The API takes the cookie; a write from another site with it is refused.
	if code, _ := e.get(c, "/api/v1/whoami"); code != 200 {
		t.Errorf("whoami with the session cookie: %d", code)
	}
	req, _ := http.NewRequest("POST", e.URL+"/api/v1/runs", strings.NewReader(`{}`))
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site write with the session cookie: %d, want 403", resp.StatusCode)
	}
	// An open redirect through next is refused.
	r := e.login(e.client(), "", e.tokens["erin"])
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("token login: %d", r.StatusCode)
	}
	// Logout revokes the session token.
	resp, err = c.Post(e.URL+"/logout", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	var session string
	for _, ck := range resp.Cookies() {
		if ck.Name == web.SessionCookie {
			session = ck.Value
		}
	}
	if session != "" {
		t.Errorf("logout left the cookie %q", session)
	}
	if code, _ := e.get(c, "/experiments"); code != http.StatusSeeOther {
		t.Errorf("page after logout: %d, want 303", code)
	}
}

// TestPagesAreGuarded walks the UI's routes: without credentials every
// page redirects to the login page and only the login page and assets are
// public.
func TestPagesAreGuarded(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	for _, rt := range e.srv.Routes() {
		if rt.Mount != "ui" || rt.Method != "GET" {
			continue
		}
		path := strings.NewReplacer("{experiment}", "x", "{run_id}", "x", "{name}", "m", "{version}", "1", "{file}", "app.js", "{$}", "").Replace(rt.Pattern)
		code, _ := e.get(c, path)
		public := rt.Pattern == "/login" || rt.Pattern == "/ui/assets/{file}"
		switch {
		case public && code != 200:
			t.Errorf("%s is public: %d", rt.Pattern, code)
		case !public && code != http.StatusSeeOther:
			t.Errorf("%s without a session: %d, want 303 to the login page", rt.Pattern, code)
		}
	}
}

// TestAdminWritesNeedSameOrigin: the admin page's writes go through the
// API with the session cookie; the same write from another site with the
// cookie is refused and makes nothing, and a viewer's is refused with 403.
func TestAdminWritesNeedSameOrigin(t *testing.T) {
	e := newEnv(t)
	post := func(c *http.Client, site string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", e.URL+"/api/v1/accounts", strings.NewReader(`{"name":"mallory","role":"admin"}`))
		req.Header.Set("Content-Type", "application/json")
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	admin := e.client()
	e.login(admin, "alice", "password-of-alice")
	if code := post(admin, "cross-site"); code != http.StatusForbidden {
		t.Errorf("cross-site account creation with an admin's cookie: %d, want 403", code)
	}
	if _, err := e.acc.Account(t.Context(), "mallory"); err == nil {
		t.Fatal("a cross-site request made an account")
	}
	viewer := e.client()
	e.login(viewer, "vic", "password-of-vic")
	if code := post(viewer, "same-origin"); code != http.StatusForbidden {
		t.Errorf("a viewer's account creation: %d, want 403", code)
	}
	if code := post(admin, "same-origin"); code != http.StatusCreated && code != http.StatusOK {
		t.Errorf("an admin's account creation from the page: %d, want 201", code)
	}
	if _, err := e.acc.Account(t.Context(), "mallory"); err != nil {
		t.Errorf("the admin's account creation made nothing: %v", err)
	}
}
