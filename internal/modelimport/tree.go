package modelimport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// node is a decoded JSON or UBJSON value with the path that reached it, so
// errors name the field at fault ("learner.gradient_booster.model.trees[3].
// split_indices: ...").
type node struct {
	v    any
	path string
}

func (n node) errorf(format string, args ...any) error {
	return fmt.Errorf("%s: %s", n.path, fmt.Sprintf(format, args...))
}

// has reports whether key k is present in an object.
func (n node) has(k string) bool {
	m, ok := n.v.(map[string]any)
	if !ok {
		return false
	}
	_, ok = m[k]
	return ok
}

// key returns field k of an object (an error when n is not an object or k
// is absent).
func (n node) key(k string) (node, error) {
	p := k
	if n.path != "" {
		p = n.path + "." + k
	}
	m, ok := n.v.(map[string]any)
	if !ok {
		return node{}, n.errorf("want an object, have %s", kindOf(n.v))
	}
	v, ok := m[k]
	if !ok {
		return node{}, fmt.Errorf("%s: missing", p)
	}
	return node{v: v, path: p}, nil
}

// list returns the elements of an array.
func (n node) list() ([]node, error) {
	switch a := n.v.(type) {
	case []any:
		out := make([]node, len(a))
		for i, v := range a {
			out[i] = node{v: v, path: fmt.Sprintf("%s[%d]", n.path, i)}
		}
		return out, nil
	case []float64:
		out := make([]node, len(a))
		for i, v := range a {
			out[i] = node{v: v, path: fmt.Sprintf("%s[%d]", n.path, i)}
		}
		return out, nil
	}
	return nil, n.errorf("want an array, have %s", kindOf(n.v))
}

// str returns a string value.
func (n node) str() (string, error) {
	s, ok := n.v.(string)
	if !ok {
		return "", n.errorf("want a string, have %s", kindOf(n.v))
	}
	return s, nil
}

// num returns a number, or a number written as a string (XGBoost writes
// its parameters as strings: "base_score": "5E-1"); null is NaN.
func (n node) num() (float64, error) {
	switch v := n.v.(type) {
	case float64:
		return v, nil
	case nil:
		return math.NaN(), nil
	case json.Number:
		return parseNum(string(v), n)
	case string:
		return parseNum(v, n)
	case bool:
		if v {
			return 1, nil
		}
		return 0, nil
	}
	return 0, n.errorf("want a number, have %s", kindOf(n.v))
}

func parseNum(s string, n node) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return 0, n.errorf("%q is not a number", s)
	}
	return f, nil
}

// int returns an integer value in [lo, hi].
func (n node) int(lo, hi int) (int, error) {
	f, err := n.num()
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, n.errorf("%v: want an integer in [%d, %d]", f, lo, hi)
	}
	return int(f), nil
}

// floats returns an array of numbers.
func (n node) floats() ([]float64, error) {
	if a, ok := n.v.([]float64); ok {
		return a, nil
	}
	items, err := n.list()
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(items))
	for i, it := range items {
		if out[i], err = it.num(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ints returns an array of integers in [lo, hi].
func (n node) ints(lo, hi int) ([]int, error) {
	fs, err := n.floats()
	if err != nil {
		return nil, err
	}
	out := make([]int, len(fs))
	for i, f := range fs {
		if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
			return nil, fmt.Errorf("%s[%d]: %v: want an integer in [%d, %d]", n.path, i, f, lo, hi)
		}
		out[i] = int(f)
	}
	return out, nil
}

func kindOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any, []float64:
		return "an array"
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// decodeJSON decodes JSON that may hold the bare words NaN, Infinity and
// -Infinity (XGBoost writes NaN for a categorical split's condition), with
// numbers kept exact as json.Number.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(rewriteNonFinite(b)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("data after the JSON value at byte %d", dec.InputOffset())
	}
	return v, nil
}

// rewriteNonFinite replaces NaN, Infinity and -Infinity outside strings
// with null, 1e999 and -1e999 (which node.num reads back).
func rewriteNonFinite(b []byte) []byte {
	if !bytes.Contains(b, []byte("NaN")) && !bytes.Contains(b, []byte("Infinity")) {
		return b
	}
	out := make([]byte, 0, len(b))
	inStr := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inStr {
			out = append(out, c)
			switch c {
			case '\\':
				if i+1 < len(b) {
					i++
					out = append(out, b[i])
				}
			case '"':
				inStr = false
			}
			continue
		}
		switch {
		case c == '"':
			inStr = true
		case bytes.HasPrefix(b[i:], []byte("NaN")):
			out = append(out, "null"...)
			i += 2
			continue
		case bytes.HasPrefix(b[i:], []byte("-Infinity")):
			out = append(out, "-1e999"...)
			i += 8
			continue
		case bytes.HasPrefix(b[i:], []byte("Infinity")):
			out = append(out, "1e999"...)
			i += 7
			continue
		}
		out = append(out, c)
	}
	return out
}
