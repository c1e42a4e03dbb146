package dataprep

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/profile"
	"github.com/gyre-ml/gyre/internal/validate"
)

// upper is a Masking that upper-cases the column "name" and refuses any
// saved profile.
type upper struct{ refuse error }

func (u upper) Frame(f *frame.Frame) (*frame.Frame, error) {
	c, _ := f.Column("name")
	vals := make([]string, f.NumRows())
	for i := range vals {
		vals[i] = strings.ToUpper(c.Format(i))
	}
	return f.With(frame.NewString("name", vals))
}
func (u upper) HashFunc() func(string) string       { return strings.ToUpper }
func (u upper) CheckProfile(*profile.Profile) error { return u.refuse }

func people(names ...string) *frame.Frame {
	ages := make([]float64, len(names))
	for i := range ages {
		ages[i] = float64(20 + i%40)
	}
	return frame.MustNew(frame.NewString("name", names), frame.NewFloat("age", ages))
}

// TestValidate checks a source against a reference profiled through the
// masking (its categories masked, so masked current data does not
// drift), against a contract alone, and a saved reference the masking
// refuses (*UnmaskedProfileError naming it).
func TestValidate(t *testing.T) {
	ctx := context.Background()
	names := make([]string, 200)
	for i := range names {
		names[i] = []string{"ann", "bob", "cy"}[i%3]
	}
	loads := 0
	load := func(ctx context.Context, source string) (*frame.Frame, error) {
		loads++
		if source != "ref.csv" {
			return nil, errors.New("no such source " + source)
		}
		return people(names...), nil
	}
	o := ValidateOptions{Source: "dir/cur.csv", Against: "ref.csv", Reference: ReferenceOptions{Load: load, Mask: upper{}}}
	rep, err := Validate(ctx, people(names...), o)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed || rep.Source != "cur.csv" || rep.Reference != "ref.csv" || loads != 1 {
		t.Errorf("against the masked reference: passed %t, source %q, reference %q, loads %d; want a pass of cur.csv against ref.csv read once", rep.Passed, rep.Source, rep.Reference, loads)
	}
	o.Reference.Mask = nil // the reference raw, the current data raw too: no drift either
	if rep, err := Validate(ctx, people(names...), o); err != nil || !rep.Passed {
		t.Errorf("unmasked: %v, %+v", err, rep)
	}
	o.Against = "missing.csv"
	if _, err := Validate(ctx, people(names...), o); err == nil || !strings.Contains(err.Error(), "no such source missing.csv") {
		t.Errorf("missing reference: %v", err)
	}

	c, err := validate.ParseContract([]byte("version: 1\ncolumns:\n  - {name: name, type: string, categories: [ann, bob]}\n  - {name: age, type: float}\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rep, err = Validate(ctx, people(names...), ValidateOptions{Source: "cur.csv", Contract: c, ContractPath: "dir/c.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed || rep.Reference != "c.yaml" {
		t.Errorf("contract allowing ann and bob on data with cy: passed %t, reference %q; want a failure against c.yaml", rep.Passed, rep.Reference)
	}

	ref, err := profile.Compute(ctx, people(names...), profile.Options{NoRelations: true})
	if err != nil {
		t.Fatal(err)
	}
	saved := filepath.Join(t.TempDir(), "ref.json")
	fh, err := os.Create(saved)
	if err != nil {
		t.Fatal(err)
	}
	if err := ref.Write(fh); err != nil {
		t.Fatal(err)
	}
	fh.Close()
	refuse := errors.New("holds name unmasked")
	_, err = Reference(ctx, saved, ReferenceOptions{Mask: upper{refuse: refuse}})
	var ue *UnmaskedProfileError
	if !errors.As(err, &ue) || ue.Path != saved || !errors.Is(err, refuse) {
		t.Errorf("saved profile refused by the masking: %v; want an *UnmaskedProfileError naming %s", err, saved)
	}
	if p, err := Reference(ctx, saved, ReferenceOptions{}); err != nil || len(p.Columns) != 2 {
		t.Errorf("saved profile: %v", err)
	}
}
