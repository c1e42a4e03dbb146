package web

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// requestTypes are every JSON body the API decodes.
func requestTypes() []func() any {
	return []func() any{
		func() any { return new(CreateRunRequest) }, func() any { return new(LogMetricsRequest) },
		func() any { return new(LogParamsRequest) }, func() any { return new(SetTagsRequest) },
		func() any { return new(EndRunRequest) }, func() any { return new(LogDatasetRequest) },
		func() any { return new(UpdateModelRequest) }, func() any { return new(SetTagRequest) },
		func() any { return new(SetAliasRequest) }, func() any { return new(CreateAccountRequest) },
		func() any { return new(SetPasswordRequest) }, func() any { return new(CreateTokenRequest) },
		func() any { return new(GrantRequest) },
	}
}

// FuzzDecodeBody feeds arbitrary bytes to the body decoder for every
// request type: it never panics, every error is an API error of kind
// invalid_argument, and what it accepts survives a JSON round trip.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{`{}`, `{"metrics":[{"key":"auc","value":0.9,"step":1}]}`, `{"params":{"a":"1"}}`,
		`{"experiment":"e","tags":{"k":"v"}}`, `{"version":3}`, `{"role":"editor"}`, `{"name":"bob","kind":"service"}`,
		`{"metrics":[{"key":"x","value":null}]}`, `{"unknown":1}`, `{"version":"3"}`, `{} {}`, `[`, ``, `{"a":` + strings.Repeat("[", 100)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, mk := range requestTypes() {
			v := mk()
			err := decodeBody(body, v)
			if err != nil {
				var ae *Error
				if !errors.As(err, &ae) || ae.Kind != KindInvalid || ae.Message == "" {
					t.Fatalf("%T from %q: error %v is not an invalid_argument API error", v, body, err)
				}
				continue
			}
			again := mk()
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("%T from %q: re-encode: %v", v, body, err)
			}
			if err := decodeBody(b, again); err != nil {
				t.Fatalf("%T from %q: re-decode %s: %v", v, body, b, err)
			}
			if b2, _ := json.Marshal(again); string(b2) != string(b) {
				t.Fatalf("%T from %q: round trip %s → %s", v, body, b, b2)
			}
		}
	})
}

// FuzzPageToken: offset tokens decode to what they encode, and anything
// else is an invalid_argument naming page_token.
func FuzzPageToken(f *testing.F) {
	for _, s := range []string{"", offsetToken(0), offsetToken(100), "bzE", "x", "o-1", "%%%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		n, err := parseOffset(tok)
		if err != nil {
			var ae *Error
			if !errors.As(err, &ae) || ae.Field != "page_token" {
				t.Fatalf("token %q: error %v does not name page_token", tok, err)
			}
			return
		}
		if n < 0 {
			t.Fatalf("token %q: negative offset %d", tok, n)
		}
		if m, err := parseOffset(offsetToken(n)); err != nil || m != n {
			t.Fatalf("offset %d: round trip %d, %v", n, m, err)
		}
	})
}

// FuzzCheckArtifactPath: an accepted path is relative and has no empty,
// "." or ".." segment, backslash or control character.
func FuzzCheckArtifactPath(f *testing.F) {
	for _, s := range []string{"a.txt", "plots/roc.png", "../x", "/abs", "a//b", `a\b`, "a/./b", "..", "ü/ß"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if CheckArtifactPath(p) != nil {
			return
		}
		if strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\\x00") {
			t.Fatalf("accepted %q", p)
		}
		for _, seg := range strings.Split(p, "/") {
			if seg == "" || seg == "." || seg == ".." {
				t.Fatalf("accepted %q with segment %q", p, seg)
			}
		}
	})
}

// FuzzParseSince: time bounds parse or fail with an error naming the
// field; ages are never in the future.
func FuzzParseSince(f *testing.F) {
	for _, s := range []string{"90d", "2w", "12h", "30m", "2025-01-02", "2025-01-02T03:04:05Z", "-5d", "d", "1e9h", "999999999999d"} {
		f.Add(s)
	}
	now := time.Unix(1_750_000_000, 0)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseSince("since", s, now)
		if err != nil {
			var ae *Error
			if !errors.As(err, &ae) || ae.Field != "since" {
				t.Fatalf("%q: error %v does not name the field", s, err)
			}
			return
		}
		if _, ageErr := ParseAge(s); ageErr == nil && got.After(now) {
			t.Fatalf("age %q gave a time after now: %v", s, got)
		}
	})
}
