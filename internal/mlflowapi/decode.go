package mlflowapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
)

// Int64 is a proto int64 in JSON: a number, or a string holding one (the
// proto JSON mapping), or absent.
type Int64 struct {
	V   int64
	Set bool
}

// UnmarshalJSON accepts 12, "12" and null.
func (n *Int64) UnmarshalJSON(b []byte) error {
	s, null, err := scalarText(b)
	if err != nil || null {
		*n = Int64{}
		return err
	}
	return n.parse(s)
}

// scalarText is the text of a JSON number or string: the number as
// written, the string unquoted; null reports JSON null.
func scalarText(b []byte) (s string, null bool, err error) {
	s = string(bytes.TrimSpace(b))
	if s == "null" {
		return "", true, nil
	}
	if len(s) >= 2 && s[0] == '"' {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return "", false, err
		}
		s = str
	}
	return s, false, nil
}

func (n *Int64) parse(s string) error {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		// 1.7e12 from a client that formats longs as doubles.
		f, ferr := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<62 {
			return typeError(s, int64Type)
		}
		v = int64(f)
	}
	*n = Int64{V: v, Set: true}
	return nil
}

// MarshalJSON writes the number.
func (n Int64) MarshalJSON() ([]byte, error) { return strconv.AppendInt(nil, n.V, 10), nil }

// limit reads n as a search's max_results: def when absent, else 1 to max.
func (n Int64) limit(def int, max int64) (int, error) {
	if !n.Set {
		return def, nil
	}
	if n.V <= 0 || n.V > max {
		return 0, invalid("Invalid value %d for parameter 'max_results' supplied: want 1 to %d", n.V, max)
	}
	return int(n.V), nil
}

// Float is a proto double in JSON: a number, or the strings "NaN",
// "Infinity", "-Infinity" or a numeric string.
type Float struct {
	V   float64
	Set bool
}

// UnmarshalJSON accepts numbers, numeric strings, "NaN" and the infinities.
func (f *Float) UnmarshalJSON(b []byte) error {
	s, null, err := scalarText(b)
	if err != nil || null {
		*f = Float{}
		return err
	}
	return f.parse(s)
}

func (f *Float) parse(s string) error {
	switch strings.TrimSpace(s) {
	case "NaN", "nan":
		*f = Float{V: math.NaN(), Set: true}
		return nil
	case "Infinity", "inf", "+Infinity":
		*f = Float{V: math.Inf(1), Set: true}
		return nil
	case "-Infinity", "-inf":
		*f = Float{V: math.Inf(-1), Set: true}
		return nil
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return typeError(s, floatType)
	}
	*f = Float{V: v, Set: true}
	return nil
}

// MarshalJSON writes a number, or "NaN", "Infinity", "-Infinity".
func (f Float) MarshalJSON() ([]byte, error) { return marshalFloat(f.V), nil }

func marshalFloat(v float64) []byte {
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`)
	case math.IsInf(v, 1):
		return []byte(`"Infinity"`)
	case math.IsInf(v, -1):
		return []byte(`"-Infinity"`)
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64)
}

// Bool is a proto bool: true, false, or the strings "true"/"false".
type Bool struct {
	V   bool
	Set bool
}

// UnmarshalJSON accepts true, false, "true", "false" and null.
func (b *Bool) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(bytes.TrimSpace(data)), `"`)
	if s == "null" {
		*b = Bool{}
		return nil
	}
	return b.parse(s)
}

func (b *Bool) parse(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return typeError(s, boolType)
	}
	*b = Bool{V: v, Set: true}
	return nil
}

// typeError is what the field types report: encoding/json adds the
// field's path to it.
func typeError(got string, t reflect.Type) error {
	if len(got) > 40 {
		got = got[:40] + "..."
	}
	return &json.UnmarshalTypeError{Value: strconv.Quote(got), Type: t}
}

// decode reads the request into v: the query string of a GET (and of any
// request without a body), else the JSON body. Errors name the field.
func (c *call) decode(v any) error {
	r := c.r
	limit := c.api.o.MaxBodyBytes
	if c.route.rel == "mlflow/runs/log-batch" {
		limit = maxBatchRequestBytes
	}
	var body []byte
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Body != nil {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err != nil {
			return invalid("read request body: %v", err)
		}
		if int64(len(body)) > limit {
			return invalid("request body over %d bytes", limit)
		}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return decodeQuery(v, r.URL.Query())
	}
	return decodeJSON(v, body)
}

// maxBatchRequestBytes is MLflow's MAX_BATCH_LOG_REQUEST_SIZE.
const maxBatchRequestBytes = 1_000_000

func decodeJSON(v any, body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return invalid("request body: data after the JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return invalid("request body: want a JSON object, got %s", te.Value)
		}
		return invalid("field '%s': want %s, got %s", field, kindName(te.Type), te.Value)
	case errors.As(err, &se):
		return invalid("request body: malformed JSON at byte %d: %v", se.Offset, se)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return invalid("request body: malformed JSON: it ends too early")
	}
	// Errors from the field types (Int64, Float, Bool) come wrapped with
	// the field path by encoding/json.
	msg := err.Error()
	if i := strings.Index(msg, "json: cannot unmarshal"); i >= 0 {
		msg = msg[i:]
	}
	return invalid("request body: %s", strings.TrimPrefix(msg, "json: "))
}

func kindName(t reflect.Type) string {
	switch t {
	case int64Type:
		return "a whole number"
	case floatType:
		return "a number"
	case boolType:
		return "true or false"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Bool:
		return "true or false"
	}
	return t.String()
}

var (
	int64Type = reflect.TypeOf(Int64{})
	floatType = reflect.TypeOf(Float{})
	boolType  = reflect.TypeOf(Bool{})
)

// decodeQuery fills the struct v points at from query parameters named by
// its fields' json tags: strings, lists of strings (repeated parameters),
// Int64, Float and Bool.
func decodeQuery(v any, q url.Values) error {
	return decodeQueryStruct(reflect.ValueOf(v).Elem(), q)
}

// decodeQueryStruct fills rv's fields, and those of its embedded structs
// (whose fields JSON promotes too), from q.
func decodeQueryStruct(rv reflect.Value, q url.Values) error {
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct && f.Tag.Get("json") == "" {
			if err := decodeQueryStruct(rv.Field(i), q); err != nil {
				return err
			}
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		vals, ok := q[name]
		if !ok || len(vals) == 0 {
			continue
		}
		fv := rv.Field(i)
		var err error
		switch {
		case f.Type == int64Type:
			n := Int64{}
			err = n.parse(vals[0])
			fv.Set(reflect.ValueOf(n))
		case f.Type == floatType:
			x := Float{}
			err = x.parse(vals[0])
			fv.Set(reflect.ValueOf(x))
		case f.Type == boolType:
			b := Bool{}
			err = b.parse(vals[0])
			fv.Set(reflect.ValueOf(b))
		case f.Type.Kind() == reflect.String:
			fv.SetString(vals[0])
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.String:
			fv.Set(reflect.ValueOf(append([]string(nil), vals...)))
		default:
			err = fmt.Errorf("cannot be given in the query string: send a JSON body")
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return invalid("parameter '%s': want %s, got %s", name, kindName(te.Type), te.Value)
		}
		if err != nil {
			return invalid("parameter '%s': %v", name, err)
		}
	}
	return nil
}

// required reports a missing required field as MLflow does.
func required(name, value string) error {
	if value == "" {
		return invalid("Missing value for required parameter '%s'", name)
	}
	return nil
}
