package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
)

// readString reads CSV text through a temp file named name.
func readString(t *testing.T, name, text string, opt Options) (*frame.Frame, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return Read(context.Background(), p, opt)
}

func kinds(f *frame.Frame) string {
	var s []string
	for _, c := range f.Columns() {
		s = append(s, c.Kind().String())
	}
	return strings.Join(s, ",")
}

func cells(f *frame.Frame) string {
	var rows []string
	for i := 0; i < f.NumRows(); i++ {
		var r []string
		for _, c := range f.Columns() {
			if c.IsNull(i) {
				r = append(r, "∅")
			} else {
				r = append(r, c.Format(i))
			}
		}
		rows = append(rows, strings.Join(r, "|"))
	}
	return strings.Join(rows, "\n")
}

func TestReadCSV(t *testing.T) {
	tests := []struct {
		name, file, text string
		opt              Options
		names, kinds     string
		cells            string
	}{
		{name: "basic types", file: "a.csv",
			text:  "i,f,b,t,c\n1,1.5,true,2024-01-02,x\n-2,2,FALSE,2024-01-03,y\n",
			names: "i,f,b,t,c", kinds: "int,float,bool,time,categorical",
			cells: "1|1.5|true|2024-01-02T00:00:00Z|x\n-2|2|false|2024-01-03T00:00:00Z|y"},
		{name: "missing tokens", file: "a.csv",
			text:  "a,b\nNA,x\nn/a,?\nnull,NaN\n,\"NA\"\n5,\"\"\n",
			names: "a,b", kinds: "int,categorical",
			cells: "∅|x\n∅|∅\n∅|∅\n∅|NA\n5|∅"},
		{name: "custom missing", file: "a.csv", opt: Options{Missing: []string{"-"}},
			text:  "a,b\n-,NA\n2,x\n",
			names: "a,b", kinds: "int,categorical", cells: "∅|NA\n2|x"},
		{name: "quotes", file: "a.csv",
			text:  "a,b\n\"x,1\",\"say \"\"hi\"\"\"\n\"multi\nline\",\"\"\"\"\n",
			names: "a,b", kinds: "categorical,categorical",
			cells: "x,1|say \"hi\"\nmulti\nline|\""},
		{name: "bom crlf semicolon", file: "a.csv",
			text:  "\xef\xbb\xbfa;b\r\n1;x\r\n2;\"y\"\r\n",
			names: "a,b", kinds: "int,categorical", cells: "1|x\n2|y"},
		{name: "tsv by extension", file: "a.tsv",
			text:  "a,x\tb\n1,5\t2\n",
			names: "a,x,b", kinds: "categorical,int", cells: "1,5|2"},
		{name: "pipe sniffed", file: "a.txt",
			text:  "a|b|c\n1|2|3\n4|5|6\n",
			names: "a,b,c", kinds: "int,int,int", cells: "1|2|3\n4|5|6"},
		{name: "explicit delimiter", file: "a.csv", opt: Options{Delimiter: ';'},
			text:  "a;b\n1,5;2\n",
			names: "a,b", kinds: "categorical,int", cells: "1,5|2"},
		{name: "int with missing stays int", file: "a.csv",
			text:  "a\n1\n\n2\n",
			names: "a", kinds: "int", cells: "1\n2"},
		{name: "float exponent and inf", file: "a.csv",
			text:  "a\n1e3\n-Inf\n0.1\n",
			names: "a", kinds: "float", cells: "1000\n-Inf\n0.1"},
		{name: "no trailing newline and blank lines", file: "a.csv",
			text:  "a,b\n\n1,2\n\n3,4",
			names: "a,b", kinds: "int,int", cells: "1|2\n3|4"},
		{name: "all missing is float", file: "a.csv",
			text:  "a,b\n,1\n,2\n",
			names: "a,b", kinds: "float,int", cells: "∅|1\n∅|2"},
		{name: "header only", file: "a.csv",
			text:  "a,b\n",
			names: "a,b", kinds: "float,float", cells: ""},
		{name: "duplicate and empty header", file: "a.csv", opt: Options{RenameDuplicates: true},
			text:  "x,x,\n1,2,3\n",
			names: "x,x.1,column_3", kinds: "int,int,int", cells: "1|2|3"},
		{name: "timestamps rfc3339", file: "a.csv",
			text:  "t\n2024-01-02T03:04:05Z\n2024-01-02T03:04:05.5+01:00\n",
			names: "t", kinds: "time", cells: "2024-01-02T03:04:05Z\n2024-01-02T02:04:05.5Z"},
		{name: "us dates", file: "a.csv",
			text:  "t\n01/02/2006\n12/31/2020\n",
			names: "t", kinds: "time", cells: "2006-01-02T00:00:00Z\n2020-12-31T00:00:00Z"},
		{name: "big ints and precision", file: "a.csv",
			text:  "a,b\n9223372036854775807,0.30000000000000004\n-9223372036854775808,123456789.123456789\n",
			names: "a,b", kinds: "int,float", cells: "9223372036854775807|0.30000000000000004\n-9223372036854775808|1.2345678912345679e+08"},
		{name: "int overflow is float", file: "a.csv",
			text:  "a\n9223372036854775808\n",
			names: "a", kinds: "float", cells: "9.223372036854776e+18"},
		{name: "schema casts", file: "a.csv", opt: Options{Schema: map[string]FieldOverride{"a": {Type: frame.KindFloat}, "b": {Type: frame.KindString}, "c": {Type: frame.KindCategorical}}},
			text:  "a,b,c\n1,x,1\n2,x,2\n",
			names: "a,b,c", kinds: "float,string,categorical", cells: "1|x|1\n2|x|2"},
		{name: "spaces around numbers", file: "a.csv",
			text:  "a,b\n 1 , x\n2,y\n",
			names: "a,b", kinds: "int,categorical", cells: "1| x\n2|y"},
		{name: "lenient text after quote", file: "a.csv",
			text:  "a,b\n\"x\"y,1\n",
			names: "a,b", kinds: "categorical,int", cells: "xy|1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := readString(t, tt.file, tt.text, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(f.Names(), ","); got != tt.names {
				t.Errorf("names = %s, want %s", got, tt.names)
			}
			if got := kinds(f); got != tt.kinds {
				t.Errorf("kinds = %s, want %s", got, tt.kinds)
			}
			if got := cells(f); got != tt.cells {
				t.Errorf("cells =\n%s\nwant\n%s", got, tt.cells)
			}
		})
	}
}

func TestReadCSVErrors(t *testing.T) {
	tests := []struct {
		name, text string
		opt        Options
		want       error
		row        int
		column     string
		msg        string
	}{
		{name: "field count", text: "a,b\n1,2\n3,4,5\n", want: ErrFieldCount, row: 3, msg: "3 fields, the header has 2"},
		{name: "too few fields after multiline", text: "a,b\n\"x\ny\",2\n3\n", want: ErrFieldCount, row: 4},
		{name: "unterminated quote", text: "a,b\n1,2\n3,\"open\n4,5\n", want: ErrQuote, row: 3},
		{name: "schema type", text: "a,b\n1,x\n2,y\nabc,z\n", opt: Options{Schema: map[string]FieldOverride{"a": {Type: frame.KindFloat}}},
			want: ErrType, row: 4, column: "a", msg: `"abc" is not a number`},
		{name: "schema bool", text: "a\ntrue\nyes\n", opt: Options{Schema: map[string]FieldOverride{"a": {Type: frame.KindBool}}},
			want: ErrType, row: 3, column: "a"},
		{name: "schema unknown column", text: "a\n1\n", opt: Options{Schema: map[string]FieldOverride{"zz": {Type: frame.KindBool}}}, column: "zz"},
		{name: "empty file", text: "", want: ErrHeader},
		{name: "infer rows", text: "a\n1\n2\nx\n", opt: Options{InferRows: 2}, want: ErrType, row: 4, column: "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readString(t, "in.csv", tt.text, tt.opt)
			if err == nil {
				t.Fatal("no error")
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *ParseError", err, err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v does not wrap %v", err, tt.want)
			}
			if pe.Row != tt.row || pe.Column != tt.column {
				t.Errorf("row, column = %d, %q, want %d, %q (%v)", pe.Row, pe.Column, tt.row, tt.column, err)
			}
			if !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), "in.csv") {
				t.Errorf("error %q does not name the file or contain %q", err, tt.msg)
			}
			if !pe.InputError() {
				t.Error("not an input error")
			}
		})
	}
}

func TestStrayValueMakesTextAndWarns(t *testing.T) {
	var b strings.Builder
	b.WriteString("x,y\n")
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&b, "%d,%d\n", i, i%3)
	}
	b.WriteString("abc,1\n")
	var notes []string
	f, err := readString(t, "s.csv", b.String(), Options{Warn: func(m string) { notes = append(notes, m) }})
	if err != nil {
		t.Fatal(err)
	}
	if k := f.Col(0).Kind(); k.Numeric() {
		t.Errorf("column x is %s; a stray word must not give a garbage number", k)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], `"x"`) || !strings.Contains(notes[0], "line 502") || !strings.Contains(notes[0], `"abc"`) {
		t.Errorf("notes = %q, want one naming column x, line 502 and abc", notes)
	}
}

// TestParallelBlocks forces many small blocks with quoted newlines, doubled
// quotes and delimiters near block edges, and checks every worker count
// gives the frame a serial reference reader (encoding/csv) describes.
func TestParallelBlocks(t *testing.T) {
	old := blockSize
	blockSize = 64
	defer func() { blockSize = old }()
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.WriteString("id,txt,v\n")
	var want []string
	for i := 0; i < 2000; i++ {
		txt := []string{"plain", "with,comma", "two\nlines", `q "x" q`, "", "NA"}[rng.IntN(6)]
		quoted := strings.ContainsAny(txt, ",\n\"") || txt == "NA"
		v := fmt.Sprint(rng.IntN(100))
		if rng.IntN(10) == 0 {
			v = ""
		}
		fmt.Fprintf(&b, "%d,", i)
		if quoted {
			b.WriteString(`"` + strings.ReplaceAll(txt, `"`, `""`) + `"`)
		} else {
			b.WriteString(txt)
		}
		fmt.Fprintf(&b, ",%s\n", v)
		cell := txt
		if txt == "" {
			cell = "∅"
		}
		if v == "" {
			v = "∅"
		}
		want = append(want, fmt.Sprintf("%d|%s|%s", i, cell, v))
	}
	for _, w := range []int{1, 2, 7} {
		f, err := readString(t, "p.csv", b.String(), Options{Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		if got := cells(f); got != strings.Join(want, "\n") {
			t.Fatalf("workers=%d: frame differs from the reference", w)
		}
		if k := kinds(f); k != "int,categorical,int" {
			t.Errorf("kinds = %s", k)
		}
	}
}

func TestScanRecordsBoundary(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"a,b\n1,2", 4},
		{"a,b", 0},
		{"\"x\ny\",1\n2", 8},
		{"\"x\ny,1\n2", 0},
		{"\"a\"\"\n\",1\nz", 9},
		{"a\"b\nc", 4},
	}
	for _, tt := range tests {
		if got, _, _ := scanRecords([]byte(tt.in), ','); got != tt.want {
			t.Errorf("scanRecords(%q) ends at %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestReadGzipAndStdin(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte("a,b\n1,x\n2,y\n"))
	zw.Close()
	dir := t.TempDir()
	for _, name := range []string{"d.csv.gz", "d.csv"} { // by extension and by magic bytes
		p := filepath.Join(dir, name)
		os.WriteFile(p, buf.Bytes(), 0o644)
		f, err := Read(context.Background(), p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := cells(f); got != "1|x\n2|y" {
			t.Errorf("%s: cells = %q", name, got)
		}
	}
	f, err := Read(context.Background(), "-", Options{Stdin: strings.NewReader("a\n1\n2\n")})
	if err != nil {
		t.Fatal(err)
	}
	if f.NumRows() != 2 || f.Col(0).Kind() != frame.KindInt {
		t.Errorf("stdin: %d rows, %s", f.NumRows(), f.Col(0).Kind())
	}
}

func TestCategoricalRule(t *testing.T) {
	var b strings.Builder
	b.WriteString("low,high\n")
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, "L%d,H%d\n", i%40, i%150)
	}
	f, err := readString(t, "c.csv", b.String(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := kinds(f); got != "categorical,string" {
		t.Errorf("kinds = %s, want categorical,string", got)
	}
	if c := f.Col(0).(*frame.Categorical); len(c.Levels) != 40 || c.Levels[0] != "L0" || c.Levels[39] != "L39" {
		t.Errorf("levels = %v", c.Levels)
	}
	f, err = readString(t, "c.csv", b.String(), Options{CategoricalMax: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got := kinds(f); got != "string,string" {
		t.Errorf("CategoricalMax 10: kinds = %s", got)
	}
}

// TestSpeculationMatchesFullInference reads files whose first block misleads
// type speculation (ints then a float, numbers then a word, a column empty at
// first, time layouts narrowing) with tiny blocks, and checks the result and
// the notes equal a single-block read, which infers from all rows at once.
func TestSpeculationMatchesFullInference(t *testing.T) {
	var b strings.Builder
	b.WriteString("i2f,n2t,late,t,b,keep\n")
	for i := 0; i < 300; i++ {
		i2f := fmt.Sprint(i)
		if i == 250 {
			i2f = "2.5"
		}
		n2t := fmt.Sprint(i * 3)
		if i == 280 {
			n2t = "oops"
		}
		late := ""
		if i > 200 {
			late = fmt.Sprint(i)
		}
		tm := "01/02/2020"
		if i == 290 {
			tm = "2020-01-02"
		}
		fmt.Fprintf(&b, "%s,%s,%s,%s,%v,k%d\n", i2f, n2t, late, tm, i%2 == 0, i%4)
	}
	read := func(bs int) (*frame.Frame, []string) {
		old := blockSize
		blockSize = bs
		defer func() { blockSize = old }()
		var notes []string
		f, err := readString(t, "s.csv", b.String(), Options{Warn: func(m string) { notes = append(notes, m[strings.Index(m, "s.csv:"):]) }})
		if err != nil {
			t.Fatal(err)
		}
		return f, notes
	}
	want, wantNotes := read(1 << 20)
	got, gotNotes := read(100)
	if k := kinds(want); k != "float,string,int,categorical,bool,categorical" {
		t.Errorf("reference kinds = %s", k)
	}
	if err := equalFrames(want, got); err != nil {
		t.Fatal(err)
	}
	if strings.Join(wantNotes, "\n") != strings.Join(gotNotes, "\n") || len(gotNotes) != 1 || !strings.Contains(gotNotes[0], "line 282") {
		t.Errorf("notes %q vs %q", gotNotes, wantNotes)
	}
	// Errors in late blocks are still reported with their line.
	old := blockSize
	blockSize = 100
	defer func() { blockSize = old }()
	_, err := readString(t, "e.csv", b.String()+"1,2\n", Options{})
	if !errors.Is(err, ErrFieldCount) || !strings.Contains(err.Error(), ":302:") {
		t.Errorf("field count error = %v", err)
	}
	_, err = readString(t, "e.csv", b.String(), Options{Schema: map[string]FieldOverride{"n2t": {Type: frame.KindInt}}})
	if !errors.Is(err, ErrType) || !strings.Contains(err.Error(), ":282:") {
		t.Errorf("schema error = %v", err)
	}
}

func TestScanRecordsMatchesTokenizer(t *testing.T) {
	for _, in := range []string{"", "\n", "a\n", "a", "a\r\n\r\nb", "\"x\ny\"\n\n", "a,\"b\"\"\n\"\r\n\r", "\"open\n", "x\"y\nz\n"} {
		var tk tokenizer
		tk.reset([]byte(in), ',', 1)
		n := 0
		for {
			ok, err := tk.next()
			if err != nil {
				n++
				break
			}
			if !ok {
				break
			}
			n++
		}
		end, got, tail := scanRecords([]byte(in), ',')
		if tail {
			got++
		}
		if got != n {
			t.Errorf("scanRecords(%q) = %d records (tail %v), tokenizer finds %d", in, got, tail, n)
		}
		// The records before end are the tokenizer's on buf[:end].
		var head tokenizer
		head.reset([]byte(in[:end]), ',', 1)
		m := 0
		for ok, _ := head.next(); ok; ok, _ = head.next() {
			m++
		}
		if _, rows, _ := scanRecords([]byte(in[:end]), ','); rows != m {
			t.Errorf("scanRecords(%q[:%d]) = %d records, tokenizer finds %d", in, end, rows, m)
		}
	}
}
