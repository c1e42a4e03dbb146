package monitor

import (
	"encoding/json"
	"errors"
	"strconv"
)

// Value kinds reported by scanObject.
const (
	jsNumber = 'n'
	jsString = 's'
	jsTrue   = 't'
	jsFalse  = 'f'
	jsNull   = 'z'
	jsObject = '{'
	jsArray  = '['
)

var errJSON = errors.New("malformed JSON object")

// scanObject walks the members of a JSON object without allocating: fn gets
// each key (raw, unescaped keys only), the value's kind and its raw bytes
// (strings without quotes; escaped reports backslashes inside). Nested
// objects and arrays are passed whole. It is the hot path of decoding
// millions of logged rows; encoding/json is the fallback for escapes.
func scanObject(data []byte, fn func(key []byte, kind byte, val []byte, escaped bool)) error {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return errJSON
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return nil
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return errJSON
		}
		ks := i + 1
		ke, esc := scanString(data, ks)
		if ke < 0 || esc {
			return errJSON
		}
		key := data[ks:ke]
		i = skipSpace(data, ke+1)
		if i >= len(data) || data[i] != ':' {
			return errJSON
		}
		i = skipSpace(data, i+1)
		if i >= len(data) {
			return errJSON
		}
		switch c := data[i]; {
		case c == '"':
			e, esc := scanString(data, i+1)
			if e < 0 {
				return errJSON
			}
			fn(key, jsString, data[i+1:e], esc)
			i = e + 1
		case c == '{' || c == '[':
			e := scanNested(data, i)
			if e < 0 {
				return errJSON
			}
			fn(key, c, data[i:e], false)
			i = e
		case c == 't' && hasPrefix(data[i:], "true"):
			fn(key, jsTrue, data[i:i+4], false)
			i += 4
		case c == 'f' && hasPrefix(data[i:], "false"):
			fn(key, jsFalse, data[i:i+5], false)
			i += 5
		case c == 'n' && hasPrefix(data[i:], "null"):
			fn(key, jsNull, nil, false)
			i += 4
		case c == '-' || c >= '0' && c <= '9':
			s := i
			for i < len(data) && (data[i] == '-' || data[i] == '+' || data[i] == '.' || data[i] == 'e' || data[i] == 'E' || data[i] >= '0' && data[i] <= '9') {
				i++
			}
			fn(key, jsNumber, data[s:i], false)
		default:
			return errJSON
		}
		i = skipSpace(data, i)
		if i >= len(data) {
			return errJSON
		}
		if data[i] == '}' {
			return nil
		}
		if data[i] != ',' {
			return errJSON
		}
		i = skipSpace(data, i+1)
	}
}

func hasPrefix(b []byte, s string) bool { return len(b) >= len(s) && string(b[:len(s)]) == s }

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString returns the index of the closing quote of a string starting
// at i (after the opening quote), and whether it holds escapes.
func scanString(b []byte, i int) (int, bool) {
	esc := false
	for ; i < len(b); i++ {
		switch b[i] {
		case '\\':
			esc = true
			i++
		case '"':
			return i, esc
		}
	}
	return -1, esc
}

// scanNested returns the index after the object or array starting at i.
func scanNested(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			e, _ := scanString(b, i+1)
			if e < 0 {
				return -1
			}
			i = e
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// jsonText returns a string value's text, unescaping when needed.
func jsonText(raw []byte, escaped bool) string {
	if !escaped {
		return string(raw)
	}
	var s string
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	if json.Unmarshal(q, &s) != nil {
		return string(raw)
	}
	return s
}

// jsonFloat parses a number, or a numeric string.
func jsonFloat(kind byte, raw []byte) (float64, bool) {
	switch kind {
	case jsNumber, jsString:
		v, err := strconv.ParseFloat(string(raw), 64)
		return v, err == nil
	case jsTrue:
		return 1, true
	case jsFalse:
		return 0, true
	}
	return 0, false
}
