package bundle_test

import (
	"context"
	"math"
	"testing"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/learn"
)

// setRow copies row i of f into a Row, as a server decoding a request would.
func setRow(t *testing.T, row *bundle.Row, schema frame.Schema, f *frame.Frame, i int) {
	t.Helper()
	for j, fld := range schema.Fields {
		c, err := f.Column(fld.Name)
		if err != nil {
			t.Fatal(err)
		}
		if c.IsNull(i) {
			row.SetMissing(j)
			continue
		}
		switch fld.Kind {
		case frame.KindString, frame.KindCategorical:
			row.SetText(j, []byte(c.Format(i)))
		default:
			v, ok := frame.Value(c, i)
			if !ok {
				t.Fatalf("row %d column %s: no value", i, fld.Name)
			}
			row.SetNumber(j, v)
		}
	}
}

// checkRows compares RowPredictor with Bundle.Predict row by row.
func checkRows(t *testing.T, b *bundle.Bundle, f *frame.Frame) {
	t.Helper()
	rp, ok := bundle.NewRowPredictor(b)
	if !ok {
		t.Fatal("no row predictor for a trees-family bundle")
	}
	want, err := b.Predict(f)
	if err != nil {
		t.Fatal(err)
	}
	k := len(b.Manifest.Classes)
	schema := b.Manifest.Input
	for i := 0; i < f.NumRows(); i++ {
		row := rp.Get()
		setRow(t, row, schema, f, i)
		var got bundle.Prediction
		if err := rp.Predict(row, &got); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		if got.Values[0] != want.Values[i] {
			t.Fatalf("row %d: value %v, Predict gives %v", i, got.Values[0], want.Values[i])
		}
		for c := 0; c < k; c++ {
			if math.Float64bits(got.Proba[c]) != math.Float64bits(want.Proba[i*k+c]) {
				t.Fatalf("row %d class %d: probability %v, Predict gives %v", i, c, got.Proba[c], want.Proba[i*k+c])
			}
		}
		one, err := b.Predict(f.Take([]int{i}))
		if err != nil {
			t.Fatal(err)
		}
		if len(one.Unseen) != len(got.Unseen) {
			t.Fatalf("row %d: unseen %v, Predict gives %v", i, got.Unseen, one.Unseen)
		}
		for c, n := range one.Unseen {
			if got.Unseen[c] != n {
				t.Fatalf("row %d: unseen %v, Predict gives %v", i, got.Unseen, one.Unseen)
			}
		}
		rp.Put(row)
	}
}

func TestRowPredictorMatchesPredict(t *testing.T) {
	b := fitted(t, bundle.FamilyTrees)
	// Present, missing, unseen and empty categories; missing numbers.
	x := &frame.Float{ColName: "x", Values: []float64{1, 7, 0, 12, 3}, Valid: frame.Validity{0b11011}}
	colour := frame.NewCategorical("colour", []string{"red", "purple", "", "blue", "green"}, []bool{false, false, false, false, true})
	checkRows(t, b, frame.MustNew(x, colour))

	if _, ok := bundle.NewRowPredictor(fitted(t, bundle.FamilyLinear)); ok {
		t.Error("a bundle with a fitted pipeline compiled a row predictor")
	}
}

// TestRowPredictorAdult checks the row path against the frame path on the
// adult test split (missing values, many categories, unseen levels).
func TestRowPredictorAdult(t *testing.T) {
	ctx := context.Background()
	train, err := ingest.Read(ctx, "../../examples/data/adult/adult.train.csv", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	test, err := ingest.Read(ctx, "../../examples/data/adult/adult.test.csv", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := train.SetRole("class", frame.RoleTarget); err != nil {
		t.Fatal(err)
	}
	train = train.Take(seq(3000))
	prep, X, err := bundle.FitPrep(train, bundle.FamilyTrees)
	if err != nil {
		t.Fatal(err)
	}
	yc, _ := train.Column("class")
	y := make([]float64, train.NumRows())
	classes := []string{"<=50K", ">50K"}
	for i := range y {
		if yc.Format(i) == classes[1] {
			y[i] = 1
		}
	}
	l, _ := learn.New("decision_tree")
	m, err := l.Fit(ctx, &learn.Dataset{X: X, Features: prep.Features(), Task: learn.Binary, Y: y, Classes: classes})
	if err != nil {
		t.Fatal(err)
	}
	in, err := train.Drop("class")
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle.Bundle{
		Manifest: bundle.Manifest{Task: learn.Binary, Target: "class", Classes: classes, Input: in.Schema()},
		Members:  []bundle.Member{{Info: bundle.MemberInfo{Learner: "decision_tree", Family: bundle.FamilyTrees, Weight: 1}, Prep: prep, Model: m}},
	}
	rows, err := test.Drop("class")
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, b, rows.Take(seq(400)))
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// TestRowPredictorMissingIndicator: a missingness indicator (titanic's
// Cabin, an ignored free-text column) is encoded by the row path as by the
// frame path, for present, missing and empty values.
func TestRowPredictorMissingIndicator(t *testing.T) {
	ctx := context.Background()
	train, err := ingest.Read(ctx, "../../examples/data/titanic/titanic.train.csv", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	test, err := ingest.Read(ctx, "../../examples/data/titanic/titanic.test.csv", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, role := range map[string]frame.Role{"Survived": frame.RoleTarget, "Name": frame.RoleIgnore, "Ticket": frame.RoleIgnore, "Cabin": frame.RoleIgnore} {
		if err := train.SetRole(name, role); err != nil {
			t.Fatal(err)
		}
	}
	prep, X, err := bundle.FitPrepWith(train, bundle.FamilyTrees, []string{"Cabin"})
	if err != nil {
		t.Fatal(err)
	}
	cols := prep.Encoder.Columns()
	if last := cols[len(cols)-1]; last.Name != "Cabin_missing" || last.Categorical {
		t.Fatalf("last matrix column %+v, want the numeric Cabin_missing", last)
	}
	cabin, _ := train.Column("Cabin")
	ind := X.Col(X.Cols - 1)
	for r := range ind {
		if want := cabin.IsNull(r); (ind[r] == 1) != want || (ind[r] != 0 && ind[r] != 1) {
			t.Fatalf("row %d: indicator %v for Cabin %q", r, ind[r], cabin.Format(r))
		}
	}
	yc, _ := train.Column("Survived")
	y := make([]float64, train.NumRows())
	for i := range y {
		if yc.Format(i) == "1" {
			y[i] = 1
		}
	}
	l, _ := learn.New("decision_tree")
	m, err := l.Fit(ctx, &learn.Dataset{X: X, Features: prep.Features(), Task: learn.Binary, Y: y, Classes: []string{"0", "1"}})
	if err != nil {
		t.Fatal(err)
	}
	in, err := train.Select("Pclass", "Sex", "Age", "SibSp", "Parch", "Fare", "Cabin", "Embarked")
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle.Bundle{
		Manifest: bundle.Manifest{Task: learn.Binary, Target: "Survived", Classes: []string{"0", "1"}, Input: in.Schema()},
		Members:  []bundle.Member{{Info: bundle.MemberInfo{Learner: "decision_tree", Family: bundle.FamilyTrees, Weight: 1}, Prep: prep, Model: m}},
	}
	rows, err := test.Select(in.Names()...)
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, b, rows)
}
