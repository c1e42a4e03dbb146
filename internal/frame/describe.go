package frame

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// ColumnInfo describes one column: name, type, role, missing values and,
// for a categorical column, its number of levels.
type ColumnInfo struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Role     string `json:"role"`
	Missing  int    `json:"missing"`
	Distinct *int   `json:"distinct,omitempty"`
}

// Description is a frame's shape and columns (`gyre data inspect`).
type Description struct {
	Source  string       `json:"source"`
	Rows    int          `json:"rows"`
	Columns []ColumnInfo `json:"columns"`
}

// Describe describes f, read from source.
func Describe(source string, f *Frame) Description {
	info := Description{Source: source, Rows: f.NumRows(), Columns: []ColumnInfo{}}
	for i, c := range f.Columns() {
		ci := ColumnInfo{Name: c.Name(), Type: c.Kind().String(), Role: f.Role(i).String(), Missing: c.NullCount()}
		if cat, ok := c.(*Categorical); ok {
			n := len(cat.Levels)
			ci.Distinct = &n
		}
		info.Columns = append(info.Columns, ci)
	}
	return info
}

// WriteText writes the description: the shape, then a table of columns
// with the share of missing values.
func (d Description) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "%s: %d rows × %d columns\n\n", d.Source, d.Rows, len(d.Columns))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COLUMN\tTYPE\tROLE\tMISSING\tDISTINCT")
	for _, c := range d.Columns {
		dist := ""
		if c.Distinct != nil {
			dist = fmt.Sprint(*c.Distinct)
		}
		miss := fmt.Sprint(c.Missing)
		if c.Missing > 0 && d.Rows > 0 {
			miss = fmt.Sprintf("%d (%.1f%%)", c.Missing, 100*float64(c.Missing)/float64(d.Rows))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Name, c.Type, c.Role, miss, dist)
	}
	return tw.Flush()
}

// Head is the first rows of a frame as records (`gyre data head --json`).
type Head struct {
	Columns []string         `json:"columns"`
	Rows    []map[string]any `json:"rows"`
}

// HeadOf returns the first n rows of f (all when it has fewer), each a
// record of JSON values (JSONValue).
func HeadOf(f *Frame, n int) Head {
	cols := f.Columns()
	recs := make([]map[string]any, min(n, f.NumRows()))
	for i := range recs {
		rec := make(map[string]any, len(cols))
		for _, c := range cols {
			rec[c.Name()] = JSONValue(c, i)
		}
		recs[i] = rec
	}
	return Head{Columns: f.Names(), Rows: recs}
}

// WriteHead writes the first n rows of f as an aligned table: missing
// values as "·", tabs and newlines inside values escaped.
func WriteHead(w io.Writer, f *Frame, n int) error {
	cols := f.Columns()
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(f.Names(), "\t"))
	cells := make([]string, len(cols))
	esc := strings.NewReplacer("\t", `\t`, "\n", `\n`)
	for i := range min(n, f.NumRows()) {
		for j, c := range cols {
			if c.IsNull(i) {
				cells[j] = "·"
			} else {
				cells[j] = esc.Replace(c.Format(i))
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// JSONValue is row i of c as a JSON value: nil when missing, integers,
// finite floats and booleans as such, everything else (infinities and NaN
// included) as its text.
func JSONValue(c Column, i int) any {
	if c.IsNull(i) {
		return nil
	}
	switch c := c.(type) {
	case *Int:
		return c.Values[i]
	case *Float:
		v := c.Values[i]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return c.Format(i)
		}
		return v
	case *Bool:
		return c.Values[i]
	}
	return c.Format(i)
}
