package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
)

var avroDir = filepath.Join("..", "..", "testdata", "ingest", "avro")

// Avro container files written by avsc (testdata/ingest/avro/make_avro.js)
// read whole and streamed, by extension or by their magic bytes; a file
// cut inside a block is an error naming the file and the record.
func TestReadAvroFile(t *testing.T) {
	ctx := context.Background()
	f, err := Read(ctx, filepath.Join(avroDir, "readings.avro"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.NumRows() != 200 {
		t.Fatalf("%d rows", f.NumRows())
	}
	for name, k := range map[string]frame.Kind{"device": frame.KindCategorical, "seq": frame.KindInt, "temp": frame.KindFloat,
		"ok": frame.KindBool, "at": frame.KindTime, "loc.lat": frame.KindFloat, "extra.note": frame.KindCategorical} {
		if c, err := f.Column(name); err != nil || c.Kind() != k {
			t.Errorf("%s: %v %v, want %s", name, c, err, k)
		}
	}
	if c, _ := f.Column("at"); c.Format(1) != "2026-12-07T09:00:01.5Z" {
		t.Errorf("at row 1: %s", c.Format(1))
	}
	b, _ := os.ReadFile(filepath.Join(avroDir, "readings_null.avro"))
	dir := t.TempDir()
	plain := filepath.Join(dir, "readings.bin")
	os.WriteFile(plain, b, 0o600)
	g, err := Read(ctx, plain, Options{Columns: []string{"device", "price"}})
	if err != nil || g.NumRows() != 200 || g.NumCols() != 2 {
		t.Fatalf("sniffed: %v", err)
	}
	var rows, chunks int
	err = Stream(ctx, filepath.Join(avroDir, "readings.avro"), Options{Columns: []string{"seq", "status"}}, 64, func(c *Chunk) error {
		if c.Row != rows || c.Frame.NumCols() != 2 || c.Total == 0 {
			t.Fatalf("chunk at %d: %v", c.Row, c.Frame.Names())
		}
		rows += c.Frame.NumRows()
		chunks++
		return nil
	})
	if err != nil || rows != 200 || chunks != 4 {
		t.Fatalf("stream: %d rows in %d chunks, %v", rows, chunks, err)
	}
	cut := filepath.Join(dir, "cut.avro")
	os.WriteFile(cut, b[:len(b)-300], 0o600)
	_, err = Read(ctx, cut, Options{})
	var pe *ParseError
	if !errors.Is(err, ErrFormat) || !errors.As(err, &pe) || pe.Row == 0 || !strings.Contains(err.Error(), "cut.avro") {
		t.Errorf("cut: %v", err)
	}
}

// gyreAvroFrame is the frame of the fixture gyre_written.*.avro: every
// kind, missing values, a dotted and a spaced column name, times before
// 1970.
func gyreAvroFrame() *frame.Frame {
	const n = 60
	id := make([]int64, n)
	temp := make([]float64, n)
	ok := make([]bool, n)
	at := make([]int64, n)
	site := make([]string, n)
	proba := make([]float64, n)
	note := make([]string, n)
	valid := frame.NewValidity(n)
	for i := range n {
		id[i] = int64(i*i*i) - 90000
		temp[i] = 20 + float64(i)/8
		ok[i] = i%3 == 0
		at[i] = time.Date(1969, 12, 31, 23, 59, 0, 0, time.UTC).Add(time.Duration(i) * 1500 * time.Millisecond).UnixNano()
		site[i] = []string{"lyon", "oslo", "kyiv"}[i%3]
		proba[i] = float64(i%10) / 10
		note[i] = fmt.Sprintf("reading %d, \"quoted\" é", i)
		if i%7 == 2 {
			valid.SetNull(i)
		}
	}
	return frame.MustNew(
		&frame.Int{ColName: "id", Values: id},
		&frame.Float{ColName: "temp", Values: temp, Valid: valid},
		&frame.Bool{ColName: "ok", Values: ok},
		&frame.Time{ColName: "at", Values: at},
		frame.NewCategorical("site", site, nil),
		&frame.Float{ColName: "proba.yes", Values: proba},
		&frame.String{ColName: "note text", Values: note},
	)
}

// Avro files Gyre writes: the same bytes as the fixtures that avsc read
// (testdata/ingest/avro/check_gyre_avro.js wrote what it decoded beside
// them), and what avsc decoded is the frame written.
func TestWriteAvroReadByAvsc(t *testing.T) {
	ctx := context.Background()
	want := gyreAvroFrame()
	dir := t.TempDir()
	for _, codec := range []string{"deflate", "snappy"} {
		name := "gyre_written." + codec + ".avro"
		out := filepath.Join(dir, name)
		w, err := Create(out)
		if err != nil {
			t.Fatal(err)
		}
		// Two chunks: one file, the schema from the first.
		if err := w.Write(ctx, want.Slice(0, 25)); err != nil {
			t.Fatal(err)
		}
		if err := w.Write(ctx, want.Slice(25, want.NumRows())); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(out)
		fixture := filepath.Join(avroDir, name)
		if os.Getenv("GYRE_WRITE_AVRO_FIXTURES") != "" {
			os.WriteFile(fixture, got, 0o644)
		}
		if b, err := os.ReadFile(fixture); err != nil || !bytes.Equal(b, got) {
			t.Fatalf("%s differs from the fixture avsc read (%v); if the writer changed on purpose, rewrite it with GYRE_WRITE_AVRO_FIXTURES=1 and rerun check_gyre_avro.js", name, err)
		}
		back, err := Read(ctx, out, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := equalFrames(want, back); err != nil {
			t.Fatalf("%s read back: %v", name, err)
		}
		// What avsc decoded from the same bytes.
		js, err := os.ReadFile(fixture + ".avsc.json")
		if err != nil {
			t.Fatal(err)
		}
		var recs []map[string]any
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.UseNumber() // the numbers as avsc wrote them
		if err := dec.Decode(&recs); err != nil {
			t.Fatal(err)
		}
		if len(recs) != want.NumRows() {
			t.Fatalf("avsc read %d records", len(recs))
		}
		for i, r := range recs {
			for j, c := range want.Columns() {
				field := []string{"id", "temp", "ok", "at", "site", "proba_yes", "note_text"}[j]
				v, has := r[field]
				if !has {
					t.Fatalf("record %d: avsc has no field %s: %v", i, field, r)
				}
				var text string
				switch x := v.(type) {
				case nil:
					text = "null"
				case json.Number:
					text = x.String()
				case bool:
					text = strconv.FormatBool(x)
				case string:
					text = x
				}
				exp := "null"
				if !c.IsNull(i) {
					switch c := c.(type) {
					case *frame.Int:
						exp = strconv.FormatInt(c.Values[i], 10)
					case *frame.Float:
						exp = strconv.FormatFloat(c.Values[i], 'f', -1, 64)
					case *frame.Time:
						exp = strconv.FormatInt(c.Values[i]/1000, 10) // timestamp-micros, as avsc reads a long
					default:
						exp = c.Format(i)
					}
				}
				if text != exp {
					t.Errorf("record %d field %s: avsc read %s, want %s", i, field, text, exp)
				}
			}
		}
	}
}
