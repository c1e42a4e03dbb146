package feature

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
)

// fullPipeline uses every step type that fits the mixed frame.
func fullPipeline() Pipeline {
	return Pipeline{Target: "y", Steps: []Step{
		&Dedupe{},
		&NormalizeCategories{Columns: []string{"city"}, Trim: true},
		&DateTime{},
		&Outliers{Columns: []string{"count"}, Method: "quantile", Lower: 0.05, Upper: 0.95},
		&Impute{Strategy: "median", Indicators: true},
		&TargetEncode{Columns: []string{"city"}, Smoothing: 5, Folds: 5, Seed: 3},
		&Text{Columns: []string{"note"}, MaxFeatures: 3},
		&Log1p{Columns: []string{"count"}},
		&YeoJohnson{Columns: []string{"age"}, Standardize: true},
		&Bin{Columns: []string{"ts_hour"}, Bins: 4},
		&Interactions{Columns: []string{"age", "count"}, Degree: 2},
		&Scale{Method: "robust"},
		&VarianceThreshold{},
	}}
}

func TestPipelineSaveLoadBitIdentical(t *testing.T) {
	train, test := mixedFrame(600, 1), mixedFrame(200, 2)
	p := fullPipeline()
	fp, _, err := p.Fit(train)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(fp)
	if err != nil {
		t.Fatal(err)
	}
	var back FittedPipeline
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	want, err := fp.Transform(test)
	if err != nil {
		t.Fatal(err)
	}
	got, err := back.Transform(test)
	if err != nil {
		t.Fatal(err)
	}
	equalFrames(t, got, want)
	b2, _ := json.Marshal(&back)
	if string(b) != string(b2) {
		t.Errorf("re-encoded fitted pipeline differs")
	}
	// The unfitted pipeline round-trips too.
	pb, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var pback Pipeline
	if err := json.Unmarshal(pb, &pback); err != nil {
		t.Fatal(err)
	}
	fp2, _, err := pback.Fit(train)
	if err != nil {
		t.Fatal(err)
	}
	got2, err := fp2.Transform(test)
	if err != nil {
		t.Fatal(err)
	}
	equalFrames(t, got2, want)
}

func TestAutoLinearCleanOutput(t *testing.T) {
	train, test := mixedFrame(1000, 1), mixedFrame(300, 7)
	if err := train.SetRole("y", frame.RoleTarget); err != nil {
		t.Fatal(err)
	}
	p, err := Auto("mlp", train.Schema())
	if err != nil {
		t.Fatal(err)
	}
	fp, out, err := p.Fit(train)
	if err != nil {
		t.Fatal(err)
	}
	got, err := fp.Transform(test)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Names(), out.Names()) {
		t.Fatalf("test columns %v, train columns %v", got.Names(), out.Names())
	}
	for _, f := range []*frame.Frame{out, got} {
		for _, c := range f.Columns() {
			if c.NullCount() > 0 {
				t.Errorf("column %q has %d missing", c.Name(), c.NullCount())
			}
			if textKinds(c.Kind()) || c.Kind() == frame.KindTime {
				t.Errorf("column %q is %s after the linear pipeline", c.Name(), c.Kind())
			}
		}
	}
	if out.Index("age_missing") < 0 || out.Index("city=Berlin") < 0 {
		t.Errorf("missing indicator or one-hot column absent: %v", out.Names())
	}
	// A serving frame without the target works; one without a feature fails by name.
	noTarget, _ := test.Drop("y")
	if _, err := fp.Transform(noTarget); err != nil {
		t.Errorf("transform without target: %v", err)
	}
	noAge, _ := test.Drop("age")
	if _, err := fp.Transform(noAge); !errors.Is(err, frame.ErrNoColumn) {
		t.Errorf("transform without age: got %v, want ErrNoColumn", err)
	}
	trees, err := Auto("gbdt", train.Schema())
	if err != nil || len(trees.Steps) != 0 || trees.Target != "y" {
		t.Errorf("trees pipeline: %+v, %v", trees, err)
	}
	if _, err := Auto("nope", train.Schema()); err == nil {
		t.Error("unknown family: no error")
	}
}

func TestUnseenAndAllMissing(t *testing.T) {
	train := frame.MustNew(
		frame.NewCategorical("c", []string{"a", "b", "a", "b", "a"}, nil),
		&frame.Float{ColName: "x", Values: make([]float64, 5), Valid: make(frame.Validity, 1)},
	)
	test := frame.MustNew(
		frame.NewCategorical("c", []string{"a", "z", "", "b"}, []bool{false, false, true, false}),
		frame.NewFloat("x", []float64{1, 2, 3, 4}),
		frame.NewFloat("new", []float64{1, 2, 3, 4}),
	)
	p := Pipeline{Steps: []Step{&Impute{Indicators: true}, &OneHot{}, &Scale{}}}
	fp, out, err := p.Fit(train)
	if err != nil {
		t.Fatal(err)
	}
	if out.Index("x") < 0 || out.Col(out.Index("x")).NullCount() != 0 {
		t.Errorf("all-missing x not filled: %v", out.Names())
	}
	got, err := fp.Transform(test)
	if err != nil {
		t.Fatal(err)
	}
	if got.Index("new") >= 0 {
		t.Errorf("new column passed through: %v", got.Names())
	}
	ca, _ := got.Column("c=a")
	cb, _ := got.Column("c=b")
	if ca.Format(1) != "false" || cb.Format(1) != "false" {
		t.Errorf("unseen category: got %s/%s, want all zeros", ca.Format(1), cb.Format(1))
	}
	strict := Pipeline{Steps: []Step{&OneHot{Unseen: "error"}}}
	fs, _, err := strict.Fit(train)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Transform(test); err == nil {
		t.Error("unseen: error policy gave no error")
	}
}

func TestStepErrors(t *testing.T) {
	f := mixedFrame(50, 1)
	for _, s := range []Step{
		&Impute{Strategy: "average"},
		&Scale{Method: "z"},
		&Scale{Columns: []string{"city"}},
		&OneHot{Columns: []string{"nope"}},
		&TargetEncode{},
		&Bin{Bins: 1},
		&Outliers{Action: "delete"},
		&DateTime{Parts: []string{"minute"}},
	} {
		if _, err := s.Fit(f, ""); err == nil {
			t.Errorf("%s %+v: no error", s.Type(), s)
		}
	}
}

func TestYeoJohnsonLambda(t *testing.T) {
	// Skewed data: exp of normal → lambda well below 1, output near-symmetric.
	f := mixedFrame(2000, 5)
	c, _ := f.Column("count")
	v, _ := floats(c)
	for i := range v {
		v[i] = math.Exp(v[i] / 20)
	}
	g := frame.MustNew(frame.NewFloat("v", v))
	fs, err := (&YeoJohnson{Standardize: true}).Fit(g, "")
	if err != nil {
		t.Fatal(err)
	}
	l := float64(fs.(*YeoJohnsonFitted).Columns[0].Lambda)
	if l > 0.5 || l < -2 {
		t.Errorf("lambda = %g, want a log-like value", l)
	}
}

func TestLeadingDropColumnsOptional(t *testing.T) {
	train := mixedFrame(100, 1)
	p := Pipeline{Target: "y", Steps: []Step{&Drop{Columns: []string{"note"}}, &Impute{}}}
	fp, out, err := p.Fit(train)
	if err != nil {
		t.Fatal(err)
	}
	serve, _ := mixedFrame(10, 2).Drop("note", "y")
	got, err := fp.Transform(serve)
	if err != nil {
		t.Fatalf("serving without a dropped column: %v", err)
	}
	if got.NumCols() != out.NumCols()-1 {
		t.Errorf("columns %v vs training %v", got.Names(), out.Names())
	}
}
