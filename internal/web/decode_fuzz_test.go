package web

import (
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
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
		func() any { return new(GrantRequest) }, func() any { return new(SetStageRequest) },
		func() any { return new(GCRequest) }, func() any { return new(ClassifyRequest) },
		func() any { return new(FeedbackRequest) },
	}
}

// TestFuzzCoversEveryBody: every request type a handler decodes with
// decodeJSON is among requestTypes, so FuzzDecodeBody cannot miss a body
// added later.
func TestFuzzCoversEveryBody(t *testing.T) {
	covered := map[string]bool{}
	for _, mk := range requestTypes() {
		covered[reflect.TypeOf(mk()).Elem().Name()] = true
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	decl := regexp.MustCompile(`var (\w+) (\w+)\n\s*if err := decodeJSON\(r, &(\w+)\)`)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range decl.FindAllStringSubmatch(string(src), -1) {
			n++
			if m[1] == m[3] && !covered[m[2]] {
				t.Errorf("%s decodes %s: add it to requestTypes", f, m[2])
			}
		}
	}
	if calls := countCalls(t, files); n != calls {
		t.Errorf("found %d declared bodies for %d decodeJSON calls: declare each as `var req T` just before decoding it", n, calls)
	}
}

func countCalls(t *testing.T, files []string) int {
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n += strings.Count(string(src), "decodeJSON(r, &")
	}
	return n
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

// FuzzPredictionQuery: a prediction-log read's query string parses or is
// an invalid_argument naming the parameter; what parses is a query of the
// model asked for, with distinct field names.
func FuzzPredictionQuery(f *testing.F) {
	for _, s := range []string{"", "since=2026-01-02T15:04:05Z&limit=10", "field=age:float&field=city:string&class=a&class=b",
		"field=a:b:int", "field=:float", "field=x", "field=x:float&field=x:int", "limit=-1", "since=yesterday", "class=a&class=a", "version=3&until=2026-01-02T15:04:05.5+02:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		pq, err := parsePredictionQuery("m", q)
		if err != nil {
			var ae *Error
			if !errors.As(err, &ae) || ae.Kind != KindInvalid || ae.Field == "" {
				t.Fatalf("%q: error %v is not an invalid_argument naming a field", raw, err)
			}
			return
		}
		seen := map[string]bool{}
		for _, fl := range pq.Schema.Fields {
			if fl.Name == "" || seen[fl.Name] {
				t.Fatalf("%q: field names %v", raw, pq.Schema.Names())
			}
			seen[fl.Name] = true
		}
		if pq.Query.Model != "m" || pq.Query.Limit < 0 {
			t.Fatalf("%q: %+v", raw, pq.Query)
		}
	})
}

// FuzzFeedback: a decoded feedback body becomes labels or an
// invalid_argument naming the item's field.
func FuzzFeedback(f *testing.F) {
	for _, s := range []string{`{"feedback":[{"request_id":"r","row":0,"label":"yes"}]}`, `{"feedback":[{"request_id":"r","row":-1,"label":1}]}`,
		`{"feedback":[{"request_id":"","label":true}]}`, `{"feedback":[{"request_id":"r","label":null}]}`, `{"feedback":[]}`,
		`{"feedback":[{"request_id":"r","label":[1]}]}`, `{"feedback":[{"request_id":"r","label":2.5,"time":"2026-01-01T00:00:00Z"}]}`} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		var req FeedbackRequest
		if decodeBody(body, &req) != nil {
			return
		}
		fbs, err := feedbackOf("m", req, now)
		if err != nil {
			var ae *Error
			if !errors.As(err, &ae) || ae.Kind != KindInvalid || !strings.HasPrefix(ae.Field, "feedback") {
				t.Fatalf("%q: error %v is not an invalid_argument naming the feedback", body, err)
			}
			return
		}
		if len(fbs) != len(req.Feedback) {
			t.Fatalf("%q: %d labels from %d items", body, len(fbs), len(req.Feedback))
		}
		for i, fb := range fbs {
			if fb.Model != "m" || fb.RequestID == "" || fb.Row < 0 || fb.Time.IsZero() {
				t.Fatalf("%q: label %d: %+v", body, i, fb)
			}
		}
	})
}
