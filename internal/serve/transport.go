package serve

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// The transport. Serve answers HTTP/1.1 with fasthttp rather than
// net/http: on this workload (single-row predictions from many keep-alive
// clients) net/http's per-request costs — a goroutine for background
// reads, header maps, a cancellable context, deadlines set twice — came to
// ~20 µs of CPU per request, more than the 300-tree walk itself (see
// docs/benchmarks.md, "serve"). One-row prediction requests, the hot path,
// are answered here directly from fasthttp's request buffer (servePredict);
// every other request, and any prediction the single-row path does not
// take, goes to the net/http handler (Handler) through fasthttpadaptor, so
// there is one implementation of every endpoint and of every error.

// readBufferSize is the per-connection read buffer, which also bounds the
// request line and headers (fasthttp answers 431 beyond it). fasthttp
// keeps it for the life of a keep-alive connection, so it is the memory
// an idle client costs: 16 KiB allows the headers of any sensible client
// (nginx's default limit is 8 KiB per header line).
const readBufferSize = 16 << 10

// transport builds the fasthttp server for s.
func (s *Server) transport() *fasthttp.Server {
	general := fasthttpadaptor.NewFastHTTPHandler(s.mux)
	return &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			if ctx.IsPost() && s.servePredict(ctx) {
				return
			}
			general(ctx)
		},
		ErrorHandler:       s.transportError,
		ExpectHandler:      s.expect,
		Name:               "gyre",
		ReadTimeout:        s.opt.ReadTimeout,
		WriteTimeout:       s.opt.ReadTimeout + 30*time.Second,
		IdleTimeout:        2 * time.Minute,
		MaxRequestBodySize: int(s.opt.MaxBodyBytes),
		ReadBufferSize:     readBufferSize,
		// During shutdown every answer carries Connection: close.
		CloseOnShutdown: true,
		MaxConnsPerIP:   max(s.opt.MaxConnsPerClient, 0),
		// Errors name what was wrong without echoing the request's bytes.
		SecureErrorLogMessage: true,
		Logger:                fasthttpLogger{s},
	}
}

// expect answers "Expect: 100-continue": a body declared over the limit is
// refused with 413, and the endpoint's JSON reason, before the client
// sends it.
func (s *Server) expect(ctx *fasthttp.RequestCtx) int {
	if n := ctx.Request.Header.ContentLength(); n > 0 && int64(n) > s.opt.MaxBodyBytes {
		s.transportError(ctx, fasthttp.ErrBodyTooLarge)
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusContinue
}

// hotRoute matches the single-row prediction routes: /invocations,
// /v1/models/{name}/predict, /v2/models/{name}/infer and
// /v2/models/{name}/versions/{version}/infer. Names holding escapes are
// left to the general router.
func hotRoute(path []byte) (ep endpoint, name, version []byte, ok bool) {
	if string(path) == "/invocations" {
		return epInvocations, nil, nil, true
	}
	var rest []byte
	switch {
	case bytes.HasPrefix(path, []byte("/v1/models/")):
		rest = path[len("/v1/models/"):]
		n, ok := bytes.CutSuffix(rest, []byte("/predict"))
		if !ok || !segment(n) {
			return 0, nil, nil, false
		}
		return epPredict, n, nil, true
	case bytes.HasPrefix(path, []byte("/v2/models/")):
		rest = path[len("/v2/models/"):]
		n, ok := bytes.CutSuffix(rest, []byte("/infer"))
		if !ok {
			return 0, nil, nil, false
		}
		if i := bytes.Index(n, []byte("/versions/")); i >= 0 {
			n, version = n[:i], n[i+len("/versions/"):]
			if !segment(version) {
				return 0, nil, nil, false
			}
		}
		if !segment(n) {
			return 0, nil, nil, false
		}
		return epInfer, n, version, true
	}
	return 0, nil, nil, false
}

// segment reports whether p is one plain path segment.
func segment(p []byte) bool {
	return len(p) > 0 && bytes.IndexByte(p, '/') < 0 && bytes.IndexByte(p, '%') < 0
}

// servePredict answers a one-row prediction request on the single-row path
// and reports whether it did; when it did not, nothing has been written
// or recorded and the general handler takes the request.
func (s *Server) servePredict(ctx *fasthttp.RequestCtx) bool {
	ep, name, version, ok := hotRoute(ctx.Path())
	if !ok {
		return false
	}
	start := time.Now()
	var e *entry
	if ep == epInvocations {
		// The row path takes JSON bodies only; CSV and anything MLflow
		// would refuse with 415 go to the general handler.
		if ct := ctx.Request.Header.ContentType(); len(s.models) != 1 || len(ct) > 0 && string(ct) != "application/json" {
			return false
		}
		e = s.models[s.names[0]]
	} else if e = s.models[string(name)]; e == nil {
		return false
	}
	cur := e.cur.Load()
	if cur.row == nil || (version != nil && string(version) != cur.version) {
		return false
	}
	var reqID string
	if ep == epPredict {
		reqID = string(ctx.Request.Header.Peek("X-Request-Id"))
	}
	buf := getBuf()
	defer putBuf(buf)
	b, status, id, ok := s.tryRow(ep, e, cur, ctx.PostBody(), reqID, start, (*buf)[:0])
	*buf = b
	if !ok {
		return false
	}
	ctx.SetStatusCode(status)
	ctx.Response.Header.SetContentTypeBytes(jsonMIME)
	if ep.idHeader(status) {
		ctx.Response.Header.SetBytesK(requestIDHeader, id)
	}
	ctx.Response.SetBody(b)
	s.metrics.observe(e.name, cur.version, ep.metric(), status, okRows(status), time.Since(start))
	return true
}

var (
	jsonMIME        = []byte("application/json")
	requestIDHeader = []byte("X-Request-Id")
)

// transportError answers a request fasthttp could not read: a body over
// the limit (413), a request line or headers over the read buffer (431),
// a client too slow to send its request (408), or malformed HTTP (400), in
// the error envelope of the endpoint the request was for (Gyre's when
// fasthttp no longer has the request line, as after a broken chunked body).
func (s *Server) transportError(ctx *fasthttp.RequestCtx, err error) {
	status, msg := http.StatusBadRequest, fmt.Sprintf("malformed HTTP request: %v", err)
	var small *fasthttp.ErrSmallBuffer
	var timeout interface{ Timeout() bool }
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		status, msg = http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes: send fewer rows per request", s.opt.MaxBodyBytes)
	case errors.As(err, &small):
		status, msg = http.StatusRequestHeaderFieldsTooLarge, fmt.Sprintf("request line and headers over %d bytes", readBufferSize)
	case errors.As(err, &timeout) && timeout.Timeout():
		status, msg = http.StatusRequestTimeout, fmt.Sprintf("request not received within %s", s.opt.ReadTimeout)
	}
	p := protoFor(string(ctx.Path()))
	buf := getBuf()
	defer putBuf(buf)
	status, b := appendFailure((*buf)[:0], p, &RequestError{Status: status, Msg: msg})
	*buf = b
	ctx.SetStatusCode(status)
	ctx.Response.Header.SetContentTypeBytes(jsonMIME)
	ctx.Response.SetBody(b)
	ctx.SetConnectionClose()
}

// fasthttpLogger sends fasthttp's own messages (connection errors) to the
// server's logger at debug level.
type fasthttpLogger struct{ s *Server }

// Printf implements fasthttp.Logger.
func (l fasthttpLogger) Printf(format string, args ...any) {
	l.s.opt.Logger.Debug(fmt.Sprintf(format, args...))
}
