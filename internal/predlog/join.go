package predlog

import (
	"hash/maphash"
	"math/bits"
)

// The label join. A read joins each logged row with the label given last
// for its (request id, row) among the feedback files read. Rows are keyed
// by a 128-bit hash of (request id, row): two independently seeded 64-bit
// hashes, so that keys are fixed-size and compare without reading the ids
// (two distinct keys among n rows collide with probability about n²/2¹²⁹).
//
// One hash table of a million labels misses the cache on nearly every
// probe. So both sides are partitioned by the hash's top bits first (a
// stable counting sort), and each partition is joined on its own, all
// cores at once, with a table small enough to stay in a core's cache.

// labelPartBits is log2 of the join's partitions: 256 keep a partition of a
// million labels near 4,000 entries (128 KB with its table).
const labelPartBits = 8

// labelEntry is one label: its row's hash, when it was given, and where it
// is (file and position).
type labelEntry struct {
	h       [2]uint64
	t       int64
	file, i int32
}

// labels is a model's labels read for a join.
type labels struct {
	files []*labelFile
	seeds [2]maphash.Seed
	// entries holds the labels partitioned by hash, each partition in the
	// order the labels were stored (file order, then row order); partition
	// p is entries[starts[p]:starts[p+1]].
	entries []labelEntry
	starts  []int
}

// key is a row's hash.
func (x *labels) key(id string, row int32) [2]uint64 {
	r := uint64(row) + 1
	return [2]uint64{maphash.String(x.seeds[0], id) ^ r*0x9E3779B97F4A7C15, maphash.String(x.seeds[1], id) ^ r*0xC2B2AE3D27D4EB4F}
}

// part is a hash's partition.
func part(h [2]uint64) int { return int(h[0] >> (64 - labelPartBits)) }

// partition hashes the files' labels given at or after since (on all
// cores) and partitions them.
func (x *labels) partition(since int64) {
	offs := make([]int, len(x.files)+1)
	for fi, f := range x.files {
		n := 0
		for _, t := range f.times {
			if t >= since {
				n++
			}
		}
		offs[fi+1] = offs[fi] + n
	}
	all := make([]labelEntry, offs[len(x.files)])
	parallel(len(x.files), func(fi int) {
		f, k := x.files[fi], offs[fi]
		for i, t := range f.times {
			if t >= since {
				all[k] = labelEntry{x.key(f.reqID(i), f.row(i)), t, int32(fi), int32(i)}
				k++
			}
		}
	})
	x.starts = make([]int, 1<<labelPartBits+1)
	for _, e := range all {
		x.starts[part(e.h)+1]++
	}
	for p := range 1 << labelPartBits {
		x.starts[p+1] += x.starts[p]
	}
	x.entries = make([]labelEntry, len(all))
	next := append([]int(nil), x.starts[:1<<labelPartBits]...)
	for _, e := range all {
		p := part(e.h)
		x.entries[next[p]] = e
		next[p]++
	}
}

// join sets out[j] to the label of row (ids[j], rows[j]), leaving out[j]
// alone when it has none, and returns the number of rows labelled.
func (x *labels) join(ids []string, rows []int32, out []string) int {
	if len(x.entries) == 0 {
		return 0
	}
	n := len(ids)
	hs := make([][2]uint64, n)
	parallelRange(n, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			hs[j] = x.key(ids[j], rows[j])
		}
	})
	starts := make([]int, 1<<labelPartBits+1)
	for _, h := range hs {
		starts[part(h)+1]++
	}
	for p := range 1 << labelPartBits {
		starts[p+1] += starts[p]
	}
	probes := make([]int32, n)
	next := append([]int(nil), starts[:1<<labelPartBits]...)
	for j, h := range hs {
		p := part(h)
		probes[next[p]] = int32(j)
		next[p]++
	}
	labelled := make([]int, 1<<labelPartBits)
	parallel(1<<labelPartBits, func(p int) {
		es := x.entries[x.starts[p]:x.starts[p+1]]
		ps := probes[starts[p]:starts[p+1]]
		if len(es) == 0 || len(ps) == 0 {
			return
		}
		// open addressing on the hash's low bits; slots hold entry index + 1
		size := 1 << bits.Len(uint(2*len(es)))
		mask := uint64(size - 1)
		table := make([]int32, size)
		for k, e := range es {
			s := e.h[1] & mask
			for {
				v := table[s]
				if v == 0 {
					table[s] = int32(k + 1)
					break
				}
				if old := &es[v-1]; old.h == e.h {
					if e.t >= old.t { // given later, or as late and stored later
						table[s] = int32(k + 1)
					}
					break
				}
				s = (s + 1) & mask
			}
		}
		c := 0
		for _, j := range ps {
			h := hs[j]
			for s := h[1] & mask; ; s = (s + 1) & mask {
				v := table[s]
				if v == 0 {
					break
				}
				if e := &es[v-1]; e.h == h {
					out[j] = x.files[e.file].label(int(e.i))
					if out[j] != "" {
						c++
					}
					break
				}
			}
		}
		labelled[p] = c
	})
	total := 0
	for _, c := range labelled {
		total += c
	}
	return total
}
