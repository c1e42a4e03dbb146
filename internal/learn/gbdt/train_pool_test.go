package gbdt

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/gyre-ml/gyre/internal/learn"
	"github.com/gyre-ml/gyre/internal/learn/learntest"
)

// A fit with threads=1 starts no goroutine (AutoML runs several one-thread
// fits side by side and counts on each using one core).
func TestOneThreadStartsNoGoroutines(t *testing.T) {
	cases := []struct {
		name string
		task learn.Task
		n    int
		set  func(l *Learner)
	}{
		{"multiclass", learn.Multiclass, 40_000, nil},
		{"binary-sampled", learn.Binary, 40_000, func(l *Learner) { l.Subsample, l.ColSample = 0.7, 0.6 }},
		{"regression-early-stopping", learn.Regression, 40_000, func(l *Learner) { l.EarlyStoppingRounds = 3 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := learntest.Toy(c.task, c.n, 5)
			l := New()
			l.NumTrees, l.Threads = 5, 1
			if c.set != nil {
				c.set(l)
			}
			before := trainGoroutines.Load()
			if _, err := l.FitModel(context.Background(), d); err != nil {
				t.Fatal(err)
			}
			if n := trainGoroutines.Load() - before; n != 0 {
				t.Errorf("a threads=1 fit started %d goroutines, want 0", n)
			}
		})
	}
}

// The work pool never has more than threads tasks running at once, at any
// nesting depth, and runs every index exactly once.
func TestWorkPoolBoundsConcurrency(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 5} {
		p := newWorkPool(threads)
		var running, peak atomic.Int64
		enter := func() {
			n := running.Add(1)
			for {
				m := peak.Load()
				if n <= m || peak.CompareAndSwap(m, n) {
					break
				}
			}
		}
		counts := make([]atomic.Int64, 7*9)
		p.run(7, func(i int) {
			p.run(9, func(j int) {
				enter()
				counts[i*9+j].Add(1)
				for range 2000 {
					_ = peak.Load()
				}
				running.Add(-1)
			})
		})
		if got := peak.Load(); got > int64(threads) {
			t.Errorf("threads=%d: peak %d concurrent tasks", threads, got)
		}
		for k := range counts {
			if n := counts[k].Load(); n != 1 {
				t.Errorf("threads=%d: task %d ran %d times", threads, k, n)
			}
		}
		if len(p.free) != threads-1 {
			t.Errorf("threads=%d: %d free tokens after run, want %d", threads, len(p.free), threads-1)
		}
	}
}
