package sqlsource

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver

	"github.com/gyre-ml/gyre/internal/frame"
)

// MaxLevels is the largest number of distinct values a text column may have
// and still be read as categorical.
const MaxLevels = 1000

// Read runs the table or query named by url and returns the result as a frame
// (see the package comment for URLs and type mapping). Errors name the URL
// with its password redacted, the table or query, and the database's error.
func Read(ctx context.Context, url string) (*frame.Frame, error) {
	src, err := parseURL(url, false)
	if err != nil {
		return nil, fmt.Errorf("sql read: %w", err)
	}
	if (src.table == "") == (src.query == "") {
		return nil, fmt.Errorf("sql read %s: give exactly one of ?table=NAME or ?query=SELECT...", src.display)
	}
	fr, err := src.read(ctx)
	if err != nil {
		return nil, fmt.Errorf("sql read %s (%s): %w", src.display, src.what(), err)
	}
	return fr, nil
}

func (s *source) read(ctx context.Context) (*frame.Frame, error) {
	db, err := sql.Open(s.driver, s.dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	q := s.query
	if s.table != "" {
		q = "SELECT * FROM " + s.table
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	if len(types) == 0 {
		return nil, fmt.Errorf("the result has no columns")
	}
	raw := make([][]any, len(types))
	dest := make([]any, len(types))
	ptrs := make([]any, len(types))
	for j := range dest {
		ptrs[j] = &dest[j]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("row %d: %w", len(raw[0])+1, err)
		}
		for j, v := range dest {
			if b, ok := v.([]byte); ok {
				v = string(b) // the driver may reuse the buffer
			}
			raw[j] = append(raw[j], v)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	cols := make([]frame.Column, len(types))
	for j, ct := range types {
		cols[j] = buildColumn(ct.Name(), strings.ToUpper(ct.DatabaseTypeName()), raw[j])
		raw[j] = nil
	}
	return frame.New(cols...)
}

// declared classifies a declared column type.
func declared(t string) frame.Kind {
	switch {
	case t == "":
		return frame.KindInvalid
	case strings.Contains(t, "INT") || strings.Contains(t, "SERIAL"):
		return frame.KindInt
	case strings.Contains(t, "BOOL"):
		return frame.KindBool
	case strings.Contains(t, "REAL"), strings.Contains(t, "FLOA"), strings.Contains(t, "DOUB"),
		strings.Contains(t, "NUMERIC"), strings.Contains(t, "DECIMAL"):
		return frame.KindFloat
	case strings.Contains(t, "TIMESTAMP"), t == "DATETIME", t == "DATE":
		return frame.KindTime
	}
	return frame.KindString
}

// buildColumn picks the column's kind from its declared type and values.
func buildColumn(name, dbType string, vals []any) frame.Column {
	want := declared(dbType)
	var nInt, nFloat, nBool, nTime, nText, present int
	for _, v := range vals {
		switch v.(type) {
		case nil:
			continue
		case int64, int32, int16, int8, int:
			nInt++
		case float64, float32:
			nFloat++
		case bool:
			nBool++
		case time.Time:
			nTime++
		default:
			nText++
		}
		present++
	}
	kind := frame.KindString
	switch {
	case present == 0:
		kind = want
		if kind == frame.KindInvalid {
			kind = frame.KindFloat
		}
	case nBool == present:
		kind = frame.KindBool
	case nInt == present && want == frame.KindBool && allZeroOne(vals):
		kind = frame.KindBool
	case nInt == present && want == frame.KindFloat:
		kind = frame.KindFloat
	case nInt == present:
		kind = frame.KindInt
	case nInt+nFloat == present:
		kind = frame.KindFloat
	case nTime == present:
		kind = frame.KindTime
	case nText > 0 && (want == frame.KindFloat || want == frame.KindInt) && parses(vals, func(v any) bool { _, ok := parseNumber(v); return ok }):
		kind = frame.KindFloat // e.g. PostgreSQL NUMERIC arrives as text
	case want == frame.KindTime && nTime+nText == present && parses(vals, func(v any) bool { _, ok := unixNanos(v); return ok }):
		kind = frame.KindTime
	}
	n := len(vals)
	switch kind {
	case frame.KindFloat:
		c := &frame.Float{ColName: name, Values: make([]float64, n)}
		for i, v := range vals {
			x, ok := parseNumber(v)
			if !ok {
				c.Valid = setNull(c.Valid, n, i)
			}
			c.Values[i] = x
		}
		return c
	case frame.KindInt:
		c := &frame.Int{ColName: name, Values: make([]int64, n)}
		for i, v := range vals {
			if v == nil {
				c.Valid = setNull(c.Valid, n, i)
				continue
			}
			c.Values[i] = toInt64(v)
		}
		return c
	case frame.KindBool:
		c := &frame.Bool{ColName: name, Values: make([]bool, n)}
		for i, v := range vals {
			switch v := v.(type) {
			case nil:
				c.Valid = setNull(c.Valid, n, i)
			case bool:
				c.Values[i] = v
			default:
				c.Values[i] = toInt64(v) != 0
			}
		}
		return c
	case frame.KindTime:
		c := &frame.Time{ColName: name, Values: make([]int64, n)}
		for i, v := range vals {
			t, ok := unixNanos(v)
			if !ok {
				c.Valid = setNull(c.Valid, n, i)
				continue
			}
			c.Values[i] = t
		}
		return c
	}
	strs, missing := make([]string, n), make([]bool, n)
	distinct := map[string]struct{}{}
	for i, v := range vals {
		if v == nil {
			missing[i] = true
			continue
		}
		strs[i] = text(v)
		if len(distinct) <= MaxLevels {
			distinct[strs[i]] = struct{}{}
		}
	}
	if categorical(len(distinct), present) {
		return frame.NewCategorical(name, strs, missing)
	}
	c := &frame.String{ColName: name, Values: strs}
	for i, m := range missing {
		if m {
			c.Valid = setNull(c.Valid, n, i)
		}
	}
	return c
}

// categorical reports whether a text column with the given number of distinct
// and present values should be categorical.
func categorical(distinct, present int) bool {
	return distinct <= MaxLevels && distinct*2 <= present
}

func setNull(v frame.Validity, n, i int) frame.Validity {
	if v == nil {
		v = frame.NewValidity(n)
	}
	v.SetNull(i)
	return v
}

func allZeroOne(vals []any) bool {
	for _, v := range vals {
		if v != nil {
			if x := toInt64(v); x != 0 && x != 1 {
				return false
			}
		}
	}
	return true
}

// parses reports whether ok holds for every non-NULL value.
func parses(vals []any, ok func(any) bool) bool {
	for _, v := range vals {
		if v != nil && !ok(v) {
			return false
		}
	}
	return true
}

func toInt64(v any) int64 {
	switch v := v.(type) {
	case int64:
		return v
	case int32:
		return int64(v)
	case int16:
		return int64(v)
	case int8:
		return int64(v)
	case int:
		return int64(v)
	}
	return 0
}

// parseNumber converts a numeric value (or numeric text) to float64.
func parseNumber(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case float32:
		return float64(v), true
	case string:
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return x, err == nil
	case nil, bool, time.Time:
		return 0, false
	}
	return float64(toInt64(v)), true
}

// timeLayouts are the text forms of timestamps accepted from SQLite.
var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
	"2006-01-02 15:04:05.999999999 -0700 MST",
}

// unixNanos converts a time value (or timestamp text) to Unix nanoseconds;
// ok is false for other values and times outside int64 nanoseconds.
func unixNanos(v any) (int64, bool) {
	t, ok := toTime(v)
	if !ok || t.Year() < 1678 || t.Year() > 2261 {
		return 0, false
	}
	return t.UnixNano(), true
}

func toTime(v any) (time.Time, bool) {
	switch v := v.(type) {
	case time.Time:
		return v, true
	case string:
		s := strings.TrimSpace(v)
		for _, l := range timeLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

func text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}
