// Package dataprep is the file work of the data commands: a source split
// into train, validation and test files (`gyre split`: Split), and a
// recipe fitted on training rows and applied to a source, written with its
// fitted form (`gyre prepare`: Prepare). The command line reads the
// sources with its flags and words the errors.
package dataprep

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gyre-ml/gyre/internal/feature"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest"
)

// OutputError is an output that could not be written (a directory, a
// part or the prepared data): ingest.ErrFormat when its extension names
// no format Gyre writes, else not the input's fault.
type OutputError struct{ Err error }

func (e *OutputError) Error() string { return e.Err.Error() }
func (e *OutputError) Unwrap() error { return e.Err }

// SplitOptions are a split's fractions, seed and method, and where the
// parts go.
type SplitOptions struct {
	feature.SplitOptions
	By feature.SplitBy
	// OutDir is the directory the part files are written to (created if
	// needed).
	OutDir string
}

// Part is one written part of a split.
type Part struct {
	Part string `json:"part"`
	Path string `json:"path"`
	Rows int    `json:"rows"`
}

// SplitResult is what Split wrote (`gyre split --json`).
type SplitResult struct {
	Source string `json:"source"`
	Rows   int    `json:"rows"`
	Method string `json:"method"`
	Seed   uint64 `json:"seed"`
	Parts  []Part `json:"parts"`
}

// Split splits f, read from source, by o (feature.SplitFrame) and writes
// each part with a fraction above 0 to o.OutDir as NAME.PART.EXT in
// source's format (PartName). A column o.By names that cannot split is a
// *feature.SplitByError; a part not written an *OutputError.
func Split(ctx context.Context, f *frame.Frame, source string, o SplitOptions) (*SplitResult, error) {
	p, method, err := feature.SplitFrame(f, o.SplitOptions, o.By)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, &OutputError{err}
	}
	base, ext := PartName(source)
	res := &SplitResult{Source: source, Rows: f.NumRows(), Method: method, Seed: o.Seed}
	for _, part := range []struct {
		name string
		frac float64
		rows []int
	}{{"train", o.Train, p.Train}, {"valid", o.Valid, p.Valid}, {"test", o.Test, p.Test}} {
		if part.frac == 0 {
			continue
		}
		dest := filepath.Join(o.OutDir, base+"."+part.name+ext)
		if err := ingest.Write(ctx, f.Take(part.rows), dest); err != nil {
			return nil, &OutputError{err}
		}
		res.Parts = append(res.Parts, Part{Part: part.name, Path: dest, Rows: len(part.rows)})
	}
	return res, nil
}

// WriteText writes the split's summary: the method, then a line per part.
func (r *SplitResult) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "split %s: %d rows, %s (seed %d)\n", r.Source, r.Rows, r.Method, r.Seed)
	for _, part := range r.Parts {
		if _, err := fmt.Fprintf(w, "  %-5s %7d rows  %s\n", part.Part, part.Rows, part.Path); err != nil {
			return err
		}
	}
	return nil
}

// fileExts are the data-file extensions part and fitted-recipe names are
// derived by, longest first.
var fileExts = []string{".csv.gz", ".tsv.gz", ".csv", ".tsv", ".parquet", ".jsonl", ".ndjson"}

// PartName returns the base name and extension for part files: a file
// source keeps its name and format; other sources (tables, URLs with
// queries, stdin) are written as CSV named "data".
func PartName(source string) (base, ext string) {
	name := filepath.Base(source)
	if i := strings.IndexAny(name, "?#"); i >= 0 || strings.Contains(source, "://") && !strings.HasPrefix(source, "http") {
		return "data", ".csv"
	}
	for _, e := range fileExts {
		if strings.HasSuffix(strings.ToLower(name), e) {
			base = name[:len(name)-len(e)]
			if e == ".tsv.gz" {
				e = ".tsv"
			}
			return base, e
		}
	}
	return "data", ".csv"
}

// FittedPath is the default fitted-recipe path next to out: out's name
// without its data extension, plus .fitted.json.
func FittedPath(out string) string {
	dir, name := filepath.Split(out)
	for _, e := range fileExts {
		if strings.HasSuffix(strings.ToLower(name), e) {
			name = name[:len(name)-len(e)]
			break
		}
	}
	return filepath.Join(dir, name+".fitted.json")
}
