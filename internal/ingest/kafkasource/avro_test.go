package kafkasource

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/ingest/avro"
)

var avroDir = filepath.Join("..", "..", "..", "testdata", "ingest", "avro")

// avscMessages are the Avro datums avsc wrote (testdata/ingest/avro).
func avscMessages(t *testing.T) (datums [][]byte, versions []int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(avroDir, "readings.messages.json"))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []struct {
		Version int    `json:"version"`
		Hex     string `json:"hex"`
	}
	if err := json.Unmarshal(b, &msgs); err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		d, _ := hex.DecodeString(m.Hex)
		datums, versions = append(datums, d), append(versions, m.Version)
	}
	return datums, versions
}

// registry is an httptest schema registry with the REST shape of
// Confluent's (GET /schemas/ids/{id}: {"schema": "..."}; an unknown id is
// 404 with error_code 40403), counting requests.
func registry(t *testing.T, schemas map[int]string) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		var id int
		if _, err := fmt.Sscanf(r.URL.Path, "/schemas/ids/%d", &id); err != nil || schemas[id] == "" {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"error_code":40403,"message":"Schema %d not found"}`, id)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"schema": schemas[id]})
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// Confluent wire-format messages, two schema versions mid-topic, read
// through a schema registry; every schema fetched once.
func TestReadAvroRegistry(t *testing.T) {
	datums, versions := avscMessages(t)
	v1, _ := os.ReadFile(filepath.Join(avroDir, "readings.avsc"))
	v2, _ := os.ReadFile(filepath.Join(avroDir, "readings_v2.avsc"))
	srv, hits := registry(t, map[int]string{11: string(v1), 12: string(v2)})
	addr := broker(t)
	tp := topic(t, addr, "avro", 1)
	var msgs []string
	for i, d := range datums {
		id := uint32(10 + versions[i])
		msgs = append(msgs, string(append(binary.BigEndian.AppendUint32([]byte{0}, id), d...)))
	}
	msgs = append(msgs, "\x00\x00\x00\x00\x63garbage") // an unknown schema id: a poison message
	produce(t, addr, tp, msgs...)
	src := "kafka://" + addr + "/" + tp + "?format=avro&registry=" + srv.URL + "&max-records=101"
	ctx := context.Background()
	_, err := ingest.Read(ctx, src, ingest.Options{})
	if err == nil || !strings.Contains(err.Error(), "schema id 99") || !strings.Contains(err.Error(), "offset 100") {
		t.Fatalf("an unknown schema id: %v", err)
	}
	f, err := ingest.Read(ctx, src+"&bad=skip", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.NumRows() != 100 {
		t.Fatalf("%d rows", f.NumRows())
	}
	for name, k := range map[string]frame.Kind{"device": frame.KindCategorical, "seq": frame.KindInt, "at": frame.KindTime, "loc.lat": frame.KindFloat, "battery": frame.KindFloat} {
		if c, err := f.Column(name); err != nil || c.Kind() != k {
			t.Errorf("%s: %v, want %s", name, err, k)
		}
	}
	if bt, _ := f.Column("battery"); bt.NullCount() != 60+20 {
		t.Errorf("battery: %d missing, want the 60 v1 messages and 20 of v2", bt.NullCount())
	}
	if seq, _ := f.Column("seq"); seq.Format(61) != "1000000483059" {
		t.Errorf("seq row 61: %s", seq.Format(61))
	}
	if n := hits.Load(); n > 6 {
		t.Errorf("%d registry requests: schemas are not cached", n)
	}
	// A registry that is down stops the read whatever bad= says.
	srv.Close()
	_, err = ingest.Read(ctx, "kafka://"+addr+"/"+tp+"?format=avro&bad=skip&max-records=10&registry="+srv.URL, ingest.Options{})
	var fe *fatalError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "schema registry") {
		t.Errorf("registry down: %v", err)
	}
}

// Bare Avro messages with &schema=FILE; bad URLs are refused.
func TestReadAvroSchemaFile(t *testing.T) {
	datums, versions := avscMessages(t)
	addr := broker(t)
	tp := topic(t, addr, "bare", 2)
	var msgs []string
	for i, d := range datums {
		if versions[i] == 1 {
			msgs = append(msgs, string(d))
		}
	}
	produce(t, addr, tp, msgs...)
	schema := filepath.Join(avroDir, "readings.avsc")
	f, err := ingest.Read(context.Background(), "kafka://"+addr+"/"+tp+"?format=avro&max-records=60&schema="+schema, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.NumRows() != 60 || f.Index("extra.note") < 0 {
		t.Fatalf("%d rows, %v", f.NumRows(), f.Names())
	}
	for _, bad := range []string{"?format=avro", "?format=avro&schema=" + schema + "&registry=http://x", "?format=avro&registry=ftp://x", "?format=avro&registry=http://u:p@x"} {
		if _, err := ingest.Read(context.Background(), "kafka://"+addr+"/"+tp+bad, ingest.Options{}); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

// Messages in Avro's single-object encoding (0xC3 0x01, the writer
// schema's CRC-64-AVRO fingerprint, the datum), two schema versions
// mid-topic, are decoded with the schema given whose fingerprint they
// carry; one whose fingerprint matches none is an error naming it and the
// schemas given.
func TestReadAvroSingleObject(t *testing.T) {
	datums, versions := avscMessages(t)
	v1 := filepath.Join(avroDir, "readings.avsc")
	v2 := filepath.Join(avroDir, "readings_v2.avsc")
	fps := map[int]uint64{}
	for v, file := range map[int]string{1: v1, 2: v2} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		s, err := avro.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		fps[v] = s.Fingerprint()
	}
	addr := broker(t)
	tp := topic(t, addr, "single", 1)
	var msgs []string
	for i, d := range datums {
		msgs = append(msgs, string(append(binary.LittleEndian.AppendUint64([]byte{0xC3, 0x01}, fps[versions[i]]), d...)))
	}
	produce(t, addr, tp, msgs...)
	ctx := context.Background()
	src := "kafka://" + addr + "/" + tp + "?format=avro&max-records=100&schema="
	f, err := ingest.Read(ctx, src+v1+","+v2, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.NumRows() != 100 {
		t.Fatalf("%d rows", f.NumRows())
	}
	if bt, err := f.Column("battery"); err != nil || bt.NullCount() != 60+20 {
		t.Errorf("battery: %v, want the 60 v1 messages and 20 of v2 missing", err)
	}
	// Only the first version given: the v2 messages (from offset 60) carry
	// a fingerprint it does not have.
	_, err = ingest.Read(ctx, src+v1, ingest.Options{})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("fingerprint %016x", fps[2])) || !strings.Contains(err.Error(), "readings.avsc") || !strings.Contains(err.Error(), "offset 60") {
		t.Errorf("an unknown fingerprint: %v", err)
	}
	// Single-object messages through a registry source are named as such.
	srv, _ := registry(t, map[int]string{})
	_, err = ingest.Read(ctx, "kafka://"+addr+"/"+tp+"?format=avro&max-records=1&registry="+srv.URL, ingest.Options{})
	if err == nil || !strings.Contains(err.Error(), "single-object encoding") {
		t.Errorf("single-object through a registry: %v", err)
	}
}
