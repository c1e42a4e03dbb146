package kafkasource

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
	"github.com/gyre-ml/gyre/internal/ingest/avro"
)

// scored is a frame like gyre predict's output: an id, inputs, a label
// and a probability whose name is not an Avro name.
func scored(n int) *frame.Frame {
	id := make([]int64, n)
	temp := make([]float64, n)
	ok := make([]bool, n)
	at := make([]int64, n)
	label := make([]string, n)
	proba := make([]float64, n)
	valid := frame.NewValidity(n)
	for i := range n {
		id[i] = int64(1000 + i)
		temp[i] = 18 + float64(i%40)/4
		ok[i] = i%4 != 0
		at[i] = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * 250 * time.Millisecond).UnixNano()
		label[i] = []string{"normal", "fault"}[i%5/4]
		proba[i] = float64(i%100) / 100
		if i%9 == 4 {
			valid.SetNull(i)
		}
	}
	return frame.MustNew(&frame.Int{ColName: "id", Values: id}, &frame.Float{ColName: "temp", Values: temp, Valid: valid},
		&frame.Bool{ColName: "ok", Values: ok}, &frame.Time{ColName: "at", Values: at},
		frame.NewCategorical("prediction", label, nil), &frame.Float{ColName: "proba.fault", Values: proba})
}

// sameCells compares two frames cell by cell through their text forms.
func sameCells(t *testing.T, want, got *frame.Frame) {
	t.Helper()
	if got.NumRows() != want.NumRows() || strings.Join(got.Names(), ",") != strings.Join(want.Names(), ",") {
		t.Fatalf("read %d rows %v, want %d rows %v", got.NumRows(), got.Names(), want.NumRows(), want.Names())
	}
	for j, c := range want.Columns() {
		g := got.Col(j)
		for i := range want.NumRows() {
			if c.IsNull(i) != g.IsNull(i) || !c.IsNull(i) && c.Format(i) != g.Format(i) {
				t.Fatalf("column %s row %d: read %q (null %v), want %q (null %v)", c.Name(), i, g.Format(i), g.IsNull(i), c.Format(i), c.IsNull(i))
			}
		}
	}
}

// Avro values in the single-object encoding with the schema written to a
// file: read back with that file, the frame written.
func TestWriteAvroSingleObject(t *testing.T) {
	ctx := context.Background()
	addr := broker(t)
	tp := topic(t, addr, "scores", 3)
	dir := t.TempDir()
	schema := filepath.Join(dir, "scores.avsc")
	want := scored(500)
	dest := "kafka://" + addr + "/" + tp + "?format=avro&schema=" + schema
	w, err := ingest.Create(dest)
	if err != nil {
		t.Fatal(err)
	}
	for lo := 0; lo < want.NumRows(); lo += 200 {
		if err := w.Write(ctx, want.Slice(lo, min(lo+200, want.NumRows()))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(schema)
	if err != nil {
		t.Fatal(err)
	}
	s, err := avro.Parse(text)
	if err != nil || !strings.Contains(string(text), `"gyre.column": "proba.fault"`) {
		t.Fatalf("schema file: %v\n%s", err, text)
	}
	recs := consumeAll(t, addr, tp, 500)
	if len(recs) != 500 {
		t.Fatalf("%d records", len(recs))
	}
	for _, r := range recs {
		fp, _, ok := avro.SingleObject(r.Value)
		if !ok || fp != s.Fingerprint() {
			t.Fatalf("a value not single-object encoded with the file's fingerprint: % x", r.Value[:10])
		}
	}
	got, err := ingest.Read(ctx, "kafka://"+addr+"/"+tp+"?format=avro&schema="+schema, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Partitions interleave: put the rows back in id order.
	got = sortByID(t, got)
	sameCells(t, want, got)

	// The same output again checks the file; another output refuses it.
	if err := ingest.Write(ctx, want.Slice(0, 5), dest); err != nil {
		t.Fatalf("second write with the same schema: %v", err)
	}
	other := frame.MustNew(&frame.Int{ColName: "id", Values: []int64{1}})
	if err := ingest.Write(ctx, other, dest); err == nil || !strings.Contains(err.Error(), "is not the output's schema") {
		t.Fatalf("another schema: %v", err)
	}
}

func sortByID(t *testing.T, f *frame.Frame) *frame.Frame {
	t.Helper()
	c, err := f.Column("id")
	if err != nil {
		t.Fatal(err)
	}
	ids := c.(*frame.Int).Values
	rows := make([]int, len(ids))
	for i := range rows {
		rows[i] = int(ids[i] - 1000)
	}
	inv := make([]int, len(rows))
	for i, r := range rows {
		inv[r] = i
	}
	return f.Take(inv)
}

// Avro values in the Confluent wire format: the schema registered under
// TOPIC-value, the registry's id in every value, read back through the
// registry.
func TestWriteAvroRegistry(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	schemas := map[int]string{}
	var subjects []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		mu.Lock()
		defer mu.Unlock()
		var id int
		switch {
		case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/subjects/") && strings.HasSuffix(r.URL.Path, "/versions"):
			subject := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/subjects/"), "/versions")
			if strings.Contains(subject, "-refused-") {
				w.WriteHeader(http.StatusConflict)
				fmt.Fprint(w, `{"error_code":409,"message":"Schema being registered is incompatible with an earlier schema for subject \"refused-value\""}`)
				return
			}
			var body struct{ Schema string }
			b, _ := io.ReadAll(r.Body)
			if err := json.Unmarshal(b, &body); err != nil || body.Schema == "" {
				w.WriteHeader(http.StatusUnprocessableEntity)
				fmt.Fprint(w, `{"error_code":42201,"message":"Invalid schema"}`)
				return
			}
			subjects = append(subjects, subject)
			schemas[40+len(schemas)] = body.Schema
			fmt.Fprintf(w, `{"id":%d}`, 40+len(schemas)-1)
		case r.Method == http.MethodGet:
			if _, err := fmt.Sscanf(r.URL.Path, "/schemas/ids/%d", &id); err == nil && schemas[id] != "" {
				json.NewEncoder(w).Encode(map[string]string{"schema": schemas[id]})
				return
			}
			fallthrough
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error_code":40403,"message":"Schema not found"}`)
		}
	}))
	defer srv.Close()
	addr := broker(t)
	tp := topic(t, addr, "scores", 1)
	want := scored(300)
	if err := ingest.Write(ctx, want, "kafka://"+addr+"/"+tp+"?format=avro&registry="+srv.URL); err != nil {
		t.Fatal(err)
	}
	if len(subjects) != 1 || subjects[0] != tp+"-value" {
		t.Fatalf("registered under %v", subjects)
	}
	recs := consumeAll(t, addr, tp, 300)
	if len(recs) != 300 || recs[0].Value[0] != 0 || binary.BigEndian.Uint32(recs[0].Value[1:5]) != 40 {
		t.Fatalf("%d records, first % x", len(recs), recs[0].Value[:5])
	}
	got, err := ingest.Read(ctx, "kafka://"+addr+"/"+tp+"?format=avro&registry="+srv.URL, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sameCells(t, want, got)

	// A registry that refuses the schema stops the write, naming it.
	refused := topic(t, addr, "refused", 1)
	err = ingest.Write(ctx, want, "kafka://"+addr+"/"+refused+"?format=avro&registry="+srv.URL)
	if err == nil || !strings.Contains(err.Error(), "incompatible") || !strings.Contains(err.Error(), "compatibility rules") {
		t.Fatalf("refused schema: %v", err)
	}
	if _, err := ingest.Create("kafka://" + addr + "/" + tp + "?format=avro"); err == nil || !strings.Contains(err.Error(), "needs &registry=URL") {
		t.Fatalf("no schema destination: %v", err)
	}
}
