// Package binnum decodes the number encodings that several binary formats
// the ingest readers read share (Arrow IPC, Parquet, Avro): IEEE 754
// half-precision floats and big-endian two's-complement integers of any
// width (the unscaled values of decimals).
package binnum

import (
	"math"
	"math/big"
)

// Float16 converts an IEEE 754 half-precision value (binary16) to a
// float64, exactly: subnormals, infinities and NaN included.
func Float16(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * frac * math.Pow(2, -24)
	case 0x1f:
		if frac == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * (1 + frac/1024) * math.Pow(2, float64(exp-15))
}

// BigEndian returns the integer a big-endian two's-complement byte string
// holds (0 for none), as Parquet's and Avro's decimals store their unscaled
// values.
func BigEndian(b []byte) *big.Int {
	x := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return x
}
