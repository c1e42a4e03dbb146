package ingest

import (
	"math"
	"strconv"
	"time"
	"unsafe"

	"github.com/gyre-ml/gyre/internal/frame"
)

// DefaultMissing are the tokens read as missing when Options.Missing is nil.
var DefaultMissing = []string{"", "NA", "N/A", "NaN", "null", "?"}

// missingSet matches missing-value tokens case-insensitively.
type missingSet struct {
	tokens [][]byte // lower-cased, non-empty
	maxLen int
	first  [256]bool // first bytes of tokens, both cases
}

func newMissingSet(tokens []string) missingSet {
	if tokens == nil {
		tokens = DefaultMissing
	}
	var m missingSet
	for _, t := range tokens {
		if t == "" {
			continue
		}
		b := []byte(t)
		for i, c := range b {
			b[i] = lower(c)
		}
		m.tokens = append(m.tokens, b)
		m.first[b[0]] = true
		if 'a' <= b[0] && b[0] <= 'z' {
			m.first[b[0]-'a'+'A'] = true
		}
		if len(b) > m.maxLen {
			m.maxLen = len(b)
		}
	}
	return m
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// is reports whether b is a missing token. Empty is always missing.
func (m *missingSet) is(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	if len(b) > m.maxLen || !m.first[b[0]] {
		return false
	}
outer:
	for _, t := range m.tokens {
		if len(t) != len(b) {
			continue
		}
		for i, c := range b {
			if lower(c) != t[i] {
				continue outer
			}
		}
		return true
	}
	return false
}

// isString reports whether a string is a missing token.
func (m *missingSet) isString(s string) bool {
	return m.is(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// Candidate type bits: a column keeps the bits every one of its values fits.
const (
	cInt uint32 = 1 << iota
	cFloat
	cBool
	cTime0 // first time layout; layout k is bit cTime0<<k
)

// timeLayouts are the timestamp formats inferred, in order of preference.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006/01/02",
	"01/02/2006",
	"01/02/2006 15:04:05",
}

var (
	cTimeAll = (cTime0<<uint32(len(timeLayouts)) - 1) &^ (cTime0 - 1)
	cAll     = cInt | cFloat | cBool | cTimeAll
)

// bstr views b as a string without copying; the result must not outlive b's
// contents.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// trimSpace trims ASCII spaces and tabs.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// classify returns the subset of mask that the (non-missing) value fits.
func classify(b []byte, mask uint32) uint32 {
	b = trimSpace(b)
	if len(b) == 0 {
		return 0
	}
	if mask&(cInt|cFloat) != 0 {
		if c := b[0]; isDigit(c) || c == '-' || c == '+' || c == '.' || c == 'i' || c == 'I' {
			if isIntText(b) {
				if _, ok := parseInt(b); ok {
					return mask & (cInt | cFloat)
				}
			}
			if mask&cFloat != 0 {
				if _, ok := parseFloat(b); ok {
					return cFloat
				}
			}
		}
	}
	if mask&cBool != 0 {
		if _, ok := parseBool(b); ok {
			return cBool
		}
	}
	if mask&cTimeAll != 0 && looksLikeTime(b) {
		var out uint32
		for k := range timeLayouts {
			bit := cTime0 << uint32(k)
			if mask&bit == 0 {
				continue
			}
			if tm, err := time.Parse(timeLayouts[k], bstr(b)); err == nil && inNanoRange(tm) {
				out |= bit
			}
		}
		return out
	}
	return 0
}

// inNanoRange reports whether t fits int64 Unix nanoseconds (years 1678 to
// 2261, with a day's margin).
func inNanoRange(t time.Time) bool {
	y := t.UTC().Year()
	return y > 1678 && y < 2262
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func looksLikeTime(b []byte) bool {
	if len(b) < 8 || len(b) > 40 || !isDigit(b[0]) {
		return false
	}
	return (len(b) > 4 && (b[4] == '-' || b[4] == '/')) || b[2] == '/'
}

// isIntText reports whether b is a sign and digits only (cheap pre-check
// that keeps float text from being scanned twice).
func isIntText(b []byte) bool {
	i := 0
	if b[0] == '-' || b[0] == '+' {
		i = 1
	}
	if i == len(b) {
		return false
	}
	for ; i < len(b); i++ {
		if !isDigit(b[i]) {
			return false
		}
	}
	return true
}

// sign reads an optional leading sign: whether it is a minus, and where
// the digits start.
func sign(b []byte) (neg bool, i int) {
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		return b[0] == '-', 1
	}
	return false, 0
}

// parseInt parses an optionally signed decimal integer that fits int64.
func parseInt(b []byte) (int64, bool) {
	neg, i := sign(b)
	if i == len(b) {
		return 0, false
	}
	if len(b)-i > 18 {
		v, err := strconv.ParseInt(bstr(b), 10, 64)
		return v, err == nil
	}
	var v int64
	for ; i < len(b); i++ {
		c := b[i]
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat parses a decimal float. Simple decimals whose digits fit a
// float64 mantissa take an exact fast path (Clinger); everything else goes
// through strconv. Hex floats and underscores are rejected; inf and infinity
// (any case, signed) are accepted.
func parseFloat(b []byte) (float64, bool) {
	neg, i := sign(b)
	if i == len(b) {
		return 0, false
	}
	c0 := b[i]
	if !isDigit(c0) && c0 != '.' {
		if c0 == 'i' || c0 == 'I' {
			v, err := strconv.ParseFloat(bstr(b), 64)
			return v, err == nil && math.IsInf(v, 0)
		}
		return 0, false
	}
	// Integer digits, then fraction digits, each in a tight loop.
	var mant uint64
	intStart := i
	for i < len(b) && b[i]-'0' < 10 {
		mant = mant*10 + uint64(b[i]-'0')
		i++
	}
	nd := i - intStart
	frac := 0
	if i < len(b) && b[i] == '.' {
		i++
		fracStart := i
		for i < len(b) && b[i]-'0' < 10 {
			mant = mant*10 + uint64(b[i]-'0')
			i++
		}
		frac = i - fracStart
		nd += frac
	}
	if nd == 0 {
		return 0, false
	}
	exp10 := -frac
	if i < len(b) {
		c := b[i]
		if c != 'e' && c != 'E' {
			return 0, false
		}
		e, ok := parseExponent(b[i+1:])
		if !ok {
			return 0, false
		}
		exp10 += e
	}
	if nd > 19 && significantDigits(b[intStart:]) > 19 {
		return slowFloat(b) // the mantissa overflowed uint64
	}
	// Exact when the digits fit a float64 mantissa and the scale is an
	// exact power of ten (Clinger's fast path).
	if mant <= 1<<53 && exp10 <= 0 && exp10 >= -22 {
		v := float64(mant) / pow10[-exp10]
		if neg {
			v = -v
		}
		return v, true
	}
	if v, ok := eiselLemire(mant, exp10, neg); ok {
		return v, true
	}
	return slowFloat(b)
}

// parseExponent parses the digits after 'e': an optional sign and 1 to 4
// digits (larger exponents are out of range for any float64 and go to
// strconv through a value past the power table).
func parseExponent(b []byte) (int, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	e := 0
	for _, c := range b {
		if c-'0' >= 10 {
			return 0, false
		}
		if e < 100000 {
			e = e*10 + int(c-'0')
		}
	}
	if neg {
		e = -e
	}
	return e, true
}

// significantDigits counts the digits of a decimal's mantissa after its
// leading zeros (b starts at the first digit or the point).
func significantDigits(b []byte) int {
	n, lead := 0, true
	for _, c := range b {
		if c == '.' {
			continue
		}
		if c-'0' >= 10 {
			break
		}
		if lead && c == '0' {
			continue
		}
		lead = false
		n++
	}
	return n
}

func slowFloat(b []byte) (float64, bool) {
	for _, c := range b {
		if c == '_' || c == 'x' || c == 'X' || c == 'p' || c == 'P' {
			return 0, false
		}
	}
	v, err := strconv.ParseFloat(bstr(b), 64)
	if err != nil {
		// Out of range values parse to ±Inf with ErrRange: keep them as text.
		return 0, false
	}
	return v, true
}

func parseBool(b []byte) (bool, bool) {
	switch len(b) {
	case 4:
		if (b[0]|0x20) == 't' && (b[1]|0x20) == 'r' && (b[2]|0x20) == 'u' && (b[3]|0x20) == 'e' {
			return true, true
		}
	case 5:
		if (b[0]|0x20) == 'f' && (b[1]|0x20) == 'a' && (b[2]|0x20) == 'l' && (b[3]|0x20) == 's' && (b[4]|0x20) == 'e' {
			return false, true
		}
	}
	return false, false
}

// kindOfMask turns a column's surviving candidate bits into a kind and, for
// time, the layout index. KindInvalid means text.
func kindOfMask(m uint32) (frame.Kind, int) {
	switch {
	case m&cInt != 0:
		return frame.KindInt, 0
	case m&cFloat != 0:
		return frame.KindFloat, 0
	case m&cBool != 0:
		return frame.KindBool, 0
	case m&cTimeAll != 0:
		for k := range timeLayouts {
			if m&(cTime0<<uint32(k)) != 0 {
				return frame.KindTime, k
			}
		}
	}
	return frame.KindInvalid, 0
}

// maskOfKind is the candidate mask a declared kind imposes.
func maskOfKind(k frame.Kind) uint32 {
	switch k {
	case frame.KindInt:
		return cInt
	case frame.KindFloat:
		return cInt | cFloat
	case frame.KindBool:
		return cBool
	case frame.KindTime:
		return cTimeAll
	}
	return 0
}
