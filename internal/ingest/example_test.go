package ingest_test

import (
	"context"
	"fmt"
	"os"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
)

// Read a CSV file: types are inferred, "NA" and empty cells are missing, and
// a schema override sets the target column's role.
func ExampleRead() {
	f, err := ingest.Read(context.Background(), "../../testdata/ingest/quoted.csv", ingest.Options{
		Schema: map[string]ingest.FieldOverride{"ok": {Role: frame.RoleTarget}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, c := range f.Columns() {
		fmt.Printf("%s %s %s missing=%d\n", c.Name(), c.Kind(), f.Role(i), c.NullCount())
	}
	// Output:
	// id int feature missing=0
	// name categorical feature missing=0
	// score float feature missing=1
	// ok bool target missing=1
	// when time feature missing=0
}

// Malformed input is a *ParseError naming the file, line and column.
func ExampleParseError() {
	_, err := ingest.Read(context.Background(), "../../testdata/ingest/bad_fieldcount.csv", ingest.Options{})
	fmt.Println(err)
	// Output:
	// ../../testdata/ingest/bad_fieldcount.csv:3: wrong number of fields: the record has 3 fields, the header has 2
}

// Write picks the format from the extension; reading the file back gives the
// same kinds and missing values.
func ExampleWrite() {
	f := frame.MustNew(frame.NewFloat("x", []float64{1, 2.5}), frame.NewCategorical("c", []string{"a", "NA"}, nil))
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	p := dir + "/out.csv"
	if err := ingest.Write(context.Background(), f, p); err != nil {
		fmt.Println(err)
		return
	}
	data, _ := os.ReadFile(p)
	fmt.Print(string(data))
	back, _ := ingest.Read(context.Background(), p, ingest.Options{})
	fmt.Println(back.Col(0).Kind(), back.Col(1).Kind(), back.Col(1).NullCount())
	// Output:
	// x,c
	// 1.0,a
	// 2.5,"NA"
	// float categorical 0
}
