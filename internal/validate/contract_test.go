package validate

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/frame/frametest"
	"github.com/gyre-ml/gyre/internal/profile"
)

func TestParseContractErrors(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"typo.bad.yml", "line 5: field max_mising_share not found"},
		{"type.bad.yml", `line 6: column "income": field type: unknown column type "money"`},
		{"share.bad.yml", `line 5: column "age": field max_missing_share: got 1.5, want 0..1`},
	} {
		_, err := LoadContract("../../testdata/validate/" + tc.file)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.file, err, tc.want)
		}
	}
	if _, err := ParseContract(nil, "empty.yml"); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty contract: got %v", err)
	}
	c, err := LoadContract("../../testdata/validate/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Columns) != 2 || c.Drift["age"].Method != MethodPSI || *c.Rows.Min != 10 {
		t.Errorf("good contract parsed as %+v", c)
	}
}

// TestDeriveRoundTrip: a contract derived from adult's train split passes
// on the train split and on the test split, survives YAML, and catches a
// broken copy.
func TestDeriveRoundTrip(t *testing.T) {
	train := frametest.ReadCSV(t, datasets+"adult/adult.train.csv")
	test := frametest.ReadCSV(t, datasets+"adult/adult.test.csv")
	p, err := profile.Compute(context.Background(), train, profile.Options{NoRelations: true})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Derive(p, DeriveOptions{}).WriteYAML(&buf); err != nil {
		t.Fatal(err)
	}
	c, err := ParseContract(buf.Bytes(), "derived")
	if err != nil {
		t.Fatalf("derived contract does not parse: %v\n%s", err, buf.String())
	}
	for name, f := range map[string]*frame.Frame{"train": train, "test": test} {
		if r := CheckAgainstContract(c, f); !r.Passed {
			var out bytes.Buffer
			_ = r.WriteText(&out)
			t.Errorf("%s fails its derived contract:\n%s", name, out.String())
		}
	}
	// Break it: drop a column, double ages, relabel a category.
	cols := []frame.Column{}
	for _, col := range test.Columns() {
		switch col.Name() {
		case "fnlwgt":
			continue
		case "age":
			a := col.(*frame.Int)
			v := make([]int64, len(a.Values))
			for i, x := range a.Values {
				v[i] = 2 * x
			}
			cols = append(cols, frame.NewInt("age", v))
		default:
			cols = append(cols, col)
		}
	}
	broken := frame.MustNew(cols...)
	r := CheckAgainstContract(c, broken)
	if r.Passed {
		t.Fatal("broken data passed")
	}
	got := strings.Join(r.FailedColumns(), ",")
	if got != "age,fnlwgt" {
		t.Errorf("failed columns %s, want age,fnlwgt", got)
	}
}

func TestAgainstAllMissingAndNoOverlap(t *testing.T) {
	x := frame.NewFloat("x", []float64{1, 2, 3, 4, 5, 6})
	ref := frame.MustNew(x)
	p, _ := profile.Compute(context.Background(), ref, profile.Options{})
	gone := frame.NewFloat("x", make([]float64, 6))
	gone.Valid = frame.NewValidity(6)
	for i := 0; i < 6; i++ {
		gone.Valid.SetNull(i)
	}
	r, err := Against(context.Background(), p, frame.MustNew(gone), Options{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range r.Findings {
		if f.Column == "x" && strings.Contains(f.Message, "missing in every row") {
			found = true
		}
	}
	if !found {
		t.Errorf("all-missing column not reported: %+v", r.Findings)
	}
	if _, err := Against(context.Background(), p, frame.MustNew(frame.NewFloat("y", []float64{1})), Options{}); err == nil {
		t.Error("no overlapping columns: want an error")
	}
}
