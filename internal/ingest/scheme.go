package ingest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/gyre-ml/gyre/internal/frame"
)

// Source reads the sources of one URL scheme registered with
// RegisterScheme: a database collection, a topic, a paged API. Packages
// under ingest (mongosource, kafkasource, ...) implement it and register in
// init; the binary wires them in by importing them (package cli does).
//
// Read returns the whole source as one frame; Read (the package function)
// then applies Options.Schema and Options.Columns. Stream calls fn with
// chunks of about chunkRows rows in source order, with the column kinds of
// the first chunk (or of Options.Schema, which it must honour) for the whole
// stream; package-level Stream then sets the schema's roles and selects
// Options.Columns on every chunk.
type Source interface {
	Read(ctx context.Context, source string, opt Options) (*frame.Frame, error)
	Stream(ctx context.Context, source string, opt Options, chunkRows int, fn func(*Chunk) error) error
}

// Destination is the optional ability of a Source to be written to
// (gyre predict --out mongodb://...): Create opens a Sink for dest.
type Destination interface {
	Create(ctx context.Context, dest string) (Sink, error)
}

// Follower is the optional ability of a Source whose streams do not end by
// themselves (a Kafka topic without a bound): Follows reports whether a
// stream of source runs until Options.Stop is closed.
type Follower interface {
	Follows(source string) bool
}

// Sink receives the chunks written to a registered destination through a
// ChunkWriter made by Create.
type Sink interface {
	// Format names the text the sink wants each chunk's rows in, formatted
	// by ChunkWriter.Encode (in parallel, off the writer goroutine): "jsonl"
	// (one JSON object per line) or "csv" (one record per line, no header);
	// "" when the sink only needs the frame.
	Format() string
	// WriteChunk writes one chunk: its frame, and its rows as text in
	// Format (nil when Format is ""). It returns once the rows are stored.
	WriteChunk(ctx context.Context, f *frame.Frame, text []byte) error
	// Close makes everything written visible (a sink that can, commits or
	// renames into place here).
	Close() error
	// Abort discards what the sink can of what was written.
	Abort()
}

// AsyncSink is a Sink that can have several chunks on their way to storage
// at once (a Kafka topic: records are sent while earlier ones wait for
// their acknowledgements), so a writer need not wait for each chunk's
// round trip before sending the next.
type AsyncSink interface {
	Sink
	// StartChunk sends one chunk, like WriteChunk, but returns once it is
	// handed over; stored is called exactly once, from any goroutine,
	// with nil once every row of the chunk is stored, or with the error
	// that kept one from it. Chunks on different partitions may be stored
	// out of order, so a caller that commits input positions waits for the
	// chunks in its own order. An error returned by StartChunk itself
	// means stored is not called.
	StartChunk(ctx context.Context, f *frame.Frame, text []byte, stored func(error)) error
}

var (
	schemesMu sync.RWMutex
	schemes   = map[string]Source{}
)

// RegisterScheme makes a Source read the URLs of a scheme ("mongodb",
// "kafka"), for Read, Stream and (when it is a Destination) Create.
// Registering a scheme twice panics.
func RegisterScheme(scheme string, s Source) {
	schemesMu.Lock()
	defer schemesMu.Unlock()
	scheme = strings.ToLower(scheme)
	if _, dup := schemes[scheme]; dup {
		panic("ingest: scheme " + scheme + " registered twice")
	}
	schemes[scheme] = s
}

// Schemes lists the registered schemes, sorted.
func Schemes() []string {
	schemesMu.RLock()
	defer schemesMu.RUnlock()
	out := make([]string, 0, len(schemes))
	for s := range schemes {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// schemeOf returns the registered Source for source's URL scheme, if any.
func schemeOf(source string) (Source, bool) {
	i := strings.Index(source, "://")
	if i <= 0 {
		return nil, false
	}
	schemesMu.RLock()
	defer schemesMu.RUnlock()
	s, ok := schemes[strings.ToLower(source[:i])]
	return s, ok
}

// Follows reports whether streaming source runs until Options.Stop is
// closed rather than ending by itself (an unbounded Kafka topic).
func Follows(source string) bool {
	s, ok := schemeOf(source)
	if !ok {
		return false
	}
	f, ok := s.(Follower)
	return ok && f.Follows(source)
}

// streamScheme streams a registered source, setting the schema's roles and
// selecting Options.Columns on every chunk.
func streamScheme(ctx context.Context, s Source, source string, opt Options, chunkRows int, fn func(*Chunk) error) error {
	return s.Stream(ctx, source, opt, chunkRows, func(c *Chunk) error {
		f := c.Frame
		for n, o := range opt.Schema {
			if f.Index(n) >= 0 {
				if err := f.SetRole(n, o.Role); err != nil {
					return fmt.Errorf("read %s: %w", Redact(source), err)
				}
			}
		}
		f, err := selectColumns(f, Redact(source), opt)
		if err != nil {
			return err
		}
		c.Frame = f
		return fn(c)
	})
}

// createSink opens a ChunkWriter on a registered destination.
func createSink(ctx context.Context, s Source, dest string) (*ChunkWriter, error) {
	d, ok := s.(Destination)
	if !ok {
		return nil, fmt.Errorf("write %s: %w: this kind of source cannot be written to", Redact(dest), ErrFormat)
	}
	sink, err := d.Create(ctx, dest)
	if err != nil {
		return nil, err
	}
	w := &ChunkWriter{sink: sink, sinkName: Redact(dest), delim: ','}
	switch sink.Format() {
	case "jsonl":
		w.fm = fmtJSONL
	case "csv":
		w.fm = fmtCSV
	}
	return w, nil
}

// QuerySecret reads a secret a source URL names by NAME-env= (an
// environment variable) or NAME-file= (a file, trailing newline removed),
// never from the URL itself; ok is false when the URL names neither. The
// error names the parameter at fault.
func QuerySecret(q url.Values, name string) (secret string, ok bool, err error) {
	if v := q.Get(name + "-env"); v != "" {
		p, ok := os.LookupEnv(v)
		if !ok {
			return "", false, fmt.Errorf("%s-env=%s: the environment variable is not set", name, v)
		}
		return p, true, nil
	}
	if v := q.Get(name + "-file"); v != "" {
		b, err := os.ReadFile(v)
		if err != nil {
			return "", false, fmt.Errorf("%s-file: %w", name, err)
		}
		return strings.TrimRight(string(b), "\r\n"), true, nil
	}
	return "", false, nil
}

// secretParams are query parameters whose values Redact hides.
var secretParams = []string{"password", "pass", "passwd", "secret", "token", "api_key", "apikey", "access_token", "sasl_password", "key", "signature", "sig", "x-amz-signature", "x-amz-credential", "credential"}

// Redact returns source with any credentials removed, for errors, logs,
// run parameters and lineage: a URL's password (user:pass@) becomes
// "xxxxx", and the values of query parameters that name a secret
// (password, token, api_key, ...) likewise. Names of environment variables
// and files holding secrets (password-env=, password-file=) are kept: they
// are not secrets. A source that is not a URL is returned unchanged.
func Redact(source string) string {
	if !strings.Contains(source, "://") {
		return source
	}
	u, err := url.Parse(source)
	if err != nil {
		// An unparsable URL may still hold user:pass@: cut everything
		// between the scheme and the last '@' before the path.
		i := strings.Index(source, "://") + 3
		rest := source[i:]
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
			return source[:i] + "xxxxx@" + rest[at+1:]
		}
		return source
	}
	changed := false
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			changed = true
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k, vs := range q {
			if isSecretParam(k) {
				for i := range vs {
					vs[i] = "xxxxx"
				}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	if !changed {
		return source
	}
	return u.String()
}

func isSecretParam(k string) bool {
	k = strings.ToLower(strings.ReplaceAll(k, "-", "_"))
	if strings.HasSuffix(k, "_env") || strings.HasSuffix(k, "_file") {
		return false
	}
	for _, s := range secretParams {
		if k == s || strings.HasSuffix(k, "_"+s) {
			return true
		}
	}
	return false
}
