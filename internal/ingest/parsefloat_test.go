package ingest

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestParseFloatMatchesStrconv compares parseFloat with strconv on decimal
// texts of every shape the fast path handles and some it must hand over.
func TestParseFloatMatchesStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	inputs := []string{"0", "-0", "+0", ".5", "5.", "-.5", "0.000001234", "123456789012345678", "9007199254740993",
		"1e5", "1.5E-3", "00012.50", "1.7976931348623157e308", "4.9e-324", "0.1", "3.14159265358979323846",
		"12345678901234567890123", "0.0000000000000000000000001", "1", "-9.999999", "99999999999999999999"}
	for range 20000 {
		v := (rng.Float64()*2 - 1) * math.Pow(10, float64(rng.IntN(30)-15))
		inputs = append(inputs, strconv.FormatFloat(v, 'f', rng.IntN(12), 64), strconv.FormatFloat(v, 'g', rng.IntN(17)+1, 64))
	}
	for _, s := range inputs {
		want, err := strconv.ParseFloat(s, 64)
		got, ok := parseFloat([]byte(s))
		if err != nil {
			continue
		}
		if !ok || math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("parseFloat(%q) = %v, %v; strconv gives %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "-", ".", "1.2.3", "1e", "abc", "0x10", "1_000", "1,5", "--1", "1-"} {
		if v, ok := parseFloat([]byte(s)); ok {
			t.Errorf("parseFloat(%q) = %v, want not a number", s, v)
		}
	}
}

func BenchmarkParseFloat(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	vals := make([][]byte, 4096)
	for i := range vals {
		vals[i] = []byte(strconv.FormatFloat(rng.Float64()*2-1, 'g', 7, 64))
	}
	b.ResetTimer()
	s := 0.0
	for i := 0; i < b.N; i++ {
		v, _ := parseFloat(vals[i&4095])
		s += v
	}
	_ = s
}
