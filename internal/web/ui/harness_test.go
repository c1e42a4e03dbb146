package ui_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/mlflowapi"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/sqlstore/sqlstoretest"
	"github.com/gyre-ml/gyre/internal/track"
	"github.com/gyre-ml/gyre/internal/web"
	"github.com/gyre-ml/gyre/internal/web/ui"
)

// env is a team server with the UI mounted, on SQLite, with an account
// per role (each with the password "password-of-"+name and a token).
type env struct {
	t      testing.TB
	URL    string
	srv    *web.Server
	db     *sqlstore.DB
	blobs  blob.Store
	acc    *access.Store
	tr     *track.Tracker
	reg    *registry.Registry
	ds     *dataset.Catalog
	tokens map[string]string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	db := sqlstoretest.Open(t, sqlstoretest.Backends(t)[0])
	bs, err := blob.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	acc := access.New(db)
	e := &env{t: t, db: db, blobs: bs, acc: acc, tr: track.New(db, bs), reg: registry.New(db, bs), ds: dataset.New(db, bs), tokens: map[string]string{}}
	pages, err := ui.New(ui.Options{Access: acc, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	api := mlflowapi.New(mlflowapi.Options{Tracker: e.tr, Registry: e.reg, Datasets: e.ds, Blobs: bs})
	e.srv, err = web.New(web.Options{DB: db, Blobs: bs, Access: acc, Tracker: e.tr, Registry: e.reg, Datasets: e.ds, Version: "test",
		Mounts: []web.Mount{web.MLflow(api), pages.Mount()}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(e.srv.Handler())
	t.Cleanup(ts.Close)
	e.URL = ts.URL
	for name, role := range map[string]access.Role{"alice": access.Admin, "erin": access.Editor, "vic": access.Viewer} {
		if _, err := acc.CreateAccount(ctx, name, access.AccountOptions{Role: role}); err != nil {
			t.Fatal(err)
		}
		if err := acc.SetPassword(ctx, name, "password-of-"+name); err != nil {
			t.Fatal(err)
		}
		tok, _, err := acc.CreateToken(ctx, name, access.TokenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[name] = tok
	}
	return e
}

// client is a browser-like client: a cookie jar, no redirects followed.
func (e *env) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// login posts the login form and returns the response.
func (e *env) login(c *http.Client, name, secret string) *http.Response {
	e.t.Helper()
	resp, err := c.PostForm(e.URL+"/login", url.Values{"name": {name}, "password": {secret}, "next": {"/models"}})
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func (e *env) get(c *http.Client, path string) (int, string) {
	e.t.Helper()
	resp, err := c.Get(e.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, sb.String()
}
