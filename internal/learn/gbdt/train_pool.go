package gbdt

import (
	"sync"
	"sync/atomic"
)

// workPool bounds the busy goroutines of one fit to the learner's threads.
// Every goroutine doing work for the fit holds a token; the fit's own
// goroutine holds one implicitly, so a pool for threads t starts with t-1
// free tokens and a pool for one thread never starts a goroutine. Parallel
// steps at any nesting level (multiclass trees of a round, feature blocks
// of a split, row chunks) take whatever tokens are free at that moment, so
// cores left idle by one level are used by another. Which goroutine runs a
// task never changes its result: tasks write disjoint outputs and every
// reduction is in task order.
type workPool struct {
	free chan struct{}
}

// trainGoroutines counts the goroutines training has started (tests check
// that a one-thread fit starts none).
var trainGoroutines atomic.Int64

// newWorkPool returns a pool for threads busy goroutines in total.
func newWorkPool(threads int) *workPool {
	p := &workPool{free: make(chan struct{}, max(threads, 1))}
	for range threads - 1 {
		p.free <- struct{}{}
	}
	return p
}

// run calls fn(i) for every i in [0, n), on the calling goroutine and on as
// many helper goroutines (at most n-1) as there are free tokens, handing
// out indices in order as workers become free. While the caller waits for
// its last helpers it lends its own token.
func (p *workPool) run(n int, fn func(i int)) {
	if n <= 0 {
		return
	}
	if p == nil || n == 1 || len(p.free) == 0 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	work := func() {
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			fn(i)
		}
	}
	var wg sync.WaitGroup
	helpers := 0
	for helpers < n-1 && p.tryAcquire() {
		helpers++
		trainGoroutines.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer p.release()
			work()
		}()
	}
	work()
	if helpers == 0 {
		return
	}
	p.release()
	wg.Wait()
	<-p.free
}

// ranges splits [0, n) into at most chunks contiguous ranges of at least
// minChunk indices and runs fn(lo, hi) on each through run.
func (p *workPool) ranges(n, chunks, minChunk int, fn func(lo, hi int)) {
	p.chunked(n, chunks, minChunk, func(_, lo, hi int) { fn(lo, hi) })
}

// chunked is ranges passing the chunk index too; it returns the number of
// chunks used (1 when the work is too small to split or no thread is free).
func (p *workPool) chunked(n, chunks, minChunk int, fn func(c, lo, hi int)) int {
	if minChunk < 1 {
		minChunk = 1
	}
	chunks = min(chunks, n/minChunk)
	if chunks <= 1 || p == nil || len(p.free) == 0 {
		fn(0, 0, n)
		return 1
	}
	p.run(chunks, func(c int) { fn(c, c*n/chunks, (c+1)*n/chunks) })
	return chunks
}

func (p *workPool) tryAcquire() bool {
	select {
	case <-p.free:
		return true
	default:
		return false
	}
}

func (p *workPool) release() { p.free <- struct{}{} }
