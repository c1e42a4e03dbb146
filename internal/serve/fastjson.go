package serve

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// This file is the decoding fast path. parseFast parses the common,
// well-formed request body straight into the values encoding/json would
// produce with UseNumber (map[string]any, []any, string, json.Number, bool,
// nil), without reflection and in one pass. It gives up (ok == false) on
// anything unusual — escapes in strings, invalid UTF-8, nesting deeper than
// maxDepth, trailing data, any syntax error — and the caller then takes the
// slow path through encoding/json, which produces the exact error. The fast
// path never decides an error itself, so behaviour is the slow path's; the
// fuzz test FuzzFastJSON checks the two agree.

// interned holds short strings seen in requests — column names, protocol
// keys, category values — so that decoding them allocates nothing after the
// first time. It is bounded: once full, new strings are simply allocated.
var interned struct {
	sync.RWMutex
	m    map[string]string
	full atomic.Bool
}

const (
	internMaxLen     = 64
	internMaxEntries = 1 << 13
)

func intern(b []byte) string {
	if len(b) > internMaxLen {
		return string(b)
	}
	interned.RLock()
	s, ok := interned.m[string(b)]
	interned.RUnlock()
	if ok || interned.full.Load() {
		if !ok {
			s = string(b)
		}
		return s
	}
	s = string(b)
	interned.Lock()
	if interned.m == nil {
		interned.m = make(map[string]string)
	}
	if len(interned.m) < internMaxEntries {
		interned.m[s] = s
	} else {
		interned.full.Store(true)
	}
	interned.Unlock()
	return s
}

type fastParser struct {
	b []byte
	i int
}

// parseFast parses body as one JSON value, or reports false.
func parseFast(body []byte) (v any, ok bool) {
	p := fastParser{b: body}
	v, ok = p.value(0)
	if !ok {
		return nil, false
	}
	p.ws()
	if p.i != len(p.b) {
		return nil, false
	}
	return v, true
}

func (p *fastParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *fastParser) value(depth int) (any, bool) {
	p.ws()
	if p.i >= len(p.b) {
		return nil, false
	}
	switch c := p.b[p.i]; {
	case c == '{':
		if depth >= maxDepth {
			return nil, false
		}
		return p.object(depth + 1)
	case c == '[':
		if depth >= maxDepth {
			return nil, false
		}
		return p.array(depth + 1)
	case c == '"':
		s, ok := p.str()
		return s, ok
	case c == 't':
		return true, p.lit("true")
	case c == 'f':
		return false, p.lit("false")
	case c == 'n':
		return nil, p.lit("null")
	case c == 'N':
		return nil, p.lit("NaN") // Python's missing value: null
	case c == 'I':
		return json.Number("1e999"), p.lit("Infinity")
	case c == '-' && p.i+1 < len(p.b) && p.b[p.i+1] == 'I':
		return json.Number("-1e999"), p.lit("-Infinity")
	case c == '-' || c >= '0' && c <= '9':
		return p.num()
	}
	return nil, false
}

func (p *fastParser) lit(s string) bool {
	if len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		return false
	}
	p.i += len(s)
	return true
}

// str parses a string without escapes.
func (p *fastParser) str() (string, bool) {
	p.i++ // opening quote
	start, ascii := p.i, true
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			raw := p.b[start:p.i]
			p.i++
			if !ascii && !utf8.Valid(raw) {
				return "", false
			}
			return intern(raw), true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= 0x80:
			ascii = false
		}
		p.i++
	}
	return "", false
}

// num parses a number with JSON's grammar, kept as its text.
func (p *fastParser) num() (any, bool) {
	start := p.i
	if p.b[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.i < len(p.b) && p.b[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return nil, false
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, false
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, false
		}
	}
	return json.Number(p.b[start:p.i]), true
}

func (p *fastParser) array(depth int) (any, bool) {
	p.i++ // [
	out := make([]any, 0, 4)
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return out, true
	}
	for {
		v, ok := p.value(depth)
		if !ok {
			return nil, false
		}
		out = append(out, v)
		p.ws()
		if p.i >= len(p.b) {
			return nil, false
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return out, true
		default:
			return nil, false
		}
	}
}

func (p *fastParser) object(depth int) (any, bool) {
	p.i++     // {
	hint := 0 // protocol wrappers hold a few keys; records hold many
	if depth > 2 {
		hint = 16
	}
	out := make(map[string]any, hint)
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return out, true
	}
	for {
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, false
		}
		k, ok := p.str()
		if !ok {
			return nil, false
		}
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, false
		}
		p.i++
		v, ok := p.value(depth)
		if !ok {
			return nil, false
		}
		if _, dup := out[k]; dup {
			return nil, false // the slow path names the key
		}
		out[k] = v
		p.ws()
		if p.i >= len(p.b) {
			return nil, false
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return out, true
		default:
			return nil, false
		}
	}
}

// fastObject parses body as an object whose keys all belong to allowed, or
// reports false.
func fastObject(body []byte, allowed ...string) (map[string]any, bool) {
	v, ok := parseFast(body)
	if !ok {
		return nil, false
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	for k := range obj {
		found := false
		for _, a := range allowed {
			found = found || k == a
		}
		if !found {
			return nil, false
		}
	}
	return obj, true
}

// fastArray converts a JSON array, each element with conv, or reports false.
func fastArray[T any](v any, conv func(any) (T, bool)) ([]T, bool) {
	arr, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]T, len(arr))
	for i, x := range arr {
		if out[i], ok = conv(x); !ok {
			return nil, false
		}
	}
	return out, true
}

// fastStrings converts a JSON array of strings, or reports false.
func fastStrings(v any) ([]string, bool) {
	return fastArray(v, func(x any) (string, bool) { s, ok := x.(string); return s, ok })
}

// fastInts converts a JSON array of plain integers, or reports false.
func fastInts(v any) ([]int, bool) { return fastArray(v, fastInt) }

// fastInt converts a plain JSON integer (at most 15 characters, no
// fraction or exponent), or reports false.
func fastInt(x any) (int, bool) {
	n, ok := x.(json.Number)
	if !ok || len(n) == 0 || len(n) > 15 {
		return 0, false
	}
	s, neg := string(n), false
	if s[0] == '-' {
		s, neg = s[1:], true
	}
	if s == "" {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// parseFastObject parses body as a JSON object, or reports false.
func parseFastObject(body []byte) (map[string]any, bool) {
	v, ok := parseFast(body)
	if !ok {
		return nil, false
	}
	obj, ok := v.(map[string]any)
	return obj, ok
}

// fastV2 is the V2 request decoder's fast path: it accepts only keys the
// slow path's struct has, spelled exactly, with the expected JSON types.
func fastV2(body []byte) (*v2Request, bool) {
	obj, ok := fastObject(body, "id", "parameters", "inputs")
	if !ok {
		return nil, false
	}
	req := &v2Request{}
	if x, has := obj["id"]; has {
		if req.ID, ok = x.(string); !ok {
			return nil, false
		}
	}
	if x, has := obj["parameters"]; has {
		if req.Parameters, ok = x.(map[string]any); !ok {
			return nil, false
		}
	}
	ins, ok := obj["inputs"].([]any)
	if !ok {
		return nil, false
	}
	req.Inputs = make([]v2Tensor, len(ins))
	for i, x := range ins {
		t, ok := x.(map[string]any)
		if !ok {
			return nil, false
		}
		for k, v := range t {
			switch k {
			case "name":
				req.Inputs[i].Name, ok = v.(string)
			case "datatype":
				req.Inputs[i].Datatype, ok = v.(string)
			case "shape":
				req.Inputs[i].Shape, ok = fastInts(v)
			case "parameters":
				req.Inputs[i].Parameters, ok = v.(map[string]any)
			case "data":
				req.Inputs[i].Data = v
			default:
				ok = false
			}
			if !ok {
				return nil, false
			}
		}
	}
	return req, true
}
