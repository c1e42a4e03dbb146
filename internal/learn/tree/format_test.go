package tree

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
)

// TestEnsembleFormats checks that format 2 (sparse classifier leaves) is
// smaller than format 1 for a multiclass tree, that both decode to the same
// tree bit for bit, that models written in format 1 by earlier builds still
// load, and that sparse leaves with an out-of-range count or class are
// refused.
func TestEnsembleFormats(t *testing.T) {
	d := learntest.Toy(learn.Multiclass, 400, 1)
	fitted, err := New().Fit(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := fitted.(Classifier)
	if !ok {
		t.Fatalf("fitted model is %T", fitted)
	}
	e := &c.Ensemble
	v1 := e.appendBinary(nil, 1)
	v2 := e.appendBinary(nil, 2)
	if !(len(v2) < len(v1)) {
		t.Errorf("format 2 takes %d bytes, format 1 %d: want smaller", len(v2), len(v1))
	}
	for _, f := range []struct {
		format int
		data   []byte
	}{{1, v1}, {2, v2}} {
		got, err := DecodeEnsemble(&Decoder{B: f.data}, f.format)
		if err != nil {
			t.Fatalf("format %d: %v", f.format, err)
		}
		for i, tr := range got.Trees {
			want := e.Trees[i]
			if !slices.EqualFunc(tr.Values, want.Values, func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }) ||
				!slices.Equal(tr.Nodes, want.Nodes) {
				t.Errorf("format %d: tree %d differs after decoding", f.format, i)
			}
		}
	}
	// A decision_tree model written by an earlier build: version byte 1.
	old, err := learn.DecodeModel("decision_tree", append([]byte{1}, v1...))
	if err != nil {
		t.Fatalf("format 1 model: %v", err)
	}
	pOld, err := old.Predict(d.X)
	if err != nil {
		t.Fatal(err)
	}
	pNew, err := fitted.Predict(d.X)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pOld, pNew) {
		t.Error("a format 1 model predicts differently")
	}
	if _, err := learn.DecodeModel("decision_tree", append([]byte{3}, v2...)); err == nil {
		t.Error("format 3 accepted")
	}

	// Damaged sparse leaves: a count above k, a class index ≥ k.
	for _, leaf := range [][]byte{{4}, {1, 3}} {
		var w Encoder
		w.Uvarint(3) // one leaf of k = 3 outputs
		w.B = append(w.B, leaf...)
		w.B = append(w.B, make([]byte, 40)...)
		r := &Decoder{B: w.B}
		if v := r.sparseLeaves(3); v != nil || r.Err == nil {
			t.Errorf("leaf bytes %v: decoded %v, err %v; want refused", leaf, v, r.Err)
		}
	}
}
