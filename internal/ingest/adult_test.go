package ingest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/frame/frametest"
)

type manifest struct {
	TrainRows   int      `json:"train_rows"`
	Categorical []string `json:"categorical_columns"`
	Numeric     []string `json:"numeric_columns"`
	Target      string   `json:"target"`
}

func loadManifest(t testing.TB, csvPath string) manifest {
	data, err := os.ReadFile(filepath.Join(filepath.Dir(csvPath), "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// checkAdult asserts the adult frame matches its manifest: row count, the
// numeric columns int, the categorical ones (and the target) categorical,
// and missing counts equal to the count of empty cells in the file.
func checkAdult(t *testing.T, f *frame.Frame, m manifest, wantMissing map[string]int) {
	t.Helper()
	if f.NumRows() != m.TrainRows {
		t.Errorf("rows = %d, want %d", f.NumRows(), m.TrainRows)
	}
	if f.NumCols() != 15 {
		t.Errorf("cols = %d, want 15", f.NumCols())
	}
	for _, n := range m.Numeric {
		c, err := f.Column(n)
		if err != nil {
			t.Fatal(err)
		}
		if c.Kind() != frame.KindInt {
			t.Errorf("column %s: kind %s, want int", n, c.Kind())
		}
	}
	for _, n := range append(append([]string(nil), m.Categorical...), m.Target) {
		c, err := f.Column(n)
		if err != nil {
			t.Fatal(err)
		}
		if c.Kind() != frame.KindCategorical {
			t.Errorf("column %s: kind %s, want categorical", n, c.Kind())
		}
	}
	for _, c := range f.Columns() {
		if got, want := c.NullCount(), wantMissing[c.Name()]; got != want {
			t.Errorf("column %s: %d missing, want %d", c.Name(), got, want)
		}
	}
}

func TestReadAdult(t *testing.T) {
	p := frametest.Example(t, "adult", "adult.train.csv")
	m := loadManifest(t, p)
	want := countEmptyCells(t, p)
	f, err := Read(context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkAdult(t, f, m, want)
	if want["workclass"] == 0 {
		t.Errorf("expected missing workclass values in adult")
	}
}
