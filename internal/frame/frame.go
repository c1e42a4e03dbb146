package frame

import (
	"errors"
	"fmt"
)

// Field describes one column in a Schema.
type Field struct {
	Name string `json:"name" yaml:"name"`
	Kind Kind   `json:"type" yaml:"type"`
	Role Role   `json:"role" yaml:"role"`
}

// Schema is the ordered list of a frame's fields.
type Schema struct {
	Fields []Field `json:"fields" yaml:"fields"`
}

// Index returns the position of the named field, or -1.
func (s Schema) Index(name string) int {
	for i, f := range s.Fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// Names returns the field names in order.
func (s Schema) Names() []string {
	out := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		out[i] = f.Name
	}
	return out
}

// ErrNoColumn is returned (wrapped) when a named column does not exist.
var ErrNoColumn = errors.New("no such column")

// Frame is a table of equal-length named columns with roles.
type Frame struct {
	cols  []Column
	roles []Role
	index map[string]int
}

// New builds a frame from columns. Names must be unique and lengths equal.
// All columns get RoleFeature.
func New(cols ...Column) (*Frame, error) {
	f := &Frame{cols: cols, roles: make([]Role, len(cols)), index: make(map[string]int, len(cols))}
	for i, c := range cols {
		if _, dup := f.index[c.Name()]; dup {
			return nil, fmt.Errorf("frame: duplicate column name %q", c.Name())
		}
		if c.Len() != cols[0].Len() {
			return nil, fmt.Errorf("frame: column %q has %d rows, column %q has %d", c.Name(), c.Len(), cols[0].Name(), cols[0].Len())
		}
		f.index[c.Name()] = i
	}
	return f, nil
}

// MustNew is New that panics on error; for tests and literals.
func MustNew(cols ...Column) *Frame {
	f, err := New(cols...)
	if err != nil {
		panic(err)
	}
	return f
}

// NumRows returns the number of rows.
func (f *Frame) NumRows() int {
	if len(f.cols) == 0 {
		return 0
	}
	return f.cols[0].Len()
}

// NumCols returns the number of columns.
func (f *Frame) NumCols() int { return len(f.cols) }

// Columns returns the columns in order. The slice must not be modified.
func (f *Frame) Columns() []Column { return f.cols }

// Col returns column i.
func (f *Frame) Col(i int) Column { return f.cols[i] }

// Column returns the named column or an error wrapping ErrNoColumn that lists
// the available columns.
func (f *Frame) Column(name string) (Column, error) {
	i, ok := f.index[name]
	if !ok {
		return nil, fmt.Errorf("column %q: %w (have %v)", name, ErrNoColumn, f.Names())
	}
	return f.cols[i], nil
}

// Index returns the position of the named column, or -1.
func (f *Frame) Index(name string) int {
	i, ok := f.index[name]
	if !ok {
		return -1
	}
	return i
}

// Names returns the column names in order.
func (f *Frame) Names() []string {
	out := make([]string, len(f.cols))
	for i, c := range f.cols {
		out[i] = c.Name()
	}
	return out
}

// Role returns the role of column i.
func (f *Frame) Role(i int) Role { return f.roles[i] }

// SetRole sets the role of the named column.
func (f *Frame) SetRole(name string, r Role) error {
	i, ok := f.index[name]
	if !ok {
		return fmt.Errorf("set role of column %q: %w (have %v)", name, ErrNoColumn, f.Names())
	}
	f.roles[i] = r
	return nil
}

// Schema returns the frame's schema.
func (f *Frame) Schema() Schema {
	s := Schema{Fields: make([]Field, len(f.cols))}
	for i, c := range f.cols {
		s.Fields[i] = Field{Name: c.Name(), Kind: c.Kind(), Role: f.roles[i]}
	}
	return s
}

// Take returns a new frame holding the given rows in order (a copy).
func (f *Frame) Take(rows []int) *Frame {
	out := &Frame{cols: make([]Column, len(f.cols)), roles: append([]Role(nil), f.roles...), index: f.index}
	for i, c := range f.cols {
		out.cols[i] = c.Take(rows)
	}
	return out
}

// Slice returns rows [lo, hi) as a new frame (a copy).
func (f *Frame) Slice(lo, hi int) *Frame {
	rows := make([]int, hi-lo)
	for i := range rows {
		rows[i] = lo + i
	}
	return f.Take(rows)
}

// Select returns a frame of the named columns, in the given order. Columns
// are shared, not copied.
func (f *Frame) Select(names ...string) (*Frame, error) {
	out := &Frame{index: make(map[string]int, len(names))}
	for _, n := range names {
		i, ok := f.index[n]
		if !ok {
			return nil, fmt.Errorf("select column %q: %w (have %v)", n, ErrNoColumn, f.Names())
		}
		if _, dup := out.index[n]; dup {
			return nil, fmt.Errorf("select column %q: named twice", n)
		}
		out.index[n] = len(out.cols)
		out.cols = append(out.cols, f.cols[i])
		out.roles = append(out.roles, f.roles[i])
	}
	return out, nil
}

// Drop returns a frame without the named columns. Unknown names are an error.
func (f *Frame) Drop(names ...string) (*Frame, error) {
	drop := map[string]bool{}
	for _, n := range names {
		if _, ok := f.index[n]; !ok {
			return nil, fmt.Errorf("drop column %q: %w (have %v)", n, ErrNoColumn, f.Names())
		}
		drop[n] = true
	}
	var keep []string
	for _, c := range f.cols {
		if !drop[c.Name()] {
			keep = append(keep, c.Name())
		}
	}
	return f.Select(keep...)
}

// With returns a frame with the column added, or replacing the column of the
// same name in place. Roles of existing columns are kept.
func (f *Frame) With(c Column) (*Frame, error) {
	if len(f.cols) > 0 && c.Len() != f.NumRows() {
		return nil, fmt.Errorf("add column %q: has %d rows, frame has %d", c.Name(), c.Len(), f.NumRows())
	}
	out := &Frame{cols: append([]Column(nil), f.cols...), roles: append([]Role(nil), f.roles...), index: make(map[string]int, len(f.cols)+1)}
	for k, v := range f.index {
		out.index[k] = v
	}
	if i, ok := out.index[c.Name()]; ok {
		out.cols[i] = c
		return out, nil
	}
	out.index[c.Name()] = len(out.cols)
	out.cols = append(out.cols, c)
	out.roles = append(out.roles, RoleFeature)
	return out, nil
}

// View is a cheap row subset of a frame: an index slice, no copied values.
// Use it for folds; call Frame to materialise.
type View struct {
	Parent *Frame
	Rows   []int
}

// NumRows returns the number of rows in the view.
func (v View) NumRows() int { return len(v.Rows) }

// Frame materialises the view as a new frame.
func (v View) Frame() *Frame { return v.Parent.Take(v.Rows) }

// Rows returns a view of the given rows of f.
func (f *Frame) Rows(rows []int) View { return View{Parent: f, Rows: rows} }
