package predlog

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
)

// Batch is a batch of logged predictions of one model version, in columns:
// what gyre serve's logger builds from the requests it sampled and hands to
// the log as is, what the log stores as one Parquet file, and what reading
// the log returns (typed by the reader's schema).
type Batch struct {
	// Model is the served model name; Version its version ("" when a read
	// spans versions).
	Model, Version string
	// Input holds the rows the model saw: its input columns.
	Input *frame.Frame
	// Pred holds what the model answered: per row a value (regression) or
	// a class index into Pred.Classes (-1: a class the reader's model does
	// not have), and for classifiers the n×k probabilities.
	Pred *bundle.Prediction
	// RequestID, Row and Time say which request each row came in, its
	// index there, and when it was predicted (unix nanoseconds).
	RequestID []string
	Row       []int32
	Time      []int64
	// Latency holds per row how long the server took to answer its
	// request, from receiving it to having the prediction (nanoseconds;
	// every row of a request carries the request's), -1 where unknown (a
	// log written before latency was logged). nil: unknown for all rows.
	Latency []int64
}

// Len is the number of rows.
func (b *Batch) Len() int { return len(b.Time) }

// Feedback is the ground truth of one logged row, joined to it by request
// id and row; a later label for the same row replaces an earlier one.
type Feedback struct {
	Model     string
	RequestID string
	Row       int
	// Label is the truth as text: a class name, or a number.
	Label string
	Time  time.Time
}

// LabelText renders a label decoded from JSON (a string, number or bool) as
// Feedback.Label text; other values are kept as their JSON text.
func LabelText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return x.String()
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// Builder accumulates the rows of one model version into a Batch; gyre
// serve's logger appends each sampled request to one. Columns follow the
// schema given to NewBuilder whatever the requests held.
type Builder struct {
	model, version string
	classes        []string
	cols           []*column
	values, proba  []float64
	reqIDs         []string
	rows           []int32
	times          []int64
	latency        []int64
	timed          bool // some row has a known latency
}

// NewBuilder returns an empty builder for a model version with the given
// input schema and classes (nil for regression).
func NewBuilder(model, version string, schema frame.Schema, classes []string) *Builder {
	b := &Builder{model: model, version: version, classes: classes}
	for _, f := range schema.Fields {
		b.cols = append(b.cols, newColumn(f))
	}
	return b
}

// Len is the number of rows added since the last Batch.
func (b *Builder) Len() int { return len(b.times) }

// AddFrame appends the rows of one request: its decoded input frame (columns
// matched to the schema by name and converted to its kinds; a column the
// frame lacks is missing) and the model's predictions for them; their
// latency is unknown.
func (b *Builder) AddFrame(reqID string, at time.Time, f *frame.Frame, p *bundle.Prediction) {
	b.AddTimedFrame(reqID, at, -1, f, p)
}

// AddTimedFrame is AddFrame for a request answered in latency (negative:
// unknown).
func (b *Builder) AddTimedFrame(reqID string, at time.Time, latency time.Duration, f *frame.Frame, p *bundle.Prediction) {
	n := f.NumRows()
	for j, c := range b.cols {
		var src frame.Column
		if j < f.NumCols() && f.Col(j).Name() == c.field.Name {
			src = f.Col(j)
		} else if k := f.Index(c.field.Name); k >= 0 {
			src = f.Col(k)
		}
		if src == nil {
			c.appendNulls(n)
		} else {
			c.appendRange(src, 0, n)
		}
	}
	for i := range n {
		b.addMeta(reqID, i, at, latency)
	}
	b.addPred(p, n)
}

// AddRow appends a one-row request given per schema field as a number
// (float and int fields; bool: 1 or 0) or a text (string and categorical
// fields), present or not: the form bundle.Row holds. Its latency is
// unknown.
func (b *Builder) AddRow(reqID string, at time.Time, num []float64, text []string, present []bool, p *bundle.Prediction) {
	b.AddTimedRow(reqID, at, -1, num, text, present, p)
}

// AddTimedRow is AddRow for a request answered in latency (negative:
// unknown).
func (b *Builder) AddTimedRow(reqID string, at time.Time, latency time.Duration, num []float64, text []string, present []bool, p *bundle.Prediction) {
	for j, c := range b.cols {
		c.appendValue(num[j], text[j], present[j])
	}
	b.addMeta(reqID, 0, at, latency)
	b.addPred(p, 1)
}

func (b *Builder) addMeta(reqID string, row int, at time.Time, latency time.Duration) {
	b.reqIDs = append(b.reqIDs, reqID)
	b.rows = append(b.rows, int32(row))
	b.times = append(b.times, at.UnixNano())
	b.addLatency(int64(latency))
}

// addLatency appends one row's latency in nanoseconds (negative: unknown).
func (b *Builder) addLatency(ns int64) {
	if ns < 0 {
		ns = -1
	} else {
		b.timed = true
	}
	b.latency = append(b.latency, ns)
}

func (b *Builder) addPred(p *bundle.Prediction, n int) {
	b.values = append(b.values, p.Values[:n]...)
	if k := len(b.classes); k > 0 {
		if len(p.Proba) >= n*k {
			b.proba = append(b.proba, p.Proba[:n*k]...)
		} else {
			b.proba = append(b.proba, make([]float64, n*k)...)
		}
	}
}

// Batch returns the rows added so far and empties the builder.
func (b *Builder) Batch() *Batch {
	cols := make([]frame.Column, len(b.cols))
	for j, c := range b.cols {
		cols[j] = c.finish()
	}
	in, _ := frame.New(cols...) // columns of equal length, distinct names from a schema
	out := &Batch{Model: b.model, Version: b.version, Input: in,
		Pred:      &bundle.Prediction{Values: b.values, Proba: b.proba, Classes: b.classes},
		RequestID: b.reqIDs, Row: b.rows, Time: b.times}
	if b.timed {
		out.Latency = b.latency
	}
	b.values, b.proba, b.reqIDs, b.rows, b.times, b.latency, b.timed = nil, nil, nil, nil, nil, nil, false
	return out
}

// column accumulates one field's values, converting what it is given to
// the field's kind: a value that does not convert is missing (text that is
// not a number in a numeric field, a number in a bool field), numbers and
// booleans in text fields become their text.
type column struct {
	field  frame.Field
	n      int
	floats []float64
	ints   []int64 // int and time
	bools  []bool
	texts  []string // string
	codes  []int32  // categorical
	levels []string
	level  map[string]int32
	remap  map[*frame.Categorical][]int32 // source levels → codes
	valid  frame.Validity
	nulls  bool
}

func newColumn(f frame.Field) *column {
	c := &column{field: f}
	if f.Kind == frame.KindCategorical {
		c.level = map[string]int32{}
		c.remap = map[*frame.Categorical][]int32{}
	}
	return c
}

// reserve sizes the column for n rows, so that appending them copies each
// value once.
func (c *column) reserve(n int) {
	c.valid = slices.Grow(c.valid, (n+63)/64-len(c.valid))
	switch c.field.Kind {
	case frame.KindFloat:
		c.floats = slices.Grow(c.floats, n-len(c.floats))
	case frame.KindInt, frame.KindTime:
		c.ints = slices.Grow(c.ints, n-len(c.ints))
	case frame.KindBool:
		c.bools = slices.Grow(c.bools, n-len(c.bools))
	case frame.KindString:
		c.texts = slices.Grow(c.texts, n-len(c.texts))
	default:
		c.codes = slices.Grow(c.codes, n-len(c.codes))
	}
}

// grow makes room for k more rows, all present.
func (c *column) grow(k int) {
	for w := (c.n + k + 63) / 64; len(c.valid) < w; {
		c.valid = append(c.valid, ^uint64(0))
	}
	c.n += k
}

func (c *column) setNull(i int) {
	c.valid.SetNull(i)
	c.nulls = true
}

// appendNulls appends k missing rows.
func (c *column) appendNulls(k int) {
	lo := c.n
	c.grow(k)
	for i := lo; i < c.n; i++ {
		c.setNull(i)
	}
	switch c.field.Kind {
	case frame.KindFloat:
		c.floats = append(c.floats, make([]float64, k)...)
	case frame.KindInt, frame.KindTime:
		c.ints = append(c.ints, make([]int64, k)...)
	case frame.KindBool:
		c.bools = append(c.bools, make([]bool, k)...)
	case frame.KindString:
		c.texts = append(c.texts, make([]string, k)...)
	default:
		for range k {
			c.codes = append(c.codes, -1)
		}
	}
}

// code returns the categorical code of a level, adding it.
func (c *column) code(s string) int32 {
	k, ok := c.level[s]
	if !ok {
		k = int32(len(c.levels))
		c.levels = append(c.levels, s)
		c.level[s] = k
	}
	return k
}

// appendValue appends one value given as bundle.Row gives it.
func (c *column) appendValue(num float64, text string, present bool) {
	if !present {
		c.appendNulls(1)
		return
	}
	switch c.field.Kind {
	case frame.KindFloat, frame.KindInt, frame.KindBool:
		c.appendNumber(num, true)
	default:
		c.appendText(text, true)
	}
}

// appendNumber appends a number (a bool as 1 or 0 in bool fields).
func (c *column) appendNumber(v float64, ok bool) {
	i := c.n
	c.grow(1)
	ok = ok && !math.IsNaN(v)
	switch c.field.Kind {
	case frame.KindFloat:
		c.floats = append(c.floats, v)
	case frame.KindInt:
		c.ints = append(c.ints, int64(v))
	case frame.KindBool:
		c.bools = append(c.bools, v == 1)
	case frame.KindTime:
		c.ints = append(c.ints, 0)
		ok = false // numbers are not times
	case frame.KindString:
		c.texts = append(c.texts, strconv.FormatFloat(v, 'g', -1, 64))
	default:
		code := int32(-1)
		if ok {
			code = c.code(strconv.FormatFloat(v, 'g', -1, 64))
		}
		c.codes = append(c.codes, code)
	}
	if !ok {
		c.setNull(i)
	}
}

// appendText appends a text, parsed for numeric, bool and time fields.
func (c *column) appendText(s string, ok bool) {
	i := c.n
	c.grow(1)
	switch c.field.Kind {
	case frame.KindFloat, frame.KindInt:
		v, err := strconv.ParseFloat(s, 64)
		ok = ok && err == nil && !math.IsNaN(v)
		if c.field.Kind == frame.KindFloat {
			c.floats = append(c.floats, v)
		} else {
			c.ints = append(c.ints, int64(v))
		}
	case frame.KindBool:
		v, err := strconv.ParseBool(s)
		ok = ok && err == nil
		c.bools = append(c.bools, v)
	case frame.KindTime:
		t, err := time.Parse(time.RFC3339Nano, s)
		ok = ok && err == nil
		c.ints = append(c.ints, t.UnixNano())
	case frame.KindString:
		c.texts = append(c.texts, s)
	default:
		code := int32(-1)
		if ok {
			code = c.code(s)
		}
		c.codes = append(c.codes, code)
	}
	if !ok {
		c.setNull(i)
	}
}

// appendRange appends rows lo..hi of src, converted to the field's kind.
func (c *column) appendRange(src frame.Column, lo, hi int) {
	k := c.field.Kind
	numeric := k == frame.KindFloat || k == frame.KindInt || k == frame.KindBool
	switch s := src.(type) {
	case *frame.Float:
		if k == frame.KindFloat {
			base := c.n
			c.floats = appendSame(c, c.floats, s.Values, s.Valid, lo, hi)
			for i, v := range s.Values[lo:hi] {
				if math.IsNaN(v) {
					c.setNull(base + i)
				}
			}
			return
		}
		c.appendNumbers(src, lo, hi) // numbers are text too
		return
	case *frame.Int:
		if k == frame.KindInt {
			c.ints = appendSame(c, c.ints, s.Values, s.Valid, lo, hi)
			return
		}
	case *frame.Bool:
		if k == frame.KindBool {
			c.bools = appendSame(c, c.bools, s.Values, s.Valid, lo, hi)
			return
		}
	case *frame.Time:
		if k == frame.KindTime {
			c.ints = appendSame(c, c.ints, s.Values, s.Valid, lo, hi)
			return
		}
		if numeric {
			c.appendNulls(hi - lo) // times are not numbers or booleans
			return
		}
	case *frame.Categorical:
		if k == frame.KindCategorical {
			m, ok := c.remap[s]
			if !ok {
				m = make([]int32, len(s.Levels))
				for k, l := range s.Levels {
					m[k] = c.code(l)
				}
				c.remap[s] = m
			}
			c.grow(hi - lo)
			for _, k := range s.Codes[lo:hi] {
				if k < 0 {
					c.codes = append(c.codes, -1)
				} else {
					c.codes = append(c.codes, m[k])
				}
			}
			return
		}
	case *frame.String:
		if k == frame.KindString {
			c.texts = appendSame(c, c.texts, s.Values, s.Valid, lo, hi)
			return
		}
	}
	if sk := src.Kind(); numeric && (sk == frame.KindInt || sk == frame.KindBool) {
		c.appendNumbers(src, lo, hi) // integers and booleans to numbers
		return
	}
	for i := lo; i < hi; i++ {
		c.appendText(src.Format(i), !src.IsNull(i))
	}
}

// appendNumbers appends rows lo..hi of a numeric column (bools as 1 or 0).
func (c *column) appendNumbers(src frame.Column, lo, hi int) {
	for i := lo; i < hi; i++ {
		c.appendNumber(frame.Value(src, i))
	}
}

// appendSame appends rows lo..hi of a source of the field's own kind,
// its values and its missing rows, to dst (one of c's value slices).
func appendSame[T any](c *column, dst, vals []T, valid frame.Validity, lo, hi int) []T {
	base := c.n
	c.grow(hi - lo)
	if valid != nil {
		for i := lo; i < hi; i++ {
			if !valid.Valid(i) {
				c.setNull(base + i - lo)
			}
		}
	}
	return append(dst, vals[lo:hi]...)
}

// finish returns the accumulated column and empties c.
func (c *column) finish() frame.Column {
	valid := c.valid
	if !c.nulls {
		valid = nil
	}
	name := c.field.Name
	var out frame.Column
	switch c.field.Kind {
	case frame.KindFloat:
		out = &frame.Float{ColName: name, Values: nonNil(c.floats), Valid: valid}
	case frame.KindInt:
		out = &frame.Int{ColName: name, Values: nonNil(c.ints), Valid: valid}
	case frame.KindTime:
		out = &frame.Time{ColName: name, Values: nonNil(c.ints), Valid: valid}
	case frame.KindBool:
		out = &frame.Bool{ColName: name, Values: nonNil(c.bools), Valid: valid}
	case frame.KindString:
		out = &frame.String{ColName: name, Values: nonNil(c.texts), Valid: valid}
	default:
		out = &frame.Categorical{ColName: name, Codes: nonNil(c.codes), Levels: c.levels}
	}
	*c = *newColumn(c.field)
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
