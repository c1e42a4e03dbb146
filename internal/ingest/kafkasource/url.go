package kafkasource

import (
	"crypto/tls"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/gyre-ml/gyre/internal/ingest"
)

// Bad-message policies (&bad=).
const (
	badFail = "fail" // the first unreadable message is an error (default for reading)
	badSkip = "skip" // skipped and counted
	badDLQ  = "dead-letter"
)

// source is a parsed kafka:// URL.
type source struct {
	display    string
	brokers    []string
	topic      string
	group      string
	format     string   // json or csv
	columns    []string // csv: the field names, in order
	explode    bool
	fromLatest bool
	maxRecords int64
	last       int64 // read the newest N records (split over the partitions)
	until      time.Time
	follow     bool // set: run until stopped (no bound given)
	readOnly   bool // Read: offer no commits
	bad        string
	deadLetter string
	sample     int
	key        string // writing: the column whose value keys each record
	avro       *avroSource
	avroOut    *avroSink // writing format=avro
	opts       []kgo.Opt
	user       string // the SASL user, when the URL names one
}

// parseURL reads kafka://BROKER[,BROKER]/TOPIC?....
func parseURL(raw string, write bool) (*source, error) {
	display := ingest.Redact(raw)
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("kafka: bad URL %s", display)
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			return nil, fmt.Errorf("kafka %s: a password in the URL is refused: give it with &password-env=VAR or &password-file=PATH", display)
		}
	}
	s := &source{display: display, format: "json", bad: badFail, follow: true}
	for _, b := range strings.Split(u.Host, ",") {
		if b == "" {
			continue
		}
		if !strings.Contains(b, ":") {
			b += ":9092"
		}
		s.brokers = append(s.brokers, b)
	}
	s.topic = strings.Trim(u.Path, "/")
	if len(s.brokers) == 0 || s.topic == "" || strings.Contains(s.topic, "/") {
		return nil, fmt.Errorf("kafka %s: want kafka://BROKER[:PORT][,BROKER...]/TOPIC", display)
	}
	q := u.Query()
	for k := range q {
		if !known[k] {
			return nil, fmt.Errorf("kafka %s: unknown parameter %q (known: group, format, compression, columns, schema, registry, registry-user, registry-password-env, from, max-records, last, until, follow, bad, dead-letter, arrays, sample, key, user, password-env, password-file, sasl, tls)", display, k)
		}
	}
	s.group = q.Get("group")
	switch f := q.Get("format"); f {
	case "", "json":
	case "csv":
		s.format = "csv"
	case "avro":
		s.format = "avro"
		if write {
			if s.avroOut, err = newAvroSink(display, s.topic, q.Get("schema"), q.Get("registry"), q.Get("registry-user"), q.Get("registry-password-env")); err != nil {
				return nil, err
			}
			break
		}
		if s.avro, err = newAvroSource(display, q.Get("schema"), q.Get("registry"), q.Get("registry-user"), q.Get("registry-password-env")); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("kafka %s: format=%q: want json (one JSON object per message), csv (one record per message, with &columns=) or avro (with &schema=FILE or &registry=URL)", display, f)
	}
	if c := q.Get("columns"); c != "" {
		s.columns = strings.Split(c, ",")
	}
	if s.format == "csv" && len(s.columns) == 0 && !write {
		return nil, fmt.Errorf("kafka %s: format=csv needs the field names: &columns=a,b,c", display)
	}
	switch v := q.Get("from"); v {
	case "", "earliest":
	case "latest":
		s.fromLatest = true
	default:
		return nil, fmt.Errorf("kafka %s: from=%q: want earliest or latest", display, v)
	}
	if v := q.Get("max-records"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("kafka %s: max-records=%q: want a positive number", display, v)
		}
		s.maxRecords, s.follow = n, false
	}
	if v := q.Get("last"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("kafka %s: last=%q: want a positive number of records", display, v)
		}
		s.last, s.follow = n, false
	}
	if v := q.Get("until"); v != "" {
		t, err := parseTime(v)
		if err != nil {
			return nil, fmt.Errorf("kafka %s: until=%q: want an RFC 3339 time (2026-12-07T10:00:00Z), a date or Unix milliseconds", display, v)
		}
		s.until, s.follow = t, false
	}
	if v := q.Get("follow"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("kafka %s: follow=%q: want true or false", display, v)
		}
		s.follow = b && s.maxRecords == 0 && s.until.IsZero() && s.last == 0
	}
	switch v := q.Get("bad"); v {
	case "", badFail:
	case badSkip:
		s.bad = badSkip
	case badDLQ:
		s.bad = badDLQ
	default:
		return nil, fmt.Errorf("kafka %s: bad=%q: want fail, skip or dead-letter", display, v)
	}
	s.deadLetter = q.Get("dead-letter")
	if s.bad == badDLQ && s.deadLetter == "" {
		s.deadLetter = s.topic + ".dead-letter"
	}
	if s.deadLetter != "" && s.bad == badFail {
		s.bad = badDLQ
	}
	switch v := q.Get("arrays"); v {
	case "", "json":
	case "explode":
		s.explode = true
	default:
		return nil, fmt.Errorf("kafka %s: arrays=%q: want json or explode", display, v)
	}
	if v := q.Get("sample"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("kafka %s: sample=%q: want a positive number of messages", display, v)
		}
		s.sample = n
	}
	s.key = q.Get("key")
	if v := q.Get("compression"); v != "" {
		codec, ok := codecs[v]
		if !ok {
			return nil, fmt.Errorf("kafka %s: compression=%q: want none, gzip, snappy, lz4 or zstd", display, v)
		}
		s.opts = append(s.opts, kgo.ProducerBatchCompression(codec))
	}
	if err := s.security(q, u); err != nil {
		return nil, err
	}
	return s, nil
}

// codecs are the compression= values: how produced batches are
// compressed (the client's default, without compression=, is snappy).
var codecs = map[string]kgo.CompressionCodec{"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(),
	"snappy": kgo.SnappyCompression(), "lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression()}

var known = map[string]bool{"compression": true, "group": true, "format": true, "columns": true, "schema": true, "registry": true,
	"registry-user": true, "registry-password-env": true, "from": true, "max-records": true,
	"until": true, "last": true, "follow": true, "bad": true, "dead-letter": true, "arrays": true, "sample": true, "key": true,
	"user": true, "password-env": true, "password-file": true, "sasl": true, "tls": true}

// security sets SASL and TLS from the URL: the user from user= or the
// URL's user, the password only from an environment variable or a file.
func (s *source) security(q url.Values, u *url.URL) error {
	user := q.Get("user")
	if u.User != nil && user == "" {
		user = u.User.Username()
	}
	pass, has, err := ingest.QuerySecret(q, "password")
	if err != nil {
		return fmt.Errorf("kafka %s: %w", s.display, err)
	}
	if has && user == "" {
		return fmt.Errorf("kafka %s: a password was given but no user (&user=NAME)", s.display)
	}
	if user != "" {
		s.user = user
		switch m := strings.ToLower(q.Get("sasl")); m {
		case "", "plain":
			s.opts = append(s.opts, kgo.SASL(plain.Auth{User: user, Pass: pass}.AsMechanism()))
		case "scram-sha-256":
			s.opts = append(s.opts, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()))
		case "scram-sha-512":
			s.opts = append(s.opts, kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()))
		default:
			return fmt.Errorf("kafka %s: sasl=%q: want plain, scram-sha-256 or scram-sha-512", s.display, m)
		}
	}
	if v := q.Get("tls"); v != "" {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("kafka %s: tls=%q: want true or false", s.display, v)
		}
		if on {
			s.opts = append(s.opts, kgo.DialTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}))
		}
	}
	return nil
}

func parseTime(v string) (time.Time, error) {
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(l, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q", v)
}
