package cassandrasource

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gocql/gocql"

	"github.com/gyre-ml/gyre/internal/frame"
)

// column is one table column as read: its CQL type and the frame kind it
// becomes.
type column struct {
	name string
	cql  string     // the type as system_schema.columns writes it
	kind frame.Kind // Int, Float, Bool, Time or String (text: categorical decided per stream)
	json bool       // a collection or user-defined type, kept as JSON text
	key  bool       // part of the primary key
}

// kindOf maps a CQL type (as system_schema.columns writes it) to a frame
// kind, or explains why the frame cannot hold it.
func kindOf(cql string) (k frame.Kind, asJSON bool, err error) {
	t := strings.TrimSpace(strings.ToLower(cql))
	for {
		inner, ok := strings.CutPrefix(t, "frozen<")
		if !ok {
			break
		}
		t = strings.TrimSuffix(inner, ">")
	}
	if i := strings.IndexByte(t, '<'); i >= 0 {
		switch t[:i] {
		case "list", "set", "map":
			if strings.Contains(t, "blob") || strings.Contains(t, "duration") {
				return 0, false, fmt.Errorf("a %s holding blob or duration values cannot be read", t[:i])
			}
			return frame.KindString, true, nil
		case "tuple":
			return 0, false, errors.New("tuple columns cannot be read")
		case "vector":
			return 0, false, errors.New("vector columns cannot be read")
		}
		return 0, false, fmt.Errorf("type %s cannot be read", cql)
	}
	switch t {
	case "tinyint", "smallint", "int", "bigint", "counter", "varint":
		return frame.KindInt, false, nil
	case "float", "double", "decimal":
		return frame.KindFloat, false, nil
	case "boolean":
		return frame.KindBool, false, nil
	case "timestamp", "date":
		return frame.KindTime, false, nil
	case "time":
		return frame.KindInt, false, nil
	case "ascii", "text", "varchar", "uuid", "timeuuid", "inet":
		return frame.KindString, false, nil
	case "blob":
		return 0, false, errors.New("blob columns hold bytes, which a frame cannot")
	case "duration":
		return 0, false, errors.New("duration columns (months, days and nanoseconds) cannot be read")
	}
	if strings.HasPrefix(t, "'") || strings.Contains(t, ".") {
		return 0, false, fmt.Errorf("custom type %s cannot be read", cql)
	}
	// A user-defined type, named by itself.
	return frame.KindString, true, nil
}

// batch accumulates rows of one token range in typed columns.
type batch struct {
	cols []*colData
	rows int
}

type colData struct {
	i    []int64
	f    []float64
	b    []bool
	s    []string
	miss []int // rows (0-based within the batch) that are missing
}

func newBatch(cols []column) *batch {
	b := &batch{cols: make([]*colData, len(cols))}
	for j := range cols {
		b.cols[j] = &colData{}
	}
	return b
}

// null records a missing value in column j of the current row.
func (b *batch) null(j int, k frame.Kind) {
	c := b.cols[j]
	c.miss = append(c.miss, b.rows)
	switch k {
	case frame.KindInt, frame.KindTime:
		c.i = append(c.i, 0)
	case frame.KindFloat:
		c.f = append(c.f, math.NaN())
	case frame.KindBool:
		c.b = append(c.b, false)
	default:
		c.s = append(c.s, "")
	}
}

// truncate drops the rows from n on (a row that failed part way).
func (b *batch) truncate(n int, cols []column) {
	for j, c := range b.cols {
		switch cols[j].kind {
		case frame.KindInt, frame.KindTime:
			c.i = c.i[:min(n, len(c.i))]
		case frame.KindFloat:
			c.f = c.f[:min(n, len(c.f))]
		case frame.KindBool:
			c.b = c.b[:min(n, len(c.b))]
		default:
			c.s = c.s[:min(n, len(c.s))]
		}
		for len(c.miss) > 0 && c.miss[len(c.miss)-1] >= n {
			c.miss = c.miss[:len(c.miss)-1]
		}
	}
	b.rows = n
}

// textKinds decides, once per read, whether each text column is
// categorical or free text, by the rule ingest uses for files: at most
// catMax distinct values and, past 32, no more than half as many distinct
// values as present ones.
func textKinds(cols []column, b *batch, catMax int) []frame.Kind {
	out := make([]frame.Kind, len(cols))
	for j, c := range cols {
		out[j] = c.kind
		if c.kind != frame.KindString {
			continue
		}
		d := b.cols[j]
		present := len(d.s) - len(d.miss)
		seen := map[string]struct{}{}
		mi := 0
		cat := true
		for r, v := range d.s {
			if mi < len(d.miss) && d.miss[mi] == r {
				mi++
				continue
			}
			seen[v] = struct{}{}
			if len(seen) > catMax {
				cat = false
				break
			}
		}
		if cat && len(seen) > 32 && 2*len(seen) > present {
			cat = false
		}
		if cat {
			out[j] = frame.KindCategorical
		}
	}
	return out
}

// frameOf builds a frame from a batch with the given kinds.
func frameOf(cols []column, kinds []frame.Kind, b *batch) (*frame.Frame, error) {
	out := make([]frame.Column, len(cols))
	for j, c := range cols {
		d := b.cols[j]
		var valid frame.Validity
		if len(d.miss) > 0 {
			valid = frame.NewValidity(b.rows)
			for _, r := range d.miss {
				valid.SetNull(r)
			}
		}
		switch kinds[j] {
		case frame.KindInt:
			out[j] = &frame.Int{ColName: c.name, Values: d.i, Valid: valid}
		case frame.KindTime:
			out[j] = &frame.Time{ColName: c.name, Values: d.i, Valid: valid}
		case frame.KindFloat:
			out[j] = &frame.Float{ColName: c.name, Values: d.f, Valid: valid}
		case frame.KindBool:
			out[j] = &frame.Bool{ColName: c.name, Values: d.b, Valid: valid}
		case frame.KindCategorical:
			var missing []bool
			if len(d.miss) > 0 {
				missing = make([]bool, b.rows)
				for _, r := range d.miss {
					missing[r] = true
				}
			}
			out[j] = frame.NewCategorical(c.name, d.s, missing)
		default:
			out[j] = &frame.String{ColName: c.name, Values: d.s, Valid: valid}
		}
	}
	return frame.New(out...)
}

// epochDays is the date type's value for 1970-01-01 (dates are unsigned
// days with the epoch at 2^31).
const epochDays = 1 << 31

// decode appends one value of column j, of CQL type info, to the batch.
// data is nil for null; an empty value of a non-text type is missing too.
func (b *batch) decode(j int, c *column, info gocql.TypeInfo, data []byte) error {
	if data == nil || (len(data) == 0 && c.kind != frame.KindString) {
		b.null(j, c.kind)
		return nil
	}
	d := b.cols[j]
	if c.json {
		s, err := jsonText(info, data)
		if err != nil {
			return err
		}
		d.s = append(d.s, s)
		return nil
	}
	switch info.Type() {
	case gocql.TypeTinyInt, gocql.TypeSmallInt, gocql.TypeInt, gocql.TypeBigInt, gocql.TypeCounter, gocql.TypeVarint:
		v, err := intValue(info.Type(), data)
		if err != nil {
			return err
		}
		d.i = append(d.i, v)
	case gocql.TypeTime:
		if len(data) != 8 {
			return fmt.Errorf("a time value of %d bytes (want 8)", len(data))
		}
		d.i = append(d.i, int64(binary.BigEndian.Uint64(data)))
	case gocql.TypeFloat:
		if len(data) != 4 {
			return fmt.Errorf("a float value of %d bytes (want 4)", len(data))
		}
		d.f = append(d.f, float64(math.Float32frombits(binary.BigEndian.Uint32(data))))
	case gocql.TypeDouble:
		if len(data) != 8 {
			return fmt.Errorf("a double value of %d bytes (want 8)", len(data))
		}
		d.f = append(d.f, math.Float64frombits(binary.BigEndian.Uint64(data)))
	case gocql.TypeDecimal:
		v, err := decimalValue(data)
		if err != nil {
			return err
		}
		d.f = append(d.f, v)
	case gocql.TypeBoolean:
		if len(data) != 1 {
			return fmt.Errorf("a boolean value of %d bytes (want 1)", len(data))
		}
		d.b = append(d.b, data[0] != 0)
	case gocql.TypeTimestamp:
		if len(data) != 8 {
			return fmt.Errorf("a timestamp value of %d bytes (want 8)", len(data))
		}
		ms := int64(binary.BigEndian.Uint64(data))
		if ms > math.MaxInt64/int64(time.Millisecond) || ms < math.MinInt64/int64(time.Millisecond) {
			return fmt.Errorf("timestamp %d ms is outside the years 1678 to 2262 that a frame's time column holds", ms)
		}
		d.i = append(d.i, ms*int64(time.Millisecond))
	case gocql.TypeDate:
		if len(data) != 4 {
			return fmt.Errorf("a date value of %d bytes (want 4)", len(data))
		}
		days := int64(binary.BigEndian.Uint32(data)) - epochDays
		const maxDays = math.MaxInt64 / int64(24*time.Hour)
		if days > maxDays || days < -maxDays {
			return fmt.Errorf("date %d days from 1970 is outside the years 1678 to 2262 that a frame's time column holds", days)
		}
		d.i = append(d.i, days*int64(24*time.Hour))
	case gocql.TypeVarchar, gocql.TypeText, gocql.TypeAscii:
		d.s = append(d.s, string(data))
	case gocql.TypeUUID, gocql.TypeTimeUUID:
		u, err := gocql.UUIDFromBytes(data)
		if err != nil {
			return err
		}
		d.s = append(d.s, u.String())
	case gocql.TypeInet:
		if len(data) != 4 && len(data) != 16 {
			return fmt.Errorf("an inet value of %d bytes (want 4 or 16)", len(data))
		}
		d.s = append(d.s, net.IP(data).String())
	default:
		return fmt.Errorf("the server sent type %s where the table's schema says %s", info, c.cql)
	}
	return nil
}

// intValue decodes a big-endian two's-complement integer of any of the
// integer types; a varint beyond 64 bits is an error.
func intValue(t gocql.Type, data []byte) (int64, error) {
	want := map[gocql.Type]int{gocql.TypeTinyInt: 1, gocql.TypeSmallInt: 2, gocql.TypeInt: 4, gocql.TypeBigInt: 8, gocql.TypeCounter: 8}[t]
	if want != 0 && len(data) != want {
		return 0, fmt.Errorf("a %s value of %d bytes (want %d)", t, len(data), want)
	}
	if len(data) > 8 {
		// A varint may carry redundant sign bytes; only its value counts.
		v := new(big.Int).SetBytes(data)
		if data[0]&0x80 != 0 {
			v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(data))))
		}
		if !v.IsInt64() {
			return 0, fmt.Errorf("varint %s does not fit a 64-bit integer column", cutText(v.String()))
		}
		return v.Int64(), nil
	}
	var u uint64
	for _, x := range data {
		u = u<<8 | uint64(x)
	}
	shift := uint(64 - 8*len(data))
	return int64(u<<shift) >> shift, nil
}

// decimalValue decodes a decimal (a 4-byte scale, then the unscaled value
// as a varint) to the nearest float64.
func decimalValue(data []byte) (float64, error) {
	if len(data) < 5 {
		return 0, fmt.Errorf("a decimal value of %d bytes (want at least 5)", len(data))
	}
	scale := int32(binary.BigEndian.Uint32(data))
	un := new(big.Int).SetBytes(data[4:])
	if data[4]&0x80 != 0 {
		un.Sub(un, new(big.Int).Lsh(big.NewInt(1), uint(8*len(data[4:]))))
	}
	f, err := strconv.ParseFloat(un.String()+"e"+strconv.Itoa(int(-scale)), 64)
	if err != nil {
		return 0, fmt.Errorf("decimal %se%d does not fit a 64-bit float", cutText(un.String()), -scale)
	}
	return f, nil
}

// jsonText renders a collection or user-defined type value as JSON text,
// through the driver's own decoding of it.
func jsonText(info gocql.TypeInfo, data []byte) (string, error) {
	p, err := info.NewWithError()
	if err != nil {
		return "", err
	}
	if err := gocql.Unmarshal(info, data, p); err != nil {
		return "", err
	}
	js, err := json.Marshal(jsonable(reflect.ValueOf(p).Elem().Interface()))
	if err != nil {
		return "", err
	}
	return string(js), nil
}

// jsonable turns the driver's values into ones encoding/json writes
// plainly: UUIDs and times as text, byte slices as hex, maps with
// non-text keys keyed by their text.
func jsonable(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case gocql.UUID:
		return x.String()
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return hex.EncodeToString(x)
	case *big.Int:
		return json.Number(x.String())
	}
	rv := reflect.ValueOf(v)
	if rv.Type().String() == "*inf.Dec" {
		// A decimal inside a collection: its exact digits.
		return json.Number(fmt.Sprint(v))
	}
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = jsonable(rv.Index(i).Interface())
		}
		return out
	case reflect.Map:
		out := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			k := jsonable(it.Key().Interface())
			ks, ok := k.(string)
			if !ok {
				ks = fmt.Sprint(k)
			}
			out[ks] = jsonable(it.Value().Interface())
		}
		return out
	case reflect.Pointer:
		if rv.IsNil() {
			return nil
		}
		return jsonable(rv.Elem().Interface())
	}
	if s, ok := v.(fmt.Stringer); ok && rv.Kind() == reflect.Struct {
		return s.String()
	}
	return v
}

// keyText renders a value for an error message naming a row's primary key.
func keyText(info gocql.TypeInfo, data []byte) string {
	if data == nil {
		return "null"
	}
	switch info.Type() {
	case gocql.TypeVarchar, gocql.TypeText, gocql.TypeAscii:
		return strconv.Quote(cutText(string(data)))
	case gocql.TypeTinyInt, gocql.TypeSmallInt, gocql.TypeInt, gocql.TypeBigInt, gocql.TypeCounter, gocql.TypeVarint:
		if v, err := intValue(info.Type(), data); err == nil {
			return strconv.FormatInt(v, 10)
		}
	case gocql.TypeUUID, gocql.TypeTimeUUID:
		if u, err := gocql.UUIDFromBytes(data); err == nil {
			return u.String()
		}
	case gocql.TypeTimestamp:
		if len(data) == 8 {
			return time.UnixMilli(int64(binary.BigEndian.Uint64(data))).UTC().Format(time.RFC3339Nano)
		}
	}
	return "0x" + cutText(hex.EncodeToString(data))
}

func cutText(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
