package avro

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"strings"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"

	"github.com/gyre-ml/gyre/internal/frame"
)

// Codecs lists the block codecs FileWriter writes.
var Codecs = []string{"null", "deflate", "snappy", "zstandard"}

// blockBytes is the uncompressed size at which FileWriter ends a block.
const blockBytes = 1 << 20

// FileWriter writes frames as an Avro object container file: a header
// with the schema Gyre derives from the first frame's columns (SchemaFor)
// and the codec, then blocks of about 1 MiB of records, each followed by
// the sync marker. Every frame written must have the first one's columns.
type FileWriter struct {
	w      io.Writer
	codec  string
	enc    *encoder
	sync   [16]byte
	block  []byte
	zipped bytes.Buffer
	count  int64
	fl     *flate.Writer
	zs     *zstd.Encoder
	closed bool
}

// NewFileWriter writes the container header for first's columns to w with
// the named codec (null, deflate, snappy or zstandard).
func NewFileWriter(w io.Writer, first *frame.Frame, codec string) (*FileWriter, error) {
	known := false
	for _, c := range Codecs {
		known = known || c == codec
	}
	if !known {
		return nil, fmt.Errorf("avro: codec %q: want one of %s", codec, strings.Join(Codecs, ", "))
	}
	schema, enc, err := schemaFor(first)
	if err != nil {
		return nil, err
	}
	fw := &FileWriter{w: w, codec: codec, enc: enc}
	// A sync marker drawn from the schema, not at random, so the same
	// frames make the same file.
	sum := sha256.Sum256(append([]byte("gyre avro sync\x00"), schema...))
	copy(fw.sync[:], sum[:16])
	h := append([]byte(nil), Magic...)
	h = appendLong(h, 2)
	h = appendString(h, "avro.schema")
	h = appendBytes(h, schema)
	h = appendString(h, "avro.codec")
	h = appendBytes(h, []byte(codec))
	h = appendLong(h, 0)
	h = append(h, fw.sync[:]...)
	if _, err := w.Write(h); err != nil {
		return nil, err
	}
	return fw, nil
}

// Write appends f's rows.
func (fw *FileWriter) Write(f *frame.Frame) error {
	if fw.closed {
		return errors.New("avro: write after close")
	}
	if err := fw.enc.check(f); err != nil {
		return err
	}
	for i := range f.NumRows() {
		fw.block = fw.enc.row(fw.block, f, i)
		fw.count++
		if len(fw.block) >= blockBytes {
			if err := fw.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Close writes the last block. It does not close the underlying writer.
func (fw *FileWriter) Close() error {
	if fw.closed {
		return nil
	}
	fw.closed = true
	return fw.flush()
}

// flush writes the pending records as one block.
func (fw *FileWriter) flush() error {
	if fw.count == 0 {
		return nil
	}
	data := fw.block
	switch fw.codec {
	case "deflate":
		fw.zipped.Reset()
		if fw.fl == nil {
			fl, err := flate.NewWriter(&fw.zipped, flate.DefaultCompression)
			if err != nil {
				return err
			}
			fw.fl = fl
		} else {
			fw.fl.Reset(&fw.zipped)
		}
		if _, err := fw.fl.Write(data); err != nil {
			return err
		}
		if err := fw.fl.Close(); err != nil {
			return err
		}
		data = fw.zipped.Bytes()
	case "snappy":
		out := snappy.Encode(nil, data)
		data = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(fw.block))
	case "zstandard":
		if fw.zs == nil {
			zs, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
			if err != nil {
				return err
			}
			fw.zs = zs
		}
		data = fw.zs.EncodeAll(data, nil)
	}
	head := appendLong(nil, fw.count)
	head = appendLong(head, int64(len(data)))
	if _, err := fw.w.Write(head); err != nil {
		return err
	}
	if _, err := fw.w.Write(data); err != nil {
		return err
	}
	if _, err := fw.w.Write(fw.sync[:]); err != nil {
		return err
	}
	fw.block, fw.count = fw.block[:0], 0
	return nil
}

// encoder writes a frame's rows as records of the schema SchemaFor made.
type encoder struct {
	names []string
	kinds []frame.Kind
}

// check refuses a frame whose columns differ from the schema's.
func (e *encoder) check(f *frame.Frame) error {
	if f.NumCols() != len(e.names) {
		return fmt.Errorf("avro: a chunk of %d columns, the schema has %d", f.NumCols(), len(e.names))
	}
	for j, c := range f.Columns() {
		k := c.Kind()
		if k == frame.KindCategorical {
			k = frame.KindString
		}
		if c.Name() != e.names[j] || k != e.kinds[j] {
			return fmt.Errorf("avro: chunk column %d is %q (%s), the schema's is %q (%s)", j+1, c.Name(), c.Kind(), e.names[j], e.kinds[j])
		}
	}
	return nil
}

// row appends row i of f: each field a union of null (branch 0) and its
// type (branch 1), in the schema's order (the frame's column order).
func (e *encoder) row(dst []byte, f *frame.Frame, i int) []byte {
	for _, c := range f.Columns() {
		if c.IsNull(i) {
			dst = append(dst, 0) // branch 0: null
			continue
		}
		switch c := c.(type) {
		case *frame.Float:
			if math.IsNaN(c.Values[i]) {
				dst = append(dst, 0)
				continue
			}
			dst = append(dst, 2) // branch 1, zig-zag encoded
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(c.Values[i]))
		case *frame.Int:
			dst = append(dst, 2)
			dst = appendLong(dst, c.Values[i])
		case *frame.Bool:
			dst = append(dst, 2)
			if c.Values[i] {
				dst = append(dst, 1)
			} else {
				dst = append(dst, 0)
			}
		case *frame.Time:
			dst = append(dst, 2)
			ns := c.Values[i]
			us := ns / 1000
			if ns%1000 < 0 {
				us-- // floor: times before 1970 keep their instant's microsecond
			}
			dst = appendLong(dst, us)
		case *frame.Categorical:
			dst = append(dst, 2)
			dst = appendString(dst, c.Levels[c.Codes[i]])
		case *frame.String:
			dst = append(dst, 2)
			dst = appendString(dst, c.Values[i])
		default:
			dst = append(dst, 2)
			dst = appendString(dst, c.Format(i))
		}
	}
	return dst
}

// SchemaFor returns the Avro schema (JSON) FileWriter writes for a frame's
// columns.
func SchemaFor(f *frame.Frame) ([]byte, error) {
	b, _, err := schemaFor(f)
	return b, err
}

// schemaFor derives the Avro schema of a frame: a record named
// gyre.Row with one field per column, in order, each a union of null and
// double (float), long (int), boolean (bool), long with logicalType
// timestamp-micros (time), or string (categorical and text). Column names
// that are not Avro names are written with each character outside
// [A-Za-z0-9_] replaced by '_' (and a leading digit prefixed with '_'), the
// original name kept in the field's "gyre.column" attribute; two columns
// that would share a name are an error.
func schemaFor(f *frame.Frame) ([]byte, *encoder, error) {
	type fieldJSON struct {
		Name    string `json:"name"`
		Type    []any  `json:"type"`
		Default any    `json:"default"`
		Column  string `json:"gyre.column,omitempty"`
	}
	rec := struct {
		Type      string      `json:"type"`
		Name      string      `json:"name"`
		Namespace string      `json:"namespace"`
		Fields    []fieldJSON `json:"fields"`
	}{Type: "record", Name: "Row", Namespace: "gyre", Fields: []fieldJSON{}}
	enc := &encoder{}
	seen := map[string]string{}
	for _, c := range f.Columns() {
		var t any
		k := c.Kind()
		switch k {
		case frame.KindFloat:
			t = "double"
		case frame.KindInt:
			t = "long"
		case frame.KindBool:
			t = "boolean"
		case frame.KindTime:
			t = map[string]string{"type": "long", "logicalType": "timestamp-micros"}
		default:
			t, k = "string", frame.KindString
		}
		name := avroName(c.Name())
		if prev, dup := seen[name]; dup {
			return nil, nil, fmt.Errorf("avro: columns %q and %q both become the field name %q; rename one", prev, c.Name(), name)
		}
		seen[name] = c.Name()
		fj := fieldJSON{Name: name, Type: []any{"null", t}}
		if name != c.Name() {
			fj.Column = c.Name()
		}
		rec.Fields = append(rec.Fields, fj)
		enc.names = append(enc.names, c.Name())
		enc.kinds = append(enc.kinds, k)
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, nil, err
	}
	return b, enc, nil
}

// avroName makes a column name an Avro name: [A-Za-z_][A-Za-z0-9_]*.
func avroName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] >= '0' && b[0] <= '9' {
		b = append([]byte{'_'}, b...)
	}
	return string(b)
}

// appendLong appends v zig-zag encoded as a variable-length integer.
func appendLong(dst []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for u >= 0x80 {
		dst = append(dst, byte(u)|0x80)
		u >>= 7
	}
	return append(dst, byte(u))
}

func appendBytes(dst, b []byte) []byte {
	dst = appendLong(dst, int64(len(b)))
	return append(dst, b...)
}

func appendString(dst []byte, s string) []byte {
	dst = appendLong(dst, int64(len(s)))
	return append(dst, s...)
}

// DatumWriter encodes a frame's rows as single Avro datums (Kafka message
// values) of the schema SchemaFor derives from the first frame's columns.
type DatumWriter struct {
	schema []byte
	fp     uint64
	enc    *encoder
}

// NewDatumWriter derives the schema from first's columns.
func NewDatumWriter(first *frame.Frame) (*DatumWriter, error) {
	schema, enc, err := schemaFor(first)
	if err != nil {
		return nil, err
	}
	s, err := Parse(schema)
	if err != nil {
		return nil, err
	}
	return &DatumWriter{schema: schema, fp: s.Fingerprint(), enc: enc}, nil
}

// Schema is the writer schema as JSON.
func (d *DatumWriter) Schema() []byte { return d.schema }

// Fingerprint is the schema's CRC-64-AVRO fingerprint.
func (d *DatumWriter) Fingerprint() uint64 { return d.fp }

// Check refuses a frame whose columns differ from the schema's.
func (d *DatumWriter) Check(f *frame.Frame) error { return d.enc.check(f) }

// Append appends row i of f as a bare datum.
func (d *DatumWriter) Append(dst []byte, f *frame.Frame, i int) []byte { return d.enc.row(dst, f, i) }

// AppendSingleObject appends row i of f in Avro's single-object encoding:
// 0xC3 0x01, the schema's fingerprint (8 bytes, little-endian), the datum.
func (d *DatumWriter) AppendSingleObject(dst []byte, f *frame.Frame, i int) []byte {
	dst = append(dst, 0xC3, 0x01)
	dst = binary.LittleEndian.AppendUint64(dst, d.fp)
	return d.enc.row(dst, f, i)
}
