package pipeline

import (
	"slices"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
)

func TestHoldoutSplit(t *testing.T) {
	ids := make([]float64, 50)
	for i := range ids {
		ids[i] = float64(i)
	}
	f := frame.MustNew(frame.NewFloat("id", ids))
	rows := func(g *frame.Frame) []float64 { return g.Col(0).(*frame.Float).Values }

	tr, ho, err := holdoutSplit(f, Data{Holdout: 0.2, Split: "last"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows(tr), ids[:40]) || !slices.Equal(rows(ho), ids[40:]) {
		t.Errorf("last split: train %v, holdout %v; want the 10 newest rows held out", rows(tr), rows(ho))
	}

	tr, ho, err = holdoutSplit(f, Data{Holdout: 0.2, Split: "random", Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if tr.NumRows() != 40 || ho.NumRows() != 10 {
		t.Fatalf("random split: %d + %d rows, want 40 + 10", tr.NumRows(), ho.NumRows())
	}
	all := append(slices.Clone(rows(tr)), rows(ho)...)
	slices.Sort(all)
	if !slices.Equal(all, ids) || !slices.IsSorted(rows(tr)) || !slices.IsSorted(rows(ho)) {
		t.Errorf("random split: parts %v and %v do not partition the rows in source order", rows(tr), rows(ho))
	}
	if slices.Equal(rows(ho), ids[40:]) {
		t.Error("random split held out the newest rows")
	}
	_, again, _ := holdoutSplit(f, Data{Holdout: 0.2, Split: "random", Seed: 3})
	_, other, _ := holdoutSplit(f, Data{Holdout: 0.2, Split: "random", Seed: 4})
	if !slices.Equal(rows(again), rows(ho)) || slices.Equal(rows(other), rows(ho)) {
		t.Error("random split is not a function of the seed")
	}

	if _, _, err := holdoutSplit(frame.MustNew(frame.NewFloat("id", ids[:2])), Data{Holdout: 0.2}); err == nil {
		t.Error("2 rows split with a 20% holdout")
	}
}
