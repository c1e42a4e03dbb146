package all

import (
	"context"
	"encoding"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
)

// modelBytes fits every registered learner on a fixed small data set and
// returns each model's bytes, one "name:hex" line per learner.
func modelBytes(t *testing.T) []string {
	t.Helper()
	var rows [][]float64
	var y []float64
	for i := range 40 {
		a, b := float64(i%7), float64((i*5)%11)
		rows = append(rows, []float64{a, b})
		y = append(y, float64((i*3)%2))
	}
	X, err := frame.FromRows(rows)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, name := range learn.Names() {
		spec, err := learn.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		d := &learn.Dataset{X: X, Y: y, Classes: []string{"a", "b"}, Task: learn.Binary, Features: []learn.Feature{{Name: "x"}, {Name: "z"}}}
		switch {
		case slices.Contains(spec.Tasks, learn.Binary):
		case slices.Contains(spec.Tasks, learn.Regression):
			d = &learn.Dataset{X: X, Y: y, Task: learn.Regression, Features: d.Features}
		default:
			d = &learn.Dataset{X: X, Task: spec.Tasks[0], Features: d.Features}
		}
		m, err := spec.New().Fit(context.Background(), d)
		if err != nil {
			t.Fatalf("fit %s: %v", name, err)
		}
		bm, ok := m.(encoding.BinaryMarshaler)
		if !ok {
			continue
		}
		b, err := bm.MarshalBinary()
		if err != nil {
			t.Fatalf("encode %s: %v", name, err)
		}
		out = append(out, name+":"+hex.EncodeToString(b))
	}
	return out
}

// TestModelBytesIndependentOfEarlierGob checks, for every registered
// learner, that a model's bytes do not depend on what the process
// gob-encoded before: this process encodes an unrelated type first, a
// fresh process (this test binary again) encodes nothing else, and both
// write the same bytes. gob numbers types in first-use order, so a learner
// that gob-encodes must fix its types' numbers at init
// (dense.FixGobTypes); `gyre automl --engine` encodes its problem first.
func TestModelBytesIndependentOfEarlierGob(t *testing.T) {
	if os.Getenv("GYRE_GOB_IDS_CHILD") == "1" {
		fmt.Println(strings.Join(modelBytes(t), "\n"))
		return
	}
	type unrelated struct {
		A []string
		B map[string]float64
	}
	if err := gob.NewEncoder(io.Discard).Encode(unrelated{A: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	here := modelBytes(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestModelBytesIndependentOfEarlierGob$", "-test.count=1")
	cmd.Env = append(os.Environ(), "GYRE_GOB_IDS_CHILD=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	fresh := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if name, h, ok := strings.Cut(line, ":"); ok {
			fresh[name] = h
		}
	}
	for _, line := range here {
		name, h, _ := strings.Cut(line, ":")
		if fresh[name] != h {
			t.Errorf("%s: the model's bytes depend on earlier gob use in the process", name)
		}
	}
	if len(here) < 5 {
		t.Errorf("only %d learners encoded", len(here))
	}
}
