package docframe

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// ErrJSON is a message that is not one JSON object.
var ErrJSON = errors.New("not a JSON object")

// AddJSON adds one document given as a JSON object (one message, one line):
// nested objects are flattened to "a.b"; arrays are kept as their JSON
// text, or with explode one field per position ("a.0", "a.1"); integers
// (no fraction or exponent, within int64) are ints, other numbers floats;
// null is missing. It starts the row itself. On any error (malformed JSON,
// a value of the wrong type) the row is dropped, so the builder holds only
// whole documents, and the error wraps ErrJSON or is a *TypeError.
func (b *Builder) AddJSON(msg []byte, explode bool) error {
	b.StartRow()
	p := jsonParser{b: b, s: msg, explode: explode}
	p.ws()
	if p.i >= len(p.s) || p.s[p.i] != '{' {
		b.DropRow()
		return fmt.Errorf("%w: the message does not start with '{'", ErrJSON)
	}
	err := p.object(nil)
	if err == nil {
		p.ws()
		if p.i != len(p.s) {
			err = p.fail("text after the object")
		}
	}
	if err != nil {
		b.DropRow()
		return err
	}
	return nil
}

type jsonParser struct {
	b       *Builder
	s       []byte
	i       int
	explode bool
	key     []byte // scratch for unescaped keys
	str     []byte // scratch for unescaped strings
}

func (p *jsonParser) fail(what string) error {
	return fmt.Errorf("%w: %s at byte %d", ErrJSON, what, p.i+1)
}

func (p *jsonParser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// object reads {...} at p.i, recording its fields under prefix.
func (p *jsonParser) object(prefix []byte) error {
	p.i++ // '{'
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return nil
	}
	for {
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return p.fail("want a field name")
		}
		k, err := p.stringAt(&p.key)
		if err != nil {
			return err
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return p.fail("want ':'")
		}
		p.i++
		p.ws()
		name := k // a top-level field holding a plain value: the key itself
		if nested := p.i < len(p.s) && (p.s[p.i] == '{' || p.s[p.i] == '[' && p.explode); len(prefix) > 0 || nested {
			// The name outlives the key's scratch (nested fields are
			// named after it), so it gets its own copy.
			name = make([]byte, 0, len(prefix)+1+len(k))
			if len(prefix) > 0 {
				name = append(append(name, prefix...), '.')
			}
			name = append(name, k...)
		}
		if err := p.value(name); err != nil {
			return err
		}
		p.ws()
		if p.i >= len(p.s) {
			return p.fail("unterminated object")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return p.fail("want ',' or '}'")
		}
	}
}

// value reads one value at p.i and records it under name.
func (p *jsonParser) value(name []byte) error {
	if p.i >= len(p.s) {
		return p.fail("missing value")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object(name)
	case c == '[':
		if p.explode {
			return p.array(name)
		}
		start := p.i
		if err := p.skip(); err != nil {
			return err
		}
		return p.b.String(name, p.s[start:p.i])
	case c == '"':
		v, err := p.stringAt(&p.str)
		if err != nil {
			return err
		}
		return p.b.String(name, v)
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range [...]string{"true", "false", "null"} {
			if len(p.s)-p.i >= len(lit) && string(p.s[p.i:p.i+len(lit)]) == lit {
				p.i += len(lit)
				switch lit[0] {
				case 't':
					return p.b.Bool(name, true)
				case 'f':
					return p.b.Bool(name, false)
				}
				p.b.Null(name)
				return nil
			}
		}
		return p.fail("bad literal")
	case c == '-' || c >= '0' && c <= '9':
		start, integral := p.i, true
		for p.i < len(p.s) {
			c := p.s[p.i]
			if c >= '0' && c <= '9' || c == '-' || c == '+' {
				p.i++
				continue
			}
			if c == '.' || c == 'e' || c == 'E' {
				integral = false
				p.i++
				continue
			}
			break
		}
		num := unsafe.String(&p.s[start], p.i-start)
		if integral {
			if v, err := strconv.ParseInt(num, 10, 64); err == nil {
				return p.b.Int(name, v)
			}
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil {
			p.i = start
			return p.fail("bad number")
		}
		return p.b.Float(name, v)
	}
	return p.fail("unexpected character")
}

// array reads [...] exploding positions into name.0, name.1, ...
func (p *jsonParser) array(name []byte) error {
	p.i++
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return nil
	}
	for k := 0; ; k++ {
		p.ws()
		sub := strconv.AppendInt(append(append([]byte(nil), name...), '.'), int64(k), 10)
		if err := p.value(sub); err != nil {
			return err
		}
		p.ws()
		if p.i >= len(p.s) {
			return p.fail("unterminated array")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return nil
		default:
			return p.fail("want ',' or ']'")
		}
	}
}

// skip moves past one value (used for arrays kept as text).
func (p *jsonParser) skip() error {
	depth := 0
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case '"':
			if _, err := p.stringAt(&p.str); err != nil {
				return err
			}
			continue
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				p.i++
				return nil
			}
		}
		p.i++
	}
	return p.fail("unterminated array")
}

// stringAt reads the string at p.i (a '"'), returning its text: a view of
// the message when it has no escapes, else unescaped into *scratch.
func (p *jsonParser) stringAt(scratch *[]byte) ([]byte, error) {
	p.i++
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '"' {
			v := p.s[start:p.i]
			p.i++
			return v, nil
		}
		if c == '\\' {
			return p.unescape(start, scratch)
		}
		p.i++
	}
	return nil, p.fail("unterminated string")
}

func (p *jsonParser) unescape(start int, scratch *[]byte) ([]byte, error) {
	out := append((*scratch)[:0], p.s[start:p.i]...)
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			*scratch = out
			return out, nil
		case c != '\\':
			out = append(out, c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.s) {
			break
		}
		e := p.s[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return nil, p.fail(`bad \u escape`)
			}
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if p.i+1 < len(p.s) && p.s[p.i] == '\\' && p.s[p.i+1] == 'u' {
					p.i += 2
					if lo, ok := p.hex4(); ok {
						r2 = utf16.DecodeRune(r, lo)
					}
				}
				r = r2
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, p.fail("bad escape")
		}
	}
	return nil, p.fail("unterminated string")
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	var r rune
	for _, c := range p.s[p.i : p.i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}
