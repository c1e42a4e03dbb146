package gbdt

import (
	"context"
	"testing"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
)

// Fits on views of a data set with shared state bin the matrix once and
// agree with fits given the same Binned explicitly.
func TestSharedBinsAreReused(t *testing.T) {
	d := learntest.Toy(learn.Binary, 600, 4)
	d.Shared = learn.NewShared()
	rows := make([]int, 0, 400)
	for i := 0; i < 600; i += 3 {
		rows = append(rows, i, i+1)
	}
	view := d.Subset(rows)
	l := New()
	l.NumTrees = 10
	m1, err := l.Fit(context.Background(), view)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := d.Shared.Get("gbdt/bins/255", func() (any, error) { t.Fatal("bins were not cached"); return nil, nil })
	b := v.(*Binned)
	l2 := New()
	l2.NumTrees = 10
	l2.Binned = b
	plain := *view
	plain.Shared = nil
	m2, err := l2.Fit(context.Background(), &plain)
	if err != nil {
		t.Fatal(err)
	}
	b1, _ := m1.MarshalBinary()
	b2, _ := m2.MarshalBinary()
	if string(b1) != string(b2) {
		t.Error("a fit through shared bins differs from one given the same bins")
	}
}
