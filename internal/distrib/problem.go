package distrib

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/gob"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/gyre-ml/gyre/internal/automl"
	"github.com/gyre-ml/gyre/internal/blob"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
)

// problemFormat versions the encoding of a problem blob.
const problemFormat = 1

// wireProblem is the encoded form of an automl.Problem's data: what a
// worker needs to evaluate trials (the loss stays with the search).
// Families are sorted, so the same problem always encodes to the same
// bytes, and so to the same digest.
type wireProblem struct {
	Format  int
	Task    learn.Task
	Classes []string
	Data    []wireDataset
	Valid   []wireDataset
}

type wireDataset struct {
	Family     string
	Rows, Cols int
	X          []float64
	Features   []learn.Feature
	Y, Weight  []float64
	View       []int
}

func toWire(family string, d *learn.Dataset) wireDataset {
	return wireDataset{Family: family, Rows: d.X.Rows, Cols: d.X.Cols, X: d.X.Data, Features: d.Features, Y: d.Y, Weight: d.Weight, View: d.Rows}
}

func (w wireDataset) dataset(task learn.Task, classes []string) (*learn.Dataset, error) {
	if w.Rows < 0 || w.Cols < 0 || len(w.X) != w.Rows*w.Cols {
		return nil, fmt.Errorf("%s data: %d values for a %d×%d matrix", w.Family, len(w.X), w.Rows, w.Cols)
	}
	if len(w.Features) != w.Cols {
		return nil, fmt.Errorf("%s data: %d features for %d columns", w.Family, len(w.Features), w.Cols)
	}
	if len(w.Y) != w.Rows || (w.Weight != nil && len(w.Weight) != w.Rows) {
		return nil, fmt.Errorf("%s data: %d targets and %d weights for %d rows", w.Family, len(w.Y), len(w.Weight), w.Rows)
	}
	for _, r := range w.View {
		if r < 0 || r >= w.Rows {
			return nil, fmt.Errorf("%s data: view row %d outside 0..%d", w.Family, r, w.Rows-1)
		}
	}
	return &learn.Dataset{X: &frame.Matrix{Rows: w.Rows, Cols: w.Cols, Data: w.X}, Features: w.Features, Task: task,
		Y: w.Y, Classes: classes, Weight: w.Weight, Rows: w.View}, nil
}

// encodeProblem writes p's data in the problem blob format.
func encodeProblem(w io.Writer, p automl.Problem) error {
	wp := wireProblem{Format: problemFormat, Task: p.Task, Classes: p.Classes}
	for _, f := range slices.Sorted(maps.Keys(p.Data)) {
		wp.Data = append(wp.Data, toWire(f, p.Data[f]))
	}
	for _, f := range slices.Sorted(maps.Keys(p.Valid)) {
		wp.Valid = append(wp.Valid, toWire(f, p.Valid[f]))
	}
	zw, err := flate.NewWriter(w, flate.BestSpeed)
	if err != nil {
		return err
	}
	if err := gob.NewEncoder(zw).Encode(wp); err != nil {
		return err
	}
	return zw.Close()
}

// decodeProblem reads a problem blob.
func decodeProblem(r io.Reader) (automl.Problem, error) {
	var wp wireProblem
	zr := flate.NewReader(r)
	defer zr.Close()
	if err := gob.NewDecoder(zr).Decode(&wp); err != nil {
		return automl.Problem{}, fmt.Errorf("decode problem: %w", err)
	}
	if wp.Format != problemFormat {
		return automl.Problem{}, fmt.Errorf("decode problem: format %d, this gyre reads %d: run the same gyre version on workers and clients", wp.Format, problemFormat)
	}
	p := automl.Problem{Task: wp.Task, Classes: wp.Classes, Data: map[string]*learn.Dataset{}}
	for _, w := range wp.Data {
		d, err := w.dataset(wp.Task, wp.Classes)
		if err != nil {
			return automl.Problem{}, fmt.Errorf("decode problem: %w", err)
		}
		p.Data[w.Family] = d
	}
	if len(wp.Valid) > 0 {
		p.Valid = map[string]*learn.Dataset{}
		for _, w := range wp.Valid {
			d, err := w.dataset(wp.Task, wp.Classes)
			if err != nil {
				return automl.Problem{}, fmt.Errorf("decode problem: validation %w", err)
			}
			p.Valid[w.Family] = d
		}
	}
	return p, nil
}

// putProblem stores p's data as a blob and returns its reference.
func putProblem(ctx context.Context, store blob.Store, p automl.Problem) (blob.Ref, error) {
	var buf bytes.Buffer
	if err := encodeProblem(&buf, p); err != nil {
		return blob.Ref{}, fmt.Errorf("encode problem: %w", err)
	}
	ref, err := store.Put(ctx, &buf)
	if err != nil {
		return blob.Ref{}, fmt.Errorf("store problem: %w", err)
	}
	return ref, nil
}
