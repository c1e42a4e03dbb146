package ingest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/frame/frametest"
)

// allKinds is a frame with every column kind, missing values in each, and
// the values CSV makes hard: delimiters, quotes, newlines, missing-token
// text, integral and extreme floats, negative and sub-second times.
func allKinds() *frame.Frame {
	const n = 120
	fl := make([]float64, n)
	in := make([]int64, n)
	bo := make([]bool, n)
	st := make([]string, n)
	cv := make([]string, n)
	tm := make([]int64, n)
	miss := make([]bool, n)
	valid := func() frame.Validity {
		v := frame.NewValidity(n)
		for i := 0; i < n; i += 7 {
			v.SetNull(i)
		}
		return v
	}
	specials := []float64{0.1, 1, -2.5e-300, 1e300, 123456789.123456789, math.Inf(1), -0.0, 3}
	for i := 0; i < n; i++ {
		fl[i] = specials[i%len(specials)] * float64(i+1)
		in[i] = int64(i*i) - 5000
		if i == 3 {
			in[i] = math.MaxInt64
		}
		bo[i] = i%3 == 0
		st[i] = []string{"plain %d", "comma, %d", "quote \"%d\"", "new\nline %d", "NA %d", " spaced %d "}[i%6]
		st[i] = fmt.Sprintf(st[i], i)
		cv[i] = []string{"red", "green", "NA", "a,b", "?", "blue \"x\""}[i%6]
		tm[i] = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Hour*25 + time.Duration(i)*time.Millisecond).UnixNano()
		miss[i] = i%5 == 1
	}
	return frame.MustNew(
		&frame.Float{ColName: "f", Values: fl, Valid: valid()},
		&frame.Int{ColName: "i", Values: in, Valid: valid()},
		&frame.Bool{ColName: "b", Values: bo, Valid: valid()},
		&frame.String{ColName: "s", Values: st, Valid: valid()},
		frame.NewCategorical("c", cv, miss),
		&frame.Time{ColName: "t", Values: tm, Valid: valid()},
	)
}

func TestRoundTripAllKinds(t *testing.T) {
	want := allKinds()
	dir := t.TempDir()
	for _, ext := range []string{".csv", ".tsv", ".csv.gz", ".jsonl", ".parquet", ".avro", ".snappy.avro", ".zstandard.avro", ".null.avro"} {
		t.Run(ext, func(t *testing.T) {
			p := filepath.Join(dir, "all"+ext)
			if err := Write(context.Background(), want, p); err != nil {
				t.Fatal(err)
			}
			got, err := Read(context.Background(), p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := equalFrames(want, got); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRoundTripAdult(t *testing.T) {
	p := frametest.Example(t, "adult", "adult.train.csv")
	m := loadManifest(t, p)
	missing := countEmptyCells(t, p)
	ctx := context.Background()
	orig, err := Read(ctx, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, ext := range []string{".csv", ".jsonl", ".parquet", ".snappy.avro"} {
		t.Run(ext, func(t *testing.T) {
			out := filepath.Join(dir, "adult"+ext)
			if err := Write(ctx, orig, out); err != nil {
				t.Fatal(err)
			}
			back, err := Read(ctx, out, Options{})
			if err != nil {
				t.Fatal(err)
			}
			checkAdult(t, back, m, missing)
			if err := equalFrames(orig, back); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestWriteErrors(t *testing.T) {
	f := allKinds()
	dir := t.TempDir()
	if err := Write(context.Background(), f, filepath.Join(dir, "x.xlsx")); !errors.Is(err, ErrFormat) {
		t.Errorf("xlsx: %v, want ErrFormat", err)
	}
	if err := Write(context.Background(), f, filepath.Join(dir, "missing-dir", "x.csv")); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("left files behind: %v", entries)
	}
}

func TestReadJSONL(t *testing.T) {
	f, err := Read(context.Background(), "../../testdata/ingest/mixed.jsonl", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.Names(), ","); got != "a,b,c,d" {
		t.Errorf("names = %s", got)
	}
	if got := kinds(f); got != "int,categorical,bool,float" {
		t.Errorf("kinds = %s", got)
	}
	if got := cells(f); got != "1|x|true|∅\n2|∅|∅|1.5\n3|y|false|2" {
		t.Errorf("cells = %q", got)
	}
	for _, tt := range []struct {
		file string
		line int
	}{{"bad_array.jsonl", 2}, {"bad_trailing.jsonl", 2}} {
		_, err := Read(context.Background(), "../../testdata/ingest/"+tt.file, Options{})
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Row != tt.line {
			t.Errorf("%s: error %v, want a ParseError on line %d", tt.file, err, tt.line)
		}
	}
	// Schema casts apply to JSON Lines too, and errors name the line.
	_, err = Read(context.Background(), "../../testdata/ingest/mixed.jsonl", Options{Schema: map[string]FieldOverride{"b": {Type: frame.KindInt}}})
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Row != 1 || pe.Column != "b" || !errors.Is(err, ErrType) {
		t.Errorf("cast error = %v, want line 1 column b", err)
	}
}

func TestParseSchemaFile(t *testing.T) {
	s, err := ParseSchemaFile("../../testdata/ingest/schema.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s["age"].Type != frame.KindFloat || s["class"].Role != frame.RoleTarget || s["class"].Type != frame.KindInvalid {
		t.Errorf("schema = %+v", s)
	}
	_, err = ParseSchemaFile("../../testdata/ingest/bad_schema.yaml")
	if err == nil || !strings.Contains(err.Error(), "bad_schema.yaml:2") || !strings.Contains(err.Error(), `"typ"`) {
		t.Errorf("error = %v, want line 2 and the bad field", err)
	}
	dir := t.TempDir()
	for _, tt := range []struct{ text, want string }{
		{"columns:\n  a: {type: wibble}\n", ":2:"},
		{"columns:\n  a: int\n  b: {role: boss}\n", ":3:"},
		{"cols: {}\n", "unknown key"},
		{`{"columns": {"a": {"type": "int"}}}`, ""},
	} {
		p := filepath.Join(dir, "s.yaml")
		os.WriteFile(p, []byte(tt.text), 0o644)
		_, err := ParseSchemaFile(p)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%q: %v", tt.text, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.text, err, tt.want)
		}
	}
	// Roles are applied.
	f, err := readString(t, "r.csv", "age,class\n1,x\n", Options{Schema: s})
	if err != nil {
		t.Fatal(err)
	}
	if f.Role(1) != frame.RoleTarget || f.Col(0).Kind() != frame.KindFloat {
		t.Errorf("role %s kind %s", f.Role(1), f.Col(0).Kind())
	}
}

func TestReadHTTP(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/data.csv", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("a,b\n1,x\n")) })
	mux.HandleFunc("/api/rows", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Write([]byte(`{"a":1,"b":"x"}` + "\n"))
	})
	mux.HandleFunc("/big.csv", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(strings.Repeat("a\n1\n", 1000))) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx := context.Background()
	for _, p := range []string{"/data.csv", "/api/rows"} {
		f, err := Read(ctx, srv.URL+p, Options{})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if got := cells(f); got != "1|x" {
			t.Errorf("%s: cells %q", p, got)
		}
	}
	_, err := Read(ctx, srv.URL+"/nope.csv", Options{})
	var he *HTTPError
	if !errors.As(err, &he) || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "/nope.csv") {
		t.Errorf("404: %v", err)
	}
	if _, err := Read(ctx, srv.URL+"/big.csv", Options{MaxDownload: 100}); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("size cap: %v", err)
	}
}
