package ingest

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
	"go.yaml.in/yaml/v3"
)

// ParseSchemaFile reads column overrides from a YAML (or JSON) file:
//
//	columns:
//	  age: {type: int, role: feature}
//	  income: {type: categorical, role: target}
//	  id: {role: id}
//	  when: time            # shorthand for {type: time}
//
// Types are frame kind names (float, int, bool, string, categorical, time and
// their aliases); roles are feature, target, id, time and ignore. Errors name
// the file, line and field.
func ParseSchemaFile(path string) (map[string]FieldOverride, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("read schema %s: %w", path, err)
	}
	bad := func(n *yaml.Node, format string, a ...any) error {
		return fmt.Errorf("read schema %s:%d: %s", path, n.Line, fmt.Sprintf(format, a...))
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("read schema %s: the file is empty; want a 'columns:' mapping", path)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, bad(root, "want a mapping with a 'columns' key")
	}
	var cols *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if k.Value == "columns" {
			cols = root.Content[i+1]
			continue
		}
		return nil, bad(k, "unknown key %q (want columns)", k.Value)
	}
	if cols == nil {
		return nil, bad(root, "no 'columns' key")
	}
	if cols.Kind != yaml.MappingNode {
		return nil, bad(cols, "'columns' must map column names to {type, role}")
	}
	out := map[string]FieldOverride{}
	for i := 0; i+1 < len(cols.Content); i += 2 {
		name, spec := cols.Content[i], cols.Content[i+1]
		if _, dup := out[name.Value]; dup {
			return nil, bad(name, "column %q is listed twice", name.Value)
		}
		var o FieldOverride
		switch spec.Kind {
		case yaml.ScalarNode:
			k, err := frame.ParseKind(spec.Value)
			if err != nil {
				return nil, bad(spec, "column %q: type: %v", name.Value, err)
			}
			o.Type = k
		case yaml.MappingNode:
			for j := 0; j+1 < len(spec.Content); j += 2 {
				key, val := spec.Content[j], spec.Content[j+1]
				switch key.Value {
				case "type":
					k, err := frame.ParseKind(val.Value)
					if err != nil {
						return nil, bad(val, "column %q: type: %v", name.Value, err)
					}
					o.Type = k
				case "role":
					r, err := frame.ParseRole(val.Value)
					if err != nil {
						return nil, bad(val, "column %q: role: %v", name.Value, err)
					}
					o.Role = r
				default:
					return nil, bad(key, "column %q: unknown field %q (want type or role)", name.Value, key.Value)
				}
			}
		default:
			return nil, bad(spec, "column %q: want {type: ..., role: ...} or a type name", name.Value)
		}
		out[name.Value] = o
	}
	return out, nil
}

// applySchema casts columns to their declared types and sets roles. rowLine
// maps a row index to the line reported in errors (nil: row index + 1).
func applySchema(f *frame.Frame, source string, opt Options, rowLine func(int) int) (*frame.Frame, error) {
	if len(opt.Schema) == 0 {
		return f, nil
	}
	if rowLine == nil {
		rowLine = func(i int) int { return i + 1 }
	}
	names := make([]string, 0, len(opt.Schema))
	for n := range opt.Schema {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		o := opt.Schema[n]
		i := f.Index(n)
		if i < 0 {
			return nil, &ParseError{Source: source, Column: n, Err: fmt.Errorf("the schema names a column the source does not have (have %s)", strings.Join(f.Names(), ", "))}
		}
		if o.Type != frame.KindInvalid && f.Col(i).Kind() != o.Type {
			c, err := castColumn(f.Col(i), o.Type, opt, func(row int) error {
				return &ParseError{Source: source, Row: rowLine(row), Column: n, Err: fmt.Errorf("%w: %q is not %s (declared in the schema)", ErrType, f.Col(i).Format(row), kindPhrase(o.Type))}
			})
			if err != nil {
				return nil, err
			}
			if f, err = f.With(c); err != nil {
				return nil, fmt.Errorf("apply schema to %s: %w", source, err)
			}
		}
		if err := f.SetRole(n, o.Role); err != nil {
			return nil, fmt.Errorf("apply schema to %s: %w", source, err)
		}
	}
	return f, nil
}

// castColumn converts a column to kind k through each value's text form
// (Int to Float directly). bad builds the error for a value that does not fit.
func castColumn(c frame.Column, k frame.Kind, opt Options, bad func(row int) error) (frame.Column, error) {
	n := c.Len()
	name := c.Name()
	var valid frame.Validity
	if c.NullCount() > 0 {
		valid = frame.NewValidity(n)
		for i := 0; i < n; i++ {
			if c.IsNull(i) {
				valid.SetNull(i)
			}
		}
	}
	switch k {
	case frame.KindString, frame.KindCategorical:
		vals := make([]string, n)
		for i := range vals {
			vals[i] = c.Format(i)
		}
		if k == frame.KindString {
			return &frame.String{ColName: name, Values: vals, Valid: valid}, nil
		}
		return textColumn(name, vals, valid, int(^uint32(0)>>1)), nil
	case frame.KindFloat:
		out := make([]float64, n)
		if ic, ok := c.(*frame.Int); ok {
			for i, v := range ic.Values {
				out[i] = float64(v)
			}
			return &frame.Float{ColName: name, Values: out, Valid: valid}, nil
		}
		for i := range out {
			if c.IsNull(i) {
				continue
			}
			v, ok := parseFloat(trimSpace([]byte(c.Format(i))))
			if !ok {
				return nil, bad(i)
			}
			out[i] = v
		}
		return &frame.Float{ColName: name, Values: out, Valid: valid}, nil
	case frame.KindInt, frame.KindTime:
		out := make([]int64, n)
		layout := -1
		for i := range out {
			if c.IsNull(i) {
				continue
			}
			s := trimSpace([]byte(c.Format(i)))
			if k == frame.KindInt {
				v, ok := parseInt(s)
				if !ok {
					return nil, bad(i)
				}
				out[i] = v
				continue
			}
			if layout < 0 {
				_, layout = kindOfMask(classify(s, cTimeAll))
				if classify(s, cTimeAll) == 0 {
					return nil, bad(i)
				}
			}
			v, err := parseTimeLayout(timeLayouts[layout], string(s))
			if err != nil {
				return nil, bad(i)
			}
			out[i] = v
		}
		if k == frame.KindTime {
			return &frame.Time{ColName: name, Values: out, Valid: valid}, nil
		}
		return &frame.Int{ColName: name, Values: out, Valid: valid}, nil
	case frame.KindBool:
		out := make([]bool, n)
		for i := range out {
			if c.IsNull(i) {
				continue
			}
			v, ok := parseBool(trimSpace([]byte(c.Format(i))))
			if !ok {
				return nil, bad(i)
			}
			out[i] = v
		}
		return &frame.Bool{ColName: name, Values: out, Valid: valid}, nil
	}
	return nil, fmt.Errorf("cast column %q: unsupported type %s", name, k)
}

// parseTimeLayout parses s with layout into Unix nanoseconds (UTC unless
// the text carries a zone).
func parseTimeLayout(layout, s string) (int64, error) {
	t, err := time.Parse(layout, s)
	if err != nil {
		return 0, err
	}
	return t.UnixNano(), nil
}
