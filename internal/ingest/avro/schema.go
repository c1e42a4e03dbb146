package avro

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrSchema is wrapped by errors about an Avro schema that cannot be read.
var ErrSchema = errors.New("bad Avro schema")

type kind uint8

const (
	kNull kind = iota
	kBoolean
	kInt
	kLong
	kFloat
	kDouble
	kBytes
	kString
	kRecord
	kEnum
	kArray
	kMap
	kUnion
	kFixed
)

var primitives = map[string]kind{"null": kNull, "boolean": kBoolean, "int": kInt, "long": kLong,
	"float": kFloat, "double": kDouble, "bytes": kBytes, "string": kString}

// Schema is a parsed Avro schema.
type Schema struct {
	kind     kind
	name     string // full name of a named type
	fields   []field
	symbols  []string
	items    *Schema // array items, map values
	branches []*Schema
	size     int
	logical  string
	scale    int
	// flat: a record's fields flattened to "a.b" columns are not
	// possible (it contains itself): it is stored as JSON text.
	recursive bool
}

type field struct {
	name   string
	column string // the column it becomes: name, or its gyre.column attribute
	typ    *Schema
}

// Names holds the named types (records, enums, fixed) of parsed schemas,
// so that a schema may refer to types another defined (the schema
// registry's references). The zero value is ready to use.
type Names struct {
	m map[string]*Schema
}

// Parse parses an Avro schema in its JSON form.
func Parse(text []byte) (*Schema, error) {
	var n Names
	return n.Parse(text)
}

// Parse parses an Avro schema, resolving names against those parsed
// before, and adds its named types.
func (n *Names) Parse(text []byte) (*Schema, error) {
	var v any
	if err := json.Unmarshal(text, &v); err != nil {
		return nil, fmt.Errorf("%w: not JSON: %v", ErrSchema, err)
	}
	if n.m == nil {
		n.m = map[string]*Schema{}
	}
	p := &parser{names: n.m}
	s, err := p.parse(v, "", 0)
	if err != nil {
		return nil, err
	}
	markRecursive(s, map[*Schema]bool{})
	return s, nil
}

type parser struct {
	names map[string]*Schema
}

func fullName(name, ns string) string {
	if strings.Contains(name, ".") || ns == "" {
		return name
	}
	return ns + "." + name
}

func (p *parser) parse(v any, ns string, depth int) (*Schema, error) {
	if depth > 256 {
		return nil, fmt.Errorf("%w: nested more than 256 deep", ErrSchema)
	}
	switch t := v.(type) {
	case string:
		if k, ok := primitives[t]; ok {
			return &Schema{kind: k}, nil
		}
		if s, ok := p.names[fullName(t, ns)]; ok {
			return s, nil
		}
		if s, ok := p.names[t]; ok {
			return s, nil
		}
		return nil, fmt.Errorf("%w: unknown type %q", ErrSchema, t)
	case []any:
		u := &Schema{kind: kUnion}
		for _, b := range t {
			s, err := p.parse(b, ns, depth+1)
			if err != nil {
				return nil, err
			}
			if s.kind == kUnion {
				return nil, fmt.Errorf("%w: a union directly inside a union", ErrSchema)
			}
			u.branches = append(u.branches, s)
		}
		if len(u.branches) == 0 {
			return nil, fmt.Errorf("%w: an empty union", ErrSchema)
		}
		return u, nil
	case map[string]any:
		return p.object(t, ns, depth)
	}
	return nil, fmt.Errorf("%w: a schema must be a name, an object or a union array, not %T", ErrSchema, v)
}

func (p *parser) object(o map[string]any, ns string, depth int) (*Schema, error) {
	typ, _ := o["type"].(string)
	if typ == "" {
		if inner, ok := o["type"]; ok {
			// {"type": {"type": ...}} or {"type": [...]}: the inner schema.
			return p.parse(inner, ns, depth+1)
		}
		return nil, fmt.Errorf("%w: an object without \"type\"", ErrSchema)
	}
	logical, _ := o["logicalType"].(string)
	var s *Schema
	switch typ {
	case "record", "error", "enum", "fixed":
		name, _ := o["name"].(string)
		if name == "" {
			return nil, fmt.Errorf("%w: a %s without a name", ErrSchema, typ)
		}
		if nsv, ok := o["namespace"].(string); ok && !strings.Contains(name, ".") {
			ns = nsv
		}
		full := fullName(name, ns)
		if i := strings.LastIndexByte(full, '.'); i >= 0 {
			ns = full[:i]
		}
		s = &Schema{name: full}
		p.names[full] = s // before the fields: a record may refer to itself
		switch typ {
		case "enum":
			s.kind = kEnum
			syms, _ := o["symbols"].([]any)
			for _, x := range syms {
				str, ok := x.(string)
				if !ok {
					return nil, fmt.Errorf("%w: enum %s: a symbol that is not a string", ErrSchema, full)
				}
				s.symbols = append(s.symbols, str)
			}
		case "fixed":
			s.kind = kFixed
			size, ok := o["size"].(float64)
			if !ok || size < 0 || size > 1<<20 || size != float64(int(size)) {
				return nil, fmt.Errorf("%w: fixed %s: bad size", ErrSchema, full)
			}
			s.size = int(size)
		default:
			s.kind = kRecord
			fs, ok := o["fields"].([]any)
			if !ok {
				return nil, fmt.Errorf("%w: record %s has no fields array", ErrSchema, full)
			}
			for _, x := range fs {
				fo, ok := x.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%w: record %s: a field that is not an object", ErrSchema, full)
				}
				fname, _ := fo["name"].(string)
				if fname == "" {
					return nil, fmt.Errorf("%w: record %s: a field without a name", ErrSchema, full)
				}
				ft, err := p.parse(fo["type"], ns, depth+1)
				if err != nil {
					return nil, fmt.Errorf("record %s field %s: %w", full, fname, err)
				}
				fl := field{name: fname, column: fname, typ: ft}
				if col, ok := fo["gyre.column"].(string); ok && col != "" {
					// A column name that is not an Avro name, kept by
					// the file's writer (FileWriter).
					fl.column = col
				}
				s.fields = append(s.fields, fl)
			}
		}
	case "array", "map":
		s = &Schema{kind: kArray}
		key := "items"
		if typ == "map" {
			s.kind, key = kMap, "values"
		}
		it, err := p.parse(o[key], ns, depth+1)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", typ, key, err)
		}
		s.items = it
	default:
		k, ok := primitives[typ]
		if !ok {
			if named, err := p.parse(typ, ns, depth+1); err == nil {
				return named, nil
			}
			return nil, fmt.Errorf("%w: unknown type %q", ErrSchema, typ)
		}
		s = &Schema{kind: k}
	}
	if logical != "" {
		// A logical type the reader does not know, or on the wrong type,
		// is the underlying type (as the specification says).
		switch {
		case logical == "decimal" && (s.kind == kBytes || s.kind == kFixed):
			sc, _ := o["scale"].(float64)
			if sc < 0 || sc > 1000 {
				return nil, fmt.Errorf("%w: decimal scale %v", ErrSchema, sc)
			}
			s.logical, s.scale = logical, int(sc)
		case logical == "date" && s.kind == kInt,
			(logical == "timestamp-millis" || logical == "timestamp-micros" || logical == "timestamp-nanos" ||
				logical == "local-timestamp-millis" || logical == "local-timestamp-micros" || logical == "local-timestamp-nanos") && s.kind == kLong,
			logical == "uuid" && (s.kind == kString || s.kind == kFixed):
			s.logical = logical
		}
	}
	return s, nil
}

// markRecursive marks the records that contain themselves.
func markRecursive(s *Schema, path map[*Schema]bool) {
	if s == nil {
		return
	}
	if path[s] {
		s.recursive = true
		return
	}
	switch s.kind {
	case kRecord:
		path[s] = true
		for _, f := range s.fields {
			markRecursive(f.typ, path)
		}
		delete(path, s)
	case kArray, kMap:
		markRecursive(s.items, path)
	case kUnion:
		for _, b := range s.branches {
			markRecursive(b, path)
		}
	}
}

// String names the schema's type as Avro writes it.
func (s *Schema) String() string {
	switch s.kind {
	case kRecord, kEnum, kFixed:
		return s.name
	case kArray:
		return "array<" + s.items.String() + ">"
	case kMap:
		return "map<" + s.items.String() + ">"
	case kUnion:
		parts := make([]string, len(s.branches))
		for i, b := range s.branches {
			parts[i] = b.String()
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	for n, k := range primitives {
		if k == s.kind {
			return n
		}
	}
	return "?"
}
