package serve

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

var fastSeeds = []string{
	adultSplit, adultRecord, adultV2,
	`{"records": [` + passenger + `]}`,
	`{"dataframe_records": [` + passenger + `]}`,
	`{"instances": [[1, "a", null, true, false, -0.5e-3, 1E+2]]}`,
	`{"inputs": {"Age": [1, null]}}`,
	`{"id": "x", "parameters": {"content_type": "pd"}, "inputs": [{"name": "Age", "shape": [1], "datatype": "FP64", "data": [22]}]}`,
	`{"inputs": [{"name": "x", "shape": [2, 7], "data": [1]}]}`,
	` {"a": "caf\u00e9", "b": "café"} `,
	`{"a": 01}`, `{"a": 1.}`, `{"a": -}`, `{"a": 1e}`, `[1,]`, `{"a":1,}`, `{"a":1}}`, `"\xff"`,
	`[[[[[[[[[1]]]]]]]]]`, `[[[[[[[[1]]]]]]]]`, `{"records": null}`, `{"Records": []}`,
}

// FuzzFastJSON checks the decoding fast path against encoding/json: when
// the fast path accepts a body, encoding/json must decode it to the same
// values, and the protocol decoders must build the same requests.
func FuzzFastJSON(f *testing.F) {
	for _, s := range fastSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		checkFastAgrees(t, []byte(body))
	})
}

func TestFastJSONAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range fastSeeds {
		checkFastAgrees(t, []byte(s))
	}
	if _, ok := parseFast([]byte(adultSplit)); !ok {
		t.Error("the fast path gave up on a plain dataframe_split request")
	}
	if _, ok := fastV2([]byte(adultV2)); !ok {
		t.Error("the fast path gave up on a plain v2 request")
	}
}

func checkFastAgrees(t *testing.T, body []byte) {
	t.Helper()
	if v, ok := parseFast(body); ok {
		var want any
		if err := decodeJSON(body, &want); err != nil {
			t.Fatalf("fast path accepted %q, encoding/json says %v", body, err)
		}
		if !reflect.DeepEqual(v, want) {
			t.Fatalf("fast path decoded %q as %#v, encoding/json as %#v", body, v, want)
		}
	}
	if req, ok := fastV2(body); ok {
		want := &v2Request{}
		if err := decodeJSON(body, want); err != nil {
			t.Fatalf("v2 fast path accepted %q, encoding/json says %v", body, err)
		}
		if !reflect.DeepEqual(req, want) {
			t.Fatalf("v2 fast path decoded %q as %#v, encoding/json as %#v", body, req, want)
		}
	}
	if obj, ok := fastObject(body, "records", "columns"); ok {
		got, err := decodeGyre(body)
		want := &gyreRequest{}
		werr := decodeJSON(body, want)
		if (err == nil) != (werr == nil) || err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("gyre decode of %q (%v): %#v, %v; encoding/json: %#v, %v", body, obj, got, err, want, werr)
		}
	}
	if obj, ok := parseFastObject(body); ok {
		var want map[string]any
		if err := decodeJSON(body, &want); err != nil || !reflect.DeepEqual(obj, want) {
			t.Fatalf("object fast path %q: %#v; encoding/json %#v, %v", body, obj, want, err)
		}
	}
}

// TestFastAndSlowFramesAgree decodes the same requests through both paths
// and compares the frames.
func TestFastAndSlowFramesAgree(t *testing.T) {
	schema := bundles(t)[0].Manifest.Input
	for _, body := range []string{
		`{"dataframe_records": [` + passenger + `]}`,
		`{"instances": [` + passenger + `]}`,
		`{"inputs": {"Pclass": [3], "Name": ["x"], "Sex": ["male"], "Age": [null], "SibSp": [0], "Parch": [0], "Ticket": ["t"], "Fare": [7.25], "Cabin": [null], "Embarked": ["S"]}}`,
	} {
		fast, _, err1 := decodeMLflow(schema, []byte(body))
		slow, _, err2 := decodeMLflowSlow(schema, []byte(body))
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v / %v", body, err1, err2)
		}
		for j := range fast.Columns() {
			a, b := fast.Columns()[j], slow.Columns()[j]
			if a.Name() != b.Name() || a.Format(0) != b.Format(0) || a.IsNull(0) != b.IsNull(0) {
				t.Errorf("%s: column %s: fast %q, slow %q", body, a.Name(), a.Format(0), b.Format(0))
			}
		}
	}
}

// FuzzHandlers posts arbitrary bodies to every prediction endpoint through
// the full handler: no body may crash the server or get a 5xx, and every
// error is a JSON body with a reason.
func FuzzHandlers(f *testing.F) {
	for _, s := range fastSeeds {
		f.Add(s, uint8(0))
	}
	f.Add("Pclass,Name,Sex,Age,SibSp,Parch,Ticket,Fare,Cabin,Embarked\n3,x,male,22,1,0,t,7.25,,S\n", uint8(1))
	b := bundles(f)
	s, err := New([]Model{{Name: "titanic", Bundle: b[0], Version: "1"}}, Options{MaxBodyBytes: 1 << 16, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	h := s.Handler()
	paths := []string{"/v1/models/titanic/predict", "/invocations", "/v2/models/titanic/infer", "/v1/models/titanic/feedback"}
	f.Fuzz(func(t *testing.T, body string, which uint8) {
		path := paths[int(which)%len(paths)]
		r := httptest.NewRequest("POST", path, strings.NewReader(body))
		if which&4 != 0 {
			r.Header.Set("Content-Type", "text/csv")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("POST %s %q: %d %s", path, body, w.Code, w.Body)
		}
		if w.Code != 200 && w.Code != 409 && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("POST %s %q: %d with a non-JSON body %q", path, body, w.Code, w.Body)
		}
	})
}
