package parquetio

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"

	"github.com/gyre-ml/gyre/internal/frame"
)

// rowGroupBytes bounds the uncompressed size of one row group.
const rowGroupBytes = 64 << 20

// WriteFile writes f to path as a Parquet file (see the package comment for
// the layout). The data goes to a temporary file in the same directory that
// is renamed over path only once complete and synced.
func WriteFile(path string, f *frame.Frame) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
		// Name the directory the user gave, not the temporary file.
		return fmt.Errorf("write parquet %s: %w", path, &fs.PathError{Op: "create a file in", Path: dir, Err: pe.Err})
	}
	if err != nil {
		return fmt.Errorf("write parquet %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err := Write(bw, f); err != nil {
		return fmt.Errorf("write parquet %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write parquet %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("write parquet %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write parquet %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write parquet %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write parquet %s: %w", path, err)
	}
	return nil
}

// Write encodes f as a Parquet file to w. Errors are not prefixed with a file
// name; WriteFile adds it.
func Write(w io.Writer, f *frame.Frame) error {
	if f.NumCols() == 0 {
		return fmt.Errorf("frame has no columns")
	}
	group := make(orderedGroup, f.NumCols())
	for i, c := range f.Columns() {
		node, err := nodeFor(c)
		if err != nil {
			return err
		}
		group[i] = &groupField{name: c.Name(), Node: parquet.Optional(node)}
	}
	meta, err := encodeMeta(f)
	if err != nil {
		return fmt.Errorf("encode %s: %w", MetadataKey, err)
	}
	schema := parquet.NewSchema("gyre", group)
	pw := parquet.NewWriter(w, schema,
		parquet.Compression(&parquet.Zstd),
		parquet.KeyValueMetadata(MetadataKey, meta),
		parquet.CreatedBy("gyre", "", ""),
	)
	n := f.NumRows()
	step := rowsPerGroup(f)
	buf := make([]parquet.Value, 0, 4096)
	for lo := 0; lo < n; lo += step {
		hi := min(lo+step, n)
		writers := pw.ColumnWriters()
		for j, c := range f.Columns() {
			for b := lo; b < hi; b += cap(buf) {
				buf = appendValues(buf[:0], c, j, b, min(b+cap(buf), hi))
				if _, err := writers[j].WriteRowValues(buf); err != nil {
					return fmt.Errorf("column %q: %w", c.Name(), err)
				}
			}
		}
		if err := pw.Flush(); err != nil {
			return err
		}
	}
	return pw.Close()
}

// rowsPerGroup estimates how many rows fit in rowGroupBytes.
func rowsPerGroup(f *frame.Frame) int {
	n := f.NumRows()
	perRow := 1
	for _, c := range f.Columns() {
		switch c := c.(type) {
		case *frame.Bool:
			perRow++
		case *frame.Categorical:
			perRow += 4
		case *frame.String:
			total, k := 0, min(n, 1000)
			for i := 0; i < k; i++ {
				total += len(c.Values[i*n/k])
			}
			perRow += 4
			if k > 0 {
				perRow += total / k
			}
		default:
			perRow += 8
		}
	}
	return max(1024, rowGroupBytes/perRow)
}

func nodeFor(c frame.Column) (parquet.Node, error) {
	switch c.Kind() {
	case frame.KindFloat:
		return parquet.Leaf(parquet.DoubleType), nil
	case frame.KindInt:
		return parquet.Int(64), nil
	case frame.KindBool:
		return parquet.Leaf(parquet.BooleanType), nil
	case frame.KindString:
		return parquet.String(), nil
	case frame.KindCategorical:
		return parquet.Encoded(parquet.String(), &parquet.RLEDictionary), nil
	case frame.KindTime:
		return parquet.Timestamp(parquet.Nanosecond), nil
	}
	return nil, fmt.Errorf("column %q: cannot write kind %s", c.Name(), c.Kind())
}

// appendValues appends rows [lo, hi) of column c (leaf index j) to buf.
func appendValues(buf []parquet.Value, c frame.Column, j, lo, hi int) []parquet.Value {
	null := parquet.NullValue().Level(0, 0, j)
	switch c := c.(type) {
	case *frame.Float:
		for i := lo; i < hi; i++ {
			if !c.Valid.Valid(i) {
				buf = append(buf, null)
			} else {
				buf = append(buf, parquet.DoubleValue(c.Values[i]).Level(0, 1, j))
			}
		}
	case *frame.Int:
		for i := lo; i < hi; i++ {
			if !c.Valid.Valid(i) {
				buf = append(buf, null)
			} else {
				buf = append(buf, parquet.Int64Value(c.Values[i]).Level(0, 1, j))
			}
		}
	case *frame.Time:
		for i := lo; i < hi; i++ {
			if !c.Valid.Valid(i) {
				buf = append(buf, null)
			} else {
				buf = append(buf, parquet.Int64Value(c.Values[i]).Level(0, 1, j))
			}
		}
	case *frame.Bool:
		for i := lo; i < hi; i++ {
			if !c.Valid.Valid(i) {
				buf = append(buf, null)
			} else {
				buf = append(buf, parquet.BooleanValue(c.Values[i]).Level(0, 1, j))
			}
		}
	case *frame.String:
		for i := lo; i < hi; i++ {
			if !c.Valid.Valid(i) {
				buf = append(buf, null)
			} else {
				buf = append(buf, parquet.ByteArrayValue(stringBytes(c.Values[i])).Level(0, 1, j))
			}
		}
	case *frame.Categorical:
		for i := lo; i < hi; i++ {
			code := c.Codes[i]
			if code < 0 || int(code) >= len(c.Levels) {
				buf = append(buf, null)
			} else {
				buf = append(buf, parquet.ByteArrayValue(stringBytes(c.Levels[code])).Level(0, 1, j))
			}
		}
	}
	return buf
}

// stringBytes views s as bytes without copying; the Parquet writer copies the
// bytes into its page buffers and never modifies its input.
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// orderedGroup is a Parquet group node whose fields keep the given order
// (parquet.Group sorts its fields by name, which would reorder columns).
type orderedGroup []*groupField

func (g orderedGroup) ID() int                     { return 0 }
func (g orderedGroup) String() string              { return "gyre" }
func (g orderedGroup) Type() parquet.Type          { return parquet.Group{}.Type() }
func (g orderedGroup) Optional() bool              { return false }
func (g orderedGroup) Repeated() bool              { return false }
func (g orderedGroup) Required() bool              { return true }
func (g orderedGroup) Leaf() bool                  { return false }
func (g orderedGroup) Encoding() encoding.Encoding { return nil }
func (g orderedGroup) Compression() compress.Codec { return nil }
func (g orderedGroup) GoType() reflect.Type        { return reflect.TypeOf(struct{}{}) }
func (g orderedGroup) Fields() []parquet.Field {
	out := make([]parquet.Field, len(g))
	for i, f := range g {
		out[i] = f
	}
	return out
}

// groupField names a node inside an orderedGroup.
type groupField struct {
	parquet.Node
	name string
}

func (f *groupField) Name() string                           { return f.name }
func (f *groupField) Value(base reflect.Value) reflect.Value { return reflect.Value{} }
