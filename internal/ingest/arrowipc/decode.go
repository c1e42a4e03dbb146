package arrowipc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest/binnum"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// batchData is one record batch's metadata and body being decoded.
type batchData struct {
	r    *Reader
	rb   *recordBatch
	body []byte
}

// buffer returns buffer k of the body, decompressed when the batch is.
func (bd *batchData) buffer(k int) ([]byte, error) {
	if k >= len(bd.rb.buffers) {
		return nil, fmt.Errorf("%w: the batch lists %d buffers, buffer %d is needed", ErrFormat, len(bd.rb.buffers), k+1)
	}
	ref := bd.rb.buffers[k]
	if ref.offset < 0 || ref.length < 0 || ref.offset > int64(len(bd.body)) || ref.length > int64(len(bd.body))-ref.offset {
		return nil, fmt.Errorf("%w: buffer %d (bytes %d+%d) lies outside the %d-byte message body", ErrFormat, k, ref.offset, ref.length, len(bd.body))
	}
	b := bd.body[ref.offset : ref.offset+ref.length]
	if !bd.rb.compress || len(b) == 0 {
		return b, nil
	}
	return decompress(bd.rb.codec, b)
}

// decompress undoes Arrow's per-buffer body compression: an int64
// uncompressed length (-1: stored uncompressed) then the codec's frame.
func decompress(codec int, b []byte) ([]byte, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("%w: a compressed buffer of %d bytes has no length prefix", ErrFormat, len(b))
	}
	n := int64(binary.LittleEndian.Uint64(b))
	if n == -1 {
		return b[8:], nil
	}
	if n < 0 || n > 1<<40 {
		return nil, fmt.Errorf("%w: compressed buffer claims %d bytes", ErrFormat, n)
	}
	out := make([]byte, n)
	switch codec {
	case 0:
		zr := lz4.NewReader(bytes.NewReader(b[8:]))
		if _, err := io.ReadFull(zr, out); err != nil {
			return nil, fmt.Errorf("%w: LZ4 frame: %w", ErrFormat, err)
		}
	case 1:
		d := zstdDecoder()
		got, err := d.DecodeAll(b[8:], out[:0])
		if err != nil {
			return nil, fmt.Errorf("%w: zstd frame: %w", ErrFormat, err)
		}
		if int64(len(got)) != n {
			return nil, fmt.Errorf("%w: zstd frame holds %d bytes, the prefix says %d", ErrFormat, len(got), n)
		}
		out = got
	}
	return out, nil
}

var (
	zstdOnce sync.Once
	zstdDec  *zstd.Decoder
)

// zstdDecoder returns a shared decoder for DecodeAll (safe for concurrent
// use).
func zstdDecoder() *zstd.Decoder {
	zstdOnce.Do(func() {
		zstdDec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(1<<40))
	})
	return zstdDec
}

// node returns field node k.
func (bd *batchData) node(k int) (fieldNode, error) {
	if k >= len(bd.rb.nodes) {
		return fieldNode{}, fmt.Errorf("%w: the batch lists %d field nodes, node %d is needed", ErrFormat, len(bd.rb.nodes), k+1)
	}
	n := bd.rb.nodes[k]
	if n.length < 0 || n.nulls < 0 || n.nulls > n.length || n.length > math.MaxInt32 {
		return fieldNode{}, fmt.Errorf("%w: field node %d: length %d, null count %d", ErrFormat, k, n.length, n.nulls)
	}
	return n, nil
}

// skip steps over a field's nodes and buffers without decoding them.
func (bd *batchData) skip(f field, node, buf, vari *int) error {
	*node++
	if f.dict != nil {
		*buf += 2
		return nil
	}
	switch f.typ.id {
	case typeNull, typeRunEndEncoded:
	case typeBinary, typeUtf8, typeLargeBinary, typeLargeUtf8, typeListView, typeLargeListView:
		*buf += 3
	case typeBinaryView, typeUtf8View:
		if *vari >= len(bd.rb.variadic) {
			return fmt.Errorf("%w: no variadic buffer count for a view column", ErrFormat)
		}
		*buf += 2 + int(bd.rb.variadic[*vari])
		*vari++
	case typeStruct, typeFixedSizeList:
		*buf++
	case typeUnion:
		*buf += 1 + int(f.typ.mode)
	default: // primitives, list, large list, map: validity + data/offsets
		*buf += 2
	}
	for _, c := range f.children {
		if err := bd.skip(c, node, buf, vari); err != nil {
			return err
		}
	}
	return nil
}

// builder accumulates one column's values over record batches.
type builder struct {
	name  string
	kind  frame.Kind
	n     int
	valid frame.Validity // nil while every value is present
	f64   []float64
	i64   []int64
	bools []bool
	strs  []string
	codes []int32
	// categorical levels across batches
	levels []string
	index  map[string]int32
}

// grow adds n rows, of which nulls are missing per the Arrow validity
// bitmap vb (nil: none missing), and returns the first new row.
func (b *builder) grow(n int, vb []byte, nulls int64) (int, error) {
	base := b.n
	b.n += n
	if nulls > 0 && len(vb) < (n+7)/8 {
		return 0, fmt.Errorf("%w: a validity bitmap of %d bytes for %d values", ErrFormat, len(vb), n)
	}
	if nulls == 0 {
		if b.valid != nil {
			b.extendValid(base, n)
		}
		return base, nil
	}
	if b.valid == nil {
		b.valid = frame.NewValidity(base)
	}
	b.extendValid(base, n)
	for i := 0; i < n; i++ {
		if vb[i>>3]&(1<<(i&7)) == 0 {
			b.valid.SetNull(base + i)
		}
	}
	return base, nil
}

// extendValid grows the bitmap to b.n rows, the new n rows present.
func (b *builder) extendValid(base, n int) {
	for len(b.valid)*64 < b.n {
		b.valid = append(b.valid, 0)
	}
	for i := base; i < base+n; i++ {
		b.valid.SetValid(i)
	}
}

func (b *builder) null(i int) bool { return b.valid != nil && !b.valid.Valid(i) }

func (b *builder) column() frame.Column {
	v := b.valid
	if v != nil && v.NullCount(b.n) == 0 {
		v = nil
	}
	switch b.kind {
	case frame.KindInt:
		return &frame.Int{ColName: b.name, Values: nz(b.i64, b.n), Valid: v}
	case frame.KindTime:
		return &frame.Time{ColName: b.name, Values: nz(b.i64, b.n), Valid: v}
	case frame.KindBool:
		return &frame.Bool{ColName: b.name, Values: nz(b.bools, b.n), Valid: v}
	case frame.KindCategorical:
		if len(b.levels) > MaxLevels {
			strs := make([]string, b.n)
			valid := frame.NewValidity(b.n)
			for i, c := range b.codes {
				if c < 0 {
					valid.SetNull(i)
				} else {
					strs[i] = b.levels[c]
				}
			}
			return &frame.String{ColName: b.name, Values: strs, Valid: valid}
		}
		return &frame.Categorical{ColName: b.name, Codes: nz(b.codes, b.n), Levels: b.levels}
	case frame.KindString:
		strs := nz(b.strs, b.n)
		distinct := map[string]struct{}{}
		present := b.n - v.NullCount(b.n)
		for i, s := range strs {
			if b.null(i) {
				continue
			}
			distinct[s] = struct{}{}
			if len(distinct) > MaxLevels {
				break
			}
		}
		if len(distinct) <= MaxLevels && len(distinct)*2 <= present {
			var missing []bool
			if v != nil {
				missing = make([]bool, b.n)
				for i := range missing {
					missing[i] = b.null(i)
				}
			}
			return frame.NewCategorical(b.name, strs, missing)
		}
		return &frame.String{ColName: b.name, Values: strs, Valid: v}
	}
	return &frame.Float{ColName: b.name, Values: nz(b.f64, b.n), Valid: v}
}

// nz returns s, made non-nil with n elements when empty.
func nz[T any](s []T, n int) []T {
	if s == nil {
		return make([]T, n)
	}
	return s
}

// decode appends field f's values of this batch to b. row is the batch's
// first row in the source (for errors).
func (bd *batchData) decode(f field, b *builder, node, buf, vari *int, row int64) error {
	nd, err := bd.node(*node)
	if err != nil {
		return err
	}
	*node++
	n := int(nd.length)
	if f.dict != nil {
		return bd.decodeDict(f, b, nd, buf, row)
	}
	if f.typ.id == typeNull {
		base, _ := b.grow(n, nil, 0)
		if b.valid == nil {
			b.valid = frame.NewValidity(base)
			b.extendValid(base, n)
		}
		for i := base; i < base+n; i++ {
			b.valid.SetNull(i)
		}
		b.f64 = append(b.f64, make([]float64, n)...)
		return nil
	}
	vb, err := bd.buffer(*buf)
	if err != nil {
		return err
	}
	*buf++
	base, err := b.grow(n, vb, nd.nulls)
	if err != nil {
		return err
	}
	switch f.typ.id {
	case typeUtf8, typeLargeUtf8:
		offs, err := bd.buffer(*buf)
		if err != nil {
			return err
		}
		data, err := bd.buffer(*buf + 1)
		if err != nil {
			return err
		}
		*buf += 2
		return b.appendStrings(n, offs, data, f.typ.id == typeLargeUtf8, base)
	case typeUtf8View:
		views, err := bd.buffer(*buf)
		if err != nil {
			return err
		}
		*buf++
		if *vari >= len(bd.rb.variadic) {
			return fmt.Errorf("%w: no variadic buffer count for a utf8_view column", ErrFormat)
		}
		nv := int(bd.rb.variadic[*vari])
		*vari++
		if nv < 0 || nv > len(bd.rb.buffers) {
			return fmt.Errorf("%w: %d variadic buffers", ErrFormat, nv)
		}
		data := make([][]byte, nv)
		for k := range data {
			if data[k], err = bd.buffer(*buf + k); err != nil {
				return err
			}
		}
		*buf += nv
		return b.appendViews(n, views, data, base)
	}
	vals, err := bd.buffer(*buf)
	if err != nil {
		return err
	}
	*buf++
	if f.typ.id == typeBool {
		if len(vals) < (n+7)/8 {
			return fmt.Errorf("%w: %d bytes of bool values for %d rows", ErrFormat, len(vals), n)
		}
		for i := 0; i < n; i++ {
			b.bools = append(b.bools, vals[i>>3]&(1<<(i&7)) != 0)
		}
		return nil
	}
	width := byteWidth(f.typ)
	if len(vals) < n*width {
		return fmt.Errorf("%w: %d bytes of %s values for %d rows", ErrFormat, len(vals), f.typ, n)
	}
	switch f.typ.id {
	case typeInt:
		return b.appendInts(f.typ, vals, n, base, row)
	case typeFloatingPoint:
		for i := 0; i < n; i++ {
			var v float64
			switch f.typ.precision {
			case 0:
				v = binnum.Float16(binary.LittleEndian.Uint16(vals[2*i:]))
			case 1:
				v = float64(math.Float32frombits(binary.LittleEndian.Uint32(vals[4*i:])))
			default:
				v = math.Float64frombits(binary.LittleEndian.Uint64(vals[8*i:]))
			}
			b.f64 = append(b.f64, v)
		}
	case typeDecimal:
		scale := math.Pow10(f.typ.scale)
		for i := 0; i < n; i++ {
			b.f64 = append(b.f64, decimal(vals[i*width:(i+1)*width])/scale)
		}
	case typeDate, typeTimestamp:
		return b.appendTimes(f.typ, vals, n, base, row)
	}
	return nil
}

// byteWidth is the width of one value of a fixed-width type.
func byteWidth(t arrowType) int {
	switch t.id {
	case typeInt, typeDecimal:
		return t.bitWidth / 8
	case typeFloatingPoint:
		return 2 << t.precision
	case typeDate:
		if t.unit == 0 {
			return 4
		}
		return 8
	}
	return 8
}

func (b *builder) appendInts(t arrowType, vals []byte, n, base int, row int64) error {
	for i := 0; i < n; i++ {
		var v int64
		switch t.bitWidth {
		case 8:
			if t.signed {
				v = int64(int8(vals[i]))
			} else {
				v = int64(vals[i])
			}
		case 16:
			u := binary.LittleEndian.Uint16(vals[2*i:])
			if t.signed {
				v = int64(int16(u))
			} else {
				v = int64(u)
			}
		case 32:
			u := binary.LittleEndian.Uint32(vals[4*i:])
			if t.signed {
				v = int64(int32(u))
			} else {
				v = int64(u)
			}
		default:
			u := binary.LittleEndian.Uint64(vals[8*i:])
			if !t.signed && u > math.MaxInt64 && !b.null(base+i) {
				return fmt.Errorf("row %d: uint64 value %d does not fit a 64-bit signed integer", row+int64(i)+1, u)
			}
			v = int64(u)
		}
		b.i64 = append(b.i64, v)
	}
	return nil
}

// appendTimes converts dates and timestamps to Unix nanoseconds.
func (b *builder) appendTimes(t arrowType, vals []byte, n, base int, row int64) error {
	var mult int64
	narrow := false
	switch {
	case t.id == typeDate && t.unit == 0:
		mult, narrow = 86400e9, true
	case t.id == typeDate:
		mult = 1e6
	default:
		mult = [...]int64{1e9, 1e6, 1e3, 1}[t.unit]
	}
	for i := 0; i < n; i++ {
		var v int64
		if narrow {
			v = int64(int32(binary.LittleEndian.Uint32(vals[4*i:])))
		} else {
			v = int64(binary.LittleEndian.Uint64(vals[8*i:]))
		}
		if (v > math.MaxInt64/mult || v < math.MinInt64/mult) && !b.null(base+i) {
			return fmt.Errorf("row %d: %s value %d is outside the years 1678-2262 that nanosecond timestamps hold", row+int64(i)+1, t, v)
		}
		b.i64 = append(b.i64, v*mult)
	}
	return nil
}

func (b *builder) appendStrings(n int, offs, data []byte, large bool, base int) error {
	w := 4
	if large {
		w = 8
	}
	if len(offs) < (n+1)*w {
		if n == 0 {
			return nil
		}
		return fmt.Errorf("%w: %d bytes of offsets for %d strings", ErrFormat, len(offs), n)
	}
	at := func(i int) int64 {
		if large {
			return int64(binary.LittleEndian.Uint64(offs[8*i:]))
		}
		return int64(int32(binary.LittleEndian.Uint32(offs[4*i:])))
	}
	lo, hi := at(0), at(n)
	if lo < 0 || hi < lo || hi > int64(len(data)) {
		return fmt.Errorf("%w: string offsets %d..%d outside %d bytes of data", ErrFormat, lo, hi, len(data))
	}
	whole := string(data[lo:hi])
	prev := lo
	for i := 0; i < n; i++ {
		e := at(i + 1)
		if e < prev || e > hi {
			return fmt.Errorf("%w: string offsets are not increasing at value %d", ErrFormat, i)
		}
		b.strs = append(b.strs, whole[prev-lo:e-lo])
		prev = e
	}
	return nil
}

func (b *builder) appendViews(n int, views []byte, data [][]byte, base int) error {
	if len(views) < 16*n {
		return fmt.Errorf("%w: %d bytes of string views for %d strings", ErrFormat, len(views), n)
	}
	for i := 0; i < n; i++ {
		v := views[16*i : 16*i+16]
		l := int(int32(binary.LittleEndian.Uint32(v)))
		if b.null(base + i) {
			b.strs = append(b.strs, "")
			continue
		}
		switch {
		case l < 0:
			return fmt.Errorf("%w: a string view of length %d", ErrFormat, l)
		case l <= 12:
			b.strs = append(b.strs, string(v[4:4+l]))
		default:
			k := int(int32(binary.LittleEndian.Uint32(v[8:])))
			off := int(int32(binary.LittleEndian.Uint32(v[12:])))
			if k < 0 || k >= len(data) || off < 0 || off > len(data[k]) || l > len(data[k])-off {
				return fmt.Errorf("%w: a string view points outside its data buffers", ErrFormat)
			}
			b.strs = append(b.strs, string(data[k][off:off+l]))
		}
	}
	return nil
}

// decodeDict appends a dictionary-encoded string column's codes, mapping
// the batch's dictionary onto the builder's levels.
func (bd *batchData) decodeDict(f field, b *builder, nd fieldNode, buf *int, row int64) error {
	n := int(nd.length)
	vb, err := bd.buffer(*buf)
	if err != nil {
		return err
	}
	idx, err := bd.buffer(*buf + 1)
	if err != nil {
		return err
	}
	*buf += 2
	base, err := b.grow(n, vb, nd.nulls)
	if err != nil {
		return err
	}
	it := f.dict.index
	if len(idx) < n*it.bitWidth/8 {
		return fmt.Errorf("%w: %d bytes of dictionary indices for %d rows", ErrFormat, len(idx), n)
	}
	d := bd.r.dicts[f.dict.id]
	if d == nil {
		if nd.nulls == nd.length {
			for i := 0; i < n; i++ {
				b.codes = append(b.codes, -1)
			}
			return nil
		}
		return fmt.Errorf("%w: dictionary %d is used before it is sent", ErrFormat, f.dict.id)
	}
	if d.remapOf != b || len(d.remap) != len(d.values) {
		if b.index == nil {
			b.index = map[string]int32{}
		}
		d.remap = d.remap[:0]
		for _, s := range d.values {
			c, ok := b.index[s]
			if !ok {
				c = int32(len(b.levels))
				b.index[s] = c
				b.levels = append(b.levels, s)
			}
			d.remap = append(d.remap, c)
		}
		d.remapOf = b
	}
	tmp := &builder{}
	if err := tmp.appendInts(it, idx, n, 0, row); err != nil {
		return err
	}
	for i, k := range tmp.i64 {
		if b.null(base + i) {
			b.codes = append(b.codes, -1)
			continue
		}
		if k < 0 || k >= int64(len(d.remap)) {
			return fmt.Errorf("row %d: %w: dictionary index %d outside the %d values of dictionary %d", row+int64(i)+1, ErrFormat, k, len(d.remap), f.dict.id)
		}
		b.codes = append(b.codes, d.remap[k])
	}
	return nil
}

// decimal converts a little-endian two's-complement integer of 4, 8, 16 or
// 32 bytes to a float64 (unscaled).
func decimal(b []byte) float64 {
	switch len(b) {
	case 4:
		return float64(int32(binary.LittleEndian.Uint32(b)))
	case 8:
		return float64(int64(binary.LittleEndian.Uint64(b)))
	}
	limbs := len(b) / 8
	w := make([]uint64, limbs)
	for k := range w {
		w[k] = binary.LittleEndian.Uint64(b[8*k:])
	}
	neg := w[limbs-1]>>63 == 1
	if neg { // two's complement: the magnitude is ^w + 1
		carry := uint64(1)
		for k := range w {
			w[k] = ^w[k] + carry
			if w[k] != 0 {
				carry = 0
			}
		}
	}
	v := 0.0
	for k := limbs - 1; k >= 0; k-- {
		v = v*18446744073709551616.0 + float64(w[k])
	}
	if neg {
		return -v
	}
	return v
}
