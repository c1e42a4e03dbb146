package serve

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
)

// RequestError is a client error: it becomes a 4xx response naming the
// field and row at fault.
type RequestError struct {
	Status int
	Field  string
	Row    int // 1-based; 0 when not about one row
	Msg    string
	// Code, when set, is the MLflow error code to answer with (default
	// BAD_REQUEST for a 4xx, INTERNAL_ERROR for a 5xx).
	Code string
	// jsonSyntax marks a body that is not JSON at all (MLflow words this
	// "Failed to parse input from JSON").
	jsonSyntax bool
}

func (e *RequestError) Error() string {
	switch {
	case e.Field != "" && e.Row > 0:
		return fmt.Sprintf("field %q, row %d: %s", e.Field, e.Row, e.Msg)
	case e.Field != "":
		return fmt.Sprintf("field %q: %s", e.Field, e.Msg)
	}
	return e.Msg
}

func badRequest(format string, a ...any) *RequestError {
	return &RequestError{Status: 400, Msg: fmt.Sprintf(format, a...)}
}

// maxDepth bounds JSON nesting: tabular requests never need more.
const maxDepth = 8

// decodeJSON decodes a body with numbers kept exact and nesting bounded.
// Python's json module writes NaN, Infinity and -Infinity as bare words
// (MLflow's client sends NaN for a missing value): they are read as null
// (missing), 1e999 and -1e999 (which parse to ±Inf), as the fast path
// reads them.
func decodeJSON(body []byte, v any) error {
	if err := checkDepth(body); err != nil {
		return err
	}
	body = rewriteNonFinite(body)
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return &RequestError{Status: 400, Msg: "malformed JSON: " + jsonErrorText(err), jsonSyntax: true}
	}
	if d.More() {
		return &RequestError{Status: 400, Msg: "malformed JSON: trailing data after the request object", jsonSyntax: true}
	}
	if key, dup := duplicateKey(body); dup {
		return &RequestError{Status: 400, Field: key, Msg: "appears twice in one object: send each column once"}
	}
	return nil
}

// duplicateKey finds a key repeated within one JSON object of a valid
// body (encoding/json would silently keep the last value).
func duplicateKey(body []byte) (string, bool) {
	if bytes.IndexByte(body, '{') < 0 {
		return "", false
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	type level struct {
		keys   map[string]bool
		object bool
		key    bool // the next string token is a key
	}
	var stack []level
	for {
		tok, err := d.Token()
		if err != nil {
			return "", false
		}
		top := len(stack) - 1
		isKey := top >= 0 && stack[top].object && stack[top].key
		if top >= 0 && stack[top].object {
			stack[top].key = !stack[top].key
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, level{keys: map[string]bool{}, object: true, key: true})
			case '[':
				stack = append(stack, level{})
			default:
				stack = stack[:len(stack)-1]
				if n := len(stack) - 1; n >= 0 && stack[n].object {
					stack[n].key = true
				}
			}
			if t == '{' || t == '[' {
				continue
			}
		case string:
			if isKey {
				if stack[top].keys[t] {
					return t, true
				}
				stack[top].keys[t] = true
			}
		}
	}
}

// jsonErrorText describes an encoding/json error in the request's terms,
// never naming Go types.
func jsonErrorText(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		want := "a value of another type"
		switch te.Type.Kind() {
		case reflect.Map, reflect.Struct:
			want = "an object"
		case reflect.Slice, reflect.Array:
			want = "an array"
		case reflect.String:
			want = "a string"
		case reflect.Bool:
			want = "true or false"
		case reflect.Int, reflect.Int64, reflect.Int32, reflect.Float64:
			want = "a number"
		}
		where := "the request"
		if te.Field != "" {
			where = fmt.Sprintf("field %q", te.Field)
		}
		return fmt.Sprintf("%s: want %s, got %s (at byte %d)", where, want, articled(te.Value), te.Offset)
	case errors.As(err, &se):
		return fmt.Sprintf("%s (at byte %d)", strings.TrimPrefix(se.Error(), "json: "), se.Offset)
	case errors.Is(err, io.EOF):
		return "the body is empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the body ends in the middle of a value"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// articled puts an article before encoding/json's name of a JSON value
// ("array" → "an array").
func articled(v string) string {
	switch {
	case v == "":
		return "a value"
	case strings.HasPrefix(v, "number"):
		return "a " + v
	case strings.IndexByte("aeiou", v[0]) >= 0:
		return "an " + v
	}
	return "a " + v
}

// rewriteNonFinite replaces the bare words NaN, Infinity and -Infinity
// outside strings by null, 1e999 and -1e999, returning body itself when it
// holds none (the usual case: no copy).
func rewriteNonFinite(body []byte) []byte {
	if bytes.IndexByte(body, 'N') < 0 && bytes.IndexByte(body, 'I') < 0 {
		return body
	}
	var out []byte
	inString, escaped, last := false, false, 0
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case escaped:
			escaped = false
			continue
		case inString:
			if c == '\\' {
				escaped = true
			} else if c == '"' {
				inString = false
			}
			continue
		case c == '"':
			inString = true
			continue
		}
		var word, repl string
		switch {
		case c == 'N' && bytes.HasPrefix(body[i:], []byte("NaN")):
			word, repl = "NaN", "null"
		case c == 'I' && bytes.HasPrefix(body[i:], []byte("Infinity")):
			word, repl = "Infinity", "1e999"
		case c == '-' && bytes.HasPrefix(body[i:], []byte("-Infinity")):
			word, repl = "-Infinity", "-1e999"
		default:
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(body)+8)
		}
		out = append(out, body[last:i]...)
		out = append(out, repl...)
		i += len(word) - 1
		last = i + 1
	}
	if out == nil {
		return body
	}
	return append(out, body[last:]...)
}

// checkDepth rejects deeply nested JSON before decoding it.
func checkDepth(body []byte) error {
	depth, inString, escaped := 0, false, false
	for _, c := range body {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			if depth > maxDepth {
				return badRequest("JSON nested deeper than %d levels: send flat records or columns", maxDepth)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// builder accumulates one column of a request according to the schema.
type builder struct {
	field frame.Field
	num   []float64
	text  []string
	bools []bool
	valid frame.Validity
	n     int
}

// newBuilders makes one builder per schema field, with their value slices
// carved out of shared backing arrays (a handful of allocations per request
// rather than several per column).
func newBuilders(schema frame.Schema, rows int) []*builder {
	var nNum, nText, nBool int
	for _, f := range schema.Fields {
		switch f.Kind {
		case frame.KindString, frame.KindCategorical:
			nText++
		case frame.KindBool:
			nBool++
		default:
			nNum++
		}
	}
	words := (rows + 63) / 64
	store := make([]builder, len(schema.Fields))
	valid := make(frame.Validity, words*len(schema.Fields))
	for i := range valid {
		valid[i] = ^uint64(0)
	}
	if r := rows % 64; r != 0 {
		for i := words - 1; i < len(valid); i += words {
			valid[i] = (1 << uint(r)) - 1
		}
	}
	num := make([]float64, 0, nNum*rows)
	text := make([]string, 0, nText*rows)
	var bools []bool
	if nBool > 0 {
		bools = make([]bool, 0, nBool*rows)
	}
	bs := make([]*builder, len(schema.Fields))
	var in, it, ib int
	for i, f := range schema.Fields {
		b := &store[i]
		b.field = f
		b.valid = valid[i*words : (i+1)*words : (i+1)*words]
		switch f.Kind {
		case frame.KindString, frame.KindCategorical:
			b.text = text[it*rows : it*rows : (it+1)*rows]
			it++
		case frame.KindBool:
			b.bools = bools[ib*rows : ib*rows : (ib+1)*rows]
			ib++
		default:
			b.num = num[in*rows : in*rows : (in+1)*rows]
			in++
		}
		bs[i] = b
	}
	return bs
}

// add appends one JSON value (nil = missing) for row (0-based).
func (b *builder) add(v any, row int) error {
	fail := func(format string, a ...any) error {
		return &RequestError{Status: 400, Field: b.field.Name, Row: row + 1, Msg: fmt.Sprintf(format, a...)}
	}
	idx := b.n
	b.n++
	if v == nil {
		b.valid.SetNull(idx)
		b.pad()
		return nil
	}
	switch b.field.Kind {
	case frame.KindString, frame.KindCategorical:
		switch x := v.(type) {
		case string:
			b.text = append(b.text, x)
		case json.Number:
			b.text = append(b.text, x.String())
		case bool:
			b.text = append(b.text, strconv.FormatBool(x))
		default:
			return fail("want a string, got %s", jsonType(v))
		}
	case frame.KindBool:
		switch x := v.(type) {
		case bool:
			b.bools = append(b.bools, x)
		case string:
			p, err := strconv.ParseBool(strings.TrimSpace(x))
			if err != nil {
				return fail("want true or false, got %q", x)
			}
			b.bools = append(b.bools, p)
		case json.Number:
			switch x.String() {
			case "0":
				b.bools = append(b.bools, false)
			case "1":
				b.bools = append(b.bools, true)
			default:
				return fail("want true or false, got %s", x)
			}
		default:
			return fail("want true or false, got %s", jsonType(v))
		}
	case frame.KindTime:
		switch x := v.(type) {
		case string:
			t, err := parseTime(x)
			if err != nil {
				return fail("want an RFC 3339 timestamp such as 2024-05-01T12:00:00Z, got %q", x)
			}
			b.num = append(b.num, float64(t.UnixNano()))
		case json.Number:
			f, err := x.Float64()
			if err != nil || math.IsInf(f, 0) {
				return fail("want a timestamp, got %s", x)
			}
			b.num = append(b.num, f*1e9)
		default:
			return fail("want a timestamp, got %s", jsonType(v))
		}
	default: // numbers
		var f float64
		var err error
		switch x := v.(type) {
		case json.Number:
			f, err = strconv.ParseFloat(x.String(), 64)
		case string:
			f, err = strconv.ParseFloat(strings.TrimSpace(x), 64)
		case bool:
			return fail("want a number, got a boolean")
		default:
			return fail("want a number, got %s", jsonType(v))
		}
		if err != nil && !(errors.Is(err, strconv.ErrRange) && math.IsInf(f, 0)) {
			// Out of range past the largest float is ±Inf (as 1e999 reads
			// in training data); an underflow to zero parses without error.
			return fail("want a number, got %q", v)
		}
		if math.IsNaN(f) {
			// pandas' missing value: NaN, sent as a bare word or "NaN".
			b.valid.SetNull(idx)
			b.pad()
			return nil
		}
		b.num = append(b.num, f)
	}
	return nil
}

// pad appends a zero value under a missing entry.
func (b *builder) pad() {
	switch {
	case b.text != nil:
		b.text = append(b.text, "")
	case b.bools != nil:
		b.bools = append(b.bools, false)
	default:
		b.num = append(b.num, 0)
	}
}

func (b *builder) column() frame.Column {
	switch b.field.Kind {
	case frame.KindString, frame.KindCategorical:
		return newCategorical(b.field.Name, b.text, b.valid)
	case frame.KindBool:
		return &frame.Bool{ColName: b.field.Name, Values: b.bools, Valid: b.valid}
	case frame.KindTime:
		v := make([]int64, len(b.num))
		for i, x := range b.num {
			v[i] = int64(x)
		}
		return &frame.Time{ColName: b.field.Name, Values: v, Valid: b.valid}
	}
	return &frame.Float{ColName: b.field.Name, Values: b.num, Valid: b.valid}
}

// newCategorical is frame.NewCategorical (levels numbered in order of first
// appearance, missing entries coded -1) with a validity bitmap, searching
// the levels linearly while there are few of them instead of building a
// map: requests are usually one or a few rows.
func newCategorical(name string, values []string, valid frame.Validity) *frame.Categorical {
	c := &frame.Categorical{ColName: name, Codes: make([]int32, len(values))}
	var index map[string]int32
	for i, v := range values {
		if !valid.Valid(i) {
			c.Codes[i] = -1
			continue
		}
		code := int32(-1)
		if index == nil {
			for l, lv := range c.Levels {
				if lv == v {
					code = int32(l)
					break
				}
			}
			if code < 0 && len(c.Levels) >= 8 {
				index = make(map[string]int32, 2*len(c.Levels))
				for l, lv := range c.Levels {
					index[lv] = int32(l)
				}
			}
		}
		if index != nil {
			if x, ok := index[v]; ok {
				code = x
			}
		}
		if code < 0 {
			code = int32(len(c.Levels))
			c.Levels = append(c.Levels, v)
			if index != nil {
				index[v] = code
			}
		}
		c.Codes[i] = code
	}
	return c
}

func buildFrame(bs []*builder) (*frame.Frame, error) {
	cols := make([]frame.Column, len(bs))
	for i, b := range bs {
		cols[i] = b.column()
	}
	f, err := frame.New(cols...)
	if err != nil {
		return nil, badRequest("%v", err)
	}
	return f, nil
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("bad time")
}

func jsonType(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	}
	return "an unsupported value"
}

// fromRecords builds a frame from row objects. Every schema field must be
// present as a key in every record (null for a missing value); extra keys
// are ignored.
func fromRecords(schema frame.Schema, recs []any) (*frame.Frame, error) {
	if len(recs) == 0 {
		return nil, badRequest("no rows in the request")
	}
	bs := newBuilders(schema, len(recs))
	for r, rec := range recs {
		obj, ok := rec.(map[string]any)
		if !ok {
			return nil, &RequestError{Status: 400, Row: r + 1, Msg: fmt.Sprintf("row %d: want an object of column values, got %s", r+1, jsonType(rec))}
		}
		for _, b := range bs {
			v, ok := obj[b.field.Name]
			if !ok {
				return nil, &RequestError{Status: 400, Field: b.field.Name, Row: r + 1, Msg: "missing; the model needs every input column (send null for a missing value)"}
			}
			if err := b.add(v, r); err != nil {
				return nil, err
			}
		}
	}
	return buildFrame(bs)
}

// fromSplit builds a frame from {"columns": [...], "data": [[...], ...]}.
func fromSplit(schema frame.Schema, columns []string, data []any) (*frame.Frame, error) {
	if len(data) == 0 {
		return nil, badRequest("no rows in the request")
	}
	pos := make(map[string]int, len(columns))
	for i, c := range columns {
		if j, dup := pos[c]; dup {
			return nil, &RequestError{Status: 400, Field: c, Msg: fmt.Sprintf("named twice in columns (positions %d and %d): send each column once", j+1, i+1)}
		}
		pos[c] = i
	}
	bs := newBuilders(schema, len(data))
	for _, b := range bs {
		if _, ok := pos[b.field.Name]; !ok {
			return nil, &RequestError{Status: 400, Field: b.field.Name, Msg: "missing from columns; the model needs every input column"}
		}
	}
	for r, row := range data {
		vals, ok := row.([]any)
		if !ok || len(vals) != len(columns) {
			return nil, &RequestError{Status: 400, Row: r + 1, Msg: fmt.Sprintf("row %d: want an array of %d values (%s)", r+1, len(columns), strings.Join(columns, ", "))}
		}
		for _, b := range bs {
			if err := b.add(vals[pos[b.field.Name]], r); err != nil {
				return nil, err
			}
		}
	}
	return buildFrame(bs)
}

// fromColumns builds a frame from {"col": [v, ...], ...}.
func fromColumns(schema frame.Schema, cols map[string]any) (*frame.Frame, error) {
	n := -1
	bs := newBuilders(schema, 0)
	for _, b := range bs {
		raw, ok := cols[b.field.Name]
		if !ok {
			return nil, &RequestError{Status: 400, Field: b.field.Name, Msg: "missing; the model needs every input column"}
		}
		vals, ok := raw.([]any)
		if !ok {
			vals = []any{raw}
		}
		if n >= 0 && len(vals) != n {
			return nil, &RequestError{Status: 400, Field: b.field.Name, Msg: fmt.Sprintf("has %d values, other columns have %d", len(vals), n)}
		}
		n = len(vals)
		b.valid = frame.NewValidity(n)
		for r, v := range vals {
			if err := b.add(v, r); err != nil {
				return nil, err
			}
		}
	}
	if n <= 0 {
		return nil, badRequest("no rows in the request")
	}
	return buildFrame(bs)
}

// fromCSV builds a frame from a CSV body with a header row.
func fromCSV(schema frame.Schema, body io.Reader) (*frame.Frame, error) {
	r := csv.NewReader(body)
	r.ReuseRecord = false
	recs, err := r.ReadAll()
	if err != nil {
		return nil, badRequest("malformed CSV: %v", err)
	}
	if len(recs) < 2 {
		return nil, badRequest("CSV needs a header row and at least one data row")
	}
	data := make([]any, len(recs)-1)
	for i, rec := range recs[1:] {
		row := make([]any, len(rec))
		for j, v := range rec {
			if v == "" {
				row[j] = nil
			} else {
				row[j] = v
			}
		}
		data[i] = row
	}
	return fromSplit(schema, recs[0], data)
}
