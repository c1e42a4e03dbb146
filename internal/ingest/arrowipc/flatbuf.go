package arrowipc

import (
	"encoding/binary"
	"errors"
	"math"
)

// This file is a small, bounds-checked reader of FlatBuffers tables, enough
// for Arrow's metadata (Schema.fbs, Message.fbs, File.fbs): scalar fields
// with defaults, strings, tables, unions, vectors of tables and vectors of
// structs. Every access checks its bounds; a malformed buffer sets the
// buffer's error (checked once a message is parsed) and reads as zero, so a
// corrupt file is an error, never a panic.

// errFlatbuf is the cause of every malformed-metadata error.
var errFlatbuf = errors.New("malformed flatbuffer metadata")

// fbuf is a FlatBuffers byte buffer with a sticky error.
type fbuf struct {
	b   []byte
	bad bool
}

// table is a FlatBuffers table: its buffer and the table's position.
type table struct {
	fb  *fbuf
	pos int
	vt  int // vtable position
	vtn int // vtable size in bytes
}

// ok reports whether n bytes at off lie inside the buffer, marking the
// buffer bad when they do not.
func (f *fbuf) ok(off, n int) bool {
	if off < 0 || n < 0 || off > len(f.b) || n > len(f.b)-off {
		f.bad = true
		return false
	}
	return true
}

func (f *fbuf) u8(off int) uint8 {
	if !f.ok(off, 1) {
		return 0
	}
	return f.b[off]
}

func (f *fbuf) u16(off int) uint16 {
	if !f.ok(off, 2) {
		return 0
	}
	return binary.LittleEndian.Uint16(f.b[off:])
}

func (f *fbuf) u32(off int) uint32 {
	if !f.ok(off, 4) {
		return 0
	}
	return binary.LittleEndian.Uint32(f.b[off:])
}

func (f *fbuf) u64(off int) uint64 {
	if !f.ok(off, 8) {
		return 0
	}
	return binary.LittleEndian.Uint64(f.b[off:])
}

// root returns the buffer's root table.
func (f *fbuf) root() table {
	return f.tableAt(int(f.u32(0)))
}

// tableAt returns the table at pos, reading its vtable.
func (f *fbuf) tableAt(pos int) table {
	t := table{fb: f, pos: pos}
	if !f.ok(pos, 4) {
		return t
	}
	vt := int64(pos) - int64(int32(f.u32(pos)))
	if vt < 0 || vt > math.MaxInt32 || !f.ok(int(vt), 4) {
		f.bad = true
		return t
	}
	t.vt = int(vt)
	t.vtn = int(f.u16(t.vt))
	if t.vtn < 4 || t.vtn&1 != 0 || !f.ok(t.vt, t.vtn) {
		f.bad = true
		t.vtn = 0
	}
	return t
}

// field returns the absolute position of field i, or 0 when it is absent.
func (t table) field(i int) int {
	o := 4 + 2*i
	if t.vtn == 0 || o+2 > t.vtn {
		return 0
	}
	rel := int(t.fb.u16(t.vt + o))
	if rel == 0 {
		return 0
	}
	return t.pos + rel
}

func (t table) bool(i int, def bool) bool {
	p := t.field(i)
	if p == 0 {
		return def
	}
	return t.fb.u8(p) != 0
}

func (t table) u8(i int, def uint8) uint8 {
	p := t.field(i)
	if p == 0 {
		return def
	}
	return t.fb.u8(p)
}

func (t table) i16(i int, def int16) int16 {
	p := t.field(i)
	if p == 0 {
		return def
	}
	return int16(t.fb.u16(p))
}

func (t table) i32(i int, def int32) int32 {
	p := t.field(i)
	if p == 0 {
		return def
	}
	return int32(t.fb.u32(p))
}

func (t table) i64(i int, def int64) int64 {
	p := t.field(i)
	if p == 0 {
		return def
	}
	return int64(t.fb.u64(p))
}

// indirect follows the offset stored at p.
func (t table) indirect(p int) int {
	return p + int(t.fb.u32(p))
}

// table returns field i as a table; ok is false when it is absent.
func (t table) table(i int) (table, bool) {
	p := t.field(i)
	if p == 0 {
		return table{fb: t.fb}, false
	}
	return t.fb.tableAt(t.indirect(p)), true
}

// str returns field i as a string, "" when absent.
func (t table) str(i int) string {
	p := t.field(i)
	if p == 0 {
		return ""
	}
	s := t.indirect(p)
	n := int(t.fb.u32(s))
	if !t.fb.ok(s+4, n) {
		return ""
	}
	return string(t.fb.b[s+4 : s+4+n])
}

// vector returns the position of field i's first element and the
// element count; n is 0 when the field is absent.
func (t table) vector(i int, elem int) (start, n int) {
	p := t.field(i)
	if p == 0 {
		return 0, 0
	}
	v := t.indirect(p)
	n = int(t.fb.u32(v))
	if n < 0 || elem > 0 && n > (len(t.fb.b)-v-4)/elem || !t.fb.ok(v+4, n*elem) {
		t.fb.bad = true
		return 0, 0
	}
	return v + 4, n
}

// tables returns field i as a vector of tables.
func (t table) tables(i int) []table {
	start, n := t.vector(i, 4)
	out := make([]table, n)
	for k := range out {
		p := start + 4*k
		out[k] = t.fb.tableAt(p + int(t.fb.u32(p)))
	}
	return out
}

// longs returns field i as a vector of int64.
func (t table) longs(i int) []int64 {
	start, n := t.vector(i, 8)
	out := make([]int64, n)
	for k := range out {
		out[k] = int64(t.fb.u64(start + 8*k))
	}
	return out
}
