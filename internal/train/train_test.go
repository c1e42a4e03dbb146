package train_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/learn"
	_ "github.com/gyre-ml/gyre/internal/learn/all"
	"github.com/gyre-ml/gyre/internal/train"
)

func read(t *testing.T, path string) *frame.Frame {
	t.Helper()
	f, err := ingest.Read(context.Background(), path, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

const titanic = "../../examples/data/titanic/titanic"

func TestDetectTask(t *testing.T) {
	many := make([]int64, 1000)
	few := make([]int64, 1000)
	for i := range many {
		many[i] = int64(i)
		few[i] = int64(i % 7)
	}
	cases := []struct {
		col  frame.Column
		want learn.Task
	}{
		{frame.NewCategorical("c", []string{"a", "b", "a"}, nil), learn.Binary},
		{frame.NewCategorical("c", []string{"a", "b", "c"}, nil), learn.Multiclass},
		{frame.NewBool("b", []bool{true, false}), learn.Binary},
		{frame.NewFloat("f", []float64{1.5, 2, 3}), learn.Regression},
		{frame.NewInt("many", many), learn.Regression},
		{frame.NewInt("few", few), learn.Multiclass},
	}
	for _, c := range cases {
		if got := train.DetectTask(c.col); got != c.want {
			t.Errorf("DetectTask(%s) = %v, want %v", c.col.Name(), got, c.want)
		}
	}
}

func TestNewProblemOnTitanic(t *testing.T) {
	p, err := train.NewProblem(read(t, titanic+".train.csv"), "Survived", learn.TaskInvalid)
	if err != nil {
		t.Fatal(err)
	}
	if p.Task != learn.Binary || len(p.Classes) != 2 || p.Frame.NumRows() != 713 {
		t.Errorf("task %v classes %v rows %d", p.Task, p.Classes, p.Frame.NumRows())
	}
	if got := strings.Join(p.Ignored, ","); !strings.Contains(got, "Name") || !strings.Contains(got, "Ticket") {
		t.Errorf("identifier columns not ignored: %v", p.Ignored)
	}
	if _, err := train.NewProblem(read(t, titanic+".train.csv"), "survived", learn.TaskInvalid); err == nil || !strings.Contains(err.Error(), "Survived") {
		t.Errorf("unknown target error should list the columns, got %v", err)
	}
}

func TestNewProblemBadTargets(t *testing.T) {
	v := frame.NewValidity(3)
	v.SetNull(1)
	f := frame.MustNew(frame.NewFloat("x", []float64{1, 2, 3}), &frame.Float{ColName: "y", Values: []float64{1, 0, 2}, Valid: v})
	p, err := train.NewProblem(f, "y", learn.Regression)
	if err != nil || p.Dropped != 1 || p.Frame.NumRows() != 2 {
		t.Fatalf("missing target rows not dropped: %v %+v", err, p)
	}
	one := frame.MustNew(frame.NewFloat("x", []float64{1, 2}), frame.NewCategorical("y", []string{"a", "a"}, nil))
	if _, err := train.NewProblem(one, "y", learn.TaskInvalid); err == nil || !strings.Contains(err.Error(), `one value "a" in all 2 rows`) {
		t.Errorf("single-class target error = %v", err)
	}
	none := frame.MustNew(frame.NewFloat("x", []float64{1}), &frame.Float{ColName: "y", Values: []float64{0}, Valid: frame.NewValidity(1)})
	none.Col(1).(*frame.Float).Valid.SetNull(0)
	if _, err := train.NewProblem(none, "y", learn.TaskInvalid); err == nil {
		t.Error("all-missing target accepted")
	}
}

func TestNewProblemNoUsableFeatures(t *testing.T) {
	y := frame.NewCategorical("y", []string{"a", "b", "a", "b", "a", "b"}, nil)
	allMissing := &frame.Float{ColName: "x", Values: make([]float64, 6), Valid: frame.NewValidity(6)}
	for i := range 6 {
		allMissing.Valid.SetNull(i)
	}
	ids := make([]string, 30)
	labels := make([]string, 30)
	rowNumbers := make([]int64, 30)
	for i := range ids {
		ids[i], labels[i], rowNumbers[i] = fmt.Sprintf("r%d", i), []string{"a", "b"}[i%2], int64(i+1)
	}
	for _, c := range []struct {
		name string
		f    *frame.Frame
		want string
	}{
		{"constant", frame.MustNew(frame.NewFloat("x", []float64{1, 1, 1, 1, 1, 1}), y), "constant or missing"},
		{"all missing", frame.MustNew(allMissing, y), "constant or missing"},
		{"identifier", frame.MustNew(frame.NewString("id", ids), frame.NewCategorical("y", labels, nil)), "identifier (ignored: id)"},
		{"integer identifier", frame.MustNew(frame.NewInt("PassengerId", rowNumbers), frame.NewCategorical("y", labels, nil)), "identifier (ignored: PassengerId)"},
		{"row number", frame.MustNew(frame.NewInt("n", rowNumbers), frame.NewCategorical("y", labels, nil)), "identifier (ignored: n)"},
	} {
		_, err := train.NewProblem(c.f, "y", learn.TaskInvalid)
		if err == nil || !strings.Contains(err.Error(), "no usable feature columns") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want no usable feature columns … %s", c.name, err, c.want)
		}
	}
	// A column present in some rows and missing in others is usable: its
	// missingness can carry the signal.
	part := &frame.Float{ColName: "x", Values: []float64{1, 1, 1, 1, 1, 1}, Valid: frame.NewValidity(6)}
	part.Valid.SetNull(0)
	if _, err := train.NewProblem(frame.MustNew(part, y), "y", learn.TaskInvalid); err != nil {
		t.Errorf("partly missing constant column rejected: %v", err)
	}
	// An integer column with all values distinct is a feature unless its
	// name says it is an identifier or it is monotone in row order (a row
	// number): counts and weights often are unique.
	weights := make([]int64, len(rowNumbers))
	for i := range weights {
		weights[i] = int64((i * 7) % len(rowNumbers))
	}
	if p, err := train.NewProblem(frame.MustNew(frame.NewInt("weight", weights), frame.NewCategorical("y", labels, nil)), "y", learn.TaskInvalid); err != nil {
		t.Errorf("distinct integer feature: %v; want it kept", err)
	} else if len(p.Ignored) != 0 {
		t.Errorf("distinct integer feature: ignored %v; want it kept", p.Ignored)
	}
}

func TestIDName(t *testing.T) {
	for name, want := range map[string]bool{"id": true, "ID": true, "user_id": true, "order-id": true, "PassengerId": true,
		"userID": true, "fnlwgt": false, "paid": false, "valid": false, "IDX": false, "Id": true, "AID": false} {
		if got := train.IDName(name); got != want {
			t.Errorf("IDName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestFitAndScoreTitanic(t *testing.T) {
	p, err := train.NewProblem(read(t, titanic+".train.csv"), "Survived", learn.TaskInvalid)
	if err != nil {
		t.Fatal(err)
	}
	b, err := train.Fit(context.Background(), p, train.Options{Learner: "decision_tree", Params: map[string]string{"max_depth": "5"}})
	if err != nil {
		t.Fatal(err)
	}
	s, _, y, err := train.Score(b, read(t, titanic+".test.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(y) != 178 {
		t.Errorf("scored %d rows, want 178", len(y))
	}
	// A depth-5 tree reaches about 0.85 test ROC-AUC on this split.
	if s["roc_auc"] < 0.80 {
		t.Errorf("test roc_auc %.4f, want ≥ 0.80", s["roc_auc"])
	}
	if _, err := train.Fit(context.Background(), p, train.Options{Learner: "decision_tree", Params: map[string]string{"depth": "5"}}); err == nil || !strings.Contains(err.Error(), "max_depth") {
		t.Errorf("unknown hyperparameter error should list valid names, got %v", err)
	}
}

// TestScoreInChunksIsPredict checks that scoring a frame chunk by chunk (as
// Score does on large frames, to bound memory) gives exactly the whole-frame
// prediction: values, probabilities and unseen-category counts.
func TestScoreInChunksIsPredict(t *testing.T) {
	f := read(t, "../../examples/data/adult/adult.train.csv")
	p, err := train.NewProblem(f, "class", learn.TaskInvalid)
	if err != nil {
		t.Fatal(err)
	}
	b, err := train.Fit(context.Background(), p, train.Options{Learner: "gbdt", Params: map[string]string{"n_estimators": "10"}})
	if err != nil {
		t.Fatal(err)
	}
	test := read(t, "../../examples/data/adult/adult.test.csv")
	whole, err := b.Predict(test)
	if err != nil {
		t.Fatal(err)
	}
	chunked, err := train.PredictChunked(b, test, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(whole.Values, chunked.Values) || !slices.Equal(whole.Proba, chunked.Proba) {
		t.Fatalf("chunked prediction differs from the whole-frame prediction")
	}
	if !maps.Equal(whole.Unseen, chunked.Unseen) {
		t.Errorf("unseen counts: chunked %v, whole %v", chunked.Unseen, whole.Unseen)
	}
}

// TestSampleKeepsRowsAligned checks the comparison's sample of a large
// problem: evenly spaced rows, targets aligned with their frame rows, and
// the problem itself when it is small enough.
func TestSampleKeepsRowsAligned(t *testing.T) {
	p, err := train.NewProblem(read(t, "../../examples/data/adult/adult.train.csv"), "class", learn.TaskInvalid)
	if err != nil {
		t.Fatal(err)
	}
	if train.SampleProblem(p, p.Frame.NumRows()) != p {
		t.Error("a problem within the cap should be used as is")
	}
	q := train.SampleProblem(p, 1000)
	if q.Frame.NumRows() != 1000 || len(q.Y) != 1000 {
		t.Fatalf("sample has %d rows and %d targets, want 1000", q.Frame.NumRows(), len(q.Y))
	}
	src, _ := p.Frame.Column("age")
	dst, _ := q.Frame.Column("age")
	n := p.Frame.NumRows()
	for i := range 1000 {
		r := i * n / 1000
		if q.Y[i] != p.Y[r] || dst.Format(i) != src.Format(r) {
			t.Fatalf("sample row %d is not source row %d", i, r)
		}
	}
}

// TestScoreTrainingIsScore checks that the training metrics ScoreTraining
// takes from gbdt's own fit outputs are Score's, which predicts every row
// again, on real binary, multiclass and regression problems (titanic's
// class and passenger class, bike sharing counts, with a subsample), and
// that it used the outputs (they are given once).
func TestScoreTrainingIsScore(t *testing.T) {
	cases := []struct {
		path, target string
		params       map[string]string
	}{
		{titanic + ".train.csv", "Survived", map[string]string{"n_estimators": "30"}},
		{titanic + ".train.csv", "Pclass", map[string]string{"n_estimators": "20"}},
		{"../../examples/data/bike_sharing/bike_sharing.train.csv", "cnt", map[string]string{"n_estimators": "20", "subsample": "0.8"}},
	}
	for _, c := range cases {
		t.Run(c.target, func(t *testing.T) {
			p, err := train.NewProblem(read(t, c.path), c.target, learn.TaskInvalid)
			if err != nil {
				t.Fatal(err)
			}
			b, err := train.Fit(context.Background(), p, train.Options{Learner: "gbdt", Params: c.params, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			want, _, _, err := train.Score(b, p.Input())
			if err != nil {
				t.Fatal(err)
			}
			got, err := train.ScoreTraining(b, p)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, want) {
				t.Errorf("ScoreTraining %v, Score %v", got, want)
			}
			fo, ok := b.Members[0].Model.(interface{ TakeFitOutputs() ([]float64, []float64) })
			if !ok {
				t.Fatal("the gbdt model has no TakeFitOutputs")
			}
			if v, _ := fo.TakeFitOutputs(); v != nil {
				t.Error("ScoreTraining predicted again instead of taking the fit's outputs")
			}
		})
	}
}

// TestExcludedColumnKeepsMissingness: on titanic, Cabin (free text, filled
// in for about a quarter of the passengers) is excluded but whether it is
// filled in stays a feature; the bundle takes Cabin as input, its prediction
// moves when a cabin is blanked out, and a bundle round trip keeps it.
// Name, never missing, gets no indicator; --drop-column Cabin drops it all.
func TestExcludedColumnKeepsMissingness(t *testing.T) {
	p, err := train.NewProblem(read(t, titanic+".train.csv"), "Survived", learn.TaskInvalid)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Indicators, []string{"Cabin"}) {
		t.Fatalf("indicators %v, want [Cabin]", p.Indicators)
	}
	for _, e := range p.Excluded {
		if want := e.Column == "Cabin"; e.MissingIndicator != want || strings.Contains(e.Reason, "Cabin_missing") != want {
			t.Errorf("exclusion %+v", e)
		}
	}
	b, err := train.Fit(context.Background(), p, train.Options{Learner: "gbdt", Params: map[string]string{"n_estimators": "50", "max_leaves": "8"}})
	if err != nil {
		t.Fatal(err)
	}
	if b.Manifest.Input.Index("Cabin") < 0 || b.Manifest.Input.Index("Name") >= 0 {
		t.Errorf("bundle input %v: want Cabin, not Name", b.Manifest.Input.Names())
	}
	if feats := b.Members[0].Prep.Features(); feats[len(feats)-1].Name != "Cabin_missing" {
		t.Errorf("last model feature %q, want Cabin_missing", feats[len(feats)-1].Name)
	}
	test := read(t, titanic+".test.csv")
	s, pred, _, err := train.Score(b, test)
	if err != nil {
		t.Fatal(err)
	}
	if s["roc_auc"] < 0.80 {
		t.Errorf("test roc_auc %.4f, want ≥ 0.80", s["roc_auc"])
	}
	cabin, _ := test.Column("Cabin")
	blank := make([]string, cabin.Len())
	gone := make([]bool, cabin.Len())
	for r := range gone {
		gone[r] = true
	}
	blanked, err := test.Drop("Cabin")
	if err != nil {
		t.Fatal(err)
	}
	if blanked, err = blanked.With(frame.NewCategorical("Cabin", blank, gone)); err != nil {
		t.Fatal(err)
	}
	moved := 0
	other, err := b.Predict(blanked)
	if err != nil {
		t.Fatal(err)
	}
	for r := 0; r < cabin.Len(); r++ {
		if !cabin.IsNull(r) && other.Proba[2*r+1] != pred.Proba[2*r+1] {
			moved++
		}
	}
	if moved == 0 {
		t.Error("blanking the cabins moved no prediction: the indicator is not used")
	}
	enc, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := bundle.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	again, err := back.Predict(test)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again.Proba, pred.Proba) {
		t.Error("a decoded bundle predicts otherwise")
	}
	p, err = train.NewProblemWith(read(t, titanic+".train.csv"), "Survived", learn.TaskInvalid, train.ProblemOptions{Drop: []string{"Cabin"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Indicators) != 0 {
		t.Errorf("Cabin dropped by request keeps indicators %v", p.Indicators)
	}
}
