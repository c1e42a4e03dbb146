package monitor

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
)

// A colBatch is one logged batch in columnar form: the times of its rows
// and one typed column per JSON member seen in the batch. It is what the
// prediction log stores (encoded by appendBatch) and what reading decodes
// into (decodeBatch); rows of old text batches are parsed into the same
// form, so one read path serves both.
//
// Column names carry their section as a first byte: metaPrefix for the
// record's own fields (version, request id, row, label), inPrefix for input
// members and outPrefix for output members. A member whose value is an
// object is flattened one level: parent + "\x00" + child (the output's
// "probabilities"); deeper objects and arrays are kept as raw JSON values.
type colBatch struct {
	n     int
	times []int64 // unix milliseconds
	cols  []*bcol
	index map[string]*bcol
}

// Column name prefixes and the meta columns.
const (
	metaPrefix = '\x00'
	inPrefix   = 'i'
	outPrefix  = 'o'

	colVersion   = "\x00version"
	colRequestID = "\x00request_id"
	colRow       = "\x00row"
	colLabel     = "\x00label"
)

// bcol is one column of a batch: numbers (floats, with a presence bitmap)
// while every present value is a JSON number, otherwise a dictionary of
// JSON values with one code per row (0 = missing).
type bcol struct {
	name   string
	num    bool
	floats []float64 // numbers of a batch being built
	raw    []byte    // numbers of a decoded batch: little-endian float64s, decoded when read
	valid  []byte    // presence bits, LSB first; nil = all present (numbers only)
	dict   []entry
	codes  []uint32

	lookup map[string]uint32 // building only: kind+text → code
	kbuf   []byte
	quoted [][]byte  // rebuilding JSON: each entry's JSON text (by code)
	nums   []float64 // a dictionary of numbers: each entry's value (by code)
}

// entry is a non-numeric JSON value: its kind (jsString, jsNumber, jsTrue,
// jsFalse, jsObject, jsArray) and text (strings unescaped, others raw).
type entry struct {
	kind byte
	text string
}

func (c *bcol) present(i int) bool {
	if c.num {
		return c.valid == nil || c.valid[i>>3]&(1<<(i&7)) != 0
	}
	return c.codes[i] != 0
}

// f returns the number in row i of a numeric column.
func (c *bcol) f(i int) float64 {
	if c.raw != nil {
		return math.Float64frombits(binary.LittleEndian.Uint64(c.raw[8*i:]))
	}
	return c.floats[i]
}

// number returns row i as a float64 when it is present and numeric.
func (c *bcol) number(i int) (float64, bool) {
	if c.num {
		return c.f(i), c.present(i)
	}
	if code := c.codes[i]; code != 0 {
		if c.nums != nil {
			return c.nums[code], true
		}
		e := c.dict[code-1]
		v, ok := jsonFloat(e.kind, []byte(e.text))
		return v, ok
	}
	return 0, false
}

// appendJSON appends row i as a JSON value (null when missing).
func (c *bcol) appendJSON(buf []byte, i int) []byte {
	if !c.present(i) {
		return append(buf, "null"...)
	}
	if c.num {
		return strconv.AppendFloat(buf, c.f(i), 'g', -1, 64)
	}
	return c.appendEntryJSON(buf, int(c.codes[i]-1))
}

// appendEntryJSON appends dictionary entry e as a JSON value.
func (c *bcol) appendEntryJSON(buf []byte, e int) []byte {
	d := c.dict[e]
	if d.kind == jsString {
		q, _ := json.Marshal(d.text)
		return append(buf, q...)
	}
	return append(buf, d.text...)
}

// batchBuilder accumulates records into a colBatch.
type batchBuilder struct {
	b   colBatch
	key []byte
}

func newBatchBuilder(capacity int) *batchBuilder {
	return &batchBuilder{b: colBatch{times: make([]int64, 0, capacity), index: map[string]*bcol{}}}
}

// row starts a new row at a time and returns its index.
func (bb *batchBuilder) row(ms int64) int {
	bb.b.times = append(bb.b.times, ms)
	bb.b.n++
	return bb.b.n - 1
}

// col returns the column named prefix+name (+ "\x00" + child), creating it.
func (bb *batchBuilder) col(prefix byte, name, child []byte) *bcol {
	bb.key = append(append(bb.key[:0], prefix), name...)
	if child != nil {
		bb.key = append(append(bb.key, 0), child...)
	}
	if c, ok := bb.b.index[string(bb.key)]; ok {
		return c
	}
	c := &bcol{name: string(bb.key), num: true}
	bb.b.index[c.name] = c
	bb.b.cols = append(bb.b.cols, c)
	return c
}

func (bb *batchBuilder) metaCol(name string) *bcol { return bb.col(metaPrefix, []byte(name[1:]), nil) }

// setNum stores a number in row i.
func (c *bcol) setNum(i int, v float64) {
	if !c.num {
		c.setEntry(i, jsNumber, strconv.AppendFloat(nil, v, 'g', -1, 64))
		return
	}
	c.grow(i)
	c.floats[i] = v
	c.valid[i>>3] |= 1 << (i & 7)
}

// grow extends the column to hold row i (rows in between are missing).
func (c *bcol) grow(i int) {
	if c.num {
		for len(c.floats) <= i {
			c.floats = append(c.floats, 0)
		}
		for len(c.valid) <= i>>3 {
			c.valid = append(c.valid, 0)
		}
		return
	}
	for len(c.codes) <= i {
		c.codes = append(c.codes, 0)
	}
}

// setEntry stores a non-numeric value in row i, turning a numeric column
// into a dictionary one.
func (c *bcol) setEntry(i int, kind byte, text []byte) {
	if c.num {
		c.toDict()
	}
	c.grow(i)
	c.kbuf = append(append(c.kbuf[:0], kind), text...)
	code, ok := c.lookup[string(c.kbuf)]
	if !ok {
		c.dict = append(c.dict, entry{kind: kind, text: string(text)})
		code = uint32(len(c.dict))
		c.lookup[string(c.kbuf)] = code
	}
	c.codes[i] = code
}

// toDict turns a numeric column into a dictionary of number texts.
func (c *bcol) toDict() {
	floats, valid := c.floats, c.valid
	c.num, c.floats, c.valid = false, nil, nil
	c.lookup = map[string]uint32{}
	c.codes = make([]uint32, 0, len(floats))
	for i, v := range floats {
		if valid[i>>3]&(1<<(i&7)) != 0 {
			c.setEntry(i, jsNumber, strconv.AppendFloat(nil, v, 'g', -1, 64))
		} else {
			c.codes = append(c.codes, 0)
		}
	}
}

// setJSON stores a scanned JSON value in row i of a column (null: missing).
func (c *bcol) setJSON(i int, kind byte, val []byte, esc bool) {
	switch kind {
	case jsNull:
	case jsNumber:
		if v, err := strconv.ParseFloat(string(val), 64); err == nil {
			c.setNum(i, v)
		} else {
			c.setEntry(i, jsNumber, val)
		}
	case jsString:
		if esc {
			c.setEntry(i, jsString, []byte(jsonText(val, true)))
		} else {
			c.setEntry(i, jsString, val)
		}
	default:
		c.setEntry(i, kind, val)
	}
}

// addObject stores the members of a JSON object in row i under prefix;
// object members are flattened one level.
func (bb *batchBuilder) addObject(i int, prefix byte, obj []byte) error {
	err := scanObject(obj, func(key []byte, kind byte, val []byte, esc bool) {
		if kind == jsObject {
			_ = scanObject(val, func(child []byte, kind byte, v []byte, esc bool) {
				bb.col(prefix, key, child).setJSON(i, kind, v, esc)
			})
			return
		}
		bb.col(prefix, key, nil).setJSON(i, kind, val, esc)
	})
	if err == nil {
		return nil
	}
	// escaped keys or unusual spacing: the slow, general decoder
	var m map[string]json.RawMessage
	if json.Unmarshal(obj, &m) != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(m)) { // a deterministic column order
		raw := m[k]
		kind, val, esc, ok := scanValue(raw)
		if !ok {
			continue
		}
		if kind == jsObject {
			var sub map[string]json.RawMessage
			if json.Unmarshal(raw, &sub) == nil {
				for _, ck := range slices.Sorted(maps.Keys(sub)) {
					if kind, v, esc, ok := scanValue(sub[ck]); ok {
						bb.col(prefix, []byte(k), []byte(ck)).setJSON(i, kind, v, esc)
					}
				}
			}
			continue
		}
		bb.col(prefix, []byte(k), nil).setJSON(i, kind, val, esc)
	}
	return nil
}

// scanValue classifies one JSON value as scanObject would report it.
func scanValue(raw []byte) (kind byte, val []byte, esc, ok bool) {
	err := scanObject(append(append([]byte(`{"":`), raw...), '}'), func(_ []byte, k byte, v []byte, e bool) {
		kind, val, esc, ok = k, append([]byte(nil), v...), e, true
	})
	return kind, val, esc, ok && err == nil
}

// finish pads every column to the batch length, drops all-present bitmaps
// and returns the batch.
func (bb *batchBuilder) finish() *colBatch {
	b := &bb.b
	for _, c := range b.cols {
		if b.n > 0 {
			c.grow(b.n - 1)
		}
		c.lookup, c.kbuf = nil, nil
		if c.num && b.n >= 64 && fewNumbers(c, b.n) {
			// codes of one byte instead of eight: hours, counts, levels
			// sent as numbers and rounded measurements
			c.toDict()
			c.lookup, c.kbuf = nil, nil
		}
		if !c.num {
			c.indexNumbers()
		}
		if c.num {
			all := true
			for i := 0; i < b.n; i++ {
				if c.valid[i>>3]&(1<<(i&7)) == 0 {
					all = false
					break
				}
			}
			if all {
				c.valid = nil
			}
		}
	}
	return b
}

// fewNumbers reports whether a numeric column holds at most 255 distinct
// values.
func fewNumbers(c *bcol, n int) bool {
	seen := make(map[uint64]struct{}, 256)
	for i := 0; i < n; i++ {
		if c.valid[i>>3]&(1<<(i&7)) == 0 {
			continue
		}
		seen[math.Float64bits(c.floats[i])] = struct{}{}
		if len(seen) > 255 {
			return false
		}
	}
	return true
}

// indexNumbers parses a dictionary of numbers once, so number reads rows
// without parsing; dictionaries holding anything else are left alone.
func (c *bcol) indexNumbers() {
	for _, d := range c.dict {
		if d.kind != jsNumber {
			return
		}
	}
	nums := make([]float64, len(c.dict)+1)
	for e, d := range c.dict {
		v, err := strconv.ParseFloat(d.text, 64)
		if err != nil {
			return
		}
		nums[e+1] = v
	}
	c.nums = nums
}

// batchMagic starts every encoded batch (format version 1).
const batchMagic = "GYC1"

// appendBatch encodes a batch:
//
//	"GYC1" uvarint(n) n×varint(time delta ms) uvarint(columns)
//	per column: uvarint(len) name, then
//	  'F' byte(bitmap?) [bitmap] n×float64 (little endian), or
//	  'D' uvarint(entries) entries×(kind uvarint(len) text) byte(width) n×code
func appendBatch(buf []byte, b *colBatch) []byte {
	buf = append(buf, batchMagic...)
	buf = binary.AppendUvarint(buf, uint64(b.n))
	prev := int64(0)
	for _, t := range b.times {
		buf = binary.AppendVarint(buf, t-prev)
		prev = t
	}
	buf = binary.AppendUvarint(buf, uint64(len(b.cols)))
	for _, c := range b.cols {
		buf = binary.AppendUvarint(buf, uint64(len(c.name)))
		buf = append(buf, c.name...)
		if c.num {
			buf = append(buf, 'F')
			if c.valid == nil {
				buf = append(buf, 0)
			} else {
				buf = append(buf, 1)
				buf = append(buf, c.valid[:(b.n+7)/8]...)
			}
			for _, v := range c.floats[:b.n] {
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
			}
			continue
		}
		buf = append(buf, 'D')
		buf = binary.AppendUvarint(buf, uint64(len(c.dict)))
		for _, e := range c.dict {
			buf = append(buf, e.kind)
			buf = binary.AppendUvarint(buf, uint64(len(e.text)))
			buf = append(buf, e.text...)
		}
		switch {
		case len(c.dict) < 1<<8:
			buf = append(buf, 1)
			for _, v := range c.codes[:b.n] {
				buf = append(buf, byte(v))
			}
		case len(c.dict) < 1<<16:
			buf = append(buf, 2)
			for _, v := range c.codes[:b.n] {
				buf = binary.LittleEndian.AppendUint16(buf, uint16(v))
			}
		default:
			buf = append(buf, 4)
			for _, v := range c.codes[:b.n] {
				buf = binary.LittleEndian.AppendUint32(buf, v)
			}
		}
	}
	return buf
}

var errBatch = errors.New("corrupt columnar batch")

// batchReader reads the encoding of appendBatch.
type batchReader struct {
	data []byte
	err  error
}

func (r *batchReader) uvarint() uint64 {
	v, k := binary.Uvarint(r.data)
	if k <= 0 {
		r.err = errBatch
		r.data = nil
		return 0
	}
	r.data = r.data[k:]
	return v
}

func (r *batchReader) bytes(n uint64) []byte {
	if uint64(len(r.data)) < n {
		r.err = errBatch
		r.data = nil
		return nil
	}
	b := r.data[:n]
	r.data = r.data[n:]
	return b
}

// decodeBatch decodes an encoded batch.
func decodeBatch(data []byte) (*colBatch, error) {
	if len(data) < len(batchMagic) || string(data[:len(batchMagic)]) != batchMagic {
		return nil, fmt.Errorf("decode batch: %w: no %q header", errBatch, batchMagic)
	}
	r := &batchReader{data: data[len(batchMagic):]}
	n := r.uvarint()
	if n > uint64(len(r.data)) { // each time takes at least a byte
		return nil, fmt.Errorf("decode batch: %w: %d rows in %d bytes", errBatch, n, len(data))
	}
	b := &colBatch{n: int(n), times: make([]int64, n)}
	prev := int64(0)
	for i := range b.times {
		d, k := binary.Varint(r.data)
		if k <= 0 {
			return nil, fmt.Errorf("decode batch: %w: time of row %d", errBatch, i)
		}
		r.data = r.data[k:]
		prev += d
		b.times[i] = prev
	}
	ncols := r.uvarint()
	if ncols > uint64(len(r.data)) {
		return nil, fmt.Errorf("decode batch: %w: %d columns", errBatch, ncols)
	}
	b.cols = make([]*bcol, 0, ncols)
	b.index = make(map[string]*bcol, ncols)
	name := ""
	for range ncols {
		c := &bcol{name: string(r.bytes(r.uvarint()))}
		name = c.name
		mode := r.bytes(1)
		if r.err != nil {
			break
		}
		switch mode[0] {
		case 'F':
			c.num = true
			if hb := r.bytes(1); r.err == nil && hb[0] == 1 {
				c.valid = r.bytes(n/8 + min(n%8, 1))
			}
			c.raw = r.bytes(8 * n)
			if c.raw == nil {
				c.raw = []byte{} // no rows
			}
		case 'D':
			m := r.uvarint()
			if m > uint64(len(r.data)) {
				r.err = errBatch
				break
			}
			c.dict = make([]entry, m)
			for e := range c.dict {
				kind := r.bytes(1)
				text := r.bytes(r.uvarint())
				if r.err != nil {
					break
				}
				c.dict[e] = entry{kind: kind[0], text: string(text)}
			}
			w := r.bytes(1)
			if r.err != nil {
				break
			}
			raw := r.bytes(uint64(w[0]) * n)
			if r.err != nil {
				break
			}
			c.codes = make([]uint32, n)
			switch w[0] {
			case 1:
				for i := range c.codes {
					c.codes[i] = uint32(raw[i])
				}
			case 2:
				for i := range c.codes {
					c.codes[i] = uint32(binary.LittleEndian.Uint16(raw[2*i:]))
				}
			case 4:
				for i := range c.codes {
					c.codes[i] = binary.LittleEndian.Uint32(raw[4*i:])
				}
			default:
				r.err = errBatch
			}
			for _, code := range c.codes {
				if uint64(code) > m {
					r.err = errBatch
					break
				}
			}
		default:
			r.err = errBatch
		}
		if r.err != nil {
			break
		}
		if !c.num {
			c.indexNumbers()
		}
		b.cols = append(b.cols, c)
		b.index[c.name] = c
	}
	if r.err != nil {
		return nil, fmt.Errorf("decode batch: %w: column %d (%q)", r.err, len(b.cols)+1, name)
	}
	return b, nil
}
