package serve

import (
	"encoding/json"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
)

// TestResponsesMatchEncodingJSON checks the fast response writers against
// encoding/json on the response maps, byte for byte.
func TestResponsesMatchEncodingJSON(t *testing.T) {
	preds := map[string]*bundle.Prediction{
		"binary": {Classes: []string{"<=50K", ">50K"}, Values: []float64{0, 1}, Proba: []float64{0.75, 0.25, 1e-9, 1 - 1e-9},
			Unseen: map[string]int{"native-country": 1, "b & c": 2}},
		"multiclass unsorted": {Classes: []string{"z", "a\"q", "é", "m\u2028"}, Values: []float64{3, 1}, Proba: []float64{0.1, 0.2, 0.3, 0.4, 0, 1, 0, 0}},
		"regression":          {Values: []float64{0, -1.5, 1e21, 1.5e-7, 123456789.125, -3e-300, 5e-324}},
	}
	for name, p := range preds {
		for _, c := range []struct {
			proto string
			fast  func(*httptest.ResponseRecorder)
			want  any
		}{
			{"invocations", func(w *httptest.ResponseRecorder) { writeInvocations(w, p) }, map[string]any{"predictions": predictions(p)}},
			{"gyre", func(w *httptest.ResponseRecorder) { writeGyrePredict(w, "adult<1>", "7", "abc", p) }, gyreResponse("adult<1>", "7", "abc", p)},
			{"v2", func(w *httptest.ResponseRecorder) { writeV2Infer(w, "adult", "7", "id-1", p, nil) }, v2Response("adult", "7", "id-1", p, nil)},
		} {
			got, want := httptest.NewRecorder(), httptest.NewRecorder()
			c.fast(got)
			writeJSON(want, c.want)
			if got.Body.String() != want.Body.String() {
				t.Errorf("%s %s:\n got %s\nwant %s", name, c.proto, got.Body, want.Body)
			}
			if got.Header().Get("Content-Type") != "application/json" {
				t.Errorf("%s %s: content type %q", name, c.proto, got.Header().Get("Content-Type"))
			}
		}
	}
	// NaN cannot be encoded (the handlers refuse such a prediction before
	// writing it): the writer still produces valid JSON, never a silent
	// empty body.
	nan := &bundle.Prediction{Values: []float64{math.NaN()}}
	got := httptest.NewRecorder()
	writeInvocations(got, nan)
	var out map[string]string
	if err := json.Unmarshal(got.Body.Bytes(), &out); err != nil || !strings.Contains(out["error"], "NaN") {
		t.Errorf("NaN: got %q (%v), want a JSON error naming NaN", got.Body, err)
	}
}

func TestAppendFloatMatchesEncodingJSON(t *testing.T) {
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1e-6, 9.99e-7, 1e20, 1e21, 1.7976931348623157e308, 5e-324, 123.456e-10} {
		got := string(appendFloat(nil, f))
		w := httptest.NewRecorder()
		writeJSON(w, f)
		if want := w.Body.String(); got+"\n" != want {
			t.Errorf("%v: got %s, want %s", f, got, want)
		}
	}
}

func TestMetricsHistogramIsCumulative(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	for _, d := range []time.Duration{100 * time.Microsecond, 3 * time.Millisecond, 3 * time.Millisecond, 20 * time.Second} {
		s.metrics.observe("titanic", "1", "predict", 200, 1, d)
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	out := w.Body
	for _, want := range []string{
		`gyre_request_duration_seconds_bucket{endpoint="predict",model="titanic",version="1",le="0.0005"} 1`,
		`gyre_request_duration_seconds_bucket{endpoint="predict",model="titanic",version="1",le="0.0025"} 1`,
		`gyre_request_duration_seconds_bucket{endpoint="predict",model="titanic",version="1",le="0.005"} 3`,
		`gyre_request_duration_seconds_bucket{endpoint="predict",model="titanic",version="1",le="10"} 3`,
		`gyre_request_duration_seconds_bucket{endpoint="predict",model="titanic",version="1",le="+Inf"} 4`,
		`gyre_requests_total{code="200",endpoint="predict",model="titanic",version="1"} 4`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestGCPercent(t *testing.T) {
	newTestServer(t, Options{}) // the heap holds the served models, as in gyre serve
	t.Setenv("GOGC", "")
	if got := gcPercent(Options{}); got < 200 {
		t.Errorf("small models, GOGC unset: %d, want at least 200", got)
	}
	for _, c := range []struct {
		live uint64
		want int
	}{{0, 12800}, {1 << 20, 12800}, {2 << 20, 6400}, {32 << 20, 400}, {64 << 20, 200}, {65 << 20, 0}, {1 << 30, 0}} {
		if got := gcPercentFor(c.live); got != c.want {
			t.Errorf("gcPercentFor(%d MiB) = %d, want %d", c.live>>20, got, c.want)
		}
	}
	t.Setenv("GOGC", "200")
	if got := gcPercent(Options{}); got != 0 {
		t.Errorf("GOGC set: %d, want 0 (leave it)", got)
	}
	if got := gcPercent(Options{GCPercent: 150}); got != 150 {
		t.Errorf("explicit: %d, want 150", got)
	}
	if got := gcPercent(Options{GCPercent: -1}); got != 0 {
		t.Errorf("negative: %d, want 0", got)
	}
}

func TestCheckFiniteNamesTheRow(t *testing.T) {
	if err := checkFinite(&bundle.Prediction{Values: []float64{1, 2}}); err != nil {
		t.Fatalf("finite prediction refused: %v", err)
	}
	for _, p := range []*bundle.Prediction{
		{Values: []float64{1, math.NaN()}},
		{Values: []float64{0, 1}, Classes: []string{"a", "b"}, Proba: []float64{0.5, 0.5, math.Inf(1), 0}},
	} {
		err := checkFinite(p)
		re, ok := err.(*RequestError)
		if !ok || re.Status != 500 || re.Row != 2 || !strings.Contains(re.Msg, "row 2") {
			t.Errorf("%v: got %#v", p, err)
		}
	}
}
