package parquetio

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/parquet-go/parquet-go"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/parallel"
)

// Stream reads a Parquet file one row group at a time, calling fn with each
// group's rows as a frame and the file's total row count (in file order; a
// file without rows gives one empty frame). columns, when not nil, names the
// only columns to decode, in the order wanted; a name the file lacks is an
// error. Every frame has the same columns and kinds: a foreign text column
// is categorical or string in every chunk as decided on the first row group.
// Memory is bounded by the largest row group. The frame passed to fn is not
// reused. An error from fn stops the stream and is returned as is.
func Stream(r io.ReaderAt, size int64, name string, columns []string, fn func(f *frame.Frame, totalRows int64) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("read parquet %s: malformed file: %v", name, p)
		}
	}()
	pf, err := parquet.OpenFile(r, size, parquet.SkipBloomFilters(true), parquet.SkipPageIndex(true))
	if err != nil {
		return fmt.Errorf("read parquet %s: not a readable Parquet file (footer): %w", name, err)
	}
	meta := decodeMeta(pf.Lookup(MetadataKey))
	leaves := pf.Root().Columns()
	if len(leaves) == 0 {
		return fmt.Errorf("read parquet %s: file has no columns", name)
	}
	if columns != nil {
		byName := make(map[string]*parquet.Column, len(leaves))
		have := make([]string, len(leaves))
		for i, c := range leaves {
			byName[c.Name()] = c
			have[i] = c.Name()
		}
		sel := make([]*parquet.Column, len(columns))
		for i, n := range columns {
			c, ok := byName[n]
			if !ok {
				return fmt.Errorf("read parquet %s: no column %q (have %v)", name, n, have)
			}
			sel[i] = c
		}
		leaves = sel
	}
	decs := make([]*decoder, len(leaves))
	for i, col := range leaves {
		d, err := newDecoder(col, meta[col.Name()], 0)
		if err != nil {
			return fmt.Errorf("read parquet %s: column %q: %w", name, col.Name(), err)
		}
		decs[i] = d
	}
	groups := pf.RowGroups()
	if len(groups) == 0 {
		f, err := streamFrame(decs)
		if err != nil {
			return fmt.Errorf("read parquet %s: %w", name, err)
		}
		return fn(f, 0)
	}
	for g, rg := range groups {
		n := rg.NumRows()
		if n < 0 || n > math.MaxInt32 {
			return fmt.Errorf("read parquet %s: row group %d: implausible row count %d", name, g, n)
		}
		for _, d := range decs {
			d.n = int(n)
			d.valid = nil
			d.prealloc = 1 << 22 // 32 MiB per numeric column at most
			d.alloc()
		}
		errs := make([]error, len(decs))
		parallel.For(len(decs), 0, func(i int) { errs[i] = decs[i].readGroup(rg, g, 0) })
		for i, d := range decs {
			if errs[i] != nil {
				return fmt.Errorf("read parquet %s: column %q: %w", name, d.name, errs[i])
			}
		}
		f, err := streamFrame(decs)
		if err != nil {
			return fmt.Errorf("read parquet %s: %w", name, err)
		}
		if g == 0 {
			for i, d := range decs {
				if d.meta == nil && d.conv == convText {
					d.text = f.Col(i).Kind()
				}
			}
		}
		if err := fn(f, pf.NumRows()); err != nil {
			return err
		}
	}
	return nil
}

// streamFrame builds the frame of the decoders' current row group.
func streamFrame(decs []*decoder) (*frame.Frame, error) {
	cols := make([]frame.Column, len(decs))
	for i, d := range decs {
		cols[i] = d.column()
	}
	f, err := frame.New(cols...)
	if err != nil {
		return nil, err
	}
	for _, d := range decs {
		if d.meta != nil && d.meta.Role != frame.RoleFeature {
			_ = f.SetRole(d.name, d.meta.Role)
		}
	}
	return f, nil
}

// Writer writes a table to a Parquet file frame by frame: every frame must
// have the columns (names and kinds) of the first. Rows are gathered into
// row groups of about 64 MiB before compression. Categorical levels may
// differ between frames; the file's metadata records their union (a
// categorical column whose union passes MaxStreamLevels is recorded as a
// string column). Close writes the footer; the Writer does not close w.
type Writer struct {
	pw      *parquet.Writer
	names   []string
	kinds   []frame.Kind
	roles   []frame.Role
	levels  []*levelSet
	pending int // rows in the current, unflushed row group
	group   int // rows per row group
	buf     []parquet.Value
	closed  bool
}

// MaxStreamLevels bounds the categorical levels Writer records per column.
const MaxStreamLevels = 1 << 16

type levelSet struct {
	index  map[string]struct{}
	levels []string
	over   bool
}

// NewWriter starts a Parquet file on w with the columns of first (which is
// not written; pass it to Write).
func NewWriter(w io.Writer, first *frame.Frame) (*Writer, error) {
	if first.NumCols() == 0 {
		return nil, errors.New("frame has no columns")
	}
	group := make(orderedGroup, first.NumCols())
	pw := &Writer{group: rowsPerGroup(first), buf: make([]parquet.Value, 0, 4096)}
	for i, c := range first.Columns() {
		node, err := nodeFor(c)
		if err != nil {
			return nil, err
		}
		group[i] = &groupField{name: c.Name(), Node: parquet.Optional(node)}
		pw.names = append(pw.names, c.Name())
		pw.kinds = append(pw.kinds, c.Kind())
		pw.roles = append(pw.roles, first.Role(i))
		var ls *levelSet
		if c.Kind() == frame.KindCategorical {
			ls = &levelSet{index: map[string]struct{}{}}
		}
		pw.levels = append(pw.levels, ls)
	}
	pw.pw = parquet.NewWriter(w, parquet.NewSchema("gyre", group),
		parquet.Compression(&parquet.Zstd),
		parquet.CreatedBy("gyre", "", ""),
	)
	return pw, nil
}

// Write appends f's rows.
func (w *Writer) Write(f *frame.Frame) error {
	if w.closed {
		return errors.New("write after close")
	}
	if f.NumCols() != len(w.names) {
		return fmt.Errorf("frame has %d columns, the file has %d", f.NumCols(), len(w.names))
	}
	for j, c := range f.Columns() {
		if c.Name() != w.names[j] || c.Kind() != w.kinds[j] {
			return fmt.Errorf("column %d is %q (%s), the file's is %q (%s)", j+1, c.Name(), c.Kind(), w.names[j], w.kinds[j])
		}
		if ls := w.levels[j]; ls != nil && !ls.over {
			for _, l := range c.(*frame.Categorical).Levels {
				if _, ok := ls.index[l]; !ok {
					ls.index[l] = struct{}{}
					ls.levels = append(ls.levels, l)
				}
			}
			if len(ls.levels) > MaxStreamLevels {
				ls.over, ls.index, ls.levels = true, nil, nil
			}
		}
	}
	n := f.NumRows()
	for lo := 0; lo < n; {
		hi := min(n, lo+w.group-w.pending)
		writers := w.pw.ColumnWriters()
		for j, c := range f.Columns() {
			for b := lo; b < hi; b += cap(w.buf) {
				w.buf = appendValues(w.buf[:0], c, j, b, min(b+cap(w.buf), hi))
				if _, err := writers[j].WriteRowValues(w.buf); err != nil {
					return fmt.Errorf("column %q: %w", c.Name(), err)
				}
			}
		}
		w.pending += hi - lo
		lo = hi
		if w.pending >= w.group {
			if err := w.pw.Flush(); err != nil {
				return err
			}
			w.pending = 0
		}
	}
	return nil
}

// Close flushes the last row group and writes the footer with the Gyre
// metadata.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	m := fileMeta{Version: 1, Columns: make([]metaColumn, len(w.names))}
	for i := range w.names {
		m.Columns[i] = metaColumn{Name: w.names[i], Kind: w.kinds[i], Role: w.roles[i]}
		if ls := w.levels[i]; ls != nil {
			if ls.over {
				m.Columns[i].Kind = frame.KindString
			} else {
				m.Columns[i].Levels = append([]string{}, ls.levels...)
			}
		}
	}
	meta, err := encodeFileMeta(m)
	if err != nil {
		return fmt.Errorf("encode %s: %w", MetadataKey, err)
	}
	w.pw.SetKeyValueMetadata(MetadataKey, meta)
	return w.pw.Close()
}
