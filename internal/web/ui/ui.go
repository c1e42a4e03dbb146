package ui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/report"
	"github.com/gyre-ml/gyre/internal/track"
	"github.com/gyre-ml/gyre/internal/web"
)

//go:embed assets templates
var files embed.FS

// Options configure the UI.
type Options struct {
	// Access verifies logins and mints session tokens.
	Access *access.Store
	// Version is shown in the footer.
	Version string
	// SessionTTL is how long a login lasts (default 12 h).
	SessionTTL time.Duration
	// Logger receives login failures; default discards.
	Logger *slog.Logger
}

// UI serves the pages. Build it with [New] and mount it with [UI.Mount].
type UI struct {
	o      Options
	tmpl   map[string]*template.Template
	assets map[string]asset
}

// asset is a static file with its gzip form and an ETag.
type asset struct {
	body, gz []byte
	ctype    string
	etag     string
}

// New builds the UI from its embedded templates and assets.
func New(o Options) (*UI, error) {
	if o.Access == nil {
		return nil, errors.New("ui: new: Access is required")
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	u := &UI{o: o, tmpl: map[string]*template.Template{}, assets: map[string]asset{}}
	layout, err := files.ReadFile("templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("ui: read layout: %w", err)
	}
	pages, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("ui: list templates: %w", err)
	}
	for _, p := range pages {
		name := strings.TrimSuffix(strings.TrimPrefix(p, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		body, err := files.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("ui: read template %s: %w", p, err)
		}
		t, err := template.New("layout").Funcs(funcs).Parse(string(layout))
		if err == nil {
			_, err = t.Parse(string(body))
		}
		if err != nil {
			return nil, fmt.Errorf("ui: parse template %s: %w", p, err)
		}
		u.tmpl[name] = t
	}
	add := func(name, ctype string, body []byte) {
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		_, _ = zw.Write(body)
		_ = zw.Close()
		sum := sha256.Sum256(body)
		u.assets[name] = asset{body: body, gz: gz.Bytes(), ctype: ctype, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	entries, err := fs.ReadDir(files, "assets")
	if err != nil {
		return nil, fmt.Errorf("ui: list assets: %w", err)
	}
	for _, e := range entries {
		body, err := files.ReadFile("assets/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("ui: read asset %s: %w", e.Name(), err)
		}
		add(e.Name(), contentType(e.Name()), body)
	}
	add("echarts.min.js", "text/javascript; charset=utf-8", []byte(report.ECharts()))
	add("ECHARTS-LICENSE.txt", "text/plain; charset=utf-8", []byte(report.EChartsLicense()))
	return u, nil
}

func contentType(name string) string {
	switch {
	case strings.HasSuffix(name, ".js"):
		return "text/javascript; charset=utf-8"
	case strings.HasSuffix(name, ".css"):
		return "text/css; charset=utf-8"
	case strings.HasSuffix(name, ".svg"):
		return "image/svg+xml"
	}
	return "text/plain; charset=utf-8"
}

var funcs = template.FuncMap{}

// RunsPageSize is the runs table's page size (PAGE_SIZE in app.js).
const RunsPageSize = 100

// page is a UI page: its route and the template it renders.
type page struct {
	pattern, template, title, nav string
	// role is what the page needs server-wide (viewer for all but admin).
	role access.Role
}

var pages = []page{
	{"/experiments", "experiments", "Experiments", "experiments", access.Viewer},
	{"/experiments/{experiment}", "runs", "Runs", "experiments", access.Viewer},
	{"/runs/{run_id}", "run", "Run", "experiments", access.Viewer},
	{"/compare", "compare", "Compare runs", "experiments", access.Viewer},
	{"/models", "models", "Models", "models", access.Viewer},
	{"/models/{name}", "model", "Model", "models", access.Viewer},
	{"/models/{name}/versions/{version}", "version", "Model version", "models", access.Viewer},
	{"/data", "data", "Data sets", "data", access.Viewer},
	{"/data/{name}", "dataset", "Data set", "data", access.Viewer},
	{"/production", "production", "Production", "production", access.Viewer},
	{"/production/{name}", "monitoring", "Production", "production", access.Viewer},
	{"/admin", "admin", "Administration", "admin", access.Admin},
}

// chartPages are the pages that draw charts.
var chartPages = map[string]bool{"run": true, "compare": true, "version": true, "dataset": true, "monitoring": true}

// Mount returns the UI as a route table for web.Options.Mounts: every page
// and asset behind the server's authentication, refusals answered as pages
// (a browser without a session is redirected to the login page).
func (u *UI) Mount() web.Mount {
	var rs []web.Route
	add := func(method, pattern string, role access.Role, self bool, summary string, h http.HandlerFunc) {
		rs = append(rs, web.Route{Method: method, Pattern: pattern, Role: role, Self: self, Summary: summary, Page: true, Handler: h})
	}
	add("GET", "/{$}", access.Viewer, false, "The UI's home: the experiments.", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/experiments", http.StatusSeeOther)
	})
	for _, p := range pages {
		add("GET", p.pattern, p.role, false, "UI page: "+p.title+".", u.render(p))
	}
	add("GET", "/login", access.None, false, "The login page.", u.loginPage)
	add("POST", "/login", access.None, false, "Log in: trade a password or token for a session.", u.login)
	add("POST", "/logout", access.Viewer, true, "Log out: revoke the session.", u.logout)
	add("GET", "/ui/assets/{file}", access.None, false, "The UI's scripts, styles and ECharts.", u.serveAsset)
	return web.Mount{Name: "ui", Routes: rs, WriteError: u.refuse}
}

// view is what every page template gets.
type view struct {
	Title, Nav, Page, Version string
	User                      string
	Role                      string
	Anonymous                 bool
	// Charts loads ECharts (the pages that draw; the others stay light).
	Charts bool
	// CanEdit: the caller may write somewhere (editor on the server or on
	// a resource); pages refine it per resource through Data.
	CanEdit, IsAdmin bool
	// Data is handed to the page's script (the body's data-args, JSON).
	Data map[string]string
	// Error and Next are the login page's.
	Error, Next string
}

// Args returns Data as JSON for the page's script.
func (v *view) Args() string {
	b, _ := json.Marshal(v.Data)
	return string(b)
}

func (u *UI) view(r *http.Request, title, nav, pg string) *view {
	p := access.PrincipalFrom(r.Context())
	v := &view{Title: title, Nav: nav, Page: pg, Version: u.o.Version, Data: map[string]string{}}
	if p != nil {
		v.User, v.Anonymous = p.Name, p.Anonymous
		v.Role = p.MaxRole().String()
		v.CanEdit = p.MaxRole() >= access.Editor
		v.IsAdmin = p.RoleOn(access.ServerResource) >= access.Admin
	}
	return v
}

func (u *UI) render(p page) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := u.view(r, p.title, p.nav, p.template)
		v.Charts = chartPages[p.template]
		for _, name := range []string{"experiment", "run_id", "name", "version"} {
			if val := r.PathValue(name); val != "" {
				v.Data[name] = val
			}
		}
		if p.template == "runs" {
			if n, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && n > 1 {
				v.Data["page_token"] = track.EncodePageToken((n - 1) * RunsPageSize)
			}
		}
		if p.template == "admin" {
			v.Data["min_password"] = strconv.Itoa(access.MinPasswordLen)
		}
		if name := r.PathValue("name"); name != "" {
			pr := access.PrincipalFrom(r.Context())
			v.Data["can_edit_model"] = fmt.Sprint(pr.RoleOn(access.Resource{Kind: access.Model, Name: name}) >= access.Editor)
		}
		u.write(w, http.StatusOK, p.template, v)
	}
}

func (u *UI) write(w http.ResponseWriter, status int, name string, v *view) {
	var buf bytes.Buffer
	if err := u.tmpl[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		u.o.Logger.Error("ui: render", "page", name, "err", err.Error())
		http.Error(w, "ui: render "+name+": internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	// Everything the page loads comes from this server; scripts only from
	// files (no inline script), frames only from this server's sandboxed
	// artifacts.
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (u *UI) serveAsset(w http.ResponseWriter, r *http.Request) {
	a, ok := u.assets[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("ETag", a.etag)
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Vary", "Accept-Encoding")
	if r.Header.Get("If-None-Match") == a.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	_, _ = w.Write(body)
}

// refuse answers the server's refusals as pages: without a session, a GET
// is sent to the login page (coming back afterwards); a role too low gets
// a page saying so.
func (u *UI) refuse(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, access.ErrUnauthenticated) {
		if r.Method == http.MethodGet {
			// A stale session cookie is dropped so the login page shows.
			http.SetCookie(w, &http.Cookie{Name: web.SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		v := u.view(r, "Log in", "", "login")
		v.Error = "Your session has ended: log in again."
		u.write(w, http.StatusUnauthorized, "login", v)
		return
	}
	v := u.view(r, "Not allowed", "", "forbidden")
	v.Error = err.Error()
	u.write(w, http.StatusForbidden, "forbidden", v)
}
