package distrib

import (
	"bytes"
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/gyre-ml/gyre/internal/automl"
	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/learn"
	_ "github.com/gyre-ml/gyre/internal/learn/all"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
)

func toyProblem() automl.Problem {
	d := learntest.Toy(learn.Binary, 240, 4)
	return automl.Problem{Task: learn.Binary, Classes: d.Classes, Data: map[string]*learn.Dataset{"trees": d, "linear": d}}
}

func TestProblemRoundTrip(t *testing.T) {
	p := toyProblem()
	p.Data["trees"].X.Data[3] = math.NaN() // missing values must survive
	var a, b bytes.Buffer
	if err := encodeProblem(&a, p); err != nil {
		t.Fatal(err)
	}
	if err := encodeProblem(&b, p); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("the same problem encoded to different bytes: its digest would change")
	}
	q, err := decodeProblem(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if q.Task != p.Task || !reflect.DeepEqual(q.Classes, p.Classes) || len(q.Data) != 2 || q.Valid != nil {
		t.Fatalf("decoded %v %v with %d families", q.Task, q.Classes, len(q.Data))
	}
	for f, d := range p.Data {
		e := q.Data[f]
		if !reflect.DeepEqual(floatBytes(e.X.Data), floatBytes(d.X.Data)) || !reflect.DeepEqual(e.Y, d.Y) || !reflect.DeepEqual(e.Features, d.Features) {
			t.Errorf("%s data changed in the round trip", f)
		}
	}
	if _, err := decodeProblem(strings.NewReader("not a problem")); err == nil {
		t.Error("garbage decoded")
	}
}

func TestFloatsInlineOrBlob(t *testing.T) {
	store, err := blob.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v := []float64{0.25, math.Inf(1), math.NaN(), -0}
	for _, max := range []int{1 << 10, 8} {
		f, err := packFloats(ctx, store, v, max)
		if err != nil {
			t.Fatal(err)
		}
		if (f.Digest != "") != (max == 8) {
			t.Errorf("inline max %d: digest %q", max, f.Digest)
		}
		got, err := f.unpack(ctx, store)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(floatBytes(got), floatBytes(v)) {
			t.Errorf("inline max %d: got %v, want %v", max, got, v)
		}
	}
	f, _ := packFloats(ctx, store, nil, 8)
	if got, err := f.unpack(ctx, store); got != nil || err != nil {
		t.Errorf("nil came back as %v, %v", got, err)
	}
}

func TestParseEngine(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Engine
		err  string
	}{
		{in: "temporal://127.0.0.1:7240", want: Engine{HostPort: "127.0.0.1:7240", Namespace: "default", TaskQueue: "gyre", Heartbeat: DefaultHeartbeat, TrialTimeout: DefaultTrialTimeout, Retries: DefaultRetries}},
		{in: "temporal://temporal.svc?namespace=ml&task_queue=gpu&heartbeat=5s&per_activity=4&retries=2",
			want: Engine{HostPort: "temporal.svc:7233", Namespace: "ml", TaskQueue: "gpu", Heartbeat: 5 * time.Second, TrialTimeout: DefaultTrialTimeout, PerActivity: 4, Retries: 2}},
		{in: "http://127.0.0.1:7233", err: "want temporal://"},
		{in: "temporal://h:1?heartbeat=-1s", err: "heartbeat"},
		{in: "temporal://h:1?queue=x", err: "unknown parameter"},
		{in: "temporal://h:1/ns", err: "unexpected path"},
	} {
		got, err := ParseEngine(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want one containing %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: got %+v, %v, want %+v", c.in, got, err, c.want)
		}
	}
}

// workflowEnv is the SDK's test environment with Gyre's workflow and
// activities registered on a worker whose blob store is a temp directory
// holding the toy problem.
func workflowEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, dataRef, automl.Problem) {
	t.Helper()
	dir := t.TempDir()
	store, err := blob.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	p := toyProblem()
	ref, err := putProblem(context.Background(), store, p)
	if err != nil {
		t.Fatal(err)
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	register(env, newTrialActivities("test-worker", "", 1), &pipelineActivities{})
	return env, dataRef{Store: dir, Digest: ref.Digest}, p
}

// TestWorkflowRunsBatches runs a search's workflow in the SDK's test
// environment: each batch's trials come back in order, bit-identical to
// evaluating them on this process, a failing configuration as the trial's
// error, and the finish update ends the workflow with the summary.
func TestWorkflowRunsBatches(t *testing.T) {
	env, data, p := workflowEnv(t)
	plan := automl.Plan{Seed: 9, Method: "cv", Folds: 3, Repeats: 2, HoldoutFraction: 0.1}
	specs := []automl.TrialSpec{
		{ID: 0, Learner: "gbdt", Family: "trees", Config: automl.Config{"n_estimators": "4", "max_leaves": "4"}, Sample: 160},
		{ID: 1, Learner: "logistic_regression", Family: "linear", Config: automl.Config{}, Sample: 160},
		{ID: 2, Learner: "gbdt", Family: "trees", Config: automl.Config{"n_estimators": "-3"}, Sample: 160},
	}
	var got []trialOut
	var updateErr error
	env.RegisterDelayedCallback(func() {
		req := trialsRequest{Batch: 1, Data: data, Plan: plan, Specs: specs, PerActivity: 2, InlineMax: 1 << 20}
		env.UpdateWorkflow(trialsUpdate, "batch-1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { updateErr = err },
			OnComplete: func(v any, err error) {
				updateErr = err
				if outs, ok := v.([]trialOut); ok {
					got = outs
				}
			},
		}, req)
	}, time.Second)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(finishUpdate, "finish", &testsuite.TestUpdateCallback{OnReject: func(err error) { t.Errorf("finish rejected: %v", err) },
			OnComplete: func(any, error) {}}, SearchSummary{Progress: Progress{Trials: 3, Best: 0.9, Metric: "roc_auc", Learner: "gbdt"}})
	}, time.Minute)
	env.ExecuteWorkflow(AutoMLWorkflowName, SearchInput{Data: data, Trials: 3, Idle: time.Hour})
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow failed: %v", err)
	}
	if updateErr != nil {
		t.Fatalf("trials update: %v", updateErr)
	}
	var sum SearchSummary
	if err := env.GetWorkflowResult(&sum); err != nil || sum.Trials != 3 || sum.Learner != "gbdt" {
		t.Errorf("summary %+v, %v", sum, err)
	}
	if len(got) != len(specs) {
		t.Fatalf("%d results for %d trials", len(got), len(specs))
	}
	ev, err := automl.NewEvaluator(p, plan, 1)
	if err != nil {
		t.Fatal(err)
	}
	store, _ := blob.OpenDir(data.Store)
	for i, o := range got {
		want := ev.Run(context.Background(), specs[i])
		r, err := o.result(context.Background(), store)
		if err != nil {
			t.Fatal(err)
		}
		if o.ID != specs[i].ID || o.Worker != "test-worker" || o.Attempt != 1 {
			t.Errorf("result %d: id %d from %q attempt %d", i, o.ID, o.Worker, o.Attempt)
		}
		if (want.Err == nil) != (r.Err == nil) {
			t.Fatalf("trial %d: error %v, want %v", i, r.Err, want.Err)
		}
		if want.Err != nil {
			if r.Err.Error() != want.Err.Error() {
				t.Errorf("trial %d: error %q, want %q", i, r.Err, want.Err)
			}
			continue
		}
		if !bytes.Equal(floatBytes(r.OOF), floatBytes(want.OOF)) || !bytes.Equal(floatBytes(r.Runs), floatBytes(want.Runs)) || r.ModelBytes != want.ModelBytes {
			t.Errorf("trial %d: predictions differ from a local evaluation", i)
		}
	}
	if got[2].Err == "" {
		t.Error("a configuration with -3 trees did not fail")
	}
}

// TestWorkflowAbandoned checks that a search whose driver is gone ends its
// workflow after the idle time instead of waiting for ever.
func TestWorkflowAbandoned(t *testing.T) {
	env, data, _ := workflowEnv(t)
	env.ExecuteWorkflow(AutoMLWorkflowName, SearchInput{Data: data, Idle: 10 * time.Minute})
	var ae *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &ae) || ae.Type() != errAbandoned {
		t.Fatalf("workflow ended with %v, want an %s error", err, errAbandoned)
	}
}

// TestWorkflowMissingData checks that trials whose data blob is gone fail
// the batch at once (not retried), naming the digest.
func TestWorkflowMissingData(t *testing.T) {
	env, data, _ := workflowEnv(t)
	data.Digest = "sha256:" + strings.Repeat("0", 64)
	var updateErr error
	env.RegisterDelayedCallback(func() {
		req := trialsRequest{Batch: 1, Data: data, Plan: automl.Plan{Method: "cv", Folds: 3, Repeats: 1}, PerActivity: 1, InlineMax: 1 << 10,
			Specs: []automl.TrialSpec{{Learner: "gbdt", Family: "trees", Config: automl.Config{}, Sample: 100}}}
		env.UpdateWorkflow(trialsUpdate, "batch-1", &testsuite.TestUpdateCallback{OnReject: func(err error) { updateErr = err },
			OnComplete: func(_ any, err error) { updateErr = err }}, req)
	}, time.Second)
	env.ExecuteWorkflow(AutoMLWorkflowName, SearchInput{Data: data, Idle: time.Minute, Retries: 5})
	if updateErr == nil || !strings.Contains(updateErr.Error(), data.Digest) {
		t.Fatalf("update error %v, want one naming %s", updateErr, data.Digest)
	}
}
