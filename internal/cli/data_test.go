package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gyre-ml/gyre/internal/cli"
)

// runData runs the gyre command line with args and stdin and returns the exit
// code, stdout and stderr.
func runData(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func dataAdultPath(t *testing.T) string {
	for _, p := range []string{"/work/shared/datasets/adult/adult.train.csv", "../../examples/data/adult/adult.train.csv"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("adult dataset not found")
	return ""
}

type dataInspectJSON struct {
	Source  string `json:"source"`
	Rows    int    `json:"rows"`
	Columns []struct {
		Name     string `json:"name"`
		Type     string `json:"type"`
		Role     string `json:"role"`
		Missing  int    `json:"missing"`
		Distinct *int   `json:"distinct"`
	} `json:"columns"`
}

// checkAdultInspect checks `gyre data inspect --json` output for adult
// against its manifest.
func checkAdultInspect(t *testing.T, stdout string, manifestPath string) {
	t.Helper()
	var got dataInspectJSON
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("bad json %v: %s", err, stdout)
	}
	data, err := os.ReadFile(manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		TrainRows   int      `json:"train_rows"`
		Categorical []string `json:"categorical_columns"`
		Numeric     []string `json:"numeric_columns"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if got.Rows != m.TrainRows || got.Rows != 39074 {
		t.Errorf("rows = %d, want %d", got.Rows, m.TrainRows)
	}
	if len(got.Columns) != 15 {
		t.Fatalf("%d columns, want 15", len(got.Columns))
	}
	want := map[string]string{"class": "categorical"}
	for _, n := range m.Categorical {
		want[n] = "categorical"
	}
	for _, n := range m.Numeric {
		want[n] = "int"
	}
	missing := map[string]int{"workclass": 2283, "occupation": 2291, "native-country": 687}
	for _, c := range got.Columns {
		if c.Type != want[c.Name] {
			t.Errorf("column %s: type %s, want %s", c.Name, c.Type, want[c.Name])
		}
		if c.Missing != missing[c.Name] {
			t.Errorf("column %s: %d missing, want %d", c.Name, c.Missing, missing[c.Name])
		}
		if (c.Type == "categorical") != (c.Distinct != nil) {
			t.Errorf("column %s: distinct %v for type %s", c.Name, c.Distinct, c.Type)
		}
	}
}

func TestDataInspectAdult(t *testing.T) {
	p := dataAdultPath(t)
	code, out, errs := runData(t, "", "data", "inspect", p, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	checkAdultInspect(t, out, filepath.Join(filepath.Dir(p), "manifest.json"))

	code, out, _ = runData(t, "", "data", "inspect", p)
	if code != 0 || !strings.Contains(out, "39074 rows × 15 columns") || !strings.Contains(out, "native-country") {
		t.Errorf("text output (exit %d):\n%s", code, out)
	}
}

func TestDataConvertRoundTrip(t *testing.T) {
	p := dataAdultPath(t)
	dir := t.TempDir()
	for _, ext := range []string{".parquet", ".jsonl", ".csv.gz"} {
		dest := filepath.Join(dir, "adult"+ext)
		code, out, errs := runData(t, "", "data", "convert", p, dest)
		if code != 0 {
			t.Fatalf("convert to %s: exit %d: %s", ext, code, errs)
		}
		if !strings.Contains(out, "39074 rows") {
			t.Errorf("convert output: %s", out)
		}
		back := filepath.Join(dir, "back"+ext+".csv")
		if code, _, errs := runData(t, "", "data", "convert", dest, back); code != 0 {
			t.Fatalf("convert back from %s: exit %d: %s", ext, code, errs)
		}
		for _, src := range []string{dest, back} {
			code, out, errs := runData(t, "", "data", "inspect", src, "--json")
			if code != 0 {
				t.Fatalf("inspect %s: exit %d: %s", src, code, errs)
			}
			checkAdultInspect(t, out, filepath.Join(filepath.Dir(p), "manifest.json"))
		}
	}
}

func TestDataHead(t *testing.T) {
	csv := "a,b,c\n1,x,\n2,y,3.5\n3,z,4\n"
	code, out, errs := runData(t, csv, "data", "head", "-", "-n", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "1") || !strings.Contains(lines[1], "·") {
		t.Errorf("head output:\n%s", out)
	}
	code, out, _ = runData(t, csv, "data", "head", "-", "-n", "1", "--json")
	var got struct {
		Columns []string         `json:"columns"`
		Rows    []map[string]any `json:"rows"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got.Rows) != 1 || got.Rows[0]["c"] != nil || got.Rows[0]["a"] != float64(1) {
		t.Errorf("head --json (exit %d): %s", code, out)
	}
}

func TestDataConvertStdout(t *testing.T) {
	code, out, errs := runData(t, "a;b\n1;\"x,y\"\n", "data", "convert", "-", "-")
	if code != 0 || out != "a,b\n1,\"x,y\"\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

func TestDataFlags(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "d.csv")
	os.WriteFile(p, []byte("age;label\n1;x\n-;y\n"), 0o644)
	schema := filepath.Join(dir, "s.yaml")
	os.WriteFile(schema, []byte("columns:\n  age: {type: float}\n  label: {role: target}\n"), 0o644)
	code, out, errs := runData(t, "", "data", "inspect", p, "--delimiter", ";", "--missing", "-", "--schema", schema, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got dataInspectJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.Columns[0].Type != "float" || got.Columns[0].Missing != 1 || got.Columns[1].Role != "target" {
		t.Errorf("got %+v", got.Columns)
	}
}

func TestDataMalformed(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(text), 0o644)
		return p
	}
	badSchema := write("bad.yaml", "columns:\n  a: {type: nope}\n")
	floatSchema := write("f.yaml", "columns:\n  a: float\n")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"field count", []string{"data", "inspect", write("fc.csv", "a,b\n1,2\n3\n")}, []string{"fc.csv:3:", "1 fields, the header has 2"}},
		{"unterminated quote", []string{"data", "inspect", write("q.csv", "a,b\n1,\"x\n2,3\n")}, []string{"q.csv:2:", "unterminated quoted field"}},
		{"schema type", []string{"data", "inspect", write("t.csv", "a\n1\n2\nabc\n"), "--schema", floatSchema}, []string{"t.csv:4:", `column "a"`, `"abc" is not a number`}},
		{"bad schema file", []string{"data", "inspect", write("ok.csv", "a\n1\n"), "--schema", badSchema}, []string{"bad.yaml:2"}},
		{"missing file", []string{"data", "inspect", filepath.Join(dir, "nope.csv")}, []string{"nope.csv"}},
		{"bad jsonl", []string{"data", "head", write("b.jsonl", "{\"a\":1}\n{\"a\":\n")}, []string{"b.jsonl:2:"}},
		{"bad delimiter flag", []string{"data", "inspect", write("ok2.csv", "a\n1\n"), "--delimiter", "ab"}, []string{"--delimiter"}},
		{"bad dest format", []string{"data", "convert", write("ok3.csv", "a\n1\n"), filepath.Join(dir, "x.xlsx")}, []string{"x.xlsx"}},
		{"bad parquet", []string{"data", "inspect", write("bad.parquet", "PAR1 not really")}, []string{"bad.parquet"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runData(t, "", tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2 (%s)", code, errs)
			}
			if n := strings.Count(strings.TrimSpace(errs), "\n"); n != 0 {
				t.Errorf("want one line on stderr, got:\n%s", errs)
			}
			for _, w := range tt.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr %q does not contain %q", errs, w)
				}
			}
		})
	}
}
