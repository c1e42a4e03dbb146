package avro

import (
	"encoding/binary"
	"testing"
)

// The canonical forms and fingerprints of the Avro specification's test
// vectors (share/test/data/schema-tests.txt in apache/avro).
func TestCanonicalAndFingerprint(t *testing.T) {
	for _, c := range []struct {
		in, canonical string
		fp            int64
	}{
		{`"null"`, `"null"`, 7195948357588979594},
		{`{"type":"boolean"}`, `"boolean"`, -6970731678124411036},
		{`"int"`, `"int"`, 8247732601305521295},
		{`"long"`, `"long"`, -3434872931120570953},
		{`"string"`, `"string"`, -8142146995180207161},
		{`[ "int" , {"type":"boolean"} ]`, `["int","boolean"]`, 5392556393470105090},
		{`{"fields":[], "type":"record", "name":"foo", "namespace":"x.y"}`, `{"name":"x.y.foo","type":"record","fields":[]}`, 5916914534497305771},
		{`{"fields":[], "type":"record", "name":"a.b.foo", "namespace":"x.y"}`, `{"name":"a.b.foo","type":"record","fields":[]}`, -4616218487480524110},
		{`{"fields":[], "type":"record", "name":"foo", "doc":"foo", "aliases":["foo","bar"]}`, `{"name":"foo","type":"record","fields":[]}`, -4824392279771201922},
		{`{ "fields":[{"type":"boolean", "aliases":[], "name":"f1", "default":"true"},
		    {"order":"descending","name":"f2","doc":"Hello","type":"int"}], "type":"record", "name":"foo"}`,
			`{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"},{"name":"f2","type":"int"}]}`, -4860222112080293046},
		{`{"namespace":"x.y.z", "type":"enum", "name":"foo", "doc":"foo bar", "symbols":["A1", "A2"]}`, `{"name":"x.y.z.foo","type":"enum","symbols":["A1","A2"]}`, -4448647247586288245},
		{`{"namespace":"x.y.z", "type":"fixed", "name":"foo", "doc":"foo bar", "size":32}`, `{"name":"x.y.z.foo","type":"fixed","size":32}`, -3064184465700546786},
		{`{ "items":{"type":"null"}, "type":"array"}`, `{"type":"array","items":"null"}`, -589620603366471059},
		{`{ "values":"string", "type":"map"}`, `{"type":"map","values":"string"}`, -8732877298790414990},
		{`{"name":"PigValue","type":"record", "fields":[{"name":"value", "type":["null", "int", "long", "PigValue"]}]}`,
			`{"name":"PigValue","type":"record","fields":[{"name":"value","type":["null","int","long","PigValue"]}]}`, -1759257747318642341},
		// Logical types are not part of the canonical form.
		{`{"type":"long","logicalType":"timestamp-millis"}`, `"long"`, -3434872931120570953},
	} {
		s, err := Parse([]byte(c.in))
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if got := s.Canonical(); got != c.canonical {
			t.Errorf("%s: canonical %s, want %s", c.in, got, c.canonical)
		}
		if got := int64(s.Fingerprint()); got != c.fp {
			t.Errorf("%s: fingerprint %d, want %d", c.in, got, c.fp)
		}
	}
	v := binary.LittleEndian.AppendUint64([]byte{0xC3, 0x01}, 42)
	if fp, d, ok := SingleObject(append(v, 7)); !ok || fp != 42 || len(d) != 1 || d[0] != 7 {
		t.Errorf("SingleObject: %d %v %v", fp, d, ok)
	}
	for _, bad := range [][]byte{nil, {0xC3, 0x01, 1, 2}, {0, 0xC3, 0x01, 0, 0, 0, 0, 0, 0, 0, 0}} {
		if _, _, ok := SingleObject(bad); ok {
			t.Errorf("SingleObject(%x) ok", bad)
		}
	}
}
