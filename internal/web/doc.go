// Package web is Gyre's team server: one process over the shared metadata
// and artifact stores that serves Gyre's own JSON API under /api/v1/, the
// MLflow REST API (package mlflowapi) under /api/2.0/ and /ajax-api/2.0/,
// health and readiness probes, Prometheus metrics and an OpenAPI document.
//
// Every endpoint is a [Route] in one table ([Server.Routes]): its method,
// path pattern (net/http's ServeMux syntax), the role it needs and its
// handler. The server wraps each handler with the same chain — request id,
// structured request log, panic recovery, metrics, authentication and the
// route's role check — so no endpoint can skip authentication, and the
// security test enumerates the table. A route's Role is checked against the
// highest role the caller holds anywhere before its handler runs (a plain
// viewer never reaches a write handler); the handler then checks the role
// on the resource it acts on with [access.Require] (an editor of one model
// cannot write another).
//
// Errors use one envelope, {"error": {"kind", "message", "field"}}, whose
// kind maps to the HTTP status ([Kind]); list endpoints page with
// page_token / max_results and return next_page_token.
//
// The router leaves "/" free: an embedded UI registers its HTML pages there
// through [Server.Handle] without touching the API.
//
// Layer 5: it imports the stores (track, registry, dataset), access, audit
// and mlflowapi; cli wires it.
package web
