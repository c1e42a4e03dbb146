// Package ui is Gyre's web UI: the pages `gyre server` serves under "/"
// (experiments and runs, run comparison, models, data sets, production
// monitoring, pipelines, administration), embedded in the binary with
// go:embed and working offline.
//
// Pages are html/template shells rendered with the caller's name and
// roles, so what a role cannot do is not shown (a viewer sees no write
// buttons); their data comes from small scripts (assets/app.js) that call
// the server's /api/v1, which checks every request again. Charts are drawn
// by the ECharts copy the HTML reports embed (report.ECharts). The UI is a
// web.Mount: every page is a route behind the server's authentication;
// a browser without a session is sent to the login page, which trades a
// password (or an API token) for a session token in an HttpOnly,
// SameSite=Strict cookie (web.SessionCookie).
package ui
