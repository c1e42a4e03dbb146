package arrowipc

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/gyre-ml/gyre/internal/frame"
)

// ErrUnsupported is wrapped by errors about Arrow data Gyre does not read:
// a column type (nested, binary, time of day ...), a compression codec, a
// big-endian file, a legacy Feather v1 file.
var ErrUnsupported = errors.New("not read by Gyre")

// ErrFormat is wrapped by errors about malformed Arrow data: a truncated
// file, a bad footer, metadata or buffer out of bounds.
var ErrFormat = errors.New("malformed Arrow IPC data")

// MaxLevels is the most distinct values a plain (not dictionary-encoded)
// text column may have to be read as categorical; beyond it, or with more
// than half as many distinct values as present values, it is free text.
// A dictionary-encoded column is categorical when its levels number at most
// MaxLevels.
const MaxLevels = 1000

// maxMessage bounds one message's metadata (a schema of many thousand
// columns is well under it).
const maxMessage = 256 << 20

var (
	fileMagic    = []byte("ARROW1")
	feather1     = []byte("FEA1")
	continuation = uint32(0xffffffff)
)

// Reader reads an Arrow IPC file (Feather v2) or stream record batch by
// record batch.
type Reader struct {
	name   string
	src    io.ReaderAt
	size   int64
	schema *schema
	want   []int        // indices of the schema fields read, in output order
	plans  map[int]plan // field index -> how it is decoded
	dicts  map[int64]*dictionary
	dictOf map[int64]field // dictionary id -> its value field

	// file format
	footer    *footer
	next      int
	dictsRead bool

	// stream format
	br   *bufio.Reader
	pos  int64 // bytes of the stream consumed
	done bool

	row int64 // rows read so far
}

// dictionary holds the decoded values of one dictionary id.
type dictionary struct {
	values []string
	// remap caches the codes of values in the builder that last used them.
	remap   []int32
	remapOf *builder
}

// plan is how one wanted field is decoded.
type plan struct {
	f    field
	kind frame.Kind
}

// Open opens an Arrow IPC file, Feather v2 file or IPC stream at path.
// columns, when not nil, limits the columns decoded (names the file lacks
// are ignored: the caller reports them). Close the returned file when done.
func Open(path, name string, columns []string) (*Reader, *os.File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, nil, err
	}
	r, err := NewReader(fh, st.Size(), name, columns)
	if err != nil {
		fh.Close()
		return nil, nil, err
	}
	return r, fh, nil
}

// NewReader reads the schema of the Arrow IPC file or stream in src (size
// bytes, named name in errors). columns, when not nil, limits the columns
// decoded; names the data lacks are ignored. A column of a type Gyre does
// not read is an error wrapping ErrUnsupported, naming the column and type,
// when it is among the columns decoded.
func NewReader(src io.ReaderAt, size int64, name string, columns []string) (*Reader, error) {
	r := &Reader{name: name, src: src, size: size, dicts: map[int64]*dictionary{}, dictOf: map[int64]field{}}
	var head [8]byte
	n, _ := src.ReadAt(head[:], 0)
	switch {
	case n >= 6 && bytes.Equal(head[:6], fileMagic):
		if err := r.openFile(); err != nil {
			return nil, err
		}
	case n >= 4 && bytes.Equal(head[:4], feather1):
		return nil, fmt.Errorf("%s: a Feather v1 file (written by feather-format or pandas before 0.25 / pyarrow 0.17): %w; write it again as Feather v2 (pyarrow.feather.write_feather's default) or Parquet", name, ErrUnsupported)
	default:
		r.br = bufio.NewReaderSize(io.NewSectionReader(src, 0, size), 1<<16)
		kind, meta, body, err := r.readMessage()
		if err != nil {
			return nil, err
		}
		if kind != headerSchema {
			return nil, fmt.Errorf("%s: %w: the stream does not start with a schema message", name, ErrFormat)
		}
		_ = body
		if r.schema, err = parseSchema(meta); err != nil || meta.fb.bad {
			return nil, r.metaErr("schema", err)
		}
	}
	if err := r.plan(columns); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Reader) metaErr(what string, err error) error {
	if err == nil || errors.Is(err, errFlatbuf) {
		return fmt.Errorf("%s: %w: %s: %w", r.name, ErrFormat, what, errFlatbuf)
	}
	return fmt.Errorf("%s: %s: %w: %w", r.name, what, err, ErrUnsupported)
}

// openFile reads the footer of the file format.
func (r *Reader) openFile() error {
	var tail [10]byte
	if r.size < 8+10 {
		return fmt.Errorf("%s: %w: %d bytes is too short for an Arrow IPC file", r.name, ErrFormat, r.size)
	}
	if _, err := r.src.ReadAt(tail[:], r.size-10); err != nil {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	if !bytes.Equal(tail[4:], fileMagic) {
		return fmt.Errorf("%s: %w: the file does not end with the ARROW1 footer (cut short, or still being written)", r.name, ErrFormat)
	}
	flen := int64(int32(binary.LittleEndian.Uint32(tail[:4])))
	if flen <= 0 || flen > r.size-18 || flen > maxMessage {
		return fmt.Errorf("%s: %w: footer length %d out of range", r.name, ErrFormat, flen)
	}
	b := make([]byte, flen)
	if _, err := r.src.ReadAt(b, r.size-10-flen); err != nil {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	ft, err := parseFooter(b)
	if err != nil {
		return r.metaErr("footer", err)
	}
	r.footer, r.schema = ft, ft.schema
	return nil
}

// plan picks the fields to decode and how, refusing unsupported types.
func (r *Reader) plan(columns []string) error {
	r.plans = map[int]plan{}
	index := map[string]int{}
	for i, f := range r.schema.fields {
		if _, dup := index[f.name]; !dup {
			index[f.name] = i
		}
	}
	if columns == nil {
		for i := range r.schema.fields {
			r.want = append(r.want, i)
		}
	} else {
		seen := map[int]bool{}
		for _, c := range columns {
			if i, ok := index[c]; ok && !seen[i] {
				seen[i] = true
				r.want = append(r.want, i)
			}
		}
	}
	names := map[string]bool{}
	for _, i := range r.want {
		f := r.schema.fields[i]
		if names[f.name] {
			return fmt.Errorf("%s: column %q: %w: the name is repeated in the schema", r.name, f.name, ErrFormat)
		}
		names[f.name] = true
		k, err := kindOf(f)
		if err != nil {
			return fmt.Errorf("%s: column %q: Arrow type %s: %w (Gyre reads integers, floats, bool, utf8, dates, timestamps, decimals and dictionary-encoded strings)", r.name, f.name, f.typeString(), ErrUnsupported)
		}
		r.plans[i] = plan{f: f, kind: k}
		if f.dict != nil {
			r.dictOf[f.dict.id] = field{name: f.name, typ: f.typ}
		}
	}
	return nil
}

// kindOf maps a field to the frame kind it is read as.
func kindOf(f field) (frame.Kind, error) {
	if f.dict != nil {
		if !isText(f.typ) || f.dict.index.id != typeInt || !validWidth(f.dict.index.bitWidth) {
			return 0, ErrUnsupported
		}
		return frame.KindCategorical, nil
	}
	switch f.typ.id {
	case typeNull:
		return frame.KindFloat, nil
	case typeInt:
		if !validWidth(f.typ.bitWidth) {
			return 0, ErrUnsupported
		}
		return frame.KindInt, nil
	case typeFloatingPoint:
		if f.typ.precision < 0 || f.typ.precision > 2 {
			return 0, ErrUnsupported
		}
		return frame.KindFloat, nil
	case typeDecimal:
		switch f.typ.bitWidth {
		case 32, 64, 128, 256:
			return frame.KindFloat, nil
		}
	case typeBool:
		return frame.KindBool, nil
	case typeUtf8, typeLargeUtf8, typeUtf8View:
		return frame.KindString, nil
	case typeDate:
		if f.typ.unit == 0 || f.typ.unit == 1 {
			return frame.KindTime, nil
		}
	case typeTimestamp:
		if f.typ.unit >= unitSecond && f.typ.unit <= unitNano {
			return frame.KindTime, nil
		}
	}
	return 0, ErrUnsupported
}

func validWidth(w int) bool { return w == 8 || w == 16 || w == 32 || w == 64 }

func isText(t arrowType) bool {
	return t.id == typeUtf8 || t.id == typeLargeUtf8 || t.id == typeUtf8View
}

// Names returns the names of the columns read, in output order.
func (r *Reader) Names() []string {
	out := make([]string, len(r.want))
	for k, i := range r.want {
		out[k] = r.schema.fields[i].name
	}
	return out
}

// Progress reports how far the reader has got: bytes for a stream, record
// batches for a file; total is the stream's size or the file's batch count.
func (r *Reader) Progress() (done, total int64) {
	if r.footer != nil {
		return int64(r.next), int64(len(r.footer.batches))
	}
	return r.pos, r.size
}

// Next returns the next record batch as a frame, or io.EOF after the last.
func (r *Reader) Next() (*frame.Frame, error) {
	bs := r.builders()
	n, err := r.nextBatch(bs)
	if err != nil {
		return nil, err
	}
	_ = n
	return r.finish(bs)
}

// ReadAll reads every remaining record batch into one frame.
func (r *Reader) ReadAll() (*frame.Frame, error) {
	bs := r.builders()
	for {
		if _, err := r.nextBatch(bs); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
	}
	return r.finish(bs)
}

// ReadFile reads a whole Arrow IPC file, Feather v2 file or stream.
func ReadFile(path, name string, columns []string) (*frame.Frame, error) {
	r, fh, err := Open(path, name, columns)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return r.ReadAll()
}

func (r *Reader) builders() []*builder {
	bs := make([]*builder, len(r.want))
	for k, i := range r.want {
		p := r.plans[i]
		bs[k] = &builder{name: p.f.name, kind: p.kind}
	}
	return bs
}

func (r *Reader) finish(bs []*builder) (*frame.Frame, error) {
	cols := make([]frame.Column, len(bs))
	for k, b := range bs {
		cols[k] = b.column()
	}
	f, err := frame.New(cols...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.name, err)
	}
	return f, nil
}

// nextBatch reads messages up to the next record batch and appends it to
// bs, returning its row count; io.EOF after the last.
func (r *Reader) nextBatch(bs []*builder) (int, error) {
	if r.footer != nil {
		return r.nextFileBatch(bs)
	}
	for {
		kind, meta, body, err := r.readMessage()
		if err != nil {
			return 0, err
		}
		switch kind {
		case headerDictionaryBatch:
			if err := r.readDictionary(meta, body); err != nil {
				return 0, err
			}
		case headerRecordBatch:
			return r.readBatch(meta, body, bs)
		case headerSchema:
			return 0, fmt.Errorf("%s: %w: a second schema message in the stream", r.name, ErrFormat)
		default:
			return 0, fmt.Errorf("%s: message type %d: %w", r.name, kind, ErrUnsupported)
		}
	}
}

func (r *Reader) nextFileBatch(bs []*builder) (int, error) {
	if !r.dictsRead {
		r.dictsRead = true
		for _, b := range r.footer.dictionaries {
			kind, meta, body, err := r.readBlock(b)
			if err != nil {
				return 0, err
			}
			if kind != headerDictionaryBatch {
				return 0, fmt.Errorf("%s: %w: the footer's dictionary block at byte %d holds message type %d", r.name, ErrFormat, b.offset, kind)
			}
			if err := r.readDictionary(meta, body); err != nil {
				return 0, err
			}
		}
	}
	if r.next >= len(r.footer.batches) {
		return 0, io.EOF
	}
	b := r.footer.batches[r.next]
	r.next++
	kind, meta, body, err := r.readBlock(b)
	if err != nil {
		return 0, err
	}
	if kind != headerRecordBatch {
		return 0, fmt.Errorf("%s: %w: the footer's record batch block at byte %d holds message type %d", r.name, ErrFormat, b.offset, kind)
	}
	return r.readBatch(meta, body, bs)
}

// readBlock reads the message a footer block points at.
func (r *Reader) readBlock(b block) (uint8, table, []byte, error) {
	if b.offset < 8 || b.metaLen < 8 || b.bodyLen < 0 || b.offset > r.size || int64(b.metaLen) > r.size-b.offset || b.bodyLen > r.size-b.offset-int64(b.metaLen) {
		return 0, table{}, nil, fmt.Errorf("%s: %w: footer block at byte %d out of range", r.name, ErrFormat, b.offset)
	}
	meta := make([]byte, b.metaLen)
	if _, err := r.src.ReadAt(meta, b.offset); err != nil {
		return 0, table{}, nil, fmt.Errorf("%s: %w", r.name, err)
	}
	fbBytes := meta[4:]
	if binary.LittleEndian.Uint32(meta) == continuation {
		fbBytes = meta[8:]
	}
	m, err := parseMessage(fbBytes)
	if err != nil {
		return 0, table{}, nil, r.metaErr(fmt.Sprintf("message at byte %d", b.offset), err)
	}
	if m.bodyLen > b.bodyLen {
		return 0, table{}, nil, fmt.Errorf("%s: %w: message at byte %d: body of %d bytes, the footer says %d", r.name, ErrFormat, b.offset, m.bodyLen, b.bodyLen)
	}
	body := make([]byte, m.bodyLen)
	if _, err := r.src.ReadAt(body, b.offset+int64(b.metaLen)); err != nil {
		return 0, table{}, nil, fmt.Errorf("%s: %w", r.name, err)
	}
	return m.kind, m.header, body, nil
}

// readMessage reads the next message of a stream: kind 0 never occurs;
// io.EOF at the end-of-stream marker or a clean end of data.
func (r *Reader) readMessage() (uint8, table, []byte, error) {
	if r.done {
		return 0, table{}, nil, io.EOF
	}
	at := r.pos
	var word [4]byte
	if _, err := io.ReadFull(r.br, word[:]); err != nil {
		if errors.Is(err, io.EOF) {
			r.done = true
			return 0, table{}, nil, io.EOF
		}
		return 0, table{}, nil, r.cut(at, err)
	}
	r.pos += 4
	n := binary.LittleEndian.Uint32(word[:])
	if n == continuation {
		if _, err := io.ReadFull(r.br, word[:]); err != nil {
			return 0, table{}, nil, r.cut(at, err)
		}
		r.pos += 4
		n = binary.LittleEndian.Uint32(word[:])
	}
	if n == 0 {
		r.done = true
		return 0, table{}, nil, io.EOF
	}
	if n > maxMessage || int64(n) > r.size-r.pos {
		return 0, table{}, nil, fmt.Errorf("%s: %w: message at byte %d: metadata length %d out of range", r.name, ErrFormat, at, n)
	}
	meta := make([]byte, n)
	if _, err := io.ReadFull(r.br, meta); err != nil {
		return 0, table{}, nil, r.cut(at, err)
	}
	r.pos += int64(n)
	m, err := parseMessage(meta)
	if err != nil {
		return 0, table{}, nil, r.metaErr(fmt.Sprintf("message at byte %d", at), err)
	}
	if m.bodyLen > r.size-r.pos {
		return 0, table{}, nil, fmt.Errorf("%s: %w: message at byte %d: a body of %d bytes runs past the end of the data (cut short?)", r.name, ErrFormat, at, m.bodyLen)
	}
	body := make([]byte, m.bodyLen)
	if _, err := io.ReadFull(r.br, body); err != nil {
		return 0, table{}, nil, r.cut(at, err)
	}
	r.pos += m.bodyLen
	if m.kind == 0 {
		return 0, table{}, nil, fmt.Errorf("%s: %w: message at byte %d has no header", r.name, ErrFormat, at)
	}
	return m.kind, m.header, body, nil
}

func (r *Reader) cut(at int64, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: %w: the message at byte %d is cut short", r.name, ErrFormat, at)
	}
	return fmt.Errorf("%s: %w", r.name, err)
}

// readDictionary decodes a DictionaryBatch for a wanted column.
func (r *Reader) readDictionary(t table, body []byte) error {
	id := t.i64(0, 0)
	isDelta := t.bool(2, false)
	rt, ok := t.table(1)
	if t.fb.bad || !ok {
		return r.metaErr("dictionary batch", nil)
	}
	f, wanted := r.dictOf[id]
	if !wanted {
		return nil
	}
	rb, err := parseRecordBatch(rt)
	if err != nil || rt.fb.bad {
		return r.metaErr(fmt.Sprintf("dictionary %d of column %q", id, f.name), err)
	}
	bd := &batchData{r: r, rb: rb, body: body}
	b := &builder{name: f.name, kind: frame.KindString}
	node, buf, vari := 0, 0, 0
	if err := bd.decode(f, b, &node, &buf, &vari, 0); err != nil {
		return fmt.Errorf("%s: column %q: dictionary: %w", r.name, f.name, err)
	}
	values := b.strs
	for i := range values {
		if !b.valid.Valid(i) {
			values[i] = ""
		}
	}
	d := r.dicts[id]
	if isDelta && d != nil {
		d.values = append(d.values, values...)
		d.remapOf = nil
		return nil
	}
	r.dicts[id] = &dictionary{values: values}
	return nil
}

// readBatch decodes a RecordBatch's wanted columns into bs.
func (r *Reader) readBatch(t table, body []byte, bs []*builder) (int, error) {
	rb, err := parseRecordBatch(t)
	if err != nil || t.fb.bad {
		return 0, r.metaErr(fmt.Sprintf("record batch at row %d", r.row), err)
	}
	if rb.length > math.MaxInt32 {
		return 0, fmt.Errorf("%s: %w: a record batch of %d rows", r.name, ErrFormat, rb.length)
	}
	bd := &batchData{r: r, rb: rb, body: body}
	node, buf, vari := 0, 0, 0
	out := map[int]*builder{}
	for k, i := range r.want {
		out[i] = bs[k]
	}
	for i, f := range r.schema.fields {
		b := out[i]
		if b == nil {
			if err := bd.skip(f, &node, &buf, &vari); err != nil {
				return 0, fmt.Errorf("%s: column %q: %w", r.name, f.name, err)
			}
			continue
		}
		if node < len(rb.nodes) && rb.nodes[node].length != rb.length {
			return 0, fmt.Errorf("%s: column %q: %w: %d values in a batch of %d rows", r.name, f.name, ErrFormat, rb.nodes[node].length, rb.length)
		}
		if err := bd.decode(f, b, &node, &buf, &vari, r.row); err != nil {
			return 0, fmt.Errorf("%s: column %q: %w", r.name, f.name, err)
		}
	}
	r.row += rb.length
	return int(rb.length), nil
}
