package dataprep

import (
	"path/filepath"
	"testing"
)

func TestPartName(t *testing.T) {
	for _, c := range []struct{ source, base, ext string }{
		{"examples/data/titanic/titanic.train.csv", "titanic.train", ".csv"},
		{"sales.PARQUET", "sales", ".parquet"},
		{"logs.tsv.gz", "logs", ".tsv"},
		{"events.csv.gz", "events", ".csv.gz"},
		{"https://example.com/d/visits.jsonl", "visits", ".jsonl"},
		{"sqlite://runs.db?table=scores", "data", ".csv"},
		{"-", "data", ".csv"},
		{"notes.txt", "data", ".csv"},
	} {
		if base, ext := PartName(c.source); base != c.base || ext != c.ext {
			t.Errorf("PartName(%q) = %q, %q; want %q, %q", c.source, base, ext, c.base, c.ext)
		}
	}
}

func TestFittedPath(t *testing.T) {
	for out, want := range map[string]string{
		"train.clean.parquet": "train.clean.fitted.json",
		"out/new.csv.gz":      filepath.Join("out", "new.fitted.json"),
		"table":               "table.fitted.json",
	} {
		if got := FittedPath(out); got != want {
			t.Errorf("FittedPath(%q) = %q, want %q", out, got, want)
		}
	}
}
