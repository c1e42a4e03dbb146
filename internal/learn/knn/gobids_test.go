package knn

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
)

// smallModelBytes fits a fixed three-point model and returns its bytes.
func smallModelBytes(t *testing.T) []byte {
	t.Helper()
	X, _ := frame.FromRows([][]float64{{0, 1}, {1, 0}, {2, 2}})
	d := &learn.Dataset{X: X, Y: []float64{0, 1, 1}, Classes: []string{"a", "b"}, Task: learn.Binary,
		Features: []learn.Feature{{Name: "x"}, {Name: "y"}}}
	l := New()
	l.K = 2
	m, err := l.Fit(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.(interface{ MarshalBinary() ([]byte, error) }).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBytesIndependentOfEarlierGob checks that a model's bytes do not
// depend on what the process gob-encoded before: this process encodes an
// unrelated type first, a fresh process (this test binary run again)
// encodes nothing else, and both write the same bytes. gob numbers types
// in the order a process first meets them; without dense.FixGobTypes at
// init, `gyre automl --engine` (which gob-encodes its search problem
// first) saved k-NN members in other bytes than the local path.
func TestBytesIndependentOfEarlierGob(t *testing.T) {
	if os.Getenv("GYRE_KNN_GOB_CHILD") == "1" {
		os.Stdout.WriteString("model:" + hex.EncodeToString(smallModelBytes(t)) + "\n")
		return
	}
	type unrelated struct {
		A []string
		B map[string]float64
	}
	if err := gob.NewEncoder(io.Discard).Encode(unrelated{A: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	here := smallModelBytes(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestBytesIndependentOfEarlierGob$", "-test.count=1")
	cmd.Env = append(os.Environ(), "GYRE_KNN_GOB_CHILD=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var fresh []byte
	for _, line := range strings.Split(string(out), "\n") {
		if h, ok := strings.CutPrefix(line, "model:"); ok {
			if fresh, err = hex.DecodeString(h); err != nil {
				t.Fatal(err)
			}
		}
	}
	if fresh == nil {
		t.Fatalf("child printed no model:\n%s", out)
	}
	if !bytes.Equal(here, fresh) {
		t.Errorf("the model's bytes depend on earlier gob use: %d bytes here, %d in a fresh process", len(here), len(fresh))
	}
}
