package avro

import (
	"encoding/binary"
	"strconv"
	"strings"
)

// This file holds the schema's Parsing Canonical Form and its CRC-64-AVRO
// (Rabin) fingerprint, as the Avro specification defines them, and the
// single-object encoding that carries the fingerprint before a datum
// (0xC3 0x01, the fingerprint in 8 little-endian bytes, the datum).

// fpEmpty is the CRC-64-AVRO of no bytes (and the polynomial's seed).
const fpEmpty uint64 = 0xc15d213aa4d7a795

var fpTable = func() (t [256]uint64) {
	for i := range t {
		fp := uint64(i)
		for range 8 {
			fp = (fp >> 1) ^ (fpEmpty & -(fp & 1))
		}
		t[i] = fp
	}
	return t
}()

// fingerprint64 is CRC-64-AVRO of b.
func fingerprint64(b []byte) uint64 {
	fp := fpEmpty
	for _, c := range b {
		fp = (fp >> 8) ^ fpTable[byte(fp)^c]
	}
	return fp
}

// Canonical returns the schema's Parsing Canonical Form: primitives by
// name, full names, only the attributes that matter to parsing (name,
// type, fields, symbols, items, values, size) in that order, a named type
// written out where it first appears and by name after, no whitespace.
// Logical types, defaults, docs, aliases and orders are left out.
func (s *Schema) Canonical() string {
	var b strings.Builder
	s.canonical(&b, map[*Schema]bool{})
	return b.String()
}

func (s *Schema) canonical(b *strings.Builder, seen map[*Schema]bool) {
	quote := func(v string) { b.WriteString(strconv.Quote(v)) } // names and symbols are [A-Za-z0-9_.]
	switch s.kind {
	case kRecord, kEnum, kFixed:
		if seen[s] {
			quote(s.name)
			return
		}
		seen[s] = true
		b.WriteString(`{"name":`)
		quote(s.name)
		switch s.kind {
		case kRecord:
			b.WriteString(`,"type":"record","fields":[`)
			for i, f := range s.fields {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(`{"name":`)
				quote(f.name)
				b.WriteString(`,"type":`)
				f.typ.canonical(b, seen)
				b.WriteByte('}')
			}
			b.WriteString("]}")
		case kEnum:
			b.WriteString(`,"type":"enum","symbols":[`)
			for i, sym := range s.symbols {
				if i > 0 {
					b.WriteByte(',')
				}
				quote(sym)
			}
			b.WriteString("]}")
		case kFixed:
			b.WriteString(`,"type":"fixed","size":`)
			b.WriteString(strconv.Itoa(s.size))
			b.WriteByte('}')
		}
	case kArray:
		b.WriteString(`{"type":"array","items":`)
		s.items.canonical(b, seen)
		b.WriteByte('}')
	case kMap:
		b.WriteString(`{"type":"map","values":`)
		s.items.canonical(b, seen)
		b.WriteByte('}')
	case kUnion:
		b.WriteByte('[')
		for i, br := range s.branches {
			if i > 0 {
				b.WriteByte(',')
			}
			br.canonical(b, seen)
		}
		b.WriteByte(']')
	default:
		quote(s.String())
	}
}

// Fingerprint returns the CRC-64-AVRO fingerprint of the schema's Parsing
// Canonical Form, the one single-object encoding carries.
func (s *Schema) Fingerprint() uint64 {
	return fingerprint64([]byte(s.Canonical()))
}

// SingleObject splits a message in Avro's single-object encoding (0xC3
// 0x01, the writer schema's fingerprint as 8 little-endian bytes, the
// datum) into the fingerprint and the datum; ok is false when v does not
// start with the marker.
func SingleObject(v []byte) (fingerprint uint64, datum []byte, ok bool) {
	if len(v) < 10 || v[0] != 0xC3 || v[1] != 0x01 {
		return 0, nil, false
	}
	return binary.LittleEndian.Uint64(v[2:10]), v[10:], true
}
