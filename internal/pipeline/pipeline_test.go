package pipeline

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/dataset"
	"github.com/gyre-ml/gyre/internal/frame/frametest"
	"github.com/gyre-ml/gyre/internal/ingest"
	_ "github.com/gyre-ml/gyre/internal/learn/all"
	"github.com/gyre-ml/gyre/internal/metric"
	"github.com/gyre-ml/gyre/internal/registry"
	"github.com/gyre-ml/gyre/internal/report"
	"github.com/gyre-ml/gyre/internal/sqlstore"
	"github.com/gyre-ml/gyre/internal/track"
)

func testEnv(t *testing.T) *Env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlstore.Open(ctx, filepath.Join(dir, "gyre.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	bs, err := blob.Open(ctx, filepath.Join(dir, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	return &Env{DB: db, Blobs: bs, Tracker: track.New(db, bs), Registry: registry.New(db, bs), Datasets: dataset.New(db, bs)}
}

// bikeRows returns the bike sharing rows (header first) in time order
// (year, month).
func bikeRows(t testing.TB) [][]string {
	t.Helper()
	var all [][]string
	var header []string
	for _, split := range []string{"train", "test"} {
		recs := frametest.Records(t, filepath.Join("..", "..", "examples", "data", "bike_sharing", "bike_sharing."+split+".csv"))
		header = recs[0]
		all = append(all, recs[1:]...)
	}
	key := func(r []string) int { y, _ := strconv.Atoi(r[1]); m, _ := strconv.Atoi(r[2]); return y*12 + m }
	sort.SliceStable(all, func(i, j int) bool { return key(all[i]) < key(all[j]) })
	return append([][]string{header}, all...)
}

// project writes yaml as dir's gyre.yaml and loads it.
func project(t *testing.T, dir, yaml string) *Project {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "gyre.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(filepath.Join(dir, "gyre.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func writeCSV(t testing.TB, path string, rows [][]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.WriteAll(rows)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

const bikeProject = `version: 1
name: bike
problem:
  target: cnt
  task: regression
data:
  source: data.csv
  holdout: 0.2
  split: last
goals:
  - r2 >= 0.5
  - p99_latency <= 2s
train:
  learner: gbdt
  params: {n_estimators: "60"}
gate:
  min_gain: 0
`

func TestRunCachesAndGates(t *testing.T) {
	env := testEnv(t)
	ctx := context.Background()
	dir := t.TempDir()
	rows := bikeRows(t)
	early := rows[:1]
	for _, r := range rows[1:] {
		if r[1] == "0" {
			early = append(early, r)
		}
	}
	writeCSV(t, filepath.Join(dir, "data.csv"), early)
	p := project(t, dir, bikeProject)
	res, err := Run(ctx, env, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Steps {
		t.Logf("%-8s %-6s %.2fs %s", s.Step, s.Status, s.Seconds, s.Summary)
	}
	if res.Status != "promoted" || res.Version != 1 {
		t.Fatalf("first run: status %s version %d, gate %+v", res.Status, res.Version, res.Gate)
	}
	start := time.Now()
	res2, err := Run(ctx, env, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Status != "unchanged" {
		t.Fatalf("second run: status %s, want unchanged: %+v", res2.Status, res2.Steps)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("unchanged re-run took %v", d)
	}
	// a concurrent run collapses
	lk, err := acquire(ctx, env.DB, "bike", "other")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(ctx, env, p, Options{}); !errors.Is(err, ErrBusy) {
		t.Errorf("run while locked: %v, want ErrBusy", err)
	}
	lk.release()
	v, err := env.Registry.Resolve(ctx, "bike@production")
	if err != nil || v.Version != 1 {
		t.Fatalf("alias: %v %v", v, err)
	}
	// a stricter gate on new data rejects and does not move the alias
	p.Gate.MinGain = 1e9
	p.Trigger = Triggers{Schedule: "0 3 * * *", OnNewData: true, Poll: 5 * time.Minute}
	writeCSV(t, filepath.Join(dir, "data.csv"), rows[:len(early)+2000])
	res3, err := Run(ctx, env, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res3.Status != "rejected" || res3.Gate.Passed || res3.Gate.Production == nil {
		t.Fatalf("strict gate: %+v %+v", res3.Status, res3.Gate)
	}
	if v, _ := env.Registry.Resolve(ctx, "bike@production"); v.Version != 1 {
		t.Errorf("rejected candidate moved the alias to %d", v.Version)
	}
	// The run records the triggers it ran under, and the validate step
	// what it found (the web UI shows both).
	parent, err := env.Tracker.Get(ctx, res3.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if parent.Tags["gyre.triggers.schedule"] != "0 3 * * *" || parent.Tags["gyre.triggers.on_new_data"] != "true" || parent.Tags["gyre.triggers.poll"] != "5m0s" || parent.Tags["gyre.triggers.on_alert"] != "" {
		t.Errorf("pipeline run tags %v: want the schedule, the data trigger and the poll", parent.Tags)
	}
	for _, s := range res3.Steps {
		if s.Step == "train" {
			run, err := env.Tracker.Get(ctx, s.RunID)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(run.Artifacts, func(a track.Artifact) bool { return a.Name == report.PlotsArtifact }) {
				t.Errorf("the train step's run has no %s: %+v", report.PlotsArtifact, run.Artifacts)
			}
		}
		if s.Step != "validate" {
			continue
		}
		run, err := env.Tracker.Get(ctx, s.RunID)
		if err != nil {
			t.Fatal(err)
		}
		var got *Validation
		for _, a := range run.Artifacts {
			if a.Name == ValidationArtifact {
				rd, err := env.Blobs.Get(ctx, a.Digest)
				if err != nil {
					t.Fatal(err)
				}
				got = &Validation{}
				err = json.NewDecoder(rd).Decode(got)
				rd.Close()
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		if got == nil || got.Against != "bike/1" || got.Drift == nil || got.Drift.Tested == 0 || got.Dataset != "bike" {
			t.Errorf("validate step's %s: %+v, want the drift against bike/1 on data set bike", ValidationArtifact, got)
		}
	}
	for _, s := range res3.Steps {
		if s.Step == "train" && s.Status != "done" {
			t.Errorf("train on new data: %s", s.Status)
		}
		if s.Step == "validate" && !strings.Contains(s.Summary, "drift against the training data of bike/1") {
			t.Errorf("validate against production: %q", s.Summary)
		}
	}
	// A production model whose drift reference does not decode fails the
	// validate step; it is not "no production model".
	r := &runner{env: env, p: p}
	b, err := r.loadRegistered(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	b.Profile = []byte(`{"columns": 7`)
	bad := filepath.Join(dir, "bad.gyre")
	if err := b.Save(bad); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(bad)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := env.Registry.Register(ctx, "bike", registry.RegisterOptions{Bundle: fh})
	fh.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Registry.SetAlias(ctx, "bike", "production", v2.Version); err != nil {
		t.Fatal(err)
	}
	writeCSV(t, filepath.Join(dir, "data.csv"), rows[:len(early)+2500])
	if _, err := Run(ctx, env, p, Options{}); err == nil || !strings.Contains(err.Error(), "drift reference of bike/") {
		t.Errorf("corrupt production reference: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"unknown key", "version: 1\nname: x\nproblem:\n  target: y\n  tagret: z\ndata:\n  source: a.csv\n", `line 5: unknown key "tagret"`},
		{"bad goal", "version: 1\nname: x\nproblem: {target: y}\ndata: {source: a.csv}\ngoals:\n  - roc_auc >> 3\n", `line 6: key goals: goal "roc_auc >> 3": unknown operator ">>"`},
		{"no target", "version: 1\nname: x\nproblem: {}\ndata: {source: a.csv}\n", "line 3: key problem.target"},
		{"bad cron", "version: 1\nname: x\nproblem: {target: y}\ndata: {source: a.csv}\ntriggers:\n  schedule: every day\n", "line 6: key triggers.schedule"},
		{"bad split", "version: 1\nname: x\nproblem: {target: y}\ndata: {source: a.csv, split: fancy}\n", "key data.split"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.yaml), "gyre.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
	g, err := metric.ParseGoal("model_size <= 5MB")
	if err != nil || g.Value != 5e6 {
		t.Errorf("model_size goal: %+v %v", g, err)
	}
	g, err = metric.ParseGoal("p99_latency <= 1s")
	if err != nil || g.Value != 1000 {
		t.Errorf("latency goal: %+v %v", g, err)
	}
}

// TestProjectFiles checks testdata/pipeline: *.good.yaml parse, *.bad.yaml
// fail with the message in their "# want:" line.
func TestProjectFiles(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "pipeline", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, perr := Parse(data, filepath.Base(f))
		if strings.HasSuffix(f, ".good.yaml") {
			if perr != nil {
				t.Errorf("%s: %v", f, perr)
			}
			continue
		}
		first, _, _ := strings.Cut(string(data), "\n")
		want := strings.TrimSpace(strings.TrimPrefix(first, "# want:"))
		if perr == nil || !strings.Contains(perr.Error(), want) {
			t.Errorf("%s: got %v, want an error containing %q", f, perr, want)
		}
	}
}

// TestResumeAfterInterruption stops a run after its prepare step (as a kill
// would) and checks that the next run resumes from there, and that a dead
// holder's lock is taken over once its lease has expired.
func TestResumeAfterInterruption(t *testing.T) {
	env := testEnv(t)
	dir := t.TempDir()
	rows := bikeRows(t)
	writeCSV(t, filepath.Join(dir, "data.csv"), rows[:3001])
	p := project(t, dir, bikeProject)
	ctx, cancel := context.WithCancel(context.Background())
	env.Progress = func(s StepResult) {
		if s.Step == "prepare" {
			cancel()
		}
	}
	res, err := Run(ctx, env, p, Options{})
	if err == nil || res.Status != "failed" {
		t.Fatalf("interrupted run: %v %+v", err, res)
	}
	if _, err := env.Registry.Resolve(context.Background(), "bike@production"); err == nil {
		t.Fatal("an interrupted run promoted a model")
	}
	// a crashed holder left its lock behind: it expires with its lease
	if err := env.DB.Write(context.Background(), func(tx *sqlstore.Tx) error {
		_, err := tx.ExecContext(context.Background(), "INSERT INTO pipeline_locks (name, holder, trigger_by, expires_ms) VALUES ('bike', 'dead', 'x', ?)", time.Now().Add(-time.Second).UnixMilli())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	env.Progress = nil
	res, err = Run(context.Background(), env, p, Options{Trigger: "retry"})
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, s := range res.Steps {
		status[s.Step] = s.Status
	}
	if status["prepare"] != "cached" || status["validate"] != "cached" || status["train"] != "done" || res.Status != "promoted" {
		t.Errorf("resumed run: %v, status %s", status, res.Status)
	}
	runs, err := Runs(context.Background(), env.DB, "bike", 10)
	if err != nil || len(runs) != 2 || runs[0].Status != "promoted" || runs[1].Status != "failed" {
		t.Errorf("runs: %+v %v", runs, err)
	}
}

// TestRunStepByStep drives a run one step at a time (Options.Through, ID,
// ParentRunID), as a workflow engine's activities do: each call runs one
// more step, the earlier ones are cache hits, and the run is one recorded
// run that ends promoted.
func TestRunStepByStep(t *testing.T) {
	env := testEnv(t)
	ctx := context.Background()
	dir := t.TempDir()
	rows := bikeRows(t)
	writeCSV(t, filepath.Join(dir, "data.csv"), rows[:3000])
	p := project(t, dir, bikeProject)
	if _, err := Run(ctx, env, p, Options{Through: "deploy"}); err == nil {
		t.Error("an unknown step was accepted")
	}
	var id, parent string
	var last *Result
	for i, step := range Steps {
		res, err := Run(ctx, env, p, Options{ID: id, ParentRunID: parent, Through: step, Trigger: "engine"})
		if err != nil {
			t.Fatalf("through %s: %v", step, err)
		}
		if got := res.Steps[len(res.Steps)-1]; got.Step != step || (i > 0 && res.Steps[i-1].Status != "cached") {
			t.Fatalf("through %s: steps %+v", step, res.Steps)
		}
		if step != "promote" && res.Status != "" {
			t.Fatalf("through %s: status %q before the last step", step, res.Status)
		}
		id, parent, last = res.ID, res.RunID, res
	}
	if last.Status != "promoted" || last.Version != 1 {
		t.Fatalf("status %s version %d", last.Status, last.Version)
	}
	runs, err := Runs(ctx, env.DB, "bike", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].ID != id || runs[0].Status != "promoted" {
		t.Fatalf("recorded runs %+v, want one promoted run %s", runs, id)
	}
}

// TestRunWithRecipe: a project's `recipe:` key fits the recipe in the
// train step and puts it in the registered model, which then predicts raw
// rows (" MALE", a missing age, the free-text columns the recipe drops)
// with nothing prepared by the caller.
func TestRunWithRecipe(t *testing.T) {
	env := testEnv(t)
	ctx := context.Background()
	dir := t.TempDir()
	recipe, err := os.ReadFile("../../examples/recipes/titanic.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../../examples/data/titanic/titanic.train.csv")
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"titanic.yaml": recipe, "data.csv": data, "gyre.yaml": []byte(`version: 1
name: titanic
problem:
  target: Survived
  task: binary
data:
  source: data.csv
  holdout: 0.2
recipe: titanic.yaml
train:
  learner: gbdt
  params: {n_estimators: "40"}
gate:
  min_gain: 0
`)} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := Load(filepath.Join(dir, "gyre.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, env, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "promoted" {
		t.Fatalf("status %s: %+v", res.Status, res.Steps)
	}
	v, err := env.Registry.Resolve(ctx, "titanic@production")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := env.Registry.OpenBundle(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if b.Recipe == nil {
		t.Fatal("the registered model carries no recipe")
	}
	rawCSV := filepath.Join(dir, "raw.csv")
	if err := os.WriteFile(rawCSV, []byte("Pclass,Name,Sex,Age,SibSp,Parch,Ticket,Fare,Cabin,Embarked\n"+
		"3,\"Doe, Mr. John\", MALE,,1,0,A/5 21171,7.25,,S\n1,\"Roe, Mrs. Jane\",female,30,0,0,PC 17599,80,B5,C\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rows, err := ingest.Read(ctx, rawCSV, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pred, err := b.Predict(rows)
	if err != nil {
		t.Fatalf("raw rows: %v", err)
	}
	if pred.Label(0) != "0" || pred.Label(1) != "1" {
		t.Errorf("predictions %q, %q: want the third-class man to die and the first-class woman to live", pred.Label(0), pred.Label(1))
	}
}
