package predlog

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
)

// The write-ahead log (durable mode). A WAL is a directory of segment
// files, one open at a time. The server's logger adds each sampled request
// to the open segment's batches and its bytes to the segment file, calls
// Sync (write and fsync) before the requests it added are answered, and
// Cuts the segment when its batches are due to be stored: the cut segment's
// batches go to the log and the file is removed once they are stored
// (Segment.Done). At start, Replay stores the batches of the segments a
// previous process left (it died before storing them) and removes them.
//
// A segment file is walMagic, then frames: a 4-byte little-endian payload
// length, the payload's 4-byte CRC-32C, the payload. A payload's first byte
// says what it holds:
//
//	'D'  a model version's definition, JSON {model, version, schema,
//	     classes}; the segment's definitions are numbered from 0 in order
//	'P'  one request's rows: the definition's number, then the rows in
//	     columns, values in the schema's kinds, then their latencies
//	     (see Builder.appendWAL; a segment written before latencies were
//	     logged has none, and its rows' latency is unknown)
//	'F'  feedback labels, JSON [Feedback]
//
// A frame cut short, or whose checksum does not match, ends its segment: a
// process killed while writing leaves a torn tail, which Replay drops and
// counts (no request it held was answered: answers wait for Sync).

// walMagic opens every segment file.
const walMagic = "GYREWAL\x01"

// walMaxFrame bounds a frame's payload (a request body is at most 2 GiB,
// its logged rows far less); a larger length is a torn or foreign file.
const walMaxFrame = 1 << 30

var walCRC = crc32.MakeTable(crc32.Castagnoli)

// walDef is a 'D' payload.
type walDef struct {
	Model   string       `json:"model"`
	Version string       `json:"version"`
	Schema  frame.Schema `json:"schema"`
	Classes []string     `json:"classes,omitempty"`
}

// WAL is an open write-ahead directory. It is not safe for concurrent use:
// one goroutine (the server's logger) adds, syncs and cuts.
type WAL struct {
	dir  string
	lock *os.File
	f    *os.File
	seq  uint64 // the open segment's number
	buf  []byte // frames added since the last Sync
	size int64  // bytes written to the open segment

	defs     map[[2]string]int
	builders []*Builder
	feedback []Feedback
	rows     int
	frame    []byte // scratch payload
	// err is the open segment's write or fsync failure: the file may end
	// in a torn frame, so nothing more is written to it (Sync fails) until
	// Cut opens the next.
	err error
}

// OpenWAL opens (creating, mode 0700) the write-ahead directory dir and
// locks it, so that two servers never share one; the segments a previous
// process left stay for Replay, and new ones are numbered after them.
func OpenWAL(dir string) (*WAL, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open write-ahead log: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open write-ahead log %s: %w", dir, err)
	}
	segs, err := segments(dir)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("open write-ahead log: %w", err)
	}
	w := &WAL{dir: dir, lock: lock, seq: 1}
	if len(segs) > 0 {
		w.seq = segs[len(segs)-1] + 1
	}
	if err := w.open(); err != nil {
		lock.Close()
		return nil, err
	}
	return w, nil
}

// Dir is the write-ahead directory.
func (w *WAL) Dir() string { return w.dir }

func segName(dir string, seq uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d.wal", seq))
}

// segments lists the segment numbers in dir, in order.
func segments(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".wal")
		if !ok || e.IsDir() {
			continue
		}
		if n, err := strconv.ParseUint(name, 10, 64); err == nil {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// open creates the segment w.seq and makes its name durable.
func (w *WAL) open() error {
	f, err := os.OpenFile(segName(w.dir, w.seq), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("open write-ahead segment: %w", err)
	}
	if _, err := f.WriteString(walMagic); err != nil {
		f.Close()
		return fmt.Errorf("open write-ahead segment: %w", err)
	}
	if err := syncDir(w.dir); err != nil {
		f.Close()
		return fmt.Errorf("open write-ahead segment: %w", err)
	}
	w.f, w.size = f, int64(len(walMagic))
	w.defs = map[[2]string]int{}
	w.builders, w.feedback, w.rows = nil, nil, 0
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// appendFrame frames a payload onto w.buf.
func (w *WAL) appendFrame(payload []byte) {
	w.buf = binary.LittleEndian.AppendUint32(w.buf, uint32(len(payload)))
	w.buf = binary.LittleEndian.AppendUint32(w.buf, crc32.Checksum(payload, walCRC))
	w.buf = append(w.buf, payload...)
}

// builder returns the open segment's builder of a model version, writing
// its definition first when it is new to the segment.
func (w *WAL) builder(model, version string, schema frame.Schema, classes []string) (int, *Builder) {
	k := [2]string{model, version}
	if id, ok := w.defs[k]; ok {
		return id, w.builders[id]
	}
	def, _ := json.Marshal(walDef{model, version, schema, classes}) // strings and kinds only
	w.appendFrame(append([]byte{'D'}, def...))
	id := len(w.builders)
	w.defs[k] = id
	b := NewBuilder(model, version, schema, classes)
	w.builders = append(w.builders, b)
	return id, b
}

// AddFrame adds one request's rows as Builder.AddTimedFrame does, and their
// record to the segment file's buffer.
func (w *WAL) AddFrame(model, version string, schema frame.Schema, reqID string, at time.Time, latency time.Duration, f *frame.Frame, p *bundle.Prediction) {
	id, b := w.builder(model, version, schema, p.Classes)
	from := b.Len()
	b.AddTimedFrame(reqID, at, latency, f, p)
	w.addRecord(id, b, from)
}

// AddRow adds a one-row request as Builder.AddTimedRow does, and its record
// to the segment file's buffer.
func (w *WAL) AddRow(model, version string, schema frame.Schema, reqID string, at time.Time, latency time.Duration, num []float64, text []string, present []bool, p *bundle.Prediction) {
	id, b := w.builder(model, version, schema, p.Classes)
	from := b.Len()
	b.AddTimedRow(reqID, at, latency, num, text, present, p)
	w.addRecord(id, b, from)
}

func (w *WAL) addRecord(id int, b *Builder, from int) {
	w.frame = append(w.frame[:0], 'P')
	w.frame = binary.AppendUvarint(w.frame, uint64(id))
	w.frame = b.appendWAL(w.frame, from)
	w.appendFrame(w.frame)
	w.rows += b.Len() - from
}

// AddFeedback adds feedback labels, and their record to the segment file's
// buffer.
func (w *WAL) AddFeedback(fbs []Feedback) {
	data, _ := json.Marshal(fbs) // strings, ints and times only
	w.appendFrame(append([]byte{'F'}, data...))
	w.feedback = append(w.feedback, fbs...)
}

// Rows is the number of prediction rows added to the open segment.
func (w *WAL) Rows() int { return w.rows }

// Feedback is the number of labels added to the open segment.
func (w *WAL) Feedback() int { return len(w.feedback) }

// Sync writes what was added since the last Sync to the segment file and
// fsyncs it: once it returns nil, what was added survives a crash of the
// process or the machine.
//
// After a failure every Sync fails until Cut: the segment's file may end
// in a torn frame, after which a replay reads nothing. The batches of what
// was added are kept all the same (Cut returns them).
func (w *WAL) Sync() error {
	if w.err != nil {
		w.buf = w.buf[:0]
		return w.err
	}
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.f.Write(w.buf)
	w.size += int64(n)
	w.buf = w.buf[:0]
	if err != nil {
		w.err = fmt.Errorf("write-ahead log: write %s: %w", w.f.Name(), err)
		return w.err
	}
	if err := w.f.Sync(); err != nil {
		w.err = fmt.Errorf("write-ahead log: fsync %s: %w", w.f.Name(), err)
		return w.err
	}
	return nil
}

// Segment is a cut segment: the batches and feedback its file holds, to be
// stored, and the file, removed by Done once they are.
type Segment struct {
	Batches  []*Batch
	Feedback []Feedback
	path     string
}

// Done removes the segment's file: call it once its batches and feedback
// are stored.
func (s *Segment) Done() error {
	if s.path == "" {
		return nil
	}
	if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("write-ahead log: remove %s: %w", s.path, err)
	}
	return nil
}

// Cut syncs and closes the open segment, opens the next one and returns
// the closed segment's batches (nil when nothing was added). The returned
// segment holds its batches even when the file failed (see Sync) or the
// next one cannot be opened (then the error is returned beside it, and
// adding goes on into memory with every Sync failing).
func (w *WAL) Cut() (*Segment, error) {
	if w.rows == 0 && len(w.feedback) == 0 && w.err == nil {
		return nil, nil
	}
	w.Sync() // a failure is w.err: the batches are kept, the file replaced
	w.err = nil
	seg := &Segment{Feedback: w.feedback}
	for _, b := range w.builders {
		if b.Len() > 0 {
			seg.Batches = append(seg.Batches, b.Batch())
		}
	}
	if w.f != nil {
		seg.path = w.f.Name()
		w.f.Close() // synced or failed already
	}
	w.seq++
	if err := w.open(); err != nil {
		w.f, w.defs, w.builders, w.feedback, w.rows = nil, map[[2]string]int{}, nil, nil, 0
		w.err = err
		return seg, err
	}
	return seg, nil
}

// Close syncs and closes the open segment (removed when it holds nothing)
// and releases the directory. What was added and not cut stays for Replay.
func (w *WAL) Close() error {
	err := w.Sync()
	if w.f != nil {
		name, empty := w.f.Name(), w.rows == 0 && len(w.feedback) == 0
		if cerr := w.f.Close(); err == nil {
			err = cerr
		}
		if empty && err == nil {
			err = os.Remove(name)
		}
	}
	if cerr := w.lock.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close write-ahead log: %w", err)
	}
	return nil
}

// Sink takes the batches and feedback a replay recovers; *Log is one.
type Sink interface {
	LogPredictions(ctx context.Context, b *Batch) error
	LogFeedback(ctx context.Context, fb []Feedback) error
}

// Replayed is what a replay recovered and what it dropped.
type Replayed struct {
	// Segments is the number of segment files replayed.
	Segments int
	// Rows and Feedback count the prediction rows and labels stored.
	Rows, Feedback int
	// TornSegments counts the segments that ended in a torn or corrupt
	// frame, and TornBytes the bytes dropped from there to their end:
	// records a crash cut short while writing, never acknowledged.
	TornSegments int
	TornBytes    int64
}

// Replay stores the batches and feedback of the segments a previous
// process left (those before the one this WAL opened) into sink, removing
// each segment once stored. Storing a segment again (a crash after storing
// it, before removing it) stores nothing new: the log keeps a batch, and a
// row, once.
func (w *WAL) Replay(ctx context.Context, sink Sink) (Replayed, error) {
	var out Replayed
	segs, err := segments(w.dir)
	if err != nil {
		return out, fmt.Errorf("replay write-ahead log: %w", err)
	}
	for _, n := range segs {
		if n >= w.seq {
			break
		}
		path := segName(w.dir, n)
		seg, torn, err := readSegment(path)
		if err != nil {
			return out, fmt.Errorf("replay write-ahead log: %w", err)
		}
		if torn > 0 {
			out.TornSegments++
			out.TornBytes += torn
		}
		for _, b := range seg.Batches {
			if err := sink.LogPredictions(ctx, b); err != nil {
				return out, fmt.Errorf("replay write-ahead log: %s: %w", path, err)
			}
			out.Rows += b.Len()
		}
		if len(seg.Feedback) > 0 {
			if err := sink.LogFeedback(ctx, seg.Feedback); err != nil {
				return out, fmt.Errorf("replay write-ahead log: %s: %w", path, err)
			}
			out.Feedback += len(seg.Feedback)
		}
		if err := seg.Done(); err != nil {
			return out, fmt.Errorf("replay write-ahead log: %w", err)
		}
		out.Segments++
	}
	return out, nil
}

// readSegment decodes a segment file into its batches and feedback, and
// returns how many bytes of torn tail it dropped. A frame whose checksum
// holds but that does not decode is an error (a bug or a foreign file,
// not a crash).
func readSegment(path string) (*Segment, int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	seg := &Segment{path: path}
	if len(data) < len(walMagic) {
		return seg, int64(len(data)), nil // killed while creating it
	}
	if string(data[:len(walMagic)]) != walMagic {
		return nil, 0, fmt.Errorf("%s: not a gyre write-ahead segment", path)
	}
	var builders []*Builder
	p := len(walMagic)
	for p < len(data) {
		if len(data)-p < 8 {
			break
		}
		n := binary.LittleEndian.Uint32(data[p:])
		sum := binary.LittleEndian.Uint32(data[p+4:])
		if n == 0 || n > walMaxFrame || int64(n) > int64(len(data)-p-8) {
			break
		}
		payload := data[p+8 : p+8+int(n)]
		if crc32.Checksum(payload, walCRC) != sum {
			break
		}
		if err := decodeFrame(payload, &builders, seg); err != nil {
			return nil, 0, fmt.Errorf("%s: frame at byte %d: %w", path, p, err)
		}
		p += 8 + int(n)
	}
	for _, b := range builders {
		if b.Len() > 0 {
			seg.Batches = append(seg.Batches, b.Batch())
		}
	}
	return seg, int64(len(data) - p), nil
}

func decodeFrame(payload []byte, builders *[]*Builder, seg *Segment) error {
	switch payload[0] {
	case 'D':
		var d walDef
		if err := json.Unmarshal(payload[1:], &d); err != nil {
			return fmt.Errorf("model definition: %w", err)
		}
		*builders = append(*builders, NewBuilder(d.Model, d.Version, d.Schema, d.Classes))
	case 'P':
		id, k := binary.Uvarint(payload[1:])
		if k <= 0 || id >= uint64(len(*builders)) {
			return fmt.Errorf("rows of undefined model version %d", id)
		}
		if err := (*builders)[id].addWAL(payload[1+k:]); err != nil {
			return fmt.Errorf("rows: %w", err)
		}
	case 'F':
		var fbs []Feedback
		if err := json.Unmarshal(payload[1:], &fbs); err != nil {
			return fmt.Errorf("feedback: %w", err)
		}
		seg.Feedback = append(seg.Feedback, fbs...)
	default:
		return fmt.Errorf("unknown record type %q", payload[0])
	}
	return nil
}

// appendWAL appends the rows from..Len() of b to dst: their count, then
// per row the request id, row index and time, then per input column its
// values in the field's kind (a missing value as a 0 byte, a present one
// as a 1 byte and the value), then the predicted values and probabilities,
// then per row its latency in nanoseconds (a varint, -1 unknown).
func (b *Builder) appendWAL(dst []byte, from int) []byte {
	n := b.Len() - from
	dst = binary.AppendUvarint(dst, uint64(n))
	for i := from; i < b.Len(); i++ {
		dst = appendString(dst, b.reqIDs[i])
		dst = binary.AppendVarint(dst, int64(b.rows[i]))
		dst = binary.AppendVarint(dst, b.times[i])
	}
	for _, c := range b.cols {
		for i := from; i < b.Len(); i++ {
			if !c.valid.Valid(i) {
				dst = append(dst, 0)
				continue
			}
			dst = append(dst, 1)
			switch c.field.Kind {
			case frame.KindFloat:
				dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(c.floats[i]))
			case frame.KindInt, frame.KindTime:
				dst = binary.AppendVarint(dst, c.ints[i])
			case frame.KindBool:
				dst = append(dst, boolByte(c.bools[i]))
			case frame.KindString:
				dst = appendString(dst, c.texts[i])
			default:
				if c.codes[i] < 0 {
					dst[len(dst)-1] = 0 // a categorical's missing value has no validity bit
					continue
				}
				dst = appendString(dst, c.levels[c.codes[i]])
			}
		}
	}
	for _, v := range b.values[from:] {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
	}
	if k := len(b.classes); k > 0 {
		for _, v := range b.proba[from*k:] {
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
		}
	}
	for _, v := range b.latency[from:] {
		dst = binary.AppendVarint(dst, v)
	}
	return dst
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// walReader decodes what appendWAL wrote.
type walReader struct {
	data []byte
	err  error
}

func (r *walReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%s cut short", what)
	}
	r.data = nil
}

func (r *walReader) uvarint(what string) uint64 { return walVarint(r, what, binary.Uvarint) }

func (r *walReader) varint(what string) int64 { return walVarint(r, what, binary.Varint) }

// walVarint reads one varint with read (binary.Uvarint or binary.Varint).
func walVarint[T uint64 | int64](r *walReader, what string, read func([]byte) (T, int)) T {
	v, k := read(r.data)
	if k <= 0 {
		r.fail(what)
		return 0
	}
	r.data = r.data[k:]
	return v
}

func (r *walReader) byte(what string) byte {
	if len(r.data) < 1 {
		r.fail(what)
		return 0
	}
	v := r.data[0]
	r.data = r.data[1:]
	return v
}

func (r *walReader) float(what string) float64 {
	if len(r.data) < 8 {
		r.fail(what)
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.data))
	r.data = r.data[8:]
	return v
}

func (r *walReader) string(what string) string {
	n := r.uvarint(what)
	if n > uint64(len(r.data)) {
		r.fail(what)
		return ""
	}
	s := string(r.data[:n])
	r.data = r.data[n:]
	return s
}

// addWAL appends the rows appendWAL wrote to b.
func (b *Builder) addWAL(data []byte) error {
	r := &walReader{data: data}
	n := r.uvarint("row count")
	if n > uint64(len(data)) { // every row takes bytes
		return fmt.Errorf("row count %d in a record of %d bytes", n, len(data))
	}
	for range n {
		id := r.string("request id")
		row := r.varint("row index")
		t := r.varint("time")
		if r.err != nil {
			return r.err
		}
		b.reqIDs, b.rows, b.times = append(b.reqIDs, id), append(b.rows, int32(row)), append(b.times, t)
	}
	for _, c := range b.cols {
		what := "column " + c.field.Name
		for range n {
			if r.byte(what) == 0 {
				c.appendNulls(1)
				continue
			}
			switch c.field.Kind {
			case frame.KindFloat:
				c.appendNumber(r.float(what), true)
			case frame.KindInt, frame.KindTime:
				c.grow(1)
				c.ints = append(c.ints, r.varint(what))
			case frame.KindBool:
				c.appendNumber(float64(r.byte(what)), true)
			default:
				c.appendText(r.string(what), true)
			}
		}
		if r.err != nil {
			return r.err
		}
	}
	for range n {
		b.values = append(b.values, r.float("predictions"))
	}
	for range int(n) * len(b.classes) {
		b.proba = append(b.proba, r.float("probabilities"))
	}
	if r.err != nil {
		return r.err
	}
	old := len(r.data) == 0 // a segment from before latencies were logged
	for range n {
		if old {
			b.addLatency(-1)
		} else {
			b.addLatency(r.varint("latencies"))
		}
	}
	if r.err != nil {
		return r.err
	}
	if len(r.data) != 0 {
		return fmt.Errorf("%d bytes after the rows", len(r.data))
	}
	return nil
}
