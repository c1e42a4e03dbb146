// Package parallel is Gyre's one parallel for-loop over an index range:
// items claimed one at a time by up to a given number of goroutines
// ([For], [ForWorker]), or contiguous blocks, one per goroutine ([Blocks]).
//
// Every call returns when every item is done. With one worker (or one item)
// the loop runs on the calling goroutine and starts none, so a caller that
// asks for one thread gets exactly one. The functions never decide an
// order of results: fn must write only the slots of the items it is given,
// so the outcome does not depend on the number of workers or on scheduling.
// Errors and cancellation are the caller's: record an error in the item's
// slot, and check a context inside fn.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Workers returns the number of goroutines a loop of n items on workers
// goroutines uses: workers, or GOMAXPROCS when workers ≤ 0, at most n and
// at least 1.
func Workers(n, workers int) int {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return max(1, min(workers, n))
}

// For calls fn(i) for every i in [0, n) on up to workers goroutines
// (GOMAXPROCS when workers ≤ 0). Items are claimed in increasing order, one
// at a time, so uneven items balance across the goroutines.
func For(n, workers int, fn func(i int)) {
	ForWorker(n, workers, func() func(int) { return fn })
}

// ForWorker is [For] with state per goroutine: each goroutine calls
// newWorker once (a scratch buffer, a heap) and passes its items to the
// function newWorker returns.
func ForWorker(n, workers int, newWorker func() func(i int)) {
	if n <= 0 {
		return
	}
	w := Workers(n, workers)
	if w == 1 {
		fn := newWorker()
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range w {
		wg.Go(func() {
			fn := newWorker()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}

// Blocks splits [0, n) into contiguous blocks of near-equal size, as many
// as workers (GOMAXPROCS when workers ≤ 0) but none smaller than minBlock
// rows (when n allows more than one), and calls fn(lo, hi) for each on its
// own goroutine. The blocks are [t·n/b, (t+1)·n/b) for t < b.
func Blocks(n, workers, minBlock int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	b := Workers(n/max(minBlock, 1), workers)
	if b == 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for t := range b {
		lo, hi := t*n/b, (t+1)*n/b
		wg.Go(func() { fn(lo, hi) })
	}
	wg.Wait()
}
