package modelimport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// decodeUBJSON decodes a Universal Binary JSON value (the format XGBoost's
// save_model writes for .ubj files) into the values encoding/json gives for
// JSON: map[string]any, []any, string, bool, nil and numbers as float64.
// Strongly typed numeric arrays ([$d#L...], XGBoost's float and int
// arrays) become []float64. Every length is checked against the input, so
// a truncated or corrupted file is an error, never a panic or a huge
// allocation.
func decodeUBJSON(b []byte) (any, error) {
	d := &ubjDecoder{b: b}
	v, err := d.value(d.byte(), 0)
	if err == nil && d.err != nil {
		err = d.err
	}
	if err != nil {
		return nil, fmt.Errorf("ubjson: at byte %d: %w", d.off, err)
	}
	if d.off != len(b) {
		return nil, fmt.Errorf("ubjson: %d bytes after the value", len(b)-d.off)
	}
	return v, nil
}

type ubjDecoder struct {
	b   []byte
	off int
	err error
}

var errUBJTruncated = errors.New("truncated")

func (d *ubjDecoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b)-d.off {
		d.err = errUBJTruncated
		return nil
	}
	s := d.b[d.off : d.off+n]
	d.off += n
	return s
}

func (d *ubjDecoder) byte() byte {
	s := d.take(1)
	if s == nil {
		return 0
	}
	return s[0]
}

func (d *ubjDecoder) peek() byte {
	if d.err != nil || d.off >= len(d.b) {
		return 0
	}
	return d.b[d.off]
}

// number reads a numeric value of the given marker.
func (d *ubjDecoder) number(m byte) (float64, bool) {
	switch m {
	case 'i':
		return float64(int8(d.byte())), true
	case 'U':
		return float64(d.byte()), true
	case 'I':
		if s := d.take(2); s != nil {
			return float64(int16(binary.BigEndian.Uint16(s))), true
		}
		return 0, true
	case 'l':
		if s := d.take(4); s != nil {
			return float64(int32(binary.BigEndian.Uint32(s))), true
		}
		return 0, true
	case 'L':
		if s := d.take(8); s != nil {
			return float64(int64(binary.BigEndian.Uint64(s))), true
		}
		return 0, true
	case 'd':
		if s := d.take(4); s != nil {
			return float64(math.Float32frombits(binary.BigEndian.Uint32(s))), true
		}
		return 0, true
	case 'D':
		if s := d.take(8); s != nil {
			return math.Float64frombits(binary.BigEndian.Uint64(s)), true
		}
		return 0, true
	}
	return 0, false
}

// size reads a length (an integer value with its marker).
func (d *ubjDecoder) size() (int, error) {
	m := d.byte()
	v, ok := d.number(m)
	if !ok || m == 'd' || m == 'D' {
		return 0, fmt.Errorf("length has marker %q, want an integer", m)
	}
	if d.err != nil {
		return 0, d.err
	}
	if v < 0 || v > float64(len(d.b)) {
		return 0, fmt.Errorf("length %v exceeds the input", v)
	}
	return int(v), nil
}

func (d *ubjDecoder) str() (string, error) {
	n, err := d.size()
	if err != nil {
		return "", err
	}
	s := d.take(n)
	return string(s), d.err
}

func (d *ubjDecoder) value(m byte, depth int) (any, error) {
	if d.err != nil {
		return nil, d.err
	}
	if depth > 512 {
		return nil, errors.New("nesting deeper than 512")
	}
	if v, ok := d.number(m); ok {
		return v, d.err
	}
	switch m {
	case 'Z':
		return nil, nil
	case 'T':
		return true, nil
	case 'F':
		return false, nil
	case 'C':
		return string(rune(d.byte())), d.err
	case 'S', 'H':
		return d.str()
	case '[':
		return d.array(depth)
	case '{':
		return d.object(depth)
	}
	return nil, fmt.Errorf("unknown marker %q", m)
}

// container reads an optional $type and #count after [ or {.
func (d *ubjDecoder) container() (typ byte, count int, err error) {
	count = -1
	if d.peek() == '$' {
		d.off++
		typ = d.byte()
		if d.peek() != '#' {
			return 0, 0, errors.New("typed container without a count")
		}
	}
	if d.peek() == '#' {
		d.off++
		if count, err = d.size(); err != nil {
			return 0, 0, err
		}
	}
	return typ, count, d.err
}

func (d *ubjDecoder) array(depth int) (any, error) {
	typ, count, err := d.container()
	if err != nil {
		return nil, err
	}
	switch typ {
	case 'i', 'U', 'I', 'l', 'L', 'd', 'D':
		width := map[byte]int{'i': 1, 'U': 1, 'I': 2, 'l': 4, 'L': 8, 'd': 4, 'D': 8}[typ]
		if count > (len(d.b)-d.off)/width {
			return nil, fmt.Errorf("array of %d values exceeds the input", count)
		}
		out := make([]float64, count)
		for i := range out {
			out[i], _ = d.number(typ)
		}
		return out, d.err
	}
	var out []any
	if count >= 0 {
		if count > len(d.b)-d.off && typ == 0 {
			return nil, fmt.Errorf("array of %d values exceeds the input", count)
		}
		out = make([]any, 0, min(count, 1<<16))
	}
	for i := 0; count < 0 || i < count; i++ {
		m := typ
		if m == 0 {
			m = d.byte()
			if count < 0 && m == ']' {
				break
			}
		}
		v, err := d.value(m, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if out == nil {
		out = []any{}
	}
	return out, d.err
}

func (d *ubjDecoder) object(depth int) (any, error) {
	typ, count, err := d.container()
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for i := 0; count < 0 || i < count; i++ {
		if count < 0 && d.peek() == '}' {
			d.off++
			break
		}
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		m := typ
		if m == 0 {
			m = d.byte()
		}
		v, err := d.value(m, depth+1)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", k, err)
		}
		out[k] = v
	}
	return out, d.err
}
