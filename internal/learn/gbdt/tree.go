package gbdt

import "math"

// Node flags.
const (
	flagDefaultLeft = 1 << iota // missing values go left
	flagCategorical             // categorical split: codes in the bitset go left
)

// tree is one fitted regression tree as flat arrays. Internal node i splits
// on Feature[i]; children Left[i]/Right[i] are internal node indices when
// ≥ 0 and leaf indices ^c when < 0. A tree with no internal nodes is a single
// leaf (Value[0]). Child indices are always greater than their parent's,
// which Decode checks so traversal always terminates.
type tree struct {
	Feature   []int32
	Threshold []float64 // numeric: x ≤ Threshold goes left
	Left      []int32
	Right     []int32
	Flags     []uint8
	CatStart  []int32 // categorical: bitset words CatBits[CatStart[i]:CatStart[i]+CatLen[i]]
	CatLen    []int32
	CatBits   []uint32
	Gain      []float64 // split gain (importance)
	Cover     []float64 // training rows reaching the node
	Value     []float64 // leaf outputs (learning rate applied)
	LeafCover []float64 // training rows reaching the leaf
}

// goLeft reports whether value x goes left at internal node i.
func (t *tree) goLeft(i int, x float64) bool {
	if t.Flags[i]&flagCategorical != 0 {
		if !(x >= 0) {
			return t.Flags[i]&flagDefaultLeft != 0
		}
		if x >= float64(int64(t.CatLen[i])*32) {
			return false
		}
		c := int(x)
		return t.CatBits[int(t.CatStart[i])+c>>5]&(1<<(uint(c)&31)) != 0
	}
	if x <= t.Threshold[i] {
		return true
	}
	if math.IsNaN(x) {
		return t.Flags[i]&flagDefaultLeft != 0
	}
	return false
}

// leafOf returns the leaf index reached by row (values via at(feature)).
func (t *tree) leafOf(at func(f int) float64) int {
	if len(t.Feature) == 0 {
		return 0
	}
	i := int32(0)
	for {
		var next int32
		if t.goLeft(int(i), at(int(t.Feature[i]))) {
			next = t.Left[i]
		} else {
			next = t.Right[i]
		}
		if next < 0 {
			return int(^next)
		}
		i = next
	}
}
