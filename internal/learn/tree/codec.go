package tree

import (
	"encoding/binary"
	"errors"
	"math"
)

var errTruncated = errors.New("truncated or corrupt model data")

// Encoder appends little-endian primitives to B. It is the binary encoding
// shared by the tree-based models.
type Encoder struct{ B []byte }

// Uvarint appends an unsigned varint.
func (w *Encoder) Uvarint(v uint64) { w.B = binary.AppendUvarint(w.B, v) }

// Varint appends a signed varint.
func (w *Encoder) Varint(v int64) { w.B = binary.AppendVarint(w.B, v) }

// Float appends the exact bits of v.
func (w *Encoder) Float(v float64) { w.B = binary.LittleEndian.AppendUint64(w.B, math.Float64bits(v)) }

// Floats appends a length-prefixed slice.
func (w *Encoder) Floats(v []float64) {
	w.Uvarint(uint64(len(v)))
	for _, x := range v {
		w.Float(x)
	}
}

// String appends a length-prefixed string.
func (w *Encoder) String(s string) {
	w.Uvarint(uint64(len(s)))
	w.B = append(w.B, s...)
}

// Decoder reads what Encoder wrote. The first error sticks in Err and every
// later read returns zero values.
type Decoder struct {
	B   []byte
	Err error
}

// Remaining returns the number of unread bytes.
func (r *Decoder) Remaining() int { return len(r.B) }

func (r *Decoder) fail() {
	if r.Err == nil {
		r.Err = errTruncated
	}
	r.B = nil
}

// Uvarint reads an unsigned varint.
func (r *Decoder) Uvarint() uint64 { return decodeVarint(r, binary.Uvarint) }

// Varint reads a signed varint.
func (r *Decoder) Varint() int64 { return decodeVarint(r, binary.Varint) }

// decodeVarint reads one varint with read (binary.Uvarint or binary.Varint).
func decodeVarint[T uint64 | int64](r *Decoder, read func([]byte) (T, int)) T {
	v, n := read(r.B)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.B = r.B[n:]
	return v
}

// Int reads a non-negative count that must fit in the remaining data.
func (r *Decoder) Int() int {
	v := r.Uvarint()
	if v > math.MaxInt32 {
		r.fail()
		return 0
	}
	return int(v)
}

// Float reads a float64.
func (r *Decoder) Float() float64 {
	if len(r.B) < 8 {
		r.fail()
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.B))
	r.B = r.B[8:]
	return v
}

// Floats reads a length-prefixed slice (nil when empty).
func (r *Decoder) Floats() []float64 {
	n := r.Int()
	if n*8 > len(r.B) {
		r.fail()
		return nil
	}
	if n == 0 {
		return nil
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = r.Float()
	}
	return out
}

// String reads a length-prefixed string.
func (r *Decoder) String() string {
	n := r.Int()
	if n > len(r.B) {
		r.fail()
		return ""
	}
	s := string(r.B[:n])
	r.B = r.B[n:]
	return s
}

// sparseLeaves appends leaf outputs (k per leaf) as their count, then per
// leaf the number of non-zero outputs and each one's index and exact value
// (an output is zero when all its bits are: -0 is kept).
func (w *Encoder) sparseLeaves(v []float64, k int) {
	w.Uvarint(uint64(len(v)))
	for i := 0; i+k <= len(v); i += k {
		leaf := v[i : i+k]
		m := 0
		for _, x := range leaf {
			if math.Float64bits(x) != 0 {
				m++
			}
		}
		w.Uvarint(uint64(m))
		for c, x := range leaf {
			if math.Float64bits(x) != 0 {
				w.Uvarint(uint64(c))
				w.Float(x)
			}
		}
	}
}

// sparseLeaves reads what Encoder.sparseLeaves wrote for k outputs per
// leaf (nil when empty).
func (r *Decoder) sparseLeaves(k int) []float64 {
	n := r.Int()
	// Every leaf takes at least one byte: more leaves than bytes left is
	// corrupt data, not an allocation to make.
	if k < 1 || n%k != 0 || n/k > len(r.B) {
		r.fail()
		return nil
	}
	if n == 0 {
		return nil
	}
	out := make([]float64, n)
	for i := 0; i < n && r.Err == nil; i += k {
		m := r.Int()
		if m > k {
			r.fail()
			return nil
		}
		for range m {
			c := r.Int()
			if c >= k {
				r.fail()
				return nil
			}
			out[i+c] = r.Float()
		}
	}
	if r.Err != nil {
		return nil
	}
	return out
}
