package study_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
	_ "github.com/gyre-ml/gyre/internal/learn/all"
	"github.com/gyre-ml/gyre/internal/study"
)

const titanic = "../../examples/data/titanic/titanic.train.csv"

func read(t *testing.T) *frame.Frame {
	t.Helper()
	f, err := ingest.Read(context.Background(), titanic, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestStudyTitanic: the curve rises from the dummy, the free-text columns
// are named, and the suggestions fit a balanced binary problem of 713 rows.
func TestStudyTitanic(t *testing.T) {
	r, err := study.Run(context.Background(), read(t), "Survived", study.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Task != "binary" || r.Rows != 713 || len(r.Classes) != 2 || r.Classes[0].Name != "0" {
		t.Fatalf("report %+v", r)
	}
	if len(r.Curve) < 4 {
		t.Fatalf("curve %+v (cut: %s)", r.Curve, r.CurveCut)
	}
	first, last := r.Curve[0], r.Curve[len(r.Curve)-1]
	if !(last.Mean > 0.8 && last.Mean > first.Mean && last.Dummy < 0.55 && last.Repeats == 3) {
		t.Errorf("curve from %+v to %+v: want a rise to AUC > 0.8 above the dummy's 0.5", first, last)
	}
	var excluded []string
	for _, e := range r.Excluded {
		excluded = append(excluded, e.Column)
	}
	if !slices.Contains(excluded, "Name") || !slices.Contains(excluded, "Ticket") {
		t.Errorf("excluded %v: want Name and Ticket", excluded)
	}
	if r.Metric.Choice != "roc_auc" || !strings.HasPrefix(r.Validation.Choice, "repeated 5-fold") {
		t.Errorf("suggestions %+v / %+v", r.Metric, r.Validation)
	}
	if r.SingleFeature[0].Feature != "Sex" || len(r.Leakage) != 0 || r.MoreData.Answer == "unknown" {
		t.Errorf("single features %+v, leakage %+v, more data %+v", r.SingleFeature, r.Leakage, r.MoreData)
	}
	// Same seed, same study.
	again, err := study.Run(context.Background(), read(t), "Survived", study.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if again.Curve[0] != r.Curve[0] || again.SingleFeature[0] != r.SingleFeature[0] {
		t.Errorf("not reproducible: %+v vs %+v", again.Curve[0], r.Curve[0])
	}
}

// TestStudyLeakage: a column copying the target is reported as a leak.
func TestStudyLeakage(t *testing.T) {
	f := read(t)
	y, _ := f.Column("Survived")
	leak := make([]string, y.Len())
	for i := range leak {
		leak[i] = "s" + y.Format(i)
	}
	f, err := frame.New(append(f.Columns(), frame.NewString("outcome_code", leak))...)
	if err != nil {
		t.Fatal(err)
	}
	r, err := study.Run(context.Background(), f, "Survived", study.Options{Repeats: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Leakage) != 1 || r.Leakage[0].Feature != "outcome_code" || !slices.ContainsFunc(r.Warnings, func(w string) bool { return strings.Contains(w, "target leakage") }) {
		t.Errorf("leakage %+v, warnings %q", r.Leakage, r.Warnings)
	}
}

// TestStudyTinyAndIntegerTarget: 15 rows give a warning and no curve; a
// numeric target with three integer values is questioned.
func TestStudyTinyAndIntegerTarget(t *testing.T) {
	f := read(t)
	rows := make([]int, 15)
	for i := range rows {
		rows[i] = i
	}
	r, err := study.Run(context.Background(), f.Take(rows), "Fare", study.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Curve) != 0 || r.CurveCut == "" || !slices.ContainsFunc(r.Warnings, func(w string) bool { return strings.Contains(w, "only 15 rows") }) {
		t.Errorf("15 rows: curve %+v (%s), warnings %q", r.Curve, r.CurveCut, r.Warnings)
	}
	rows = make([]int, 60)
	for i := range rows {
		rows[i] = i
	}
	r, err = study.Run(context.Background(), f.Take(rows), "Pclass", study.Options{Repeats: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Task != "regression" || !slices.ContainsFunc(r.Warnings, func(w string) bool { return strings.Contains(w, "class label") }) {
		t.Errorf("Pclass as a number: task %s, warnings %q", r.Task, r.Warnings)
	}
}
