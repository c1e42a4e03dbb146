package parallel

import (
	"sync/atomic"
	"testing"
)

func TestFor(t *testing.T) {
	for _, workers := range []int{-1, 0, 1, 2, 7, 100} {
		for _, n := range []int{0, 1, 5, 1000} {
			hits := make([]int32, n)
			var made atomic.Int32
			ForWorker(n, workers, func() func(int) {
				made.Add(1)
				return func(i int) { atomic.AddInt32(&hits[i], 1) }
			})
			for i, h := range hits {
				if h != 1 {
					t.Fatalf("workers %d, n %d: item %d ran %d times", workers, n, i, h)
				}
			}
			if w := int(made.Load()); n > 0 && (w < 1 || w > Workers(n, workers)) {
				t.Errorf("workers %d, n %d: %d worker states, want 1..%d", workers, n, w, Workers(n, workers))
			}
		}
	}
}

func TestBlocks(t *testing.T) {
	for _, c := range []struct{ n, workers, minBlock, blocks int }{
		{0, 4, 1, 0}, {1, 4, 1, 1}, {10, 4, 1, 4}, {10, 4, 5, 2}, {10, 4, 64, 1}, {1000, 3, 1, 3},
	} {
		var blocks atomic.Int32
		cover := make([]int32, c.n)
		Blocks(c.n, c.workers, c.minBlock, func(lo, hi int) {
			blocks.Add(1)
			for i := lo; i < hi; i++ {
				atomic.AddInt32(&cover[i], 1)
			}
		})
		if int(blocks.Load()) != c.blocks {
			t.Errorf("%+v: %d blocks", c, blocks.Load())
		}
		for i, h := range cover {
			if h != 1 {
				t.Fatalf("%+v: row %d covered %d times", c, i, h)
			}
		}
	}
}

func TestInline(t *testing.T) {
	// One worker runs on the caller's goroutine: a loop that depends on
	// that (sequential side effects) sees items in order.
	var got []int
	For(5, 1, func(i int) { got = append(got, i) })
	for i, v := range got {
		if v != i {
			t.Fatalf("inline order %v", got)
		}
	}
}
