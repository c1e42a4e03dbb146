package ui_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/learn"
	_ "github.com/gyre-ml/gyre/internal/learn/all"
	"github.com/gyre-ml/gyre/internal/monitor"
	"github.com/gyre-ml/gyre/internal/pipeline"
	"github.com/gyre-ml/gyre/internal/predlog"
	"github.com/gyre-ml/gyre/internal/profile"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/report"
	"github.com/gyre-ml/gyre/internal/track"
	"github.com/gyre-ml/gyre/internal/train"
	"github.com/gyre-ml/gyre/internal/trainrun"
	"github.com/gyre-ml/gyre/internal/validate"
)

const (
	titanic     = "../../../examples/data/titanic/titanic.train.csv"
	titanicTest = "../../../examples/data/titanic/titanic.test.csv"
)

var (
	bundleOnce sync.Once
	bundleData []byte
	bundleErr  error
)

// titanicBundle is a real model: gradient boosting fitted on titanic.
func titanicBundle(t testing.TB) []byte {
	t.Helper()
	bundleOnce.Do(func() {
		ctx := context.Background()
		f, err := ingest.Read(ctx, titanic, ingest.Options{})
		if err != nil {
			bundleErr = err
			return
		}
		p, err := train.NewProblem(f, "Survived", learn.TaskInvalid)
		if err != nil {
			bundleErr = err
			return
		}
		b, err := train.Fit(ctx, p, train.Options{Learner: "gbdt", Params: map[string]string{"n_estimators": "20"}})
		if err != nil {
			bundleErr = err
			return
		}
		if b.Profile, err = monitor.ReferenceProfile(ctx, p.Frame, p.Target); err != nil {
			bundleErr = err
			return
		}
		bundleData, bundleErr = b.Encode()
	})
	if bundleErr != nil {
		t.Fatal(bundleErr)
	}
	return bundleData
}

// titanicPlots are the plots `gyre train --test` logs for the model:
// its evaluation on titanic's test file.
func titanicPlots(t testing.TB, data []byte) []byte {
	t.Helper()
	b, err := bundle.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ingest.Read(context.Background(), titanicTest, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	scores, pred, y, err := train.Score(b, f)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(report.PlotsOf(report.EvaluationOf(b, "titanic", "titanic.test.csv", scores, y, pred)))
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// titanicValidation is what a pipeline's validate step records for
// titanic's test file: its findings against a contract derived from the
// training file (gyre validate --derive), and its drift against the
// model's training profile.
func titanicValidation(t testing.TB) []byte {
	t.Helper()
	ctx := context.Background()
	tr, err := ingest.Read(ctx, titanic, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := ingest.Read(ctx, titanicTest, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := profile.Compute(ctx, tr, profile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep := validate.CheckAgainstContract(validate.Derive(ref, validate.DeriveOptions{}), cur)
	rep.Source = "titanic.test.csv"
	feats, err := cur.Drop("Survived")
	if err != nil {
		t.Fatal(err)
	}
	refFeats, err := tr.Drop("Survived")
	if err != nil {
		t.Fatal(err)
	}
	rp, err := profile.Compute(ctx, refFeats, profile.Options{NoRelations: true})
	if err != nil {
		t.Fatal(err)
	}
	d, err := validate.Drift(rp, feats, validate.DriftOptions{})
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(pipeline.Validation{Dataset: "titanic", Version: 1, Contract: "contract.yaml", ContractReport: rep, Against: "titanic/1", Drift: d})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// seeded names what seed made.
type seeded struct {
	experimentID string
	runs         []string // gbdt runs first, then forest runs
	search       string   // the AutoML parent run
	pipeline     string   // a pipeline run
	pipeTrain    string   // its train step
}

// seed fills the store as a small project would: an experiment with runs
// of two learners (params, metric curves over steps, an HTML report), an
// AutoML search with trials, a data set version of titanic, and a model
// with two versions trained from the runs.
func (e *env) seed() *seeded {
	t := e.t
	t.Helper()
	ctx := context.Background()
	s := &seeded{}
	dv, err := e.ds.Version(ctx, titanic, "titanic")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 8; i++ {
		learner := "gbdt"
		if i >= 4 {
			learner = "random_forest"
		}
		lr := []string{"0.05", "0.1", "0.2", "0.3"}[i%4]
		run, err := e.tr.Start(ctx, track.RunOptions{Experiment: "titanic", Name: fmt.Sprintf("%s-%d", learner, i), Command: "gyre train",
			Params: map[string]string{"learner": learner, "learning_rate": lr, "num_leaves": fmt.Sprint(15 + 8*i)}})
		if err != nil {
			t.Fatal(err)
		}
		var pts []track.Metric
		final := 0.80 + 0.01*float64(i%4) + 0.005*rng.Float64()
		for step := int64(0); step < 40; step++ {
			v := final - 0.3*math.Exp(-float64(step)/8)
			pts = append(pts, track.Metric{Key: "valid_roc_auc", Value: v, Step: step}, track.Metric{Key: "train_logloss", Value: 0.7 * math.Exp(-float64(step)/15), Step: step})
		}
		if err := run.LogMetrics(ctx, pts); err != nil {
			t.Fatal(err)
		}
		if err := run.LogDataset(ctx, "titanic", dv.Version.Version, "train"); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			var page bytes.Buffer
			pg := &report.Page{Title: "Evaluation of gbdt-0", Sections: []*report.Section{{Title: "Scores", Blocks: []report.Block{
				report.Cards{{Label: "ROC AUC", Value: fmt.Sprintf("%.3f", final)}},
				report.Chart{Title: "curve", Option: map[string]any{"xAxis": map[string]any{"type": "category", "data": []int{1, 2, 3}}, "yAxis": map[string]any{"type": "value"},
					"series": []any{map[string]any{"type": "line", "data": []float64{0.5, 0.7, final}}}}},
			}}}}
			if err := pg.Render(&page); err != nil {
				t.Fatal(err)
			}
			if _, err := run.LogArtifact(ctx, "report.html", &page); err != nil {
				t.Fatal(err)
			}
		}
		if err := run.End(ctx, track.StatusFinished); err != nil {
			t.Fatal(err)
		}
		s.runs = append(s.runs, run.ID())
	}
	search, err := e.tr.Start(ctx, track.RunOptions{Experiment: "titanic", Name: "automl-search", Command: "gyre automl"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ {
		trial, err := e.tr.Start(ctx, track.RunOptions{ParentID: search.ID(), Name: fmt.Sprintf("trial-%d", i),
			Params: map[string]string{"learner": []string{"gbdt", "extra_trees"}[i%2], "num_leaves": fmt.Sprint(4 << i)}})
		if err != nil {
			t.Fatal(err)
		}
		if err := trial.LogMetric(ctx, "valid_roc_auc", 0.7+0.02*float64(i), 0); err != nil {
			t.Fatal(err)
		}
		if err := trial.End(ctx, track.StatusFinished); err != nil {
			t.Fatal(err)
		}
	}
	if err := search.End(ctx, track.StatusFinished); err != nil {
		t.Fatal(err)
	}
	s.search = search.ID()
	// A pipeline run as internal/pipeline records one: a parent run tagged
	// with the pipeline, a child run per step with its summary, the gate's
	// decision on the gate step.
	pipe, err := e.tr.Start(ctx, track.RunOptions{Experiment: "pipeline-titanic", Name: "pipeline titanic",
		Tags: map[string]string{"gyre.pipeline": "titanic", "gyre.trigger": "schedule 0 3 * * *", "gyre.pipeline.run": "p1",
			"gyre.triggers.schedule": "0 3 * * *", "gyre.triggers.on_new_data": "true", "gyre.triggers.poll": "5m0s"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []struct{ step, summary, gate string }{
		{"ingest", "891 rows, 12 columns: titanic@1", ""}, {"validate", "contract contract.yaml: 2 errors (Cabin); drift against titanic/1: 1 of 9 features", ""},
		{"train", "gbdt, 20 trees", ""}, {"evaluate", "roc_auc 0.861 on the holdout", ""},
		{"gate", "rejected: roc_auc 0.861 vs production v1 0.866 (gain -0.005, minimum 0.002)", "false"},
	} {
		tags := map[string]string{"gyre.pipeline": "titanic", "gyre.step": st.step, "gyre.summary": st.summary}
		if st.gate != "" {
			tags["gyre.gate.passed"] = st.gate
		}
		r, err := e.tr.Start(ctx, track.RunOptions{ParentID: pipe.ID(), Name: st.step, Tags: tags})
		if err != nil {
			t.Fatal(err)
		}
		if st.step == "validate" {
			if err := r.LogDataset(ctx, "titanic", dv.Version.Version, "input"); err != nil {
				t.Fatal(err)
			}
			if _, err := r.LogArtifact(ctx, pipeline.ValidationArtifact, bytes.NewReader(titanicValidation(t))); err != nil {
				t.Fatal(err)
			}
		}
		if st.step == "train" {
			s.pipeTrain = r.ID()
		}
		if err := r.End(ctx, track.StatusFinished); err != nil {
			t.Fatal(err)
		}
	}
	if err := pipe.SetTag(ctx, "gyre.pipeline.status", "done"); err != nil {
		t.Fatal(err)
	}
	if err := pipe.End(ctx, track.StatusFinished); err != nil {
		t.Fatal(err)
	}
	s.pipeline = pipe.ID()
	exp, err := e.tr.ExperimentByName(ctx, "titanic")
	if err != nil {
		t.Fatal(err)
	}
	s.experimentID = exp.ID
	data := titanicBundle(t)
	plots := titanicPlots(t, data)
	for _, run := range s.runs[:2] {
		r, err := e.tr.Resume(ctx, run)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.LogArtifact(ctx, trainrun.PlotsArtifact, bytes.NewReader(plots)); err != nil {
			t.Fatal(err)
		}
		if _, err := e.reg.Register(ctx, "titanic", registry.RegisterOptions{Bundle: bytes.NewReader(data), RunID: run,
			Datasets: []registry.DatasetVersion{{Name: "titanic", Version: dv.Version.Version}}}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// shotDir is where the browser tests save screenshots: GYRE_UI_SCREENSHOTS
// when set (docs/ui/ is refreshed that way), else a temporary directory.
func shotDir(t testing.TB) string {
	if d := os.Getenv("GYRE_UI_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		abs, _ := filepath.Abs(d)
		return abs
	}
	return t.TempDir()
}

// seedProduction logs a week of production traffic for titanic (as gyre
// serve would, with feedback labels): 120 passengers a day, and from four
// days ago on, older passengers paying higher fares (Age + 25, Fare × 3),
// so Age and Fare drift and the others do not. The first two days carry no
// latencies (as a log from before gyre serve kept them), the others
// latencies around 1.5 ms.
func (e *env) seedProduction(days int) {
	t := e.t
	t.Helper()
	ctx := context.Background()
	b, err := bundle.Decode(titanicBundle(t))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(titanic)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	head := recs[0]
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	lg := predlog.New(e.db, e.blobs)
	dir := t.TempDir()
	lat := rand.New(rand.NewPCG(18, 7)) // request latencies: log-normal around 1.5 ms
	today := time.Now().UTC().Truncate(24 * time.Hour)
	for d := 0; d < days; d++ {
		day := today.Add(-time.Duration(days-1-d) * 24 * time.Hour)
		shift := d >= days-4
		rows := [][]string{head}
		for i := 0; i < 120; i++ {
			r := append([]string(nil), recs[1+(d*120+i)%(len(recs)-1)]...)
			if shift {
				if a, err := strconv.ParseFloat(r[col["Age"]], 64); err == nil {
					r[col["Age"]] = strconv.FormatFloat(a+25, 'f', 1, 64)
				}
				if v, err := strconv.ParseFloat(r[col["Fare"]], 64); err == nil {
					r[col["Fare"]] = strconv.FormatFloat(v*3, 'f', 2, 64)
				}
			}
			rows = append(rows, r)
		}
		path := filepath.Join(dir, fmt.Sprintf("day%d.csv", d))
		out, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := csv.NewWriter(out).WriteAll(rows); err != nil {
			t.Fatal(err)
		}
		out.Close()
		fr, err := ingest.Read(ctx, path, ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		pred, err := b.Predict(fr)
		if err != nil {
			t.Fatal(err)
		}
		bl := predlog.NewBuilder("titanic", "2", b.Manifest.Input, b.Manifest.Classes)
		at := day.Add(9 * time.Hour)
		bl.AddFrame("req-"+strconv.Itoa(d), at, fr, pred)
		batch := bl.Batch()
		if d >= 2 { // the first two days were logged by a gyre serve that kept no latency
			batch.Latency = make([]int64, batch.Len())
			for j := range batch.Latency {
				batch.Latency[j] = int64(1.5e6 * math.Exp(0.45*lat.NormFloat64()))
			}
		}
		var fbs []predlog.Feedback
		for j := range batch.Len() {
			ts := at.Add(time.Duration(j) * time.Minute)
			batch.RequestID[j], batch.Row[j] = fmt.Sprintf("d%d-r%d", d, j), 0
			batch.Time[j] = ts.UnixNano()
			fbs = append(fbs, predlog.Feedback{Model: "titanic", RequestID: batch.RequestID[j], Label: rows[1+j][col["Survived"]], Time: ts})
		}
		if err := lg.LogPredictions(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if err := lg.LogFeedback(ctx, fbs); err != nil {
			t.Fatal(err)
		}
	}
}
