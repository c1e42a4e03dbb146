package ingest

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
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
		// Shortest round-trip and 17-digit forms (what Python and Go write),
		// across the whole exponent range, and values near float64's ends.
		w := math.Float64frombits(rng.Uint64() &^ (1 << 63) % 0x7FF0000000000000)
		inputs = append(inputs, strconv.FormatFloat(w, 'g', -1, 64), strconv.FormatFloat(w, 'e', 16, 64),
			strconv.FormatFloat(v, 'f', 18, 64), strconv.FormatFloat(-w, 'E', rng.IntN(19), 64))
	}
	inputs = append(inputs, "2.2250738585072014e-308", "2.2250738585072011e-308", "1e-400", "1e400", "1e+5", "1E-05",
		"9007199254740993e0", "0.070642179729956567", "-0.96474398072215806", "1234567890123456789", "12345678901234567890",
		"0.000000000000000000001234567890123456789", "5e-324", "2.4703282292062328e-324", "1.00000000000000011102230246251565404236316680908203125")
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

// BenchmarkParseFloat17 parses the 17-significant-digit values that
// Python's repr and Go's shortest formatting write for most doubles.
func BenchmarkParseFloat17(b *testing.B) { benchParseFloat(b, 17) }

// BenchmarkParseFloat parses 7-significant-digit values (the fast path).
func BenchmarkParseFloat(b *testing.B) { benchParseFloat(b, 7) }

// benchParseFloat parses 4,096 values in (-1, 1) written with digits
// significant digits.
func benchParseFloat(b *testing.B, digits int) {
	rng := rand.New(rand.NewPCG(1, 2))
	vals := make([][]byte, 4096)
	for i := range vals {
		vals[i] = []byte(strconv.FormatFloat(rng.Float64()*2-1, 'g', digits, 64))
	}
	b.ResetTimer()
	s := 0.0
	for i := 0; i < b.N; i++ {
		v, _ := parseFloat(vals[i&4095])
		s += v
	}
	_ = s
}

// FuzzParseFloat checks parseFloat against strconv bit for bit on every
// text both accept, and that it never accepts what strconv refuses.
func FuzzParseFloat(f *testing.F) {
	for _, s := range []string{"0.070642179729956567", "1e308", "-2.5E-3", "5e-324", "12345678901234567890", ".5", "1e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseFloat([]byte(s))
		want, err := strconv.ParseFloat(s, 64)
		if !ok {
			return // text Gyre keeps as text (hex, underscores, out of range) is fine
		}
		if err != nil {
			t.Fatalf("parseFloat(%q) = %v, but strconv refuses it: %v", s, got, err)
		}
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("parseFloat(%q) = %v, strconv gives %v", s, got, want)
		}
	})
}

// TestPowTable checks that eisel_table.go is what gen_eisel_table.go
// writes (the powers recomputed with math/big).
func TestPowTable(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator")
	}
	out := filepath.Join(t.TempDir(), "table.go")
	cmd := exec.Command("go", "run", "gen_eisel_table.go", "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run gen_eisel_table.go: %v\n%s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("eisel_table.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("eisel_table.go is stale: run go generate in internal/ingest")
	}
}
