package frame

import (
	"strconv"
	"time"
)

// Column is one typed column of a Frame.
//
// Implementations are *Float, *Int, *Bool, *String, *Categorical and *Time;
// callers switch on the concrete type (or Kind) to reach the values.
type Column interface {
	// Name is the column's name.
	Name() string
	// Kind is the column's physical type.
	Kind() Kind
	// Len is the number of rows.
	Len() int
	// IsNull reports whether row i is missing.
	IsNull(i int) bool
	// NullCount is the number of missing rows.
	NullCount() int
	// Take returns a new column holding rows in the given order.
	Take(rows []int) Column
	// Renamed returns a shallow copy of the column under a new name.
	Renamed(name string) Column
	// Format renders row i as text, "" for missing.
	Format(i int) string
}

// Float is a float64 column. NaN values are stored as values; a missing entry
// is marked in Valid.
type Float struct {
	ColName string
	Values  []float64
	Valid   Validity
}

// NewFloat returns a float column with all values present.
func NewFloat(name string, values []float64) *Float { return &Float{ColName: name, Values: values} }

// Name implements Column.
func (c *Float) Name() string { return c.ColName }

// Kind implements Column.
func (c *Float) Kind() Kind { return KindFloat }

// Len implements Column.
func (c *Float) Len() int { return len(c.Values) }

// IsNull implements Column.
func (c *Float) IsNull(i int) bool { return !c.Valid.Valid(i) }

// NullCount implements Column.
func (c *Float) NullCount() int { return c.Valid.NullCount(len(c.Values)) }

// Take implements Column.
func (c *Float) Take(rows []int) Column {
	out := make([]float64, len(rows))
	for j, r := range rows {
		out[j] = c.Values[r]
	}
	return &Float{ColName: c.ColName, Values: out, Valid: c.Valid.take(rows)}
}

// Renamed implements Column.
func (c *Float) Renamed(name string) Column { d := *c; d.ColName = name; return &d }

// Format implements Column.
func (c *Float) Format(i int) string {
	if c.IsNull(i) {
		return ""
	}
	return strconv.FormatFloat(c.Values[i], 'g', -1, 64)
}

// Int is an int64 column.
type Int struct {
	ColName string
	Values  []int64
	Valid   Validity
}

// NewInt returns an int column with all values present.
func NewInt(name string, values []int64) *Int { return &Int{ColName: name, Values: values} }

// Name implements Column.
func (c *Int) Name() string { return c.ColName }

// Kind implements Column.
func (c *Int) Kind() Kind { return KindInt }

// Len implements Column.
func (c *Int) Len() int { return len(c.Values) }

// IsNull implements Column.
func (c *Int) IsNull(i int) bool { return !c.Valid.Valid(i) }

// NullCount implements Column.
func (c *Int) NullCount() int { return c.Valid.NullCount(len(c.Values)) }

// Take implements Column.
func (c *Int) Take(rows []int) Column {
	out := make([]int64, len(rows))
	for j, r := range rows {
		out[j] = c.Values[r]
	}
	return &Int{ColName: c.ColName, Values: out, Valid: c.Valid.take(rows)}
}

// Renamed implements Column.
func (c *Int) Renamed(name string) Column { d := *c; d.ColName = name; return &d }

// Format implements Column.
func (c *Int) Format(i int) string {
	if c.IsNull(i) {
		return ""
	}
	return strconv.FormatInt(c.Values[i], 10)
}

// Bool is a boolean column.
type Bool struct {
	ColName string
	Values  []bool
	Valid   Validity
}

// NewBool returns a bool column with all values present.
func NewBool(name string, values []bool) *Bool { return &Bool{ColName: name, Values: values} }

// Name implements Column.
func (c *Bool) Name() string { return c.ColName }

// Kind implements Column.
func (c *Bool) Kind() Kind { return KindBool }

// Len implements Column.
func (c *Bool) Len() int { return len(c.Values) }

// IsNull implements Column.
func (c *Bool) IsNull(i int) bool { return !c.Valid.Valid(i) }

// NullCount implements Column.
func (c *Bool) NullCount() int { return c.Valid.NullCount(len(c.Values)) }

// Take implements Column.
func (c *Bool) Take(rows []int) Column {
	out := make([]bool, len(rows))
	for j, r := range rows {
		out[j] = c.Values[r]
	}
	return &Bool{ColName: c.ColName, Values: out, Valid: c.Valid.take(rows)}
}

// Renamed implements Column.
func (c *Bool) Renamed(name string) Column { d := *c; d.ColName = name; return &d }

// Format implements Column.
func (c *Bool) Format(i int) string {
	if c.IsNull(i) {
		return ""
	}
	return strconv.FormatBool(c.Values[i])
}

// String is a free-text column.
type String struct {
	ColName string
	Values  []string
	Valid   Validity
}

// NewString returns a string column with all values present.
func NewString(name string, values []string) *String { return &String{ColName: name, Values: values} }

// Name implements Column.
func (c *String) Name() string { return c.ColName }

// Kind implements Column.
func (c *String) Kind() Kind { return KindString }

// Len implements Column.
func (c *String) Len() int { return len(c.Values) }

// IsNull implements Column.
func (c *String) IsNull(i int) bool { return !c.Valid.Valid(i) }

// NullCount implements Column.
func (c *String) NullCount() int { return c.Valid.NullCount(len(c.Values)) }

// Take implements Column.
func (c *String) Take(rows []int) Column {
	out := make([]string, len(rows))
	for j, r := range rows {
		out[j] = c.Values[r]
	}
	return &String{ColName: c.ColName, Values: out, Valid: c.Valid.take(rows)}
}

// Renamed implements Column.
func (c *String) Renamed(name string) Column { d := *c; d.ColName = name; return &d }

// Format implements Column.
func (c *String) Format(i int) string {
	if c.IsNull(i) {
		return ""
	}
	return c.Values[i]
}

// Categorical is a dictionary-encoded string column: row i holds
// Levels[Codes[i]], or is missing when Codes[i] < 0.
type Categorical struct {
	ColName string
	Codes   []int32
	Levels  []string
}

// NewCategorical encodes values as a categorical column; levels are numbered
// in order of first appearance. Entries for which missing[i] is true (missing
// may be nil) are missing.
func NewCategorical(name string, values []string, missing []bool) *Categorical {
	c := &Categorical{ColName: name, Codes: make([]int32, len(values))}
	index := map[string]int32{}
	for i, v := range values {
		if missing != nil && missing[i] {
			c.Codes[i] = -1
			continue
		}
		code, ok := index[v]
		if !ok {
			code = int32(len(c.Levels))
			index[v] = code
			c.Levels = append(c.Levels, v)
		}
		c.Codes[i] = code
	}
	return c
}

// Name implements Column.
func (c *Categorical) Name() string { return c.ColName }

// Kind implements Column.
func (c *Categorical) Kind() Kind { return KindCategorical }

// Len implements Column.
func (c *Categorical) Len() int { return len(c.Codes) }

// IsNull implements Column.
func (c *Categorical) IsNull(i int) bool { return c.Codes[i] < 0 }

// NullCount implements Column.
func (c *Categorical) NullCount() int {
	n := 0
	for _, v := range c.Codes {
		if v < 0 {
			n++
		}
	}
	return n
}

// Value returns the level of row i, "" when missing.
func (c *Categorical) Value(i int) string {
	if c.Codes[i] < 0 {
		return ""
	}
	return c.Levels[c.Codes[i]]
}

// Take implements Column. The result shares the level dictionary.
func (c *Categorical) Take(rows []int) Column {
	out := make([]int32, len(rows))
	for j, r := range rows {
		out[j] = c.Codes[r]
	}
	return &Categorical{ColName: c.ColName, Codes: out, Levels: c.Levels}
}

// Renamed implements Column.
func (c *Categorical) Renamed(name string) Column { d := *c; d.ColName = name; return &d }

// Format implements Column.
func (c *Categorical) Format(i int) string { return c.Value(i) }

// Time is a timestamp column stored as Unix nanoseconds in UTC.
type Time struct {
	ColName string
	Values  []int64
	Valid   Validity
}

// NewTime returns a time column with all values present.
func NewTime(name string, values []int64) *Time { return &Time{ColName: name, Values: values} }

// Name implements Column.
func (c *Time) Name() string { return c.ColName }

// Kind implements Column.
func (c *Time) Kind() Kind { return KindTime }

// Len implements Column.
func (c *Time) Len() int { return len(c.Values) }

// IsNull implements Column.
func (c *Time) IsNull(i int) bool { return !c.Valid.Valid(i) }

// NullCount implements Column.
func (c *Time) NullCount() int { return c.Valid.NullCount(len(c.Values)) }

// At returns row i as a time.Time in UTC.
func (c *Time) At(i int) time.Time { return time.Unix(0, c.Values[i]).UTC() }

// Take implements Column.
func (c *Time) Take(rows []int) Column {
	out := make([]int64, len(rows))
	for j, r := range rows {
		out[j] = c.Values[r]
	}
	return &Time{ColName: c.ColName, Values: out, Valid: c.Valid.take(rows)}
}

// Renamed implements Column.
func (c *Time) Renamed(name string) Column { d := *c; d.ColName = name; return &d }

// Format implements Column. Timestamps render as RFC 3339 with nanoseconds.
func (c *Time) Format(i int) string {
	if c.IsNull(i) {
		return ""
	}
	return c.At(i).Format(time.RFC3339Nano)
}

// Value returns row i as a float64 for numeric, bool (0/1) and time (Unix
// seconds) columns, and ok=false for missing values and text columns.
func Value(c Column, i int) (v float64, ok bool) {
	if c.IsNull(i) {
		return 0, false
	}
	switch c := c.(type) {
	case *Float:
		return c.Values[i], true
	case *Int:
		return float64(c.Values[i]), true
	case *Bool:
		if c.Values[i] {
			return 1, true
		}
		return 0, true
	case *Time:
		return float64(c.Values[i]) / 1e9, true
	}
	return 0, false
}

// Compile-time guards.
var (
	_ Column = (*Float)(nil)
	_ Column = (*Int)(nil)
	_ Column = (*Bool)(nil)
	_ Column = (*String)(nil)
	_ Column = (*Categorical)(nil)
	_ Column = (*Time)(nil)
)
