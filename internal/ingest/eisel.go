package ingest

import (
	"math"
	"math/bits"
)

// Eisel–Lemire: the exact decimal-to-float64 conversion for a decimal of at
// most 19 significant digits (D. Lemire, "Number Parsing at a Gigabyte per
// Second", 2021; the algorithm strconv uses internally). Written out here so
// the CSV reader can hand it the mantissa and exponent it has already
// scanned instead of parsing the text a second time: 17-digit values such as
// those Python and Go print for round-tripped doubles are the common case in
// exported data, and Clinger's fast path covers only 15-16 digits.

// The range of decimal exponents the power table covers; outside it the
// value underflows to zero or overflows to infinity (or needs more digits
// than 19), and strconv decides.
const (
	powMinExp10 = -348
	powMaxExp10 = 347
)

// powTable[e-powMinExp10] is 10^e as a 128-bit mantissa rounded down,
// with its top bit set: {high, low}. It is generated into eisel_table.go
// (go generate; TestPowTable recomputes it with math/big), so no process
// pays for building it at start-up.
//
//go:generate go run gen_eisel_table.go

// eiselLemire returns man × 10^exp10 correctly rounded, negated when neg.
// ok is false when the algorithm cannot decide (a halfway case, a
// subnormal or out-of-range result): the caller falls back to strconv.
func eiselLemire(man uint64, exp10 int, neg bool) (f float64, ok bool) {
	if man == 0 {
		if neg {
			f = math.Copysign(0, -1)
		}
		return f, true
	}
	if exp10 < powMinExp10 || exp10 > powMaxExp10 {
		return 0, false
	}
	clz := bits.LeadingZeros64(man)
	man <<= uint(clz)
	const bias = 1023
	retExp2 := uint64(217706*exp10>>16+64+bias) - uint64(clz)
	pow := &powTable[exp10-powMinExp10]
	xHi, xLo := bits.Mul64(man, pow[0])
	if xHi&0x1FF == 0x1FF && xLo+man < man {
		yHi, yLo := bits.Mul64(man, pow[1])
		mergedHi, mergedLo := xHi, xLo+yHi
		if mergedLo < xLo {
			mergedHi++
		}
		if mergedHi&0x1FF == 0x1FF && mergedLo+1 == 0 && yLo+man < man {
			return 0, false
		}
		xHi, xLo = mergedHi, mergedLo
	}
	msb := xHi >> 63
	retMant := xHi >> (msb + 9)
	retExp2 -= 1 ^ msb
	if xLo == 0 && xHi&0x1FF == 0 && retMant&3 == 1 {
		return 0, false // halfway between two floats
	}
	retMant += retMant & 1
	retMant >>= 1
	if retMant>>53 > 0 {
		retMant >>= 1
		retExp2++
	}
	if retExp2-1 >= 0x7FF-1 {
		return 0, false // subnormal, zero by underflow, or infinite
	}
	b := retExp2<<52 | retMant&(1<<52-1)
	if neg {
		b |= 1 << 63
	}
	return math.Float64frombits(b), true
}
