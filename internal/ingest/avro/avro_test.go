package avro

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest/docframe"
)

const fixtures = "../../../testdata/ingest/avro"

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		t.Fatal(err)
	}
}

func schemaFile(t *testing.T, name string) *Schema {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func num(v any) float64 {
	f, _ := v.(json.Number).Float64()
	return f
}

// checkRecords compares the frame's rows with the records avsc read back.
func checkRecords(t *testing.T, f *frame.Frame, recs []map[string]any) {
	t.Helper()
	if f.NumRows() != len(recs) {
		t.Fatalf("%d rows, want %d", f.NumRows(), len(recs))
	}
	col := func(name string) frame.Column {
		c, err := f.Column(name)
		if err != nil {
			t.Fatalf("%v (have %v)", err, f.Names())
		}
		return c
	}
	for i, r := range recs {
		fail := func(field string, got, want any) {
			t.Fatalf("row %d %s: got %v, want %v", i, field, got, want)
		}
		if got := col("device").Format(i); got != r["device"] {
			fail("device", got, r["device"])
		}
		if got := col("seq").(*frame.Int).Values[i]; float64(got) != num(r["seq"]) {
			fail("seq", got, r["seq"])
		}
		if got := col("temp").(*frame.Float).Values[i]; got != num(r["temp"]) {
			fail("temp", got, r["temp"])
		}
		h := col("humidity")
		if r["humidity"] == nil != h.IsNull(i) || r["humidity"] != nil && h.(*frame.Float).Values[i] != num(r["humidity"]) {
			fail("humidity", h.Format(i), r["humidity"])
		}
		if got := col("ok").(*frame.Bool).Values[i]; got != r["ok"] {
			fail("ok", got, r["ok"])
		}
		if got := col("status").Format(i); got != r["status"] {
			fail("status", got, r["status"])
		}
		if got := col("at").(*frame.Time).Values[i]; float64(got) != num(r["at"])*1e6 {
			fail("at", got, r["at"])
		}
		if got := col("day").(*frame.Time).Values[i]; float64(got) != num(r["day"])*86400e9 {
			fail("day", got, r["day"])
		}
		if got := col("price").(*frame.Float).Values[i]; math.Abs(got-num(r["price"])) > 1e-9 {
			fail("price", got, r["price"])
		}
		loc := r["loc"].(map[string]any)
		if got := col("loc.lat").(*frame.Float).Values[i]; got != num(loc["lat"]) {
			fail("loc.lat", got, loc["lat"])
		}
		for _, name := range []string{"tags", "attrs"} {
			var got any
			d := json.NewDecoder(strings.NewReader(col(name).Format(i)))
			d.UseNumber()
			if err := d.Decode(&got); err != nil || !reflect.DeepEqual(got, r[name]) {
				fail(name, col(name).Format(i), r[name])
			}
		}
		if got := col("id").Format(i); got != r["id"] {
			fail("id", got, r["id"])
		}
		note, level := col("extra.note"), col("extra.level")
		if ex, ok := r["extra"].(map[string]any); ok {
			if note.Format(i) != ex["note"] || level.Format(i) != ex["level"].(json.Number).String() {
				fail("extra", note.Format(i)+" "+level.Format(i), ex)
			}
		} else if !note.IsNull(i) || !level.IsNull(i) {
			fail("extra", note.Format(i), nil)
		}
		if bt, err := f.Column("battery"); err == nil {
			if r["battery"] == nil != bt.IsNull(i) || r["battery"] != nil && bt.(*frame.Float).Values[i] != num(r["battery"]) {
				fail("battery", bt.Format(i), r["battery"])
			}
		}
	}
}

func readContainer(t *testing.T, data []byte) (*frame.Frame, *FileReader) {
	t.Helper()
	fr, err := NewFileReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b := docframe.New(0)
	for {
		err := fr.Next(b)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	f, err := b.Frame()
	if err != nil {
		t.Fatal(err)
	}
	return f, fr
}

// Container files written by avsc read as avsc reads them back, with the
// deflate and null codecs.
func TestContainerAgainstAvsc(t *testing.T) {
	for _, file := range []string{"readings.avro", "readings_null.avro"} {
		data, err := os.ReadFile(filepath.Join(fixtures, file))
		if err != nil {
			t.Fatal(err)
		}
		var recs []map[string]any
		readJSON(t, file+".json", &recs)
		f, fr := readContainer(t, data)
		checkRecords(t, f, recs)
		if fr.Records() != int64(len(recs)) {
			t.Errorf("%s: %d records counted", file, fr.Records())
		}
		if c, _ := f.Column("device"); c.Kind() != frame.KindCategorical {
			t.Errorf("%s: device is %s", file, c.Kind())
		}
	}
}

type message struct {
	Version int            `json:"version"`
	Hex     string         `json:"hex"`
	Record  map[string]any `json:"record"`
}

// Bare datums (Kafka message values) decode with their schema, across a
// schema change (v2 adds a field).
func TestMessagesAgainstAvsc(t *testing.T) {
	var msgs []message
	readJSON(t, "readings.messages.json", &msgs)
	s1, s2 := schemaFile(t, "readings.avsc"), schemaFile(t, "readings_v2.avsc")
	b := docframe.New(0)
	var recs []map[string]any
	for i, m := range msgs {
		data, _ := hex.DecodeString(m.Hex)
		s := s1
		if m.Version == 2 {
			s = s2
		}
		if err := s.DecodeOne(data, b); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		recs = append(recs, m.Record)
	}
	f, err := b.Frame()
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, f, recs)
	// A v2 message read with v1 leaves bytes over: an error, not a row.
	data, _ := hex.DecodeString(msgs[70].Hex)
	if err := s1.DecodeOne(data, b); !errors.Is(err, ErrData) || !strings.Contains(err.Error(), "after the datum") {
		t.Errorf("v2 with v1: %v", err)
	}
	if b.Rows() != len(msgs) {
		t.Errorf("a failed message left a row: %d rows", b.Rows())
	}
}

// writeContainer writes a container file of the datums with a codec, in
// blocks of 7 records (the framing by the specification; the compression
// by the codec's library).
func writeContainer(t *testing.T, schema []byte, codec string, datums [][]byte) []byte {
	var out bytes.Buffer
	long := func(v int64) {
		var b [binary.MaxVarintLen64]byte
		out.Write(b[:binary.PutVarint(b[:], v)])
	}
	str := func(s []byte) { long(int64(len(s))); out.Write(s) }
	out.Write(Magic)
	long(2)
	str([]byte("avro.schema"))
	str(schema)
	str([]byte("avro.codec"))
	str([]byte(codec))
	long(0)
	sync := []byte("0123456789abcdef")
	out.Write(sync)
	for lo := 0; lo < len(datums); lo += 7 {
		hi := min(len(datums), lo+7)
		raw := bytes.Join(datums[lo:hi], nil)
		var block []byte
		switch codec {
		case "null":
			block = raw
		case "deflate":
			var w bytes.Buffer
			fw, _ := flate.NewWriter(&w, 6)
			fw.Write(raw)
			fw.Close()
			block = w.Bytes()
		case "snappy":
			block = binary.BigEndian.AppendUint32(snappy.Encode(nil, raw), crc32.ChecksumIEEE(raw))
		case "zstandard":
			enc, _ := zstd.NewWriter(nil)
			block = enc.EncodeAll(raw, nil)
		}
		long(int64(hi - lo))
		long(int64(len(block)))
		out.Write(block)
		out.Write(sync)
	}
	return out.Bytes()
}

// Every codec reads the same records; a bad sync marker, an unknown codec,
// and every truncation or random corruption are errors, never a panic.
func TestCodecsAndCorruption(t *testing.T) {
	var msgs []message
	readJSON(t, "readings.messages.json", &msgs)
	schema, _ := os.ReadFile(filepath.Join(fixtures, "readings.avsc"))
	var datums [][]byte
	var recs []map[string]any
	for _, m := range msgs[:60] {
		d, _ := hex.DecodeString(m.Hex)
		datums = append(datums, d)
		recs = append(recs, m.Record)
	}
	for _, codec := range []string{"null", "deflate", "snappy", "zstandard"} {
		data := writeContainer(t, schema, codec, datums)
		f, fr := readContainer(t, data)
		if fr.Codec() != codec {
			t.Errorf("codec %s", fr.Codec())
		}
		checkRecords(t, f, recs)
	}
	data := writeContainer(t, schema, "snappy", datums)
	bad := bytes.Replace(data, []byte("0123456789abcdef"), []byte("0123456789abcdeX"), 3)
	_, err := NewFileReader(bytes.NewReader(bad))
	if err != nil {
		t.Fatal(err)
	}
	if err := readAll(bad); !errors.Is(err, ErrData) || !strings.Contains(err.Error(), "sync marker") {
		t.Errorf("bad sync: %v", err)
	}
	if _, err := NewFileReader(bytes.NewReader(writeContainer(t, schema, "lzma", nil))); err == nil || !strings.Contains(err.Error(), `codec "lzma"`) {
		t.Errorf("unknown codec: %v", err)
	}
	// A file cut anywhere but just after a block's sync marker is an error
	// (the format has no record count: a cut between blocks reads as a
	// shorter file, as with Avro's own readers).
	orig, _ := os.ReadFile(filepath.Join(fixtures, "readings.avro"))
	hdr, _ := NewFileReader(bytes.NewReader(orig))
	for n := 0; n < len(orig)-1; n += 37 {
		if err := readAll(orig[:n]); err == nil && !bytes.HasSuffix(orig[:n], hdr.sync[:]) {
			t.Fatalf("cut at %d of %d bytes: no error", n, len(orig))
		}
	}
	rng := rand.New(rand.NewSource(2))
	for _, src := range [][]byte{orig, data} {
		for k := 0; k < 300; k++ {
			b := append([]byte(nil), src...)
			for m := 0; m < 1+rng.Intn(3); m++ {
				b[rng.Intn(len(b))] = byte(rng.Intn(256))
			}
			readAll(b)
		}
	}
	// Messages cut anywhere are errors.
	s := schemaFile(t, "readings.avsc")
	msg, _ := hex.DecodeString(msgs[3].Hex)
	b := docframe.New(0)
	for n := 0; n < len(msg); n++ {
		if err := s.DecodeOne(msg[:n], b); err == nil {
			t.Fatalf("a message cut at %d of %d bytes decoded", n, len(msg))
		}
	}
}

func readAll(data []byte) error {
	fr, err := NewFileReader(bytes.NewReader(data))
	if err != nil {
		return err
	}
	b := docframe.New(0)
	for {
		if err := fr.Next(b); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

func TestSchemas(t *testing.T) {
	// A recursive record: the self-referencing field is JSON text.
	s, err := Parse([]byte(`{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","Node"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	// v=1, next = Node{v=2, next=null}
	b := docframe.New(0)
	if err := s.DecodeOne([]byte{2, 2, 4, 0}, b); err != nil {
		t.Fatal(err)
	}
	f, _ := b.Frame()
	if got := fmt.Sprintf("%v %s %s", f.Names(), f.Col(0).Format(0), f.Col(1).Format(0)); got != `[v next] 1 {"next":null,"v":2}` {
		t.Errorf("recursive: %s", got)
	}
	// Names resolve across schemas parsed with one Names (registry references).
	var n Names
	if _, err := n.Parse([]byte(`{"type":"enum","name":"Colour","namespace":"x","symbols":["RED","BLUE"]}`)); err != nil {
		t.Fatal(err)
	}
	s, err = n.Parse([]byte(`{"type":"record","name":"Car","namespace":"x","fields":[{"name":"c","type":"Colour"},{"name":"f","type":{"type":"fixed","name":"Id","size":2}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	b = docframe.New(0)
	if err := s.DecodeOne([]byte{2, 0xff, 0x01}, b); err != nil {
		t.Fatal(err)
	}
	f, _ = b.Frame()
	if got := f.Col(0).Format(0) + " " + f.Col(1).Format(0); got != "BLUE /wE=" {
		t.Errorf("references: %s", got)
	}
	for _, bad := range []string{`{"type":"record","name":"R"}`, `"nosuch"`, `{"type":"fixed","name":"F","size":-1}`, `[]`, `{"type":"enum","name":"E","symbols":[1]}`, `not json`} {
		if _, err := Parse([]byte(bad)); !errors.Is(err, ErrSchema) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	// An enum index or union branch out of range is an error.
	e, _ := Parse([]byte(`{"type":"record","name":"R","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["A"]}},{"name":"u","type":["null","int"]}]}`))
	for _, data := range [][]byte{{4, 0}, {0, 8}} {
		if err := e.DecodeOne(data, docframe.New(0)); !errors.Is(err, ErrData) {
			t.Errorf("%x: %v", data, err)
		}
	}
}
