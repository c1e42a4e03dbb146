package binnum

import (
	"math"
	"testing"
)

func TestFloat16(t *testing.T) {
	for h, want := range map[uint16]float64{0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: math.Pow(2, -24), 0x3555: 0.333251953125, 0x7c00: math.Inf(1), 0xfc00: math.Inf(-1), 0x8000: 0} {
		if got := Float16(h); got != want {
			t.Errorf("%#x: %v, want %v", h, got, want)
		}
	}
	if !math.IsNaN(Float16(0x7e00)) {
		t.Error("NaN")
	}
}

func TestBigEndian(t *testing.T) {
	for _, tc := range []struct {
		b    []byte
		want string
	}{
		{nil, "0"},
		{[]byte{0x7f}, "127"},
		{[]byte{0x80}, "-128"},
		{[]byte{0xff, 0xff}, "-1"},
		{[]byte{0x01, 0x00}, "256"},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}, "-2"},
		{[]byte{0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "18446744073709551615"},
	} {
		if got := BigEndian(tc.b).String(); got != tc.want {
			t.Errorf("% x: %s, want %s", tc.b, got, tc.want)
		}
	}
}
