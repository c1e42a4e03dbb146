package profile

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sort"
)

// KLLRankError is the normalised rank error the quantile sketch guarantees
// with high probability (≈99%) at its size (k = 200): a reported q-quantile
// has a true rank within q ± KLLRankError. Columns with at most
// kllExactLimit values are summarised exactly (the sketch has not compacted
// yet), so small data sets get numpy-identical quantiles.
const KLLRankError = 0.0165

const kllK = 200

// kllExactLimit is the number of values the sketch keeps uncompacted.
const kllExactLimit = 4096

// kll is a KLL quantile sketch (Karnin, Lang, Liberty 2016): a stack of
// compactors where level h holds items of weight 2^h. It is mergeable and
// deterministic under its seed.
type kll struct {
	levels [][]float64
	n      int
	rng    *rand.Rand
	exact  bool // no compaction has happened yet
	held   int  // items held, Σ len(levels[h])
	caps   []int
	capSum int
}

func newKLL(seed uint64) *kll {
	return &kll{levels: [][]float64{make([]float64, 0, 64)}, rng: rand.New(rand.NewPCG(seed, 0x6b6c6c)), exact: true}
}

// capacity is the capacity of level h (cached per number of levels).
func (s *kll) capacity(h int) int {
	if len(s.caps) != len(s.levels) {
		s.caps = s.caps[:0]
		s.capSum = 0
		for l := range s.levels {
			depth := len(s.levels) - l - 1
			c := max(8, int(math.Ceil(kllK*math.Pow(2.0/3.0, float64(depth)))))
			s.caps = append(s.caps, c)
			s.capSum += c
		}
	}
	return s.caps[h]
}

func (s *kll) size() int {
	t := 0
	for _, l := range s.levels {
		t += len(l)
	}
	return t
}

func (s *kll) totalCapacity() int {
	s.capacity(0)
	return s.capSum
}

// add inserts one value.
func (s *kll) add(x float64) {
	s.levels[0] = append(s.levels[0], x)
	s.n++
	s.held++
	if s.exact && s.n <= kllExactLimit {
		return
	}
	if s.held >= s.totalCapacity() {
		s.compress()
		s.held = s.size()
	}
}

// compress compacts the lowest level over capacity, promoting half of its
// items (every other one from a random offset) to the next level.
func (s *kll) compress() {
	s.exact = false
	for h := 0; h < len(s.levels); h++ {
		if len(s.levels[h]) < s.capacity(h) {
			continue
		}
		if h+1 == len(s.levels) {
			s.levels = append(s.levels, nil)
		}
		l := s.levels[h]
		slices.Sort(l)
		off := int(s.rng.Uint64() & 1)
		odd := len(l)%2 == 1
		var keep float64
		if odd { // leave one item behind so the compaction is even
			keep = l[len(l)-1]
			l = l[:len(l)-1]
		}
		for i := off; i < len(l); i += 2 {
			s.levels[h+1] = append(s.levels[h+1], l[i])
		}
		s.levels[h] = s.levels[h][:0]
		if odd {
			s.levels[h] = append(s.levels[h], keep)
		}
		if s.size() < s.totalCapacity() {
			return
		}
	}
}

// merge folds o into s.
func (s *kll) merge(o *kll) {
	for len(s.levels) < len(o.levels) {
		s.levels = append(s.levels, nil)
	}
	for h, l := range o.levels {
		s.levels[h] = append(s.levels[h], l...)
	}
	s.n += o.n
	s.exact = s.exact && o.exact
	for s.size() >= s.totalCapacity() {
		s.compress()
	}
	s.held = s.size()
}

type weighted struct {
	v float64
	w float64
}

// cdf returns the sketch's items sorted by value with their weights.
func (s *kll) items() []weighted {
	out := make([]weighted, 0, s.size())
	for h, l := range s.levels {
		w := float64(uint64(1) << uint(h))
		for _, v := range l {
			out = append(out, weighted{v, w})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].v < out[j].v })
	return out
}

// quantiles returns the q-quantiles for each q in qs. When the sketch is
// exact it interpolates linearly between order statistics like numpy's
// default; otherwise it returns the item whose cumulative weight first
// reaches q·n.
func (s *kll) quantiles(qs []float64) []float64 {
	out := make([]float64, len(qs))
	if s.n == 0 {
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	if s.exact {
		v := slices.Clone(s.levels[0])
		slices.Sort(v)
		for i, q := range qs {
			out[i] = quantileSorted(v, q)
		}
		return out
	}
	it := s.items()
	total := 0.0
	for _, w := range it {
		total += w.w
	}
	for i, q := range qs {
		target := q * total
		cum := 0.0
		out[i] = it[len(it)-1].v
		for _, w := range it {
			cum += w.w
			if cum >= target {
				out[i] = w.v
				break
			}
		}
	}
	out[0] = math.Max(out[0], it[0].v)
	return out
}

// quantileSorted is numpy's default (linear) quantile of sorted values.
func quantileSorted(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(v)-1)
	lo := int(math.Floor(pos))
	if lo >= len(v)-1 {
		return v[len(v)-1]
	}
	if lo < 0 {
		return v[0]
	}
	frac := pos - float64(lo)
	return v[lo] + frac*(v[lo+1]-v[lo])
}

// QuantileSorted returns the q-quantile (0 ≤ q ≤ 1) of ascending values with
// numpy's default linear interpolation, NaN for no values.
func QuantileSorted(sorted []float64, q float64) float64 { return quantileSorted(sorted, q) }

// hll is a HyperLogLog distinct counter with 2^12 registers (standard error
// 1.04/√4096 ≈ 1.6%).
type hll struct{ reg [1 << hllP]uint8 }

const hllP = 12

func (h *hll) add(x uint64) {
	idx := x >> (64 - hllP)
	w := x<<hllP | 1<<(hllP-1)
	r := uint8(bits.LeadingZeros64(w)) + 1
	if r > h.reg[idx] {
		h.reg[idx] = r
	}
}

func (h *hll) estimate() float64 {
	m := float64(len(h.reg))
	sum, zeros := 0.0, 0
	for _, r := range h.reg {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	e := 0.7213 / (1 + 1.079/m) * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		e = m * math.Log(m/float64(zeros))
	}
	return e
}

// mix64 is the splitmix64 finaliser: a fast, well-distributed 64-bit hash.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// hashString is FNV-1a followed by mix64.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return mix64(h)
}
