package arrowipc

import (
	"fmt"
	"strings"
)

// This file turns Arrow's flatbuffer metadata (format/Schema.fbs,
// Message.fbs and File.fbs of the Arrow specification) into Go values.

// Type ids of the Type union (Schema.fbs).
const (
	typeNull            = 1
	typeInt             = 2
	typeFloatingPoint   = 3
	typeBinary          = 4
	typeUtf8            = 5
	typeBool            = 6
	typeDecimal         = 7
	typeDate            = 8
	typeTime            = 9
	typeTimestamp       = 10
	typeInterval        = 11
	typeList            = 12
	typeStruct          = 13
	typeUnion           = 14
	typeFixedSizeBinary = 15
	typeFixedSizeList   = 16
	typeMap             = 17
	typeDuration        = 18
	typeLargeBinary     = 19
	typeLargeUtf8       = 20
	typeLargeList       = 21
	typeRunEndEncoded   = 22
	typeBinaryView      = 23
	typeUtf8View        = 24
	typeListView        = 25
	typeLargeListView   = 26
)

// Message header ids of the MessageHeader union (Message.fbs).
const (
	headerSchema          = 1
	headerDictionaryBatch = 2
	headerRecordBatch     = 3
)

// Time units (Schema.fbs TimeUnit).
const (
	unitSecond = 0
	unitMilli  = 1
	unitMicro  = 2
	unitNano   = 3
)

// arrowType is one field's logical type.
type arrowType struct {
	id        uint8
	bitWidth  int    // Int, Decimal, Time
	signed    bool   // Int
	precision int    // FloatingPoint: 0 half, 1 single, 2 double; Decimal: digits
	scale     int    // Decimal
	unit      int    // Date (0 day, 1 ms), Time/Timestamp/Duration (TimeUnit)
	tz        string // Timestamp
	mode      int16  // Union: 0 sparse, 1 dense
	byteWidth int    // FixedSizeBinary
}

// field is one schema field.
type field struct {
	name     string
	nullable bool
	typ      arrowType
	dict     *dictEncoding
	children []field
}

// dictEncoding says a field is dictionary-encoded: its values are indices
// of the given integer type into dictionary id.
type dictEncoding struct {
	id    int64
	index arrowType
}

// schema is a parsed Schema message or footer schema.
type schema struct {
	fields []field
}

func parseSchema(t table) (*schema, error) {
	if t.i16(0, 0) != 0 {
		return nil, fmt.Errorf("big-endian Arrow data is not read")
	}
	s := &schema{}
	for _, ft := range t.tables(1) {
		f, err := parseField(ft, 0)
		if err != nil {
			return nil, err
		}
		s.fields = append(s.fields, f)
	}
	return s, nil
}

func parseField(t table, depth int) (field, error) {
	if depth > 64 {
		return field{}, fmt.Errorf("%w: fields nested more than 64 deep", errFlatbuf)
	}
	f := field{name: t.str(0), nullable: t.bool(1, false)}
	f.typ = parseType(t.u8(2, 0), t)
	if d, ok := t.table(4); ok {
		f.dict = &dictEncoding{id: d.i64(0, 0), index: arrowType{id: typeInt, bitWidth: 32, signed: true}}
		if it, ok := d.table(1); ok {
			f.dict.index.bitWidth = int(it.i32(0, 0))
			f.dict.index.signed = it.bool(1, false)
		}
	}
	for _, ct := range t.tables(5) {
		c, err := parseField(ct, depth+1)
		if err != nil {
			return field{}, err
		}
		f.children = append(f.children, c)
	}
	return f, nil
}

// parseType reads the Type union member of field table ft, of type id.
func parseType(id uint8, ft table) arrowType {
	a := arrowType{id: id}
	t, ok := ft.table(3)
	if !ok {
		return a
	}
	switch id {
	case typeInt:
		a.bitWidth, a.signed = int(t.i32(0, 0)), t.bool(1, false)
	case typeFloatingPoint:
		a.precision = int(t.i16(0, 0))
	case typeDecimal:
		a.precision, a.scale, a.bitWidth = int(t.i32(0, 0)), int(t.i32(1, 0)), int(t.i32(2, 128))
	case typeDate:
		a.unit = int(t.i16(0, unitMilli))
	case typeTime:
		a.unit, a.bitWidth = int(t.i16(0, unitMilli)), int(t.i32(1, 32))
	case typeTimestamp:
		a.unit, a.tz = int(t.i16(0, unitSecond)), t.str(1)
	case typeDuration:
		a.unit = int(t.i16(0, unitMilli))
	case typeUnion:
		a.mode = t.i16(0, 0)
	case typeFixedSizeBinary:
		a.byteWidth = int(t.i32(0, 0))
	case typeInterval:
		a.unit = int(t.i16(0, 0))
	}
	return a
}

var unitNames = []string{"s", "ms", "us", "ns"}

func unitName(u int) string {
	if u >= 0 && u < len(unitNames) {
		return unitNames[u]
	}
	return fmt.Sprintf("unit %d", u)
}

// String names the type as Arrow's libraries print it (int32, timestamp[ms,
// tz=UTC], dictionary<values=utf8, indices=int32> ...).
func (a arrowType) String() string {
	switch a.id {
	case 0:
		return "none"
	case typeNull:
		return "null"
	case typeInt:
		if a.signed {
			return fmt.Sprintf("int%d", a.bitWidth)
		}
		return fmt.Sprintf("uint%d", a.bitWidth)
	case typeFloatingPoint:
		return [...]string{"float16", "float32", "float64"}[min(max(a.precision, 0), 2)]
	case typeBinary:
		return "binary"
	case typeUtf8:
		return "utf8"
	case typeBool:
		return "bool"
	case typeDecimal:
		return fmt.Sprintf("decimal%d(%d, %d)", a.bitWidth, a.precision, a.scale)
	case typeDate:
		if a.unit == 0 {
			return "date32[day]"
		}
		return "date64[ms]"
	case typeTime:
		return fmt.Sprintf("time%d[%s]", a.bitWidth, unitName(a.unit))
	case typeTimestamp:
		if a.tz != "" {
			return fmt.Sprintf("timestamp[%s, tz=%s]", unitName(a.unit), a.tz)
		}
		return fmt.Sprintf("timestamp[%s]", unitName(a.unit))
	case typeInterval:
		return "interval"
	case typeList:
		return "list"
	case typeStruct:
		return "struct"
	case typeUnion:
		return "union"
	case typeFixedSizeBinary:
		return fmt.Sprintf("fixed_size_binary[%d]", a.byteWidth)
	case typeFixedSizeList:
		return "fixed_size_list"
	case typeMap:
		return "map"
	case typeDuration:
		return fmt.Sprintf("duration[%s]", unitName(a.unit))
	case typeLargeBinary:
		return "large_binary"
	case typeLargeUtf8:
		return "large_utf8"
	case typeLargeList:
		return "large_list"
	case typeRunEndEncoded:
		return "run_end_encoded"
	case typeBinaryView:
		return "binary_view"
	case typeUtf8View:
		return "utf8_view"
	case typeListView:
		return "list_view"
	case typeLargeListView:
		return "large_list_view"
	}
	return fmt.Sprintf("type %d", a.id)
}

// String names a field's type, children and dictionary included.
func (f field) typeString() string {
	s := f.typ.String()
	if len(f.children) > 0 {
		parts := make([]string, len(f.children))
		for i, c := range f.children {
			parts[i] = c.typeString()
		}
		s += "<" + strings.Join(parts, ", ") + ">"
	}
	if f.dict != nil {
		return fmt.Sprintf("dictionary<values=%s, indices=%s>", s, f.dict.index)
	}
	return s
}

// fieldNode is a FieldNode struct: an array's length and null count.
type fieldNode struct {
	length, nulls int64
}

// bufferRef is a Buffer struct: a byte range of the message body.
type bufferRef struct {
	offset, length int64
}

// recordBatch is a parsed RecordBatch table.
type recordBatch struct {
	length   int64
	nodes    []fieldNode
	buffers  []bufferRef
	codec    int  // compression codec: 0 LZ4_FRAME, 1 ZSTD
	compress bool // whether buffers are compressed
	variadic []int64
}

func parseRecordBatch(t table) (*recordBatch, error) {
	rb := &recordBatch{length: t.i64(0, 0)}
	start, n := t.vector(1, 16)
	for k := 0; k < n; k++ {
		p := start + 16*k
		rb.nodes = append(rb.nodes, fieldNode{int64(t.fb.u64(p)), int64(t.fb.u64(p + 8))})
	}
	start, n = t.vector(2, 16)
	for k := 0; k < n; k++ {
		p := start + 16*k
		rb.buffers = append(rb.buffers, bufferRef{int64(t.fb.u64(p)), int64(t.fb.u64(p + 8))})
	}
	if c, ok := t.table(3); ok {
		rb.compress = true
		rb.codec = int(c.u8(0, 0))
		if m := c.u8(1, 0); m != 0 {
			return nil, fmt.Errorf("body compression method %d is not read (only BUFFER)", m)
		}
		if rb.codec > 1 {
			return nil, fmt.Errorf("compression codec %d is not read (want LZ4_FRAME or ZSTD)", rb.codec)
		}
	}
	rb.variadic = t.longs(4)
	if rb.length < 0 {
		return nil, fmt.Errorf("%w: negative record batch length", errFlatbuf)
	}
	return rb, nil
}

// message is a parsed Message: its header and body length.
type message struct {
	kind    uint8
	header  table
	bodyLen int64
}

func parseMessage(b []byte) (message, error) {
	fb := &fbuf{b: b}
	t := fb.root()
	m := message{kind: t.u8(1, 0), bodyLen: t.i64(3, 0)}
	h, ok := t.table(2)
	if fb.bad || m.bodyLen < 0 {
		return m, errFlatbuf
	}
	if !ok && m.kind != 0 {
		return m, fmt.Errorf("%w: message without a header", errFlatbuf)
	}
	m.header = h
	return m, nil
}

// block is a Block struct of the file footer: where a message is.
type block struct {
	offset  int64
	metaLen int32
	bodyLen int64
}

// footer is a parsed file Footer.
type footer struct {
	schema       *schema
	dictionaries []block
	batches      []block
}

func parseFooter(b []byte) (*footer, error) {
	fb := &fbuf{b: b}
	t := fb.root()
	st, ok := t.table(1)
	if !ok {
		return nil, fmt.Errorf("%w: footer without a schema", errFlatbuf)
	}
	s, err := parseSchema(st)
	if err != nil {
		return nil, err
	}
	ft := &footer{schema: s}
	blocks := func(i int) []block {
		start, n := t.vector(i, 24)
		out := make([]block, n)
		for k := range out {
			p := start + 24*k
			out[k] = block{int64(fb.u64(p)), int32(fb.u32(p + 8)), int64(fb.u64(p + 16))}
		}
		return out
	}
	ft.dictionaries = blocks(2)
	ft.batches = blocks(3)
	if fb.bad {
		return nil, errFlatbuf
	}
	return ft, nil
}
