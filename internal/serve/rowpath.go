package serve

import (
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
)

// This file is the single-row fast path, the shape of nearly every online
// prediction request: {"dataframe_split": {"columns": [...], "data": [[...]]}}
// and {"dataframe_records": [{...}]} on /invocations, {"records": [{...}]} on
// /v1/models/{name}/predict. The body is scanned once, straight into a pooled
// bundle.Row (numbers parsed in place, text values referenced in the body,
// column names looked up without allocating), and the bundle's compiled
// RowPredictor predicts it: no maps, no []any, no frame, no per-request
// level lookup tables.
//
// Like the fastjson path it never decides an error: anything it does not
// accept exactly (escapes, another layout, a second row, a duplicate or
// missing column, a value the column's kind would have to coerce or reject,
// trailing data) makes it report false, and the request takes the general
// path, which produces the exact response or error. Accepted values are
// converted as the general path's builders convert them (TestRowPathMatches
// checks the responses byte for byte).

// rowPlan is a loaded model's compiled single-row path.
type rowPlan struct {
	rp     *bundle.RowPredictor
	schema frame.Schema
	index  map[string]int // input field name → index
	kinds  []frame.Kind
	pool   sync.Pool // *rowScratch
}

// rowScratch is one request's decoding state, pooled.
type rowScratch struct {
	seen []bool // per input field
	pos  []int  // per request column: input field index or -1
}

func newRowPlan(b *bundle.Bundle) *rowPlan {
	rp, ok := bundle.NewRowPredictor(b)
	if !ok {
		return nil
	}
	p := &rowPlan{rp: rp, schema: b.Manifest.Input, index: make(map[string]int, len(b.Manifest.Input.Fields))}
	for i, f := range p.schema.Fields {
		if _, dup := p.index[f.Name]; dup {
			return nil
		}
		p.index[f.Name] = i
		p.kinds = append(p.kinds, f.Kind)
	}
	n := len(p.kinds)
	p.pool.New = func() any { return &rowScratch{seen: make([]bool, n)} }
	return p
}

// rowScan is a minimal JSON scanner over a request body.
type rowScan struct {
	b []byte
	i int
}

func (s *rowScan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next skips white space and reports whether the next byte is c,
// consuming it if so.
func (s *rowScan) next(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// peek skips white space and returns the next byte (0 at the end).
func (s *rowScan) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// str scans a string without escapes or control characters, in valid
// UTF-8, returning its bytes (a slice of the body).
func (s *rowScan) str() ([]byte, bool) {
	if !s.next('"') {
		return nil, false
	}
	start, ascii := s.i, true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			raw := s.b[start:s.i]
			s.i++
			if !ascii && !utf8.Valid(raw) {
				return nil, false
			}
			return raw, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= 0x80:
			ascii = false
		}
		s.i++
	}
	return nil, false
}

// key scans an object key and its colon.
func (s *rowScan) key() ([]byte, bool) {
	k, ok := s.str()
	if !ok || !s.next(':') {
		return nil, false
	}
	return k, true
}

// lit consumes the literal word w.
func (s *rowScan) lit(w string) bool {
	if len(s.b)-s.i < len(w) || string(s.b[s.i:s.i+len(w)]) != w {
		return false
	}
	s.i += len(w)
	return true
}

// num scans a number with JSON's grammar, returning its text.
func (s *rowScan) num() ([]byte, bool) {
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if digits() == 0 {
		return nil, false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return nil, false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return nil, false
		}
	}
	return s.b[start:s.i], true
}

// end reports whether only white space remains.
func (s *rowScan) end() bool {
	s.ws()
	return s.i == len(s.b)
}

// value scans one scalar value and, when field >= 0, sets it on row as the
// general path's builder would convert it for the field's kind. It reports
// false for anything else (objects, arrays, values needing coercion or an
// error), leaving the request to the general path.
func (p *rowPlan) value(s *rowScan, row *bundle.Row, field int) bool {
	var kind frame.Kind
	if field >= 0 {
		kind = p.kinds[field]
	}
	text := kind == frame.KindString || kind == frame.KindCategorical
	switch c := s.peek(); {
	case c == '"':
		v, ok := s.str()
		if !ok || field < 0 {
			return ok
		}
		if !text {
			return false // numbers and booleans sent as strings: general path
		}
		row.SetText(field, v)
	case c == 'n':
		if !s.lit("null") {
			return false
		}
		if field >= 0 {
			row.SetMissing(field)
		}
	case c == 't' || c == 'f':
		w := "false"
		if c == 't' {
			w = "true"
		}
		if !s.lit(w) {
			return false
		}
		switch {
		case field < 0:
		case text:
			row.SetText(field, s.b[s.i-len(w):s.i])
		case kind == frame.KindBool:
			row.SetNumber(field, float64(len(w)&1)) // true → 1, false → 0
		default:
			return false
		}
	case c == '-' || c >= '0' && c <= '9':
		v, ok := s.num()
		if !ok || field < 0 {
			return ok
		}
		switch {
		case text:
			row.SetText(field, v)
		case kind == frame.KindBool:
			switch string(v) {
			case "0":
				row.SetNumber(field, 0)
			case "1":
				row.SetNumber(field, 1)
			default:
				return false
			}
		default:
			f, err := strconv.ParseFloat(string(v), 64)
			if err != nil {
				return false
			}
			row.SetNumber(field, f)
		}
	default:
		return false
	}
	return true
}

// record scans one {"column": value, ...} object into row: every input
// field exactly once, other keys with scalar values ignored.
func (p *rowPlan) record(s *rowScan, row *bundle.Row, sc *rowScratch) bool {
	if !s.next('{') {
		return false
	}
	clear(sc.seen)
	n := 0
	if !s.next('}') {
		for {
			k, ok := s.key()
			if !ok {
				return false
			}
			field, ok := p.claim(sc, k)
			if !ok {
				return false
			}
			if field >= 0 {
				n++
			}
			if !p.value(s, row, field) {
				return false
			}
			if s.next(',') {
				continue
			}
			if s.next('}') {
				break
			}
			return false
		}
	}
	return n == len(p.kinds)
}

// claim looks name up among the input fields: its index, marked seen; -1
// for a name the model does not take; ok false for a field named twice.
func (p *rowPlan) claim(sc *rowScratch, name []byte) (field int, ok bool) {
	field, known := p.index[string(name)]
	if !known {
		return -1, true
	}
	if sc.seen[field] {
		return 0, false
	}
	sc.seen[field] = true
	return field, true
}

// oneRecord scans [{...}]: exactly one record.
func (p *rowPlan) oneRecord(s *rowScan, row *bundle.Row, sc *rowScratch) bool {
	return s.next('[') && p.record(s, row, sc) && s.next(']')
}

// split scans {"columns": [...], "data": [[...]]}: columns first, exactly
// one row.
func (p *rowPlan) split(s *rowScan, row *bundle.Row, sc *rowScratch) bool {
	if !s.next('{') {
		return false
	}
	if k, ok := s.key(); !ok || string(k) != "columns" || !s.next('[') {
		return false
	}
	clear(sc.seen)
	sc.pos = sc.pos[:0]
	n := 0
	if !s.next(']') {
		for {
			c, ok := s.str()
			if !ok {
				return false
			}
			field, ok := p.claim(sc, c)
			if !ok {
				return false
			}
			if field >= 0 {
				n++
			}
			sc.pos = append(sc.pos, field)
			if s.next(',') {
				continue
			}
			if s.next(']') {
				break
			}
			return false
		}
	}
	if n != len(p.kinds) || !s.next(',') {
		return false
	}
	if k, ok := s.key(); !ok || string(k) != "data" || !s.next('[') || !s.next('[') {
		return false
	}
	for j, field := range sc.pos {
		if j > 0 && !s.next(',') {
			return false
		}
		if !p.value(s, row, field) {
			return false
		}
	}
	return s.next(']') && s.next(']') && s.next('}')
}

// decodeMLflowRow scans an /invocations body holding one row into row.
func (p *rowPlan) decodeMLflowRow(body []byte, row *bundle.Row) bool {
	s := rowScan{b: body}
	if !s.next('{') {
		return false
	}
	k, ok := s.key()
	if !ok {
		return false
	}
	sc := p.pool.Get().(*rowScratch)
	defer p.pool.Put(sc)
	switch string(k) {
	case "dataframe_split":
		ok = p.split(&s, row, sc)
	case "dataframe_records":
		ok = p.oneRecord(&s, row, sc)
	default:
		return false
	}
	return ok && s.next('}') && s.end()
}

// decodeGyreRow scans a /v1 predict body holding one record into row.
func (p *rowPlan) decodeGyreRow(body []byte, row *bundle.Row) bool {
	s := rowScan{b: body}
	if !s.next('{') {
		return false
	}
	if k, ok := s.key(); !ok || string(k) != "records" {
		return false
	}
	sc := p.pool.Get().(*rowScratch)
	defer p.pool.Put(sc)
	return p.oneRecord(&s, row, sc) && s.next('}') && s.end()
}

// decodeV2Row scans an Open Inference Protocol v2 body holding one row as
// one input per column ({"id": "...", "inputs": [{"name": "age", "shape":
// [1], "datatype": "FP64", "data": [39]}, ...]}): "name" first, one data
// value, every model column exactly once (other inputs are ignored, as the
// general path ignores them). It returns the
// request's id ("" when absent).
func (p *rowPlan) decodeV2Row(body []byte, row *bundle.Row) (id string, ok bool) {
	s := rowScan{b: body}
	if !s.next('{') {
		return "", false
	}
	sc := p.pool.Get().(*rowScratch)
	defer p.pool.Put(sc)
	var rawID []byte
	inputs := false
	for {
		k, ok := s.key()
		if !ok {
			return "", false
		}
		switch string(k) {
		case "id":
			if rawID != nil {
				return "", false
			}
			if rawID, ok = s.str(); !ok {
				return "", false
			}
		case "inputs":
			if inputs || !p.v2Inputs(&s, row, sc) {
				return "", false
			}
			inputs = true
		default:
			return "", false
		}
		if s.next(',') {
			continue
		}
		if s.next('}') && s.end() && inputs {
			return string(rawID), true
		}
		return "", false
	}
}

// v2Inputs scans the inputs array: one tensor per model column.
func (p *rowPlan) v2Inputs(s *rowScan, row *bundle.Row, sc *rowScratch) bool {
	if !s.next('[') {
		return false
	}
	clear(sc.seen)
	n := 0
	for {
		if !s.next('{') {
			return false
		}
		k, ok := s.key()
		if !ok || string(k) != "name" {
			return false
		}
		name, ok := s.str()
		if !ok {
			return false
		}
		field, ok := p.claim(sc, name) // an unknown name (-1) is checked like the others, then ignored
		if !ok {
			return false
		}
		if field >= 0 {
			n++
		}
		var shape, datatype, data bool
		var dt []byte
		for s.next(',') {
			k, ok := s.key()
			if !ok {
				return false
			}
			switch string(k) {
			case "shape":
				if shape || !s.unitShape() {
					return false
				}
				shape = true
			case "datatype":
				if datatype {
					return false
				}
				if dt, ok = s.str(); !ok {
					return false
				}
				datatype = true
			case "data":
				if data || !s.next('[') || !p.value(s, row, field) || !s.next(']') {
					return false
				}
				data = true
			default:
				return false
			}
		}
		if !data || !s.next('}') {
			return false
		}
		if datatype && !v2RowAccepts(p.kinds, field, dt) {
			return false // the general path names the mismatch
		}
		if s.next(',') {
			continue
		}
		return s.next(']') && n == len(p.kinds)
	}
}

// unitShape scans a shape of plain integers whose product is 1 ([1], [1, 1]
// or []).
func (s *rowScan) unitShape() bool {
	if !s.next('[') {
		return false
	}
	if s.next(']') {
		return true
	}
	for {
		s.ws()
		if !s.lit("1") || s.i < len(s.b) && (s.b[s.i] >= '0' && s.b[s.i] <= '9' || s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E') {
			return false
		}
		if s.next(',') {
			continue
		}
		return s.next(']')
	}
}

// v2RowAccepts is v2Accepts (with v2Known for inputs the model ignores)
// on the datatype's bytes, without allocating.
func v2RowAccepts(kinds []frame.Kind, field int, dt []byte) bool {
	numeric := false
	switch string(dt) {
	case "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64":
		numeric = true
	case "BOOL", "BYTES":
	default:
		return false
	}
	if field < 0 {
		return true
	}
	switch kinds[field] {
	case frame.KindFloat, frame.KindInt:
		return numeric
	case frame.KindBool:
		return string(dt) == "BOOL"
	case frame.KindTime:
		return false // the general path converts times
	}
	return string(dt) == "BYTES"
}
