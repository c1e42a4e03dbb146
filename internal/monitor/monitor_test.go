package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
	_ "github.com/gyre-ml/gyre/internal/learn/all"
	"github.com/gyre-ml/gyre/internal/metric"
	"github.com/gyre-ml/gyre/internal/predlog"
	"github.com/gyre-ml/gyre/internal/predlog/predlogtest"
	"github.com/gyre-ml/gyre/internal/train"
)

func readData(t testing.TB, name, split string) *frame.Frame {
	t.Helper()
	f, err := ingest.Read(context.Background(), filepath.Join("..", "..", "examples", "data", name, name+"."+split+".csv"), ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// titanicModel trains gbdt on titanic with its reference profile and test
// metrics.
func titanicModel(t testing.TB) (*bundle.Bundle, *frame.Frame) {
	t.Helper()
	ctx := context.Background()
	tr, te := readData(t, "titanic", "train"), readData(t, "titanic", "test")
	p, err := train.NewProblem(tr, "Survived", 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := train.Fit(ctx, p, train.Options{Learner: "gbdt", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	s, _, _, err := train.Score(b, te)
	if err != nil {
		t.Fatal(err)
	}
	b.Manifest.Metrics = map[string]map[string]float64{"test": s}
	if b.Profile, err = ReferenceProfile(ctx, p.Frame, "Survived"); err != nil {
		t.Fatal(err)
	}
	return b, te
}

func labels(t testing.TB, b *bundle.Bundle, f *frame.Frame) []float64 {
	c, err := f.Column(b.Manifest.Target)
	if err != nil {
		t.Fatal(err)
	}
	idx := map[string]int{}
	for i, n := range b.Manifest.Classes {
		idx[n] = i
	}
	out := make([]float64, f.NumRows())
	for i := range out {
		out[i] = math.NaN()
		if k, ok := idx[c.Format(i)]; ok {
			out[i] = float64(k)
		}
	}
	return out
}

func TestAnalyzeTitanic(t *testing.T) {
	ctx := context.Background()
	b, te := titanicModel(t)
	ref, err := BundleReference(b)
	if err != nil {
		t.Fatal(err)
	}
	// same distribution: no drift, no decay, CBPE close to the truth
	rep, err := Analyze(ctx, b, ref, &Current{Frame: te, Labels: labels(t, b, te)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range rep.Alerts {
		t.Errorf("unexpected alert on held-out data: %s", a.Message)
	}
	if rep.Performance == nil || rep.Performance.Metric == "" {
		t.Fatalf("no performance: %+v", rep.Performance)
	}
	acc := b.Manifest.Metrics["test"]["accuracy"]
	if e := rep.Estimated; e == nil || math.Abs(e.Accuracy-acc) > 0.08 || math.Abs(e.ROCAUC-b.Manifest.Metrics["test"]["roc_auc"]) > 0.08 {
		t.Errorf("CBPE estimate %+v, actual accuracy %.3f roc_auc %.3f", rep.Estimated, acc, b.Manifest.Metrics["test"]["roc_auc"])
	}
	// only third-class men, with fares tripled: drift, unseen and
	// out-of-range values
	sex, _ := te.Column("Sex")
	cls, _ := te.Column("Pclass")
	var rows []int
	for i := 0; i < te.NumRows(); i++ {
		if sex.Format(i) == "male" && cls.Format(i) == "3" {
			rows = append(rows, i)
		}
	}
	shifted := te.Take(rows)
	fare, _ := shifted.Column("Fare")
	ff := fare.(*frame.Float)
	vals := make([]float64, len(ff.Values))
	for i, v := range ff.Values {
		vals[i] = 3*v + 600
	}
	shifted, _ = shifted.With(&frame.Float{ColName: "Fare", Values: vals, Valid: ff.Valid})
	rep, err = Analyze(ctx, b, ref, &Current{Frame: shifted, Labels: labels(t, b, shifted)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, a := range rep.Alerts {
		kinds[a.Kind] = true
	}
	if rep.Drift.Drifted < 3 {
		t.Errorf("drifted features %d, want Sex, Pclass and Fare at least", rep.Drift.Drifted)
	}
	if !kinds["prediction_drift"] {
		t.Errorf("no prediction drift alert: %+v", rep.PredictionDrift)
	}
	var fq Quality
	for _, q := range rep.Quality {
		if q.Column == "Fare" {
			fq = q
		}
	}
	if fq.OutOfRange == 0 {
		t.Errorf("fares beyond the training maximum not counted: %+v", fq)
	}
	var sb strings.Builder
	if err := rep.WriteText(&sb); err != nil || !strings.Contains(sb.String(), "alert(s)") {
		t.Errorf("text: %v\n%s", err, sb.String())
	}
	sb.Reset()
	rep.Model = "titanic"
	rep.WriteGauges(&sb)
	for _, want := range []string{`gyre_drift_share{model="titanic"}`, `gyre_feature_drifted{model="titanic",feature="Sex"} 1`, `gyre_estimated_performance{model="titanic",metric="roc_auc"}`} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("gauges lack %s:\n%s", want, sb.String())
		}
	}
	if err := rep.Page().Render(io.Discard); err != nil {
		t.Errorf("html: %v", err)
	}
	// a goal with an unknown operator is an error naming it, not a silent
	// pass or miss
	bad := Options{Goals: []metric.Goal{{Metric: "accuracy", Op: "=>", Value: 0.9}}}
	if _, err := Analyze(ctx, b, ref, &Current{Frame: te, Labels: labels(t, b, te)}, bad); err == nil || !strings.Contains(err.Error(), `goal "accuracy => 0.9": unknown operator "=>"`) {
		t.Errorf("unknown goal operator: %v", err)
	}
	// goals as parsed: a missed one alerts
	g, err := metric.ParseGoal("accuracy >= 0.99")
	if err != nil {
		t.Fatal(err)
	}
	rep, err = Analyze(ctx, b, ref, &Current{Frame: te, Labels: labels(t, b, te)}, Options{Goals: []metric.Goal{g}})
	if err != nil || len(rep.Alerts) != 1 || rep.Alerts[0].Kind != "goal" || !strings.Contains(rep.Alerts[0].Message, "goal accuracy >= 0.99 missed") {
		t.Errorf("missed goal: %v %+v", err, rep.Alerts)
	}
}

func TestExpectedROCAUC(t *testing.T) {
	cases := []struct {
		name  string
		proba []float64 // binary rows: p0, p1
		want  float64
	}{
		{"certain and right", []float64{0, 1, 1, 0}, 1},
		{"all one half", []float64{.5, .5, .5, .5}, 0.5},
		// scores 0.9 and 0.1: expected positives 0.9+0.1, AUC = P(pos ranked above neg)
		{"two rows", []float64{.1, .9, .9, .1}, 0.5 + 0.5*(0.9*0.9-0.1*0.1)/(1.0*1.0)},
	}
	for _, c := range cases {
		idx := make([]int, len(c.proba)/2)
		for i := range idx {
			idx[i] = i
		}
		if got := ExpectedROCAUC(c.proba, 2, idx); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	if got := ExpectedAccuracy([]float64{.2, .8, .6, .4}, 2, []int{0, 1}); math.Abs(got-0.7) > 1e-12 {
		t.Errorf("expected accuracy %v, want 0.7", got)
	}
}

func TestWebhookRetries(t *testing.T) {
	var calls atomic.Int32
	var body Payload
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		if r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("content type %q", r.Header.Get("Content-Type"))
		}
		json.NewDecoder(r.Body).Decode(&body)
	}))
	defer srv.Close()
	rep := &Report{Model: "m", Alerts: []Alert{{Kind: "decay", Message: "rmse worse"}}}
	h := &Webhook{URL: srv.URL, Backoff: time.Millisecond}
	if err := h.Notify(context.Background(), rep); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 3 || body.Model != "m" || len(body.Alerts) != 1 || body.Summary != "rmse worse" {
		t.Errorf("calls %d, body %+v", calls.Load(), body)
	}
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusBadRequest) }))
	defer bad.Close()
	if err := (&Webhook{URL: bad.URL, Backoff: time.Millisecond}).Notify(context.Background(), rep); err == nil || !strings.Contains(err.Error(), "not retried") {
		t.Errorf("4xx: %v", err)
	}
	down := &Webhook{URL: "http://127.0.0.1:1", Retries: 2, Backoff: time.Millisecond}
	if err := down.Notify(context.Background(), rep); err == nil || !strings.Contains(err.Error(), "3 attempts") {
		t.Errorf("unreachable: %v", err)
	}
}

// TestLoggedCurrent logs the titanic test set as gyre serve would (one
// request of three rows at a time, batches out of order, one retried) with
// labels for three rows in four, and checks that monitoring reads back the
// frame, predictions and labels that were logged.
func TestLoggedCurrent(t *testing.T) {
	b, te := titanicModel(t)
	for name, l := range predlogtest.Logs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			model := fmt.Sprintf("t-%d", time.Now().UnixNano()) // PostgreSQL stores outlive a test
			t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
			feats, err := te.Drop(b.Manifest.Target)
			if err != nil {
				t.Fatal(err)
			}
			pred, err := b.Predict(feats)
			if err != nil {
				t.Fatal(err)
			}
			sv, _ := te.Column(b.Manifest.Target)
			n := te.NumRows()
			var batches []*predlog.Batch
			var fbs []predlog.Feedback
			bld := predlog.NewBuilder(model, "2", b.Manifest.Input, b.Manifest.Classes)
			k := len(b.Manifest.Classes)
			for lo := 0; lo < n; lo += 3 {
				hi := min(lo+3, n)
				rows := seq(n)[lo:hi]
				id := fmt.Sprintf("q%d", lo/3)
				p := &bundle.Prediction{Values: pred.Values[lo:hi], Proba: pred.Proba[lo*k : hi*k], Classes: pred.Classes}
				bld.AddFrame(id, t0.Add(time.Duration(lo)*time.Second), feats.Take(rows), p)
				for i := lo; i < hi; i++ {
					if i%4 != 0 {
						fbs = append(fbs, predlog.Feedback{Model: model, RequestID: id, Row: i - lo, Label: sv.Format(i), Time: t0})
					}
				}
				if bld.Len() >= 60 || hi == n {
					batches = append(batches, bld.Batch())
				}
			}
			for _, i := range append(seq(len(batches))[1:], 0, 0) {
				if err := l.LogPredictions(ctx, batches[i]); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.LogFeedback(ctx, fbs); err != nil {
				t.Fatal(err)
			}
			cur, err := ReadCurrent(ctx, l, b, predlog.Query{Model: model})
			if err != nil {
				t.Fatal(err)
			}
			if cur.Frame.NumRows() != n {
				t.Fatalf("read %d rows, want %d", cur.Frame.NumRows(), n)
			}
			for _, fd := range b.Manifest.Input.Fields {
				wc, err := feats.Column(fd.Name)
				if err != nil {
					t.Fatal(err)
				}
				gc, err := cur.Frame.Column(fd.Name)
				if err != nil {
					t.Fatal(err)
				}
				// The log keeps the model's input schema: a column read with
				// another kind here (titanic's Cabin, text in the training
				// file and categorical in the smaller test file) comes back
				// with the kind the model was trained on, the same values.
				if gc.Kind() != fd.Kind {
					t.Errorf("%s: kind %v, want the model's input kind %v", wc.Name(), gc.Kind(), fd.Kind)
				}
				for i := range n {
					if gc.IsNull(i) != wc.IsNull(i) || gc.Format(i) != wc.Format(i) {
						t.Fatalf("%s row %d: got %q, want %q", wc.Name(), i, gc.Format(i), wc.Format(i))
					}
				}
			}
			want := labels(t, b, te)
			for i := range n {
				if cur.Pred.Values[i] != pred.Values[i] || cur.Pred.Proba[i*k+1] != pred.Proba[i*k+1] || !cur.Times[i].Equal(t0.Add(time.Duration(i/3*3)*time.Second)) {
					t.Fatalf("row %d: prediction %v (%v) at %v, want %v (%v)", i, cur.Pred.Values[i], cur.Pred.Proba[i*k:i*k+k], cur.Times[i], pred.Values[i], pred.Proba[i*k:i*k+k])
				}
				if w := want[i]; i%4 == 0 && !math.IsNaN(cur.Labels[i]) || i%4 != 0 && cur.Labels[i] != w {
					t.Fatalf("label %d: %v, want %v", i, cur.Labels[i], w)
				}
			}
			ref, err := BundleReference(b)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := AnalyzeLogged(ctx, l, b, model, time.Time{}, Options{})
			if err != nil || rep.Performance == nil || rep.Performance.Labeled != n-(n+3)/4 || rep.Drift == nil || ref == nil {
				t.Fatalf("analysis of the log: %v %+v", err, rep)
			}
			if _, err := AnalyzeLogged(ctx, l, b, model+"-none", time.Time{}, Options{}); !errors.Is(err, ErrNoLogged) {
				t.Errorf("empty window: %v", err)
			}
		})
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
