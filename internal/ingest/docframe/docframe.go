// Package docframe builds typed frames from documents: records of named
// fields whose values carry their own types (BSON documents, JSON
// messages), flattened by the decoder that feeds it (nested fields as
// "a.b").
//
// A Builder learns columns and their kinds from the documents it is given
// while it is open (the sample), widening a kind when the sample disagrees
// (int and float make float; any scalar and text make text), then Fix
// freezes them: a later field the sample did not have is skipped (and
// reported once), and a value that does not fit its column's kind is a
// *TypeError, never a silently different column. Kinds declared up front
// (Declare) are fixed from the start and accept any value that converts
// to them without loss (a number into a text column, an integral float
// into an int column, time text into a time column).
//
// Values are appended straight into typed column storage; a document that
// lacks a field leaves it missing. Text is dictionary-encoded as it comes
// and becomes a categorical column or, past the level cap, free text, by
// the rule package ingest uses for files.
package docframe

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
)

// TypeError is a value that does not fit its column's kind.
type TypeError struct {
	// Column is the flattened field name.
	Column string
	// Want is the column's kind; Got describes the value's type.
	Want frame.Kind
	Got  string
	// Value is the value as text (cut to 80 bytes).
	Value string
	// Declared is true when Want was declared rather than inferred.
	Declared bool
}

// Error names the field, the value and the kinds.
func (e *TypeError) Error() string {
	return fmt.Sprintf("field %q: %s %s is not %s", e.Column, e.Got, e.Value, KindPhrase(e.Want))
}

// KindPhrase names a kind in an error message: "an integer", "a number",
// "a boolean", "a timestamp" or "text".
func KindPhrase(k frame.Kind) string {
	switch k {
	case frame.KindInt:
		return "an integer"
	case frame.KindFloat:
		return "a number"
	case frame.KindBool:
		return "a boolean"
	case frame.KindTime:
		return "a timestamp"
	case frame.KindString, frame.KindCategorical:
		return "text"
	}
	return k.String()
}

// column is one column being built.
type column struct {
	name     string
	kind     frame.Kind // KindInvalid: only missing values seen so far
	declared bool
	n        int // rows filled (values and missing)
	nulls    int
	valid    []uint64 // bit i set: row i present

	f []float64
	i []int64 // int and time (Unix ns)
	b []bool
	// text: codes into levels while dictionary-encoding, else s.
	dict   map[string]int32
	levels []string
	codes  []int32
	s      []string
	plain  bool // text stored in s (past the level cap, or declared string)
	keep   bool // the kind is fixed for a stream: text stays as it is
	catMax int
}

// Builder accumulates documents into columns. The zero value is not
// usable: call New.
type Builder struct {
	cols    []*column
	index   map[string]int
	fixed   bool
	row     int // rows started
	guess   int // the column col tries first
	catMax  int
	skipped map[string]bool
	// Skipped, when set, is called the first time a field is skipped
	// because the builder was fixed without it.
	Skipped func(field string)
}

// New returns an open Builder. catMax is the most distinct values a text
// column may have and still be categorical (0 means 1000).
func New(catMax int) *Builder {
	if catMax <= 0 {
		catMax = 1000
	}
	return &Builder{index: map[string]int{}, catMax: catMax}
}

// Declare fixes a column's kind before any document (from a schema). It
// adds the column if it is new.
func (b *Builder) Declare(name string, k frame.Kind) {
	c := b.col([]byte(name), true)
	c.kind, c.declared, c.keep = k, true, true
	c.plain = k == frame.KindString
}

// Like returns a builder for the next chunk of a stream, after Frame: the
// same columns with the kinds Frame gave them, fixed, with no rows. Its
// columns have room for as many rows as this builder's (up to 65,536), so
// chunks of a steady stream fill them without growing them.
func (b *Builder) Like() *Builder {
	capHint := min(b.row, 1<<16)
	nb := &Builder{index: make(map[string]int, len(b.cols)), fixed: true, catMax: b.catMax, skipped: b.skipped, Skipped: b.Skipped}
	for _, c := range b.cols {
		k := c.kind
		if k == frame.KindInvalid {
			k = frame.KindFloat
		}
		nc := &column{name: c.name, kind: k, declared: c.declared, keep: true, catMax: b.catMax}
		if k == frame.KindString || k == frame.KindCategorical {
			nc.plain = c.plain
			nc.kind = frame.KindCategorical
			if c.plain {
				nc.kind = frame.KindString
			}
		}
		nc.reserve(capHint)
		nb.index[c.name] = len(nb.cols)
		nb.cols = append(nb.cols, nc)
	}
	return nb
}

// reserve makes room for n rows in the column's value slice for its kind.
func (c *column) reserve(n int) {
	if n <= 0 {
		return
	}
	c.valid = make([]uint64, 0, (n+63)>>6)
	switch c.kind {
	case frame.KindFloat:
		c.f = make([]float64, 0, n)
	case frame.KindInt, frame.KindTime:
		c.i = make([]int64, 0, n)
	case frame.KindBool:
		c.b = make([]bool, 0, n)
	case frame.KindCategorical:
		c.codes = make([]int32, 0, n)
	case frame.KindString:
		c.s = make([]string, 0, n)
	}
}

// Fix freezes the columns and kinds (the end of the sample). A column that
// held only missing values becomes float.
func (b *Builder) Fix() {
	if b.fixed {
		return
	}
	b.fixed = true
	for _, c := range b.cols {
		if c.kind == frame.KindInvalid {
			c.kind = frame.KindFloat
			c.f = make([]float64, c.n)
		}
	}
}

// Fixed reports whether Fix was called.
func (b *Builder) Fixed() bool { return b.fixed }

// Rows is the number of documents started.
func (b *Builder) Rows() int { return b.row }

// Names lists the columns in order of first appearance.
func (b *Builder) Names() []string {
	out := make([]string, len(b.cols))
	for i, c := range b.cols {
		out[i] = c.name
	}
	return out
}

// Kind returns a column's current kind (KindInvalid when unknown).
func (b *Builder) Kind(name string) frame.Kind {
	if j, ok := b.index[name]; ok {
		return b.cols[j].kind
	}
	return frame.KindInvalid
}

// StartRow begins a document.
func (b *Builder) StartRow() { b.row++; b.guess = 0 }

// DropRow discards the document begun by the last StartRow: the values it
// gave any column are removed, so a document that fails part way (a poison
// message skipped by a stream) leaves no trace. Columns it introduced stay,
// with no value for it.
func (b *Builder) DropRow() {
	r := b.row - 1
	if r < 0 {
		return
	}
	for _, c := range b.cols {
		if c.n > r {
			c.truncate(r)
		}
	}
	b.row--
}

// truncate shortens the column to n rows.
func (c *column) truncate(n int) {
	for i := n; i < c.n; i++ {
		if c.valid[i>>6]&(1<<uint(i&63)) == 0 {
			c.nulls--
		}
		c.valid[i>>6] &^= 1 << uint(i&63)
	}
	c.n = n
	c.valid = c.valid[:(n+63)>>6]
	switch {
	case c.f != nil && len(c.f) > n:
		c.f = c.f[:n]
	case c.i != nil && len(c.i) > n:
		c.i = c.i[:n]
	case c.b != nil && len(c.b) > n:
		c.b = c.b[:n]
	}
	if len(c.codes) > n {
		c.codes = c.codes[:n]
	}
	if len(c.s) > n {
		c.s = c.s[:n]
	}
}

// col finds or adds the column for a field; nil when the builder is fixed
// and the field unknown.
func (b *Builder) col(name []byte, force bool) *column {
	// Documents of a stream mostly list their fields in one order: try
	// the column after the last one found before the map.
	if g := b.guess; g < len(b.cols) && b.cols[g].name == string(name) {
		b.guess++
		return b.cols[g]
	}
	if j, ok := b.index[string(name)]; ok {
		b.guess = j + 1
		return b.cols[j]
	}
	if b.fixed && !force {
		if !b.skipped[string(name)] {
			if b.skipped == nil {
				b.skipped = map[string]bool{}
			}
			b.skipped[string(name)] = true
			if b.Skipped != nil {
				b.Skipped(string(name))
			}
		}
		return nil
	}
	c := &column{name: string(name), catMax: b.catMax}
	b.index[c.name] = len(b.cols)
	b.cols = append(b.cols, c)
	return c
}

// at readies column c for the current row: it pads missing rows up to it
// and reports false when the row already has a value (a repeated field:
// the first wins).
func (b *Builder) at(c *column) bool {
	r := b.row - 1
	if c.n > r {
		return false
	}
	for c.n < r {
		c.appendNull()
	}
	return true
}

func (c *column) setValid(present bool) {
	if c.n&63 == 0 {
		c.valid = append(c.valid, 0)
	}
	if present {
		c.valid[c.n>>6] |= 1 << uint(c.n&63)
	} else {
		c.nulls++
	}
	c.n++
}

func (c *column) appendNull() {
	switch c.kind {
	case frame.KindFloat:
		c.f = append(c.f, math.NaN())
	case frame.KindInt, frame.KindTime:
		c.i = append(c.i, 0)
	case frame.KindBool:
		c.b = append(c.b, false)
	case frame.KindString, frame.KindCategorical:
		if c.plain {
			c.s = append(c.s, "")
		} else {
			c.codes = append(c.codes, -1)
		}
	}
	c.setValid(false)
}

// Null records a missing value (it registers the field while open).
func (b *Builder) Null(name []byte) {
	c := b.col(name, false)
	if c == nil || !b.at(c) {
		return
	}
	c.appendNull()
}

// Float records a floating-point value.
func (b *Builder) Float(name []byte, v float64) error {
	c := b.col(name, false)
	if c == nil || !b.at(c) {
		return nil
	}
	switch c.kind {
	case frame.KindFloat:
	case frame.KindInvalid:
		c.become(frame.KindFloat)
	case frame.KindInt:
		if c.declared || b.fixed {
			if c.declared && v == math.Trunc(v) && math.Abs(v) < 1<<53 {
				c.i = append(c.i, int64(v))
				c.setValid(true)
				return nil
			}
			return c.mismatch("number", strconv.FormatFloat(v, 'g', -1, 64))
		}
		c.become(frame.KindFloat)
	default:
		return b.other(c, "number", strconv.FormatFloat(v, 'g', -1, 64))
	}
	c.f = append(c.f, v)
	c.setValid(true)
	return nil
}

// Int records an integer value.
func (b *Builder) Int(name []byte, v int64) error {
	c := b.col(name, false)
	if c == nil || !b.at(c) {
		return nil
	}
	switch c.kind {
	case frame.KindInt:
	case frame.KindInvalid:
		c.become(frame.KindInt)
	case frame.KindFloat:
		c.f = append(c.f, float64(v))
		c.setValid(true)
		return nil
	default:
		return b.other(c, "integer", strconv.FormatInt(v, 10))
	}
	c.i = append(c.i, v)
	c.setValid(true)
	return nil
}

// Bool records a boolean value.
func (b *Builder) Bool(name []byte, v bool) error {
	c := b.col(name, false)
	if c == nil || !b.at(c) {
		return nil
	}
	switch c.kind {
	case frame.KindBool:
	case frame.KindInvalid:
		c.become(frame.KindBool)
	case frame.KindInt, frame.KindFloat:
		if c.declared {
			x := 0
			if v {
				x = 1
			}
			if c.kind == frame.KindInt {
				c.i = append(c.i, int64(x))
			} else {
				c.f = append(c.f, float64(x))
			}
			c.setValid(true)
			return nil
		}
		return b.other(c, "boolean", strconv.FormatBool(v))
	default:
		return b.other(c, "boolean", strconv.FormatBool(v))
	}
	c.b = append(c.b, v)
	c.setValid(true)
	return nil
}

// Time records a timestamp (Unix nanoseconds, UTC).
func (b *Builder) Time(name []byte, ns int64) error {
	c := b.col(name, false)
	if c == nil || !b.at(c) {
		return nil
	}
	switch c.kind {
	case frame.KindTime:
	case frame.KindInvalid:
		c.become(frame.KindTime)
	default:
		return b.other(c, "timestamp", time.Unix(0, ns).UTC().Format(time.RFC3339Nano))
	}
	c.i = append(c.i, ns)
	c.setValid(true)
	return nil
}

// timeLayouts are the text forms a declared time column accepts.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"}

// String records a text value. v may be a view of a buffer the caller
// reuses: the builder copies what it keeps.
func (b *Builder) String(name []byte, v []byte) error {
	c := b.col(name, false)
	if c == nil || !b.at(c) {
		return nil
	}
	switch c.kind {
	case frame.KindString, frame.KindCategorical:
		return c.textBytes(v)
	case frame.KindInvalid:
		c.become(frame.KindCategorical)
		return c.textBytes(v)
	}
	if c.declared {
		s := string(v)
		switch c.kind {
		case frame.KindFloat:
			if x, err := strconv.ParseFloat(s, 64); err == nil {
				c.f = append(c.f, x)
				c.setValid(true)
				return nil
			}
		case frame.KindInt:
			if x, err := strconv.ParseInt(s, 10, 64); err == nil {
				c.i = append(c.i, x)
				c.setValid(true)
				return nil
			}
		case frame.KindBool:
			if x, err := strconv.ParseBool(s); err == nil {
				c.b = append(c.b, x)
				c.setValid(true)
				return nil
			}
		case frame.KindTime:
			for _, l := range timeLayouts {
				if t, err := time.Parse(l, s); err == nil {
					c.i = append(c.i, t.UnixNano())
					c.setValid(true)
					return nil
				}
			}
		}
		return c.mismatch("text", strconv.Quote(cut(s)))
	}
	if b.fixed {
		return c.mismatch("text", strconv.Quote(cut(string(v))))
	}
	c.become(frame.KindString)
	return c.textBytes(v)
}

// other records a value of kind got (text its text form) in column c,
// which holds another kind: a text column takes the text when it was
// declared or types are still open; a column of another kind becomes text
// while types are open and it was not declared; otherwise the value is a
// TypeError.
func (b *Builder) other(c *column, got, text string) error {
	if c.kind == frame.KindString || c.kind == frame.KindCategorical {
		if c.declared || !b.fixed {
			return c.text(text)
		}
	} else if !b.fixed && !c.declared {
		c.become(frame.KindString)
		return c.text(text)
	}
	return c.mismatch(got, text)
}

// JSON records a value as JSON text (an array kept whole).
func (b *Builder) JSON(name []byte, v any) error {
	t, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("field %q: %w", name, err)
	}
	return b.String(name, t)
}

func cut(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

func (c *column) mismatch(got, value string) error {
	return &TypeError{Column: c.name, Want: c.kind, Got: got, Value: value, Declared: c.declared}
}

// text appends a text value (already a fresh string).
func (c *column) text(s string) error {
	if c.plain {
		c.s = append(c.s, s)
		c.setValid(true)
		return nil
	}
	code, ok := c.dict[s]
	if !ok {
		code = c.addLevel(s)
	}
	if c.plain {
		c.s = append(c.s, s)
	} else {
		c.codes = append(c.codes, code)
	}
	c.setValid(true)
	return nil
}

func (c *column) textBytes(v []byte) error {
	if c.plain {
		c.s = append(c.s, string(v))
		c.setValid(true)
		return nil
	}
	code, ok := c.dict[string(v)]
	if !ok {
		s := string(v)
		code = c.addLevel(s)
		if c.plain {
			c.s = append(c.s, s)
			c.setValid(true)
			return nil
		}
	}
	c.codes = append(c.codes, code)
	c.setValid(true)
	return nil
}

// addLevel adds a dictionary level, or switches the column to plain text
// when the levels pass the cap (a declared categorical keeps its
// dictionary).
func (c *column) addLevel(s string) int32 {
	if c.dict == nil {
		c.dict = map[string]int32{}
	}
	if len(c.levels) >= c.catMax && !c.keep {
		c.toPlain()
		return -1
	}
	code := int32(len(c.levels))
	c.dict[s] = code
	c.levels = append(c.levels, s)
	return code
}

func (c *column) toPlain() {
	c.s = make([]string, len(c.codes), cap(c.codes)+1)
	for i, k := range c.codes {
		if k >= 0 {
			c.s[i] = c.levels[k]
		}
	}
	c.codes, c.dict, c.levels, c.plain = nil, nil, nil, true
}

// become changes an open column's kind, converting the values it holds.
func (c *column) become(k frame.Kind) {
	old := c.kind
	c.kind = k
	switch {
	case old == frame.KindInvalid:
		switch k {
		case frame.KindFloat:
			c.f = make([]float64, c.n, c.n+64)
			for i := range c.f {
				c.f[i] = math.NaN()
			}
		case frame.KindInt, frame.KindTime:
			c.i = make([]int64, c.n, c.n+64)
		case frame.KindBool:
			c.b = make([]bool, c.n, c.n+64)
		default:
			c.codes = make([]int32, c.n, c.n+64)
			for i := range c.codes {
				c.codes[i] = -1
			}
		}
	case old == frame.KindInt && k == frame.KindFloat:
		c.f = make([]float64, len(c.i), cap(c.i))
		for i, v := range c.i {
			c.f[i] = float64(v)
		}
		c.i = nil
	case k == frame.KindString || k == frame.KindCategorical:
		c.s = make([]string, c.n, c.n+64)
		for i := 0; i < c.n; i++ {
			if c.valid[i>>6]&(1<<uint(i&63)) == 0 {
				continue
			}
			switch old {
			case frame.KindFloat:
				c.s[i] = strconv.FormatFloat(c.f[i], 'g', -1, 64)
			case frame.KindInt:
				c.s[i] = strconv.FormatInt(c.i[i], 10)
			case frame.KindBool:
				c.s[i] = strconv.FormatBool(c.b[i])
			case frame.KindTime:
				c.s[i] = time.Unix(0, c.i[i]).UTC().Format(time.RFC3339Nano)
			}
		}
		c.f, c.i, c.b = nil, nil, nil
		// Re-encode as a dictionary unless there are too many levels.
		c.kind = frame.KindCategorical
		vals := c.s
		c.s, c.plain = nil, false
		c.codes = make([]int32, 0, len(vals)+64)
		for i, s := range vals {
			if c.valid[i>>6]&(1<<uint(i&63)) == 0 {
				if c.plain {
					c.s = append(c.s, "")
				} else {
					c.codes = append(c.codes, -1)
				}
				continue
			}
			code, ok := c.dict[s]
			if !ok {
				code = c.addLevel(s)
			}
			if c.plain {
				c.s = append(c.s, s)
			} else {
				c.codes = append(c.codes, code)
			}
		}
	}
}

// Frame returns the rows built as a frame, every column padded with
// missing values to the last document; the builder is done with (Like
// gives the next chunk's). Text columns are categorical when they have at most
// catMax distinct values and, past 32, no more than half as many distinct
// values as present ones; else free text; declared kinds are kept.
func (b *Builder) Frame() (*frame.Frame, error) {
	cols := make([]frame.Column, len(b.cols))
	for j, c := range b.cols {
		for c.n < b.row {
			c.appendNull()
		}
		cols[j] = c.build()
	}
	f, err := frame.New(cols...)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (c *column) validity() frame.Validity {
	if c.nulls == 0 {
		return nil
	}
	return frame.Validity(c.valid)
}

func (c *column) build() frame.Column {
	switch c.kind {
	case frame.KindFloat:
		return &frame.Float{ColName: c.name, Values: c.f, Valid: c.validity()}
	case frame.KindInvalid:
		v := make([]float64, c.n)
		for i := range v {
			v[i] = math.NaN()
		}
		valid := frame.NewValidity(c.n)
		for i := range c.n {
			valid.SetNull(i)
		}
		return &frame.Float{ColName: c.name, Values: v, Valid: valid}
	case frame.KindInt:
		return &frame.Int{ColName: c.name, Values: c.i, Valid: c.validity()}
	case frame.KindTime:
		return &frame.Time{ColName: c.name, Values: c.i, Valid: c.validity()}
	case frame.KindBool:
		return &frame.Bool{ColName: c.name, Values: c.b, Valid: c.validity()}
	}
	present := c.n - c.nulls
	if !c.plain && c.kind == frame.KindCategorical && !c.keep {
		d := len(c.levels)
		if d > 32 && 2*d > present {
			c.toPlain()
		}
	}
	if c.plain {
		return &frame.String{ColName: c.name, Values: c.s, Valid: c.validity()}
	}
	return &frame.Categorical{ColName: c.name, Codes: c.codes, Levels: c.levels}
}
