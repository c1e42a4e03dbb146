package serve

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/train"
	"github.com/gyre-ml/gyre/internal/train/traintest"
)

const adult = "../../examples/data/adult/adult"

var (
	adultOnce   sync.Once
	adultBundle *bundle.Bundle
)

// adultGBDT returns the adult GBDT bundle the benchmarks serve: the file
// named by GYRE_SERVE_BUNDLE (e.g. the 300-tree bundle bench/serve/run.sh
// trains), else a 300-tree GBDT trained here once.
func adultGBDT(tb testing.TB) *bundle.Bundle {
	adultOnce.Do(func() {
		if path := os.Getenv("GYRE_SERVE_BUNDLE"); path != "" {
			b, err := bundle.Load(path)
			if err != nil {
				tb.Fatal(err)
			}
			adultBundle = b
			return
		}
		adultBundle = traintest.Fit(tb, adult+".train.csv", "class", train.Options{Learner: "gbdt", Params: map[string]string{"n_estimators": "300"}})
	})
	if adultBundle == nil {
		tb.Fatal("no adult bundle")
	}
	return adultBundle
}

// adultSplit is the single-row MLflow request bench/serve/run.sh sends.
const adultSplit = `{"dataframe_split": {"columns": ["age","workclass","fnlwgt","education","education-num","marital-status","occupation","relationship","race","sex","capital-gain","capital-loss","hours-per-week","native-country"], "data": [[39,"State-gov",77516,"Bachelors",13,"Never-married","Adm-clerical","Not-in-family","White","Male",2174,0,40,"United-States"]]}}`

// adultRecord is the same row as a Gyre record.
const adultRecord = `{"records": [{"age": 39, "workclass": "State-gov", "fnlwgt": 77516, "education": "Bachelors", "education-num": 13, "marital-status": "Never-married", "occupation": "Adm-clerical", "relationship": "Not-in-family", "race": "White", "sex": "Male", "capital-gain": 2174, "capital-loss": 0, "hours-per-week": 40, "native-country": "United-States"}]}`

// adultV2 is the same row as an Open Inference Protocol v2 request.
const adultV2 = `{"inputs": [{"name": "age", "shape": [1], "datatype": "FP64", "data": [39]}, {"name": "workclass", "shape": [1], "datatype": "BYTES", "data": ["State-gov"]}, {"name": "fnlwgt", "shape": [1], "datatype": "FP64", "data": [77516]}, {"name": "education", "shape": [1], "datatype": "BYTES", "data": ["Bachelors"]}, {"name": "education-num", "shape": [1], "datatype": "FP64", "data": [13]}, {"name": "marital-status", "shape": [1], "datatype": "BYTES", "data": ["Never-married"]}, {"name": "occupation", "shape": [1], "datatype": "BYTES", "data": ["Adm-clerical"]}, {"name": "relationship", "shape": [1], "datatype": "BYTES", "data": ["Not-in-family"]}, {"name": "race", "shape": [1], "datatype": "BYTES", "data": ["White"]}, {"name": "sex", "shape": [1], "datatype": "BYTES", "data": ["Male"]}, {"name": "capital-gain", "shape": [1], "datatype": "FP64", "data": [2174]}, {"name": "capital-loss", "shape": [1], "datatype": "FP64", "data": [0]}, {"name": "hours-per-week", "shape": [1], "datatype": "FP64", "data": [40]}, {"name": "native-country", "shape": [1], "datatype": "BYTES", "data": ["United-States"]}]}`

// discard is a minimal ResponseWriter, so the benchmarks measure the server
// rather than httptest's recorder.
type discard struct {
	h    http.Header
	code int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(code int)        { d.code = code }

func benchHandler(b *testing.B, path, body string) {
	s, err := New([]Model{{Name: "adult", Bundle: adultGBDT(b), Version: "1"}}, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &discard{h: http.Header{}}
		for pb.Next() {
			r := httptest.NewRequest("POST", path, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			clear(w.h)
			w.code = 200
			h.ServeHTTP(w, r)
			if w.code != 200 {
				b.Fatalf("status %d", w.code)
			}
		}
	})
}

// BenchmarkPredictSingleRow serves one adult row per request through the
// full handler (routing, decoding, schema checks, 300-tree GBDT, metrics,
// response encoding) on each protocol.
func BenchmarkPredictSingleRow(b *testing.B) {
	b.Run("mlflow_split", func(b *testing.B) { benchHandler(b, "/invocations", adultSplit) })
	b.Run("gyre_records", func(b *testing.B) { benchHandler(b, "/v1/models/adult/predict", adultRecord) })
	b.Run("v2_pd", func(b *testing.B) { benchHandler(b, "/v2/models/adult/infer", adultV2) })
}

// BenchmarkBundlePredictSingleRow is the model alone (bundle.Predict on a
// decoded one-row frame): the floor under the server's per-request cost.
func BenchmarkBundlePredictSingleRow(b *testing.B) {
	bu := adultGBDT(b)
	f, _, err := decodeMLflow(bu.Manifest.Input, []byte(adultSplit))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := bu.Predict(f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeSingleRow is request decoding alone: the single-row path
// (scan into a pooled bundle.Row) and the general path (a frame).
func BenchmarkDecodeSingleRow(b *testing.B) {
	bu := adultGBDT(b)
	body := []byte(adultSplit)
	b.Run("row", func(b *testing.B) {
		plan := newRowPlan(bu)
		if plan == nil {
			b.Fatal("no row path")
		}
		b.ReportAllocs()
		for b.Loop() {
			row := plan.rp.Get()
			if !plan.decodeMLflowRow(body, row) {
				b.Fatal("row path refused the request")
			}
			plan.rp.Put(row)
		}
	})
	b.Run("frame", func(b *testing.B) {
		schema := bu.Manifest.Input
		b.ReportAllocs()
		for b.Loop() {
			if f, _, err := decodeMLflow(schema, body); err != nil || f.NumRows() != 1 {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRowPredictSingleRow is the compiled single-row model path alone
// (bundle.RowPredictor on a decoded row), next to
// BenchmarkBundlePredictSingleRow's frame path.
func BenchmarkRowPredictSingleRow(b *testing.B) {
	plan := newRowPlan(adultGBDT(b))
	row := plan.rp.Get()
	if !plan.decodeMLflowRow([]byte(adultSplit), row) {
		b.Fatal("row path refused the request")
	}
	var pred bundle.Prediction
	b.ReportAllocs()
	for b.Loop() {
		if err := plan.rp.Predict(row, &pred); err != nil {
			b.Fatal(err)
		}
	}
}
