package predlog

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest/parquetio"
)

// The prediction log on the wire, for a team server and its clients: a
// batch goes up as the Parquet file the log stores (WriteBatch, ReadBatch);
// a read comes back as the same table of the rows it selected, typed by
// the reader's schema, with their labels in column ColLabel (missing when
// none arrived) (WriteLogged, ReadLogged).

// WriteBatch writes b as the Parquet file the log stores for it.
func WriteBatch(w io.Writer, b *Batch) error {
	f, err := toFrame(b)
	if err != nil {
		return fmt.Errorf("encode batch: %w", err)
	}
	if err := parquetio.Write(w, f); err != nil {
		return fmt.Errorf("encode batch: %w", err)
	}
	return nil
}

// ReadBatch reads a batch from a Parquet file WriteBatch (or the log)
// wrote: one model version's rows with the meta columns, inputs,
// prediction and per-class probabilities. The classes are the probability
// columns' in their order; without them the batch is a regression's.
func ReadBatch(data []byte) (*Batch, error) {
	f, err := parquetio.Read(bytes.NewReader(data), int64(len(data)), "batch")
	if err != nil {
		return nil, fmt.Errorf("read batch: %w", err)
	}
	s, err := openStored(f)
	if err != nil {
		return nil, fmt.Errorf("read batch: %w", err)
	}
	n := f.NumRows()
	if n == 0 {
		return nil, fmt.Errorf("read batch: no rows")
	}
	model, err := constantText(f, ColModel, true)
	if err != nil {
		return nil, fmt.Errorf("read batch: %w", err)
	}
	version, err := constantText(f, ColVersion, false)
	if err != nil {
		return nil, fmt.Errorf("read batch: %w", err)
	}
	var schema frame.Schema
	var classes []string
	for _, c := range f.Columns() {
		name := c.Name()
		switch {
		case strings.HasPrefix(name, ProbaPrefix):
			if _, ok := c.(*frame.Float); !ok {
				return nil, fmt.Errorf("read batch: column %s is %v, want probabilities (float)", name, c.Kind())
			}
			classes = append(classes, strings.TrimPrefix(name, ProbaPrefix))
		case strings.HasPrefix(name, InputPrefix):
			schema.Fields = append(schema.Fields, frame.Field{Name: strings.TrimPrefix(name, InputPrefix), Kind: c.Kind()})
		case strings.HasPrefix(name, "__"):
			if name != ColTime && name != ColModel && name != ColVersion && name != ColRequestID && name != ColRow && name != ColLatency && name != ColPrediction {
				return nil, fmt.Errorf("read batch: unknown column %s (names starting with __ are the log's; an input so named is stored as %s + its name)", name, InputPrefix)
			}
		default:
			schema.Fields = append(schema.Fields, frame.Field{Name: name, Kind: c.Kind()})
		}
	}
	if colOf(f, ColPrediction) == nil {
		return nil, fmt.Errorf("read batch: no column %s", ColPrediction)
	}
	if i := schema.Index(""); i >= 0 {
		return nil, fmt.Errorf("read batch: input column %d has no name", i+1)
	}
	sel := &selection{runs: []run{{0, 0, n}}, times: s.times}
	lg := assemble([]*stored{s}, sel, schema, classes)
	lg.Model, lg.Version = model, version
	return &lg.Batch, nil
}

// constantText is the one value of a meta column every row shares.
func constantText(f *frame.Frame, name string, required bool) (string, error) {
	c := colOf(f, name)
	if c == nil {
		if required {
			return "", fmt.Errorf("no column %s", name)
		}
		return "", nil
	}
	v := ""
	for i := range f.NumRows() {
		if c.IsNull(i) {
			return "", fmt.Errorf("column %s: row %d is missing", name, i+1)
		}
		s := c.Format(i)
		if i == 0 {
			v = s
		} else if s != v {
			return "", fmt.Errorf("column %s: row %d is %q, row 1 %q: a batch holds one model version", name, i+1, s, v)
		}
	}
	if required && v == "" {
		return "", fmt.Errorf("column %s is empty", name)
	}
	return v, nil
}

// WriteLogged writes what a read returned as a Parquet file: the batch's
// table with the ColLabel column.
func WriteLogged(w io.Writer, lg *Logged) error {
	if lg.Pred == nil {
		lg.Pred = newPrediction(nil, 0)
	}
	if lg.Input == nil {
		lg.Input = frame.MustNew()
	}
	f, err := toFrame(&lg.Batch)
	if err != nil {
		return fmt.Errorf("encode read: %w", err)
	}
	if len(lg.Labels) != lg.Len() {
		return fmt.Errorf("encode read: %d rows, %d labels", lg.Len(), len(lg.Labels))
	}
	labels := &frame.String{ColName: ColLabel, Values: lg.Labels, Valid: frame.NewValidity(len(lg.Labels))}
	for i, l := range lg.Labels {
		if l == "" {
			labels.Valid.SetNull(i)
		}
	}
	if f, err = frame.New(append(f.Columns(), labels)...); err != nil {
		return fmt.Errorf("encode read: %w", err)
	}
	if err := parquetio.Write(w, f); err != nil {
		return fmt.Errorf("encode read: %w", err)
	}
	return nil
}

// ReadLogged reads what WriteLogged wrote, typed by schema and classes:
// those the read was made with.
func ReadLogged(data []byte, schema frame.Schema, classes []string) (*Logged, error) {
	f, err := parquetio.Read(bytes.NewReader(data), int64(len(data)), "read")
	if err != nil {
		return nil, fmt.Errorf("read logged predictions: %w", err)
	}
	s, err := openStored(f)
	if err != nil {
		return nil, fmt.Errorf("read logged predictions: %w", err)
	}
	n := f.NumRows()
	out := assemble([]*stored{s}, &selection{runs: []run{{0, 0, n}}, times: s.times}, schema, classes)
	out.Labels = make([]string, n)
	if c := colOf(f, ColLabel); c != nil {
		for i := range n {
			if !c.IsNull(i) {
				out.Labels[i] = c.Format(i)
				out.Labeled++
			}
		}
	}
	return out, nil
}
