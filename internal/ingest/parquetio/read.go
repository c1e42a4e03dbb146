package parquetio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/format"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/ingest/binnum"
	"github.com/gyre-ml/gyre/internal/parallel"
)

// ErrUnsupported is wrapped by errors for columns whose Parquet type has no
// frame kind (nested, repeated, or an unknown physical or logical type).
var ErrUnsupported = errors.New("unsupported parquet column")

// ReadFile reads the Parquet file at path into a frame.
func ReadFile(path string) (*frame.Frame, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read parquet %s: %w", path, err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("read parquet %s: %w", path, err)
	}
	return Read(fh, st.Size(), path)
}

// Read reads a Parquet file of the given size from r into a frame. name
// identifies the source in errors. r must allow concurrent ReadAt calls
// (*os.File and *bytes.Reader do).
func Read(r io.ReaderAt, size int64, name string) (fr *frame.Frame, err error) {
	defer func() {
		if p := recover(); p != nil {
			fr, err = nil, fmt.Errorf("read parquet %s: malformed file: %v", name, p)
		}
	}()
	pf, err := parquet.OpenFile(r, size, parquet.SkipBloomFilters(true), parquet.SkipPageIndex(true))
	if err != nil {
		return nil, fmt.Errorf("read parquet %s: not a readable Parquet file (footer): %w", name, err)
	}
	meta := decodeMeta(pf.Lookup(MetadataKey))
	leaves := pf.Root().Columns()
	if len(leaves) == 0 {
		return nil, fmt.Errorf("read parquet %s: file has no columns", name)
	}
	n := pf.NumRows()
	if n < 0 || n > math.MaxInt32*8 {
		return nil, fmt.Errorf("read parquet %s: implausible row count %d", name, n)
	}
	var total int64
	for _, rg := range pf.RowGroups() {
		total += rg.NumRows()
	}
	if total != n {
		return nil, fmt.Errorf("read parquet %s: row groups hold %d rows, footer says %d", name, total, n)
	}
	decs := make([]*decoder, len(leaves))
	for i, col := range leaves {
		d, err := newDecoder(col, meta[col.Name()], int(n))
		if err != nil {
			return nil, fmt.Errorf("read parquet %s: column %q: %w", name, col.Name(), err)
		}
		decs[i] = d
	}

	errs := make([]error, len(decs))
	parallel.For(len(decs), 0, func(i int) { errs[i] = decs[i].readAll(pf) })

	cols := make([]frame.Column, len(decs))
	for i, d := range decs {
		if errs[i] != nil {
			return nil, fmt.Errorf("read parquet %s: column %q: %w", name, d.name, errs[i])
		}
		cols[i] = d.column()
	}
	fr, err = frame.New(cols...)
	if err != nil {
		return nil, fmt.Errorf("read parquet %s: %w", name, err)
	}
	for _, d := range decs {
		if d.meta != nil && d.meta.Role != frame.RoleFeature {
			_ = fr.SetRole(d.name, d.meta.Role)
		}
	}
	return fr, nil
}

// convert identifies how raw Parquet values become frame values.
type convert uint8

const (
	convBool convert = iota
	convInt32
	convUint32
	convInt64
	convUint64
	convFloat32
	convFloat64
	convDate      // INT32 days since epoch
	convTimestamp // INT64 in unit scale
	convInt96     // legacy timestamps
	convDecimal   // any physical type, scaled
	convFloat16
	convText
	convUUID
)

// decoder accumulates one column across all row groups.
type decoder struct {
	col   *parquet.Column
	name  string
	kind  frame.Kind
	conv  convert
	scale int64   // ns per unit for timestamps
	div   float64 // 10^scale for decimals
	meta  *metaColumn

	n     int
	valid frame.Validity
	f64   []float64
	i64   []int64
	bools []bool
	strs  []string
	codes []int32
	index map[string]int32 // level -> code for categorical columns
	// text, when set, fixes the kind of a foreign text column (string or
	// categorical) instead of deciding it from the values: Stream decides
	// it on the first row group so every chunk has the same kinds.
	text frame.Kind
	// prealloc is the row count up to which alloc sizes storage exactly.
	prealloc int
}

func newDecoder(col *parquet.Column, meta *metaColumn, n int) (*decoder, error) {
	if !col.Leaf() {
		return nil, fmt.Errorf("%w: nested group columns are not supported (flatten the struct first)", ErrUnsupported)
	}
	if col.Repeated() || col.MaxRepetitionLevel() > 0 {
		return nil, fmt.Errorf("%w: repeated (list) columns are not supported", ErrUnsupported)
	}
	d := &decoder{col: col, name: col.Name(), meta: meta, n: n}
	typ := col.Type()
	lt := typ.LogicalType()
	var lv format.LogicalTypeValue
	if lt != nil {
		lv = lt.Value
	}
	ct := typ.ConvertedType()
	switch typ.Kind() {
	case parquet.Boolean:
		d.kind, d.conv = frame.KindBool, convBool
	case parquet.Int32:
		d.kind, d.conv = frame.KindInt, convInt32
		switch v := lv.(type) {
		case *format.DateType:
			d.kind, d.conv = frame.KindTime, convDate
		case *format.DecimalType:
			d.setDecimal(v.Scale)
		case *format.IntType:
			if !v.IsSigned {
				d.conv = convUint32
			}
		case nil:
			if ct != nil {
				switch *ct {
				case deprecated.Date:
					d.kind, d.conv = frame.KindTime, convDate
				case deprecated.Uint8, deprecated.Uint16, deprecated.Uint32:
					d.conv = convUint32
				}
			}
		}
	case parquet.Int64:
		d.kind, d.conv = frame.KindInt, convInt64
		switch v := lv.(type) {
		case *format.TimestampType:
			d.kind, d.conv = frame.KindTime, convTimestamp
			switch v.Unit.Value.(type) {
			case *format.MilliSeconds:
				d.scale = 1e6
			case *format.MicroSeconds:
				d.scale = 1e3
			default:
				d.scale = 1
			}
		case *format.DecimalType:
			d.setDecimal(v.Scale)
		case *format.IntType:
			if !v.IsSigned {
				d.conv = convUint64
			}
		case nil:
			if ct != nil {
				switch *ct {
				case deprecated.TimestampMillis:
					d.kind, d.conv, d.scale = frame.KindTime, convTimestamp, 1e6
				case deprecated.TimestampMicros:
					d.kind, d.conv, d.scale = frame.KindTime, convTimestamp, 1e3
				case deprecated.Uint64:
					d.conv = convUint64
				}
			}
		}
	case parquet.Int96:
		d.kind, d.conv = frame.KindTime, convInt96
	case parquet.Float:
		d.kind, d.conv = frame.KindFloat, convFloat32
	case parquet.Double:
		d.kind, d.conv = frame.KindFloat, convFloat64
	case parquet.ByteArray, parquet.FixedLenByteArray:
		switch v := lv.(type) {
		case *format.DecimalType:
			d.setDecimal(v.Scale)
		case *format.Float16Type:
			d.kind, d.conv = frame.KindFloat, convFloat16
		case *format.UUIDType:
			d.kind, d.conv = frame.KindString, convUUID
		default:
			if typ.Kind() == parquet.FixedLenByteArray && lv == nil {
				return nil, fmt.Errorf("%w: FIXED_LEN_BYTE_ARRAY without a decimal, float16 or UUID annotation", ErrUnsupported)
			}
			d.kind, d.conv = frame.KindString, convText
		}
	default:
		return nil, fmt.Errorf("%w: physical type %v", ErrUnsupported, typ)
	}
	if lv != nil {
		switch lv.(type) {
		case *format.ListType, *format.MapType, *format.VariantType, *format.GeometryType, *format.GeographyType:
			return nil, fmt.Errorf("%w: logical type %v", ErrUnsupported, lv)
		}
	}
	if meta != nil && d.conv == convText && (meta.Kind == frame.KindCategorical || meta.Kind == frame.KindString) {
		d.kind = meta.Kind
	}
	if d.kind == frame.KindCategorical {
		d.index = make(map[string]int32, len(meta.Levels))
		for i, l := range meta.Levels {
			d.index[l] = int32(i)
		}
	}
	d.alloc()
	return d, nil
}

func (d *decoder) setDecimal(scale int32) {
	d.kind, d.conv = frame.KindFloat, convDecimal
	d.div = math.Pow10(int(scale))
}

func (d *decoder) alloc() {
	// Capacity grows with the values actually decoded, so a footer that
	// claims billions of rows cannot make us allocate up front; a streamed
	// row group of plausible size is allocated once.
	c := min(d.n, max(1<<16, d.prealloc))
	switch d.kind {
	case frame.KindFloat:
		d.f64 = make([]float64, 0, c)
	case frame.KindInt, frame.KindTime:
		d.i64 = make([]int64, 0, c)
	case frame.KindBool:
		d.bools = make([]bool, 0, c)
	case frame.KindString:
		d.strs = make([]string, 0, c)
	case frame.KindCategorical:
		d.codes = make([]int32, 0, c)
	}
}

// readAll decodes the column chunk of every row group in order.
func (d *decoder) readAll(pf *parquet.File) error {
	row := 0
	for g, rg := range pf.RowGroups() {
		if err := d.readGroup(rg, g, row); err != nil {
			return err
		}
		row += int(rg.NumRows())
	}
	return nil
}

// readGroup decodes row group g's chunk of the column as rows [row, row+n).
func (d *decoder) readGroup(rg parquet.RowGroup, g, row int) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed data: %v", p)
		}
	}()
	buf := make([]parquet.Value, 4096)
	chunks := rg.ColumnChunks()
	idx := d.col.Index()
	if idx < 0 || idx >= len(chunks) {
		return fmt.Errorf("row group %d has no chunk for this column", g)
	}
	pages := chunks[idx].Pages()
	defer pages.Close()
	end := row + int(rg.NumRows())
	for {
		page, err := pages.ReadPage()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("row group %d: %w", g, err)
		}
		if n, ok := d.bulk(page, row, end); ok {
			row = n
			parquet.Release(page)
			continue
		} else if n < 0 {
			parquet.Release(page)
			return fmt.Errorf("row group %d holds more values than its %d rows", g, rg.NumRows())
		}
		vr := page.Values()
		for {
			k, err := vr.ReadValues(buf)
			if row+k > end {
				parquet.Release(page)
				return fmt.Errorf("row group %d holds more values than its %d rows", g, rg.NumRows())
			}
			for _, v := range buf[:k] {
				if err := d.set(row, v); err != nil {
					parquet.Release(page)
					return fmt.Errorf("row %d: %w", row+1, err)
				}
				row++
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				parquet.Release(page)
				return fmt.Errorf("row group %d: %w", g, err)
			}
		}
		parquet.Release(page)
	}
	if row != end {
		return fmt.Errorf("row group %d: got %d values, want %d", g, row-(end-int(rg.NumRows())), rg.NumRows())
	}
	return nil
}

// bulk decodes a plain (not dictionary-encoded) DOUBLE or INT64 page of a
// flat column straight from its value buffer and definition levels, much
// faster than value by value. It returns the next row and true when it did;
// false (with -1 when the page holds more rows than the group) otherwise.
func (d *decoder) bulk(page parquet.Page, row, end int) (int, bool) {
	if page.Dictionary() != nil || page.RepetitionLevels() != nil || (d.conv != convFloat64 && d.conv != convInt64) {
		return 0, false
	}
	data := page.Data()
	defs := page.DefinitionLevels()
	rows := int(page.NumRows())
	if defs != nil && len(defs) != rows {
		return 0, false
	}
	if row+rows > end {
		return -1, false
	}
	maxDef := byte(d.col.MaxDefinitionLevel())
	present := rows
	if defs != nil {
		present = bytes.Count(defs, []byte{maxDef})
	}
	switch {
	case d.conv == convFloat64 && data.Kind() == encoding.Double:
		vals := data.Double()
		if len(vals) != present {
			return 0, false
		}
		if present == rows { // no nulls (or a required column)
			d.f64 = append(d.f64, vals...)
			return row + rows, true
		}
		k := 0
		for _, dl := range defs {
			if dl == maxDef {
				d.f64 = append(d.f64, vals[k])
				k++
			} else {
				d.setNull(row)
			}
			row++
		}
		return row, true
	case d.conv == convInt64 && data.Kind() == encoding.Int64:
		vals := data.Int64()
		if len(vals) != present {
			return 0, false
		}
		if present == rows { // no nulls (or a required column)
			d.i64 = append(d.i64, vals...)
			return row + rows, true
		}
		k := 0
		for _, dl := range defs {
			if dl == maxDef {
				d.i64 = append(d.i64, vals[k])
				k++
			} else {
				d.setNull(row)
			}
			row++
		}
		return row, true
	}
	return 0, false
}

// setNull marks row i missing and stores the zero value.
func (d *decoder) setNull(i int) {
	if d.valid == nil {
		d.valid = make(frame.Validity, 0, (min(d.n, 1<<16)+63)/64)
	}
	for len(d.valid) <= i>>6 {
		d.valid = append(d.valid, ^uint64(0))
	}
	d.valid.SetNull(i)
	switch d.kind {
	case frame.KindFloat:
		d.f64 = append(d.f64, 0)
	case frame.KindInt, frame.KindTime:
		d.i64 = append(d.i64, 0)
	case frame.KindBool:
		d.bools = append(d.bools, false)
	case frame.KindString:
		d.strs = append(d.strs, "")
	case frame.KindCategorical:
		d.codes = append(d.codes, -1)
	}
}

// validity returns the finished bitmap for d.n rows, or nil when no row is
// missing.
func (d *decoder) validity() frame.Validity {
	if d.valid == nil {
		return nil
	}
	v := frame.NewValidity(d.n)
	copy(v, d.valid) // words past len(d.valid) stay all present
	if r := d.n % 64; r != 0 && len(v) > 0 {
		v[len(v)-1] &= (1 << uint(r)) - 1
	}
	return v
}

// set appends value v as row i.
func (d *decoder) set(i int, v parquet.Value) error {
	if v.IsNull() {
		if d.kind == frame.KindCategorical {
			d.codes = append(d.codes, -1)
			return nil
		}
		d.setNull(i)
		return nil
	}
	switch d.conv {
	case convBool:
		d.bools = append(d.bools, v.Boolean())
	case convInt32:
		d.i64 = append(d.i64, int64(v.Int32()))
	case convUint32:
		d.i64 = append(d.i64, int64(uint32(v.Int32())))
	case convInt64:
		d.i64 = append(d.i64, v.Int64())
	case convUint64:
		if v.Int64() < 0 {
			return fmt.Errorf("unsigned value %d does not fit int64", uint64(v.Int64()))
		}
		d.i64 = append(d.i64, v.Int64())
	case convFloat32:
		d.f64 = append(d.f64, float64(v.Float()))
	case convFloat64:
		d.f64 = append(d.f64, v.Double())
	case convDate:
		d.i64 = append(d.i64, int64(v.Int32())*86400e9)
	case convTimestamp:
		t := v.Int64()
		if d.scale > 1 && (t > math.MaxInt64/d.scale || t < math.MinInt64/d.scale) {
			return fmt.Errorf("timestamp %d is outside the representable range (years 1678-2262)", t)
		}
		d.i64 = append(d.i64, t*d.scale)
	case convInt96:
		x := v.Int96()
		nanos := int64(uint64(x[1])<<32 | uint64(x[0]))
		days := int64(x[2]) - 2440588 // Julian day of 1970-01-01
		d.i64 = append(d.i64, days*86400e9+nanos)
	case convDecimal:
		d.f64 = append(d.f64, decimalValue(v)/d.div)
	case convFloat16:
		b := v.ByteArray()
		if len(b) != 2 {
			return fmt.Errorf("float16 value has %d bytes, want 2", len(b))
		}
		d.f64 = append(d.f64, binnum.Float16(uint16(b[0])|uint16(b[1])<<8))
	case convUUID:
		b := v.ByteArray()
		if len(b) != 16 {
			return fmt.Errorf("UUID value has %d bytes, want 16", len(b))
		}
		d.strs = append(d.strs, fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
	case convText:
		b := v.ByteArray()
		if d.kind == frame.KindCategorical {
			code, ok := d.index[string(b)]
			if !ok {
				return fmt.Errorf("value %q is not among the %d levels recorded in %s", b, len(d.index), MetadataKey)
			}
			d.codes = append(d.codes, code)
			return nil
		}
		d.strs = append(d.strs, string(b))
	}
	return nil
}

// column builds the finished frame column.
func (d *decoder) column() frame.Column {
	d.valid = d.validity()
	switch d.kind {
	case frame.KindFloat:
		return &frame.Float{ColName: d.name, Values: d.f64, Valid: d.valid}
	case frame.KindInt:
		return &frame.Int{ColName: d.name, Values: d.i64, Valid: d.valid}
	case frame.KindTime:
		return &frame.Time{ColName: d.name, Values: d.i64, Valid: d.valid}
	case frame.KindBool:
		return &frame.Bool{ColName: d.name, Values: d.bools, Valid: d.valid}
	case frame.KindCategorical:
		return &frame.Categorical{ColName: d.name, Codes: d.codes, Levels: append([]string{}, d.meta.Levels...)}
	}
	if d.meta == nil && d.conv == convText {
		if d.text == frame.KindString {
			return &frame.String{ColName: d.name, Values: d.strs, Valid: d.valid}
		}
		if d.text == frame.KindCategorical {
			return frame.NewCategorical(d.name, d.strs, d.missingMask())
		}
		distinct := map[string]struct{}{}
		present := d.n - d.valid.NullCount(d.n)
		for i, s := range d.strs {
			if !d.valid.Valid(i) {
				continue
			}
			distinct[s] = struct{}{}
			if len(distinct) > MaxLevels {
				break
			}
		}
		if categorical(len(distinct), present) {
			return frame.NewCategorical(d.name, d.strs, d.missingMask())
		}
	}
	return &frame.String{ColName: d.name, Values: d.strs, Valid: d.valid}
}

// missingMask returns the missing rows as a bool slice, or nil when none is.
func (d *decoder) missingMask() []bool {
	if d.valid == nil {
		return nil
	}
	missing := make([]bool, d.n)
	for i := range missing {
		missing[i] = !d.valid.Valid(i)
	}
	return missing
}

// decimalValue returns the unscaled integer of a DECIMAL value as a float.
func decimalValue(v parquet.Value) float64 {
	switch v.Kind() {
	case parquet.Int32:
		return float64(v.Int32())
	case parquet.Int64:
		return float64(v.Int64())
	}
	b := v.ByteArray() // big-endian two's complement
	f, _ := new(big.Float).SetInt(binnum.BigEndian(b)).Float64()
	return f
}
