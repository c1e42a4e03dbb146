package knn

import (
	"container/heap"
	"math"
	"slices"
)

// neighbour is a candidate: its distance (squared for euclidean) and row.
type neighbour struct {
	dist float64
	idx  int
}

func less(a, b neighbour) bool { return a.dist < b.dist || (a.dist == b.dist && a.idx < b.idx) }

// maxHeap keeps the k best candidates with the worst on top.
type maxHeap []neighbour

func (h maxHeap) Len() int           { return len(h) }
func (h maxHeap) Less(i, j int) bool { return less(h[j], h[i]) }
func (h maxHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *maxHeap) Push(x any)        { *h = append(*h, x.(neighbour)) }
func (h *maxHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// offer adds c if it beats the current worst of k.
func (h *maxHeap) offer(c neighbour, k int) {
	if h.Len() < k {
		heap.Push(h, c)
		return
	}
	if less(c, (*h)[0]) {
		(*h)[0] = c
		heap.Fix(h, 0)
	}
}

// kdNode is a node of the k-d tree; leaves hold a range of perm.
type kdNode struct {
	dim         int
	split       float64
	left, right int // child node indices, -1 for a leaf
	lo, hi      int // leaf range in perm
}

type kdTree struct {
	pts   []float64 // row-major n×p
	p     int
	perm  []int
	nodes []kdNode
}

const leafSize = 16

func buildKD(pts []float64, n, p int) *kdTree {
	t := &kdTree{pts: pts, p: p, perm: make([]int, n)}
	for i := range t.perm {
		t.perm[i] = i
	}
	t.build(0, n)
	return t
}

func (t *kdTree) build(lo, hi int) int {
	id := len(t.nodes)
	t.nodes = append(t.nodes, kdNode{left: -1, right: -1, lo: lo, hi: hi})
	if hi-lo <= leafSize {
		return id
	}
	// Split the dimension of largest spread at the median.
	best, spread := 0, -1.0
	for d := 0; d < t.p; d++ {
		mn, mx := math.Inf(1), math.Inf(-1)
		for _, i := range t.perm[lo:hi] {
			v := t.pts[i*t.p+d]
			mn, mx = min(mn, v), max(mx, v)
		}
		if mx-mn > spread {
			best, spread = d, mx-mn
		}
	}
	if spread <= 0 {
		return id
	}
	seg := t.perm[lo:hi]
	slices.SortFunc(seg, func(a, b int) int {
		va, vb := t.pts[a*t.p+best], t.pts[b*t.p+best]
		switch {
		case va < vb:
			return -1
		case va > vb:
			return 1
		}
		return a - b
	})
	mid := lo + (hi-lo)/2
	split := t.pts[t.perm[mid]*t.p+best]
	l := t.build(lo, mid)
	r := t.build(mid, hi)
	t.nodes[id].dim, t.nodes[id].split, t.nodes[id].left, t.nodes[id].right = best, split, l, r
	return id
}

// query collects the k nearest training rows to q into h.
func (t *kdTree) query(q []float64, k int, manhattan bool, h *maxHeap) {
	t.search(0, q, k, manhattan, h)
}

func (t *kdTree) search(id int, q []float64, k int, manhattan bool, h *maxHeap) {
	nd := &t.nodes[id]
	if nd.left < 0 {
		for _, i := range t.perm[nd.lo:nd.hi] {
			h.offer(neighbour{distance(q, t.pts[i*t.p:(i+1)*t.p], manhattan), i}, k)
		}
		return
	}
	diff := q[nd.dim] - nd.split
	near, far := nd.left, nd.right
	if diff >= 0 {
		near, far = far, near
	}
	t.search(near, q, k, manhattan, h)
	bound := diff * diff
	if manhattan {
		bound = math.Abs(diff)
	}
	// Points equal to the split can sit on either side: visit on ties.
	if h.Len() < k || bound <= (*h)[0].dist {
		t.search(far, q, k, manhattan, h)
	}
}

// distance is the squared euclidean or the manhattan distance.
func distance(a, b []float64, manhattan bool) float64 {
	s := 0.0
	if manhattan {
		for i := range a {
			s += math.Abs(a[i] - b[i])
		}
		return s
	}
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return s
}

// distanceWithin is distance with early exit: ok is false once the partial
// sum exceeds bound (the candidate cannot enter the k best).
func distanceWithin(a, b []float64, manhattan bool, bound float64) (float64, bool) {
	s := 0.0
	for i := 0; i < len(a); i += 8 {
		end := min(i+8, len(a))
		if manhattan {
			for t := i; t < end; t++ {
				s += math.Abs(a[t] - b[t])
			}
		} else {
			for t := i; t < end; t++ {
				d := a[t] - b[t]
				s += d * d
			}
		}
		if s > bound {
			return s, false
		}
	}
	return s, true
}
