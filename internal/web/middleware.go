package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"
)

// reqInfo is what the middleware learns about a request as it is served.
type reqInfo struct {
	id    string
	route string // the matched route's pattern
	user  string
	log   *slog.Logger // the server's, without the request id
}

type infoKey struct{}

func infoFrom(ctx context.Context) *reqInfo {
	i, _ := ctx.Value(infoKey{}).(*reqInfo)
	return i
}

func requestID(ctx context.Context) string {
	if i := infoFrom(ctx); i != nil {
		return i.id
	}
	return ""
}

// logFrom returns the request's logger, with its id. The request line
// itself adds the id as an attribute: no logger is derived for requests
// that log nothing else.
func logFrom(ctx context.Context) *slog.Logger {
	if i := infoFrom(ctx); i != nil && i.log != nil {
		return i.log.With("request_id", i.id)
	}
	return slog.New(slog.DiscardHandler)
}

// validRequestID accepts a client's X-Request-Id of up to 64 letters,
// digits, '-', '_' and '.'.
func validRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and deadlines.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// middleware is the chain every request passes: request id, panic
// recovery into a 500 envelope, metrics and one structured log line.
// Authentication is per route (guard), inside the router.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		info := &reqInfo{id: id, log: s.o.Logger}
		ctx := context.WithValue(r.Context(), infoKey{}, info)
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		s.inflight.Inc()
		defer func() {
			s.inflight.Dec()
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logFrom(ctx).Error("panic", "panic", v, "stack", string(debug.Stack()))
				if sw.status == 0 {
					writeError(sw, r.WithContext(ctx), &Error{Kind: KindInternal, Message: "panic", err: errors.New("panic")})
				}
			}
			route := info.route
			if route == "" {
				route = "unmatched"
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			d := time.Since(start)
			s.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
			s.latency.WithLabelValues(route, r.Method).Observe(d.Seconds())
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			info.log.LogAttrs(ctx, level, "request", slog.String("request_id", id),
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("route", route),
				slog.Int("status", status), slog.Int64("bytes", sw.bytes), slog.Duration("duration", d),
				slog.String("user", info.user), slog.String("remote", r.RemoteAddr))
		}()
		next.ServeHTTP(sw, r.WithContext(ctx))
	})
}
