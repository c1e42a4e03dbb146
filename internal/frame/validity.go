package frame

import "math/bits"

// Validity is a bitmap of present values: bit i set means row i holds a value.
// A nil Validity means every row is present.
type Validity []uint64

// NewValidity returns a bitmap of n rows, all marked present.
func NewValidity(n int) Validity {
	v := make(Validity, (n+63)/64)
	for i := range v {
		v[i] = ^uint64(0)
	}
	if r := n % 64; r != 0 {
		v[len(v)-1] = (1 << uint(r)) - 1
	}
	return v
}

// Valid reports whether row i is present.
func (v Validity) Valid(i int) bool {
	if v == nil {
		return true
	}
	return v[i>>6]&(1<<uint(i&63)) != 0
}

// SetNull marks row i missing. v must not be nil.
func (v Validity) SetNull(i int) { v[i>>6] &^= 1 << uint(i&63) }

// SetValid marks row i present. v must not be nil.
func (v Validity) SetValid(i int) { v[i>>6] |= 1 << uint(i&63) }

// NullCount returns how many of the first n rows are missing.
func (v Validity) NullCount(n int) int {
	if v == nil {
		return 0
	}
	present := 0
	full := n / 64
	for i := 0; i < full; i++ {
		present += bits.OnesCount64(v[i])
	}
	if r := n % 64; r != 0 {
		present += bits.OnesCount64(v[full] & ((1 << uint(r)) - 1))
	}
	return n - present
}

// take returns the validity of the selected rows, or nil when all are present.
func (v Validity) take(rows []int) Validity {
	if v == nil {
		return nil
	}
	var out Validity
	for j, r := range rows {
		if !v.Valid(r) {
			if out == nil {
				out = NewValidity(len(rows))
			}
			out.SetNull(j)
		}
	}
	return out
}

// Clone returns a copy of the bitmap.
func (v Validity) Clone() Validity {
	if v == nil {
		return nil
	}
	return append(Validity(nil), v...)
}
