package gbdt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/gyre-ml/gyre/internal/learn"
)

// Binary format (little endian): magic "GYGB", version u16, then the model
// fields, then a CRC-32 (IEEE) of everything before it. Every length is
// checked on decode, so truncated or corrupted input fails cleanly.
const (
	codecMagic   = "GYGB"
	codecVersion = 1
	maxDecodeLen = 1 << 28
)

type enc struct{ b []byte }

func (e *enc) u8(v uint8)    { e.b = append(e.b, v) }
func (e *enc) u32(v uint32)  { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *enc) i32(v int32)   { e.u32(uint32(v)) }
func (e *enc) f64(v float64) { e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(v)) }
func (e *enc) str(s string)  { e.u32(uint32(len(s))); e.b = append(e.b, s...) }
func (e *enc) f64s(v []float64) {
	e.u32(uint32(len(v)))
	for _, x := range v {
		e.f64(x)
	}
}
func (e *enc) i32s(v []int32) {
	e.u32(uint32(len(v)))
	for _, x := range v {
		e.i32(x)
	}
}

// MarshalBinary encodes the model exactly (all floats bit for bit).
func (m *Model) MarshalBinary() ([]byte, error) {
	e := &enc{b: make([]byte, 0, 1024)}
	e.b = append(e.b, codecMagic...)
	e.b = binary.LittleEndian.AppendUint16(e.b, codecVersion)
	e.u8(uint8(m.task))
	e.str(m.objective)
	e.u32(uint32(m.k))
	e.u32(uint32(len(m.classes)))
	for _, c := range m.classes {
		e.str(c)
	}
	e.u32(uint32(len(m.features)))
	for _, f := range m.features {
		e.str(f.Name)
		if f.Categorical {
			e.u8(1)
		} else {
			e.u8(0)
		}
		e.u32(uint32(len(f.Levels)))
		for _, lv := range f.Levels {
			e.str(lv)
		}
	}
	e.f64s(m.base)
	e.u32(uint32(len(m.trees)))
	for _, t := range m.trees {
		e.i32s(t.Feature)
		e.f64s(t.Threshold)
		e.i32s(t.Left)
		e.i32s(t.Right)
		e.u32(uint32(len(t.Flags)))
		e.b = append(e.b, t.Flags...)
		e.i32s(t.CatStart)
		e.i32s(t.CatLen)
		e.u32(uint32(len(t.CatBits)))
		for _, w := range t.CatBits {
			e.u32(w)
		}
		e.f64s(t.Gain)
		e.f64s(t.Cover)
		e.f64s(t.Value)
		e.f64s(t.LeafCover)
	}
	e.u32(crc32.ChecksumIEEE(e.b))
	return e.b, nil
}

type dec struct {
	b   []byte
	off int
	err error
}

var errTruncated = errors.New("truncated model data")

func (d *dec) need(n int) bool {
	if d.err != nil {
		return false
	}
	if n < 0 || d.off+n > len(d.b) {
		d.err = errTruncated
		return false
	}
	return true
}
func (d *dec) u8() uint8 {
	if !d.need(1) {
		return 0
	}
	d.off++
	return d.b[d.off-1]
}
func (d *dec) u32() uint32 {
	if !d.need(4) {
		return 0
	}
	d.off += 4
	return binary.LittleEndian.Uint32(d.b[d.off-4:])
}
func (d *dec) f64() float64 {
	if !d.need(8) {
		return 0
	}
	d.off += 8
	return math.Float64frombits(binary.LittleEndian.Uint64(d.b[d.off-8:]))
}

// count reads a length and checks that at least size×length bytes remain.
func (d *dec) count(size int) int {
	n := int(d.u32())
	if d.err == nil && (n > maxDecodeLen || !d.need(n*size)) {
		d.err = errTruncated
		return 0
	}
	return n
}
func (d *dec) str() string {
	n := d.count(1)
	if d.err != nil {
		return ""
	}
	s := string(d.b[d.off : d.off+n])
	d.off += n
	return s
}
func (d *dec) f64s() []float64 {
	n := d.count(8)
	out := make([]float64, n)
	for i := range out {
		out[i] = d.f64()
	}
	return out
}
func (d *dec) i32s() []int32 {
	n := d.count(4)
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(d.u32())
	}
	return out
}

// Decode rebuilds a model from MarshalBinary output, checking its checksum
// and structure.
func Decode(data []byte) (*Model, error) {
	if len(data) < len(codecMagic)+2+4 || string(data[:4]) != codecMagic {
		return nil, errors.New("gbdt decode: not a gbdt model (bad magic or too short)")
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, errors.New("gbdt decode: checksum mismatch (truncated or corrupted model data)")
	}
	if v := binary.LittleEndian.Uint16(body[4:]); v != codecVersion {
		return nil, fmt.Errorf("gbdt decode: format version %d, this build reads version %d", v, codecVersion)
	}
	d := &dec{b: body, off: 6}
	m := &Model{}
	m.task = learn.Task(d.u8())
	m.objective = d.str()
	m.k = int(d.u32())
	nc := d.count(4)
	for range nc {
		m.classes = append(m.classes, d.str())
	}
	nf := d.count(9)
	for range nf {
		f := learn.Feature{Name: d.str(), Categorical: d.u8() == 1}
		nl := d.count(4)
		for range nl {
			f.Levels = append(f.Levels, d.str())
		}
		m.features = append(m.features, f)
	}
	m.base = d.f64s()
	nt := d.count(4)
	for range nt {
		t := &tree{}
		t.Feature = d.i32s()
		t.Threshold = d.f64s()
		t.Left = d.i32s()
		t.Right = d.i32s()
		n := d.count(1)
		if d.err == nil {
			t.Flags = append([]uint8(nil), d.b[d.off:d.off+n]...)
			d.off += n
		}
		t.CatStart = d.i32s()
		t.CatLen = d.i32s()
		nw := d.count(4)
		t.CatBits = make([]uint32, nw)
		for i := range t.CatBits {
			t.CatBits[i] = d.u32()
		}
		t.Gain = d.f64s()
		t.Cover = d.f64s()
		t.Value = d.f64s()
		t.LeafCover = d.f64s()
		m.trees = append(m.trees, t)
	}
	if d.err != nil {
		return nil, fmt.Errorf("gbdt decode: %w", d.err)
	}
	if d.off != len(body) {
		return nil, fmt.Errorf("gbdt decode: %d unexpected trailing bytes", len(body)-d.off)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("gbdt decode: %w", err)
	}
	m.init()
	return m, nil
}

// check validates the structure of a decoded model.
func (m *Model) check() error {
	switch {
	case m.task != learn.Regression && m.task != learn.Binary && m.task != learn.Multiclass:
		return fmt.Errorf("invalid task %d", m.task)
	case m.k < 1 || len(m.base) != m.k:
		return fmt.Errorf("%d outputs with %d base scores", m.k, len(m.base))
	case len(m.trees)%m.k != 0:
		return fmt.Errorf("%d trees is not a multiple of %d outputs", len(m.trees), m.k)
	}
	p := len(m.features)
	for ti, t := range m.trees {
		ni := len(t.Feature)
		if len(t.Threshold) != ni || len(t.Left) != ni || len(t.Right) != ni || len(t.Flags) != ni ||
			len(t.CatStart) != ni || len(t.CatLen) != ni || len(t.Gain) != ni || len(t.Cover) != ni {
			return fmt.Errorf("tree %d: node arrays of different lengths", ti)
		}
		nl := len(t.Value)
		if nl != ni+1 || len(t.LeafCover) != nl {
			return fmt.Errorf("tree %d: %d leaves for %d internal nodes", ti, nl, ni)
		}
		for i := range ni {
			if f := t.Feature[i]; f < 0 || int(f) >= p {
				return fmt.Errorf("tree %d node %d: feature %d out of range", ti, i, f)
			}
			for _, c := range []int32{t.Left[i], t.Right[i]} {
				if (c >= 0 && (int(c) <= i || int(c) >= ni)) || (c < 0 && int(^c) >= nl) {
					return fmt.Errorf("tree %d node %d: child %d out of range", ti, i, c)
				}
			}
			if t.Flags[i]&flagCategorical != 0 {
				if t.CatStart[i] < 0 || t.CatLen[i] < 0 || int(t.CatStart[i])+int(t.CatLen[i]) > len(t.CatBits) {
					return fmt.Errorf("tree %d node %d: category bitset out of range", ti, i)
				}
			}
		}
	}
	return nil
}
