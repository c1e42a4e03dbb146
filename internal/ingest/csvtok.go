package ingest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
)

// tokenizer splits a buffer that starts at a record boundary into records of
// fields (RFC 4180). Fields alias buf, or scratch when a quoted field needed
// unescaping, and are valid until the next call to next.
//
// Quotes are special only at the start of a field. Text after a closing quote
// (`"a"b`) is kept literally rather than rejected. Blank lines are skipped.
// A trailing \r before \n is dropped.
type tokenizer struct {
	buf     []byte
	pos     int
	delim   byte
	dmask   uint64 // delim in every byte, for scanField
	line    int    // physical line number (1-based) at pos
	scratch []byte
	fields  [][]byte
	quoted  []bool
	recLine int // line on which the current record starts
}

func (t *tokenizer) reset(buf []byte, delim byte, line int) {
	t.buf, t.pos, t.delim, t.line = buf, 0, delim, line
	t.dmask = swarLo * uint64(delim)
}

const (
	swarLo = 0x0101010101010101
	swarHi = 0x8080808080808080
	swarNL = swarLo * '\n'
)

// scanField returns the index of the first delimiter or newline at or after
// pos, or len(buf). It tests eight bytes at a time (SWAR): a byte of x^mask
// is zero exactly where the byte matches, and (v-lo)&^v&hi flags the lowest
// zero byte exactly.
func scanField(buf []byte, pos int, dmask uint64) int {
	n := len(buf)
	for pos+8 <= n {
		w := binary.LittleEndian.Uint64(buf[pos:])
		x, y := w^dmask, w^swarNL
		if m := ((x - swarLo) &^ x & swarHi) | ((y - swarLo) &^ y & swarHi); m != 0 {
			return pos + bits.TrailingZeros64(m)>>3
		}
		pos += 8
	}
	d := byte(dmask)
	for pos < n {
		if c := buf[pos]; c == d || c == '\n' {
			return pos
		}
		pos++
	}
	return n
}

// next parses one record into t.fields/t.quoted. It returns false at the end
// of the buffer; a non-nil error is an unterminated quote (with the line the
// quoted field opened on in t.recLine... see quoteLine).
func (t *tokenizer) next() (bool, error) {
	buf, n, delim := t.buf, len(t.buf), t.delim
	pos := t.pos
	// Skip blank lines.
	for pos < n {
		if buf[pos] == '\n' {
			pos++
			t.line++
			continue
		}
		if buf[pos] == '\r' && pos+1 < n && buf[pos+1] == '\n' {
			pos += 2
			t.line++
			continue
		}
		break
	}
	if pos >= n {
		t.pos = pos
		return false, nil
	}
	t.fields = t.fields[:0]
	t.quoted = t.quoted[:0]
	t.scratch = t.scratch[:0]
	t.recLine = t.line
	for {
		var field []byte
		quoted := false
		if pos < n && buf[pos] == '"' {
			quoted = true
			openLine := t.line
			pos++
			start := pos
			escaped := false
			var end int
			for {
				j := bytes.IndexByte(buf[pos:], '"')
				if j < 0 {
					t.line += bytes.Count(buf[pos:], nl)
					t.pos = n
					return false, &quoteError{line: openLine}
				}
				t.line += bytes.Count(buf[pos:pos+j], nl)
				pos += j
				if pos+1 < n && buf[pos+1] == '"' {
					escaped = true
					pos += 2
					continue
				}
				end = pos
				pos++
				break
			}
			field = buf[start:end]
			if escaped {
				s := len(t.scratch)
				t.scratch = appendUnescaped(t.scratch, field)
				field = t.scratch[s:]
			}
			// Lenient: text between the closing quote and the delimiter.
			if pos < n && buf[pos] != delim && buf[pos] != '\n' && !(buf[pos] == '\r' && (pos+1 == n || buf[pos+1] == '\n')) {
				e := pos
				for e < n && buf[e] != delim && buf[e] != '\n' {
					e++
				}
				extra := buf[pos:e]
				if e < n && buf[e] == '\n' && len(extra) > 0 && extra[len(extra)-1] == '\r' {
					extra = extra[:len(extra)-1]
				}
				s := len(t.scratch)
				t.scratch = append(t.scratch, field...)
				t.scratch = append(t.scratch, extra...)
				field = t.scratch[s:]
				pos = e
			} else if pos < n && buf[pos] == '\r' {
				pos++
			}
		} else {
			start := pos
			pos = scanField(buf, pos, t.dmask)
			field = buf[start:pos]
			if (pos == n || buf[pos] == '\n') && len(field) > 0 && field[len(field)-1] == '\r' {
				field = field[:len(field)-1]
			}
		}
		t.fields = append(t.fields, field)
		t.quoted = append(t.quoted, quoted)
		if pos < n && buf[pos] == delim {
			pos++
			continue
		}
		if pos < n { // '\n'
			pos++
			t.line++
		}
		t.pos = pos
		return true, nil
	}
}

var nl = []byte{'\n'}

// quoteError is an unterminated quote found by the tokenizer.
type quoteError struct{ line int }

func (e *quoteError) Error() string {
	return fmt.Sprintf("unterminated quoted field opened on line %d", e.line)
}

// appendUnescaped appends field with every "" replaced by ".
func appendUnescaped(dst, field []byte) []byte {
	for i := 0; i < len(field); i++ {
		dst = append(dst, field[i])
		if field[i] == '"' && i+1 < len(field) && field[i+1] == '"' {
			i++
		}
	}
	return dst
}

// scanRecords is the one quote-aware record scan outside the tokenizer,
// with the same rules (quotes are special only at the start of a field;
// blank lines are no records). buf starts at a record boundary. It returns
// end, the index just past the last record-ending newline (0 when buf holds
// no complete record), rows, the records in buf[:end], and tail, whether a
// record follows end: one without its newline at the end of the file, or
// an unterminated quoted field (which the tokenizer reports).
func scanRecords(buf []byte, delim byte) (end, rows int, tail bool) {
	n := len(buf)
	if bytes.IndexByte(buf, '"') < 0 {
		for start := 0; start < n; {
			i := bytes.IndexByte(buf[start:], '\n')
			if i < 0 {
				return end, rows, true
			}
			if !(i == 0 || (i == 1 && buf[start] == '\r')) {
				rows++
			}
			start += i + 1
			end = start
		}
		return end, rows, false
	}
	const (
		fieldStart = iota
		unquoted
		inQuotes
		afterQuote
	)
	state := fieldStart
	for i := 0; i < n; {
		switch state {
		case fieldStart:
			if buf[i] == '"' {
				state = inQuotes
				i++
				continue
			}
			state = unquoted
		case unquoted:
			c := buf[i]
			if c == '\n' {
				if !(i == end || (i == end+1 && buf[end] == '\r')) {
					rows++
				}
				end = i + 1
				state = fieldStart
			} else if c == delim {
				state = fieldStart
			}
			i++
		case inQuotes:
			j := bytes.IndexByte(buf[i:], '"')
			if j < 0 {
				return end, rows, true
			}
			i += j + 1
			state = afterQuote
		case afterQuote:
			if buf[i] == '"' {
				i++
				state = inQuotes
				continue
			}
			state = unquoted
		}
	}
	return end, rows, end < n
}
