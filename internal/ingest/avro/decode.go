package avro

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"unicode/utf8"

	"github.com/gyre-ml/gyre/internal/ingest/binnum"
	"github.com/gyre-ml/gyre/internal/ingest/docframe"
)

// ErrData is wrapped by errors about Avro binary data that does not match
// its schema: cut short, a bad length, a union or enum index out of range.
var ErrData = errors.New("bad Avro data")

// decoder reads one datum from a byte slice.
type decoder struct {
	b    []byte
	i    int
	name []byte // scratch: the current column name
}

func (d *decoder) fail(what string) error {
	return fmt.Errorf("%w: %s at byte %d", ErrData, what, d.i)
}

func (d *decoder) long() (int64, error) {
	var u uint64
	for shift := uint(0); ; shift += 7 {
		if d.i >= len(d.b) {
			return 0, d.fail("a number cut short")
		}
		if shift >= 64 {
			return 0, d.fail("a number longer than 10 bytes")
		}
		c := d.b[d.i]
		d.i++
		u |= uint64(c&0x7f) << shift
		if c < 0x80 {
			break
		}
	}
	return int64(u>>1) ^ -int64(u&1), nil
}

func (d *decoder) int() (int64, error) {
	v, err := d.long()
	if err == nil && (v > math.MaxInt32 || v < math.MinInt32) {
		return 0, d.fail("an int out of 32-bit range")
	}
	return v, err
}

// take returns the next n bytes.
func (d *decoder) take(n int64) ([]byte, error) {
	if n < 0 || n > int64(len(d.b)-d.i) {
		return nil, d.fail(fmt.Sprintf("a length of %d with %d bytes left", n, len(d.b)-d.i))
	}
	out := d.b[d.i : d.i+int(n)]
	d.i += int(n)
	return out, nil
}

func (d *decoder) bytes() ([]byte, error) {
	n, err := d.long()
	if err != nil {
		return nil, err
	}
	return d.take(n)
}

// Decode reads one datum of schema s from data into b as one row: a
// record's fields are columns (nested records flattened to "a.b"), any
// other schema one column named "value". It returns the bytes after the
// datum. On error the row is dropped.
func (s *Schema) Decode(data []byte, b *docframe.Builder) (rest []byte, err error) {
	d := &decoder{b: data}
	b.StartRow()
	if s.kind == kRecord {
		err = d.record(s, nil, b, 0)
	} else {
		err = d.value(s, []byte("value"), b, 0)
	}
	if err != nil {
		b.DropRow()
		return nil, err
	}
	return data[d.i:], nil
}

// DecodeOne reads one datum that must fill data exactly (a message).
func (s *Schema) DecodeOne(data []byte, b *docframe.Builder) error {
	rest, err := s.Decode(data, b)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		b.DropRow()
		return fmt.Errorf("%w: %d bytes after the datum (a different schema?)", ErrData, len(rest))
	}
	return nil
}

func (d *decoder) record(s *Schema, prefix []byte, b *docframe.Builder, depth int) error {
	for _, f := range s.fields {
		name := append(append([]byte{}, prefix...), f.column...)
		if f.typ.kind == kRecord && !f.typ.recursive && depth < 32 {
			if err := d.record(f.typ, append(name, '.'), b, depth+1); err != nil {
				return err
			}
			continue
		}
		if err := d.value(f.typ, name, b, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// integer reads an int or a long.
func (d *decoder) integer(s *Schema) (int64, error) {
	if s.kind == kInt {
		return d.int()
	}
	return d.long()
}

// float reads a float (4 bytes) or a double (8 bytes), little-endian.
func (d *decoder) float(s *Schema) (float64, error) {
	if s.kind == kFloat {
		v, err := d.take(4)
		if err != nil {
			return 0, err
		}
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(v))), nil
	}
	v, err := d.take(8)
	if err != nil {
		return 0, err
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(v)), nil
}

// raw reads a bytes value (length first) or a fixed of the schema's size.
func (d *decoder) raw(s *Schema) ([]byte, error) {
	if s.kind == kBytes {
		return d.bytes()
	}
	return d.take(int64(s.size))
}

// value reads one value into column name.
func (d *decoder) value(s *Schema, name []byte, b *docframe.Builder, depth int) error {
	if depth > 512 {
		return d.fail("values nested more than 512 deep")
	}
	switch s.kind {
	case kNull:
		b.Null(name)
		return nil
	case kBoolean:
		v, err := d.take(1)
		if err != nil {
			return err
		}
		if v[0] > 1 {
			return d.fail("a boolean that is not 0 or 1")
		}
		return b.Bool(name, v[0] == 1)
	case kInt, kLong:
		v, err := d.integer(s)
		if err != nil {
			return err
		}
		if ns, ok, err := timeOf(s.logical, v); ok {
			if err != nil {
				return d.fail(err.Error())
			}
			return b.Time(name, ns)
		}
		return b.Int(name, v)
	case kFloat, kDouble:
		v, err := d.float(s)
		if err != nil {
			return err
		}
		return b.Float(name, v)
	case kBytes, kFixed:
		v, err := d.raw(s)
		if err != nil {
			return err
		}
		switch s.logical {
		case "decimal":
			return b.Float(name, decimal(v, s.scale))
		case "uuid":
			if len(v) == 16 {
				return b.String(name, []byte(fmt.Sprintf("%x-%x-%x-%x-%x", v[0:4], v[4:6], v[6:8], v[8:10], v[10:16])))
			}
		}
		return b.String(name, []byte(base64.StdEncoding.EncodeToString(v)))
	case kString:
		v, err := d.bytes()
		if err != nil {
			return err
		}
		if !utf8.Valid(v) {
			return d.fail("a string that is not UTF-8")
		}
		return b.String(name, v)
	case kEnum:
		i, err := d.int()
		if err != nil {
			return err
		}
		if i < 0 || int(i) >= len(s.symbols) {
			return d.fail(fmt.Sprintf("enum %s index %d of %d symbols", s.name, i, len(s.symbols)))
		}
		return b.String(name, []byte(s.symbols[i]))
	case kUnion:
		i, err := d.long()
		if err != nil {
			return err
		}
		if i < 0 || int(i) >= len(s.branches) {
			return d.fail(fmt.Sprintf("union branch %d of %d", i, len(s.branches)))
		}
		br := s.branches[i]
		if br.kind == kNull {
			if !s.recordBranch() {
				b.Null(name)
			}
			return nil
		}
		if br.kind == kRecord && !br.recursive && depth < 32 {
			return d.record(br, append(append([]byte{}, name...), '.'), b, depth+1)
		}
		return d.value(br, name, b, depth+1)
	}
	// Arrays, maps and records that contain themselves: JSON text.
	v, err := d.generic(s, depth)
	if err != nil {
		return err
	}
	return b.JSON(name, v)
}

// recordBranch reports whether a union has a record branch (whose columns
// a null leaves missing).
func (s *Schema) recordBranch() bool {
	for _, b := range s.branches {
		if b.kind == kRecord && !b.recursive {
			return true
		}
	}
	return false
}

// timeOf converts an int or long with a time logical type to Unix
// nanoseconds; ok is false for other values.
func timeOf(logical string, v int64) (ns int64, ok bool, err error) {
	var mult int64
	switch logical {
	case "date":
		mult = 86400e9
	case "timestamp-millis", "local-timestamp-millis":
		mult = 1e6
	case "timestamp-micros", "local-timestamp-micros":
		mult = 1e3
	case "timestamp-nanos", "local-timestamp-nanos":
		mult = 1
	default:
		return 0, false, nil
	}
	if v > math.MaxInt64/mult || v < math.MinInt64/mult {
		return 0, true, fmt.Errorf("%s value %d is outside the years 1678-2262", logical, v)
	}
	return v * mult, true, nil
}

// decimal converts a big-endian two's-complement unscaled value.
func decimal(v []byte, scale int) float64 {
	f, _ := new(big.Float).Quo(new(big.Float).SetInt(binnum.BigEndian(v)), new(big.Float).SetFloat64(math.Pow10(scale))).Float64()
	return f
}

// generic decodes a value into Go values for JSON text.
func (d *decoder) generic(s *Schema, depth int) (any, error) {
	if depth > 512 {
		return nil, d.fail("values nested more than 512 deep")
	}
	switch s.kind {
	case kNull:
		return nil, nil
	case kBoolean:
		v, err := d.take(1)
		if err != nil {
			return nil, err
		}
		return v[0] == 1, nil
	case kInt, kLong:
		return d.integer(s)
	case kFloat, kDouble:
		v, err := d.float(s)
		if err != nil {
			return nil, err
		}
		return jsonFloat(v), nil
	case kBytes, kFixed:
		v, err := d.raw(s)
		if err != nil {
			return nil, err
		}
		if s.logical == "decimal" {
			return decimal(v, s.scale), nil
		}
		return base64.StdEncoding.EncodeToString(v), nil
	case kString:
		v, err := d.bytes()
		if err != nil {
			return nil, err
		}
		return string(v), nil
	case kEnum:
		i, err := d.int()
		if err != nil {
			return nil, err
		}
		if i < 0 || int(i) >= len(s.symbols) {
			return nil, d.fail("enum index out of range")
		}
		return s.symbols[i], nil
	case kUnion:
		i, err := d.long()
		if err != nil {
			return nil, err
		}
		if i < 0 || int(i) >= len(s.branches) {
			return nil, d.fail("union branch out of range")
		}
		return d.generic(s.branches[i], depth+1)
	case kRecord:
		m := make(map[string]any, len(s.fields))
		for _, f := range s.fields {
			v, err := d.generic(f.typ, depth+1)
			if err != nil {
				return nil, err
			}
			m[f.column] = v
		}
		return m, nil
	}
	// Arrays and maps: blocks of items, a negative count followed by the
	// block's byte size, a zero count at the end.
	var arr []any
	m := map[string]any{}
	for {
		n, err := d.long()
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
		if n < 0 {
			if n == math.MinInt64 {
				return nil, d.fail("a bad block count")
			}
			n = -n
			if _, err := d.long(); err != nil {
				return nil, err
			}
		}
		if n > int64(len(d.b)-d.i) && n > 1<<20 { // items take a byte or more, but for nulls and empty records
			return nil, d.fail(fmt.Sprintf("a block of %d items with %d bytes left", n, len(d.b)-d.i))
		}
		for k := int64(0); k < n; k++ {
			var key []byte
			if s.kind == kMap {
				if key, err = d.bytes(); err != nil {
					return nil, err
				}
			}
			v, err := d.generic(s.items, depth+1)
			if err != nil {
				return nil, err
			}
			if s.kind == kMap {
				m[string(key)] = v
			} else {
				arr = append(arr, v)
			}
		}
	}
	if s.kind == kMap {
		return m, nil
	}
	if arr == nil {
		arr = []any{}
	}
	return arr, nil
}

// jsonFloat keeps NaN and infinities out of JSON text (as null).
func jsonFloat(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return f
}
