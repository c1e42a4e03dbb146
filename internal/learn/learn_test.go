package learn

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
)

type fakeLearner struct {
	Trees   int           `param:"n_estimators" help:"number of trees"`
	Rate    float64       `param:"learning_rate" help:"shrinkage"`
	Kinds   []string      `param:"kinds" help:"list"`
	Timeout time.Duration `param:"timeout" help:"time limit"`
	On      bool          `param:"on" help:"switch"`
}

func (fakeLearner) Name() string { return "fake" }
func (fakeLearner) Fit(context.Context, *Dataset) (Model, error) {
	return nil, nil
}

func TestSetParam(t *testing.T) {
	l := &fakeLearner{Trees: 100, Rate: 0.1}
	for _, c := range []struct{ name, value string }{
		{"n_estimators", "300"}, {"learning_rate", "0.05"}, {"kinds", "a,b"}, {"timeout", "2s"}, {"on", "true"},
	} {
		if err := SetParam(l, c.name, c.value); err != nil {
			t.Fatalf("SetParam(%s=%s): %v", c.name, c.value, err)
		}
	}
	if l.Trees != 300 || l.Rate != 0.05 || len(l.Kinds) != 2 || l.Timeout != 2*time.Second || !l.On {
		t.Errorf("got %+v", l)
	}
	err := SetParam(l, "n_estimator", "3")
	if err == nil || !strings.Contains(err.Error(), "n_estimators") {
		t.Errorf("unknown name error should list valid names, got %v", err)
	}
	if err := SetParam(l, "n_estimators", "many"); err == nil || !strings.Contains(err.Error(), "integer") {
		t.Errorf("bad value error = %v", err)
	}
	ps := Params(l)
	if len(ps) != 5 || ps[0].Name != "n_estimators" || ps[0].Default != "300" || ps[3].Type != "duration" {
		t.Errorf("Params = %+v", ps)
	}
}

func TestDatasetViewAndCheck(t *testing.T) {
	X, _ := frame.FromRows([][]float64{{1}, {2}, {3}, {4}})
	d := &Dataset{X: X, Features: []Feature{{Name: "a"}}, Task: Binary, Y: []float64{0, 1, 0, 1}, Classes: []string{"n", "y"}}
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
	v := d.Subset([]int{3, 1}).Subset([]int{1})
	if v.N() != 1 || v.Row(0) != 1 || v.Target(0) != 1 {
		t.Errorf("nested subset wrong: rows %v", v.Rows)
	}
	m := v.Materialize()
	if m.X.Rows != 1 || m.X.At(0, 0) != 2 || m.Y[0] != 1 {
		t.Errorf("materialize wrong: %+v", m.X)
	}
	bad := *d
	bad.Y = []float64{0, 1, 2, 1}
	if err := bad.Check(); err == nil || !strings.Contains(err.Error(), "row 3") {
		t.Errorf("bad class index error = %v", err)
	}
	one := *d
	one.Classes = []string{"n"}
	one.Y = []float64{0, 0, 0, 0}
	if err := one.Check(); err == nil {
		t.Error("single-class data set accepted")
	}
}

func TestLookupUnknown(t *testing.T) {
	if _, err := Lookup("no-such-learner"); err == nil || !strings.Contains(err.Error(), "valid") {
		t.Errorf("Lookup error = %v", err)
	}
}
