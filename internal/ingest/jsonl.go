package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/gyre-ml/gyre/internal/frame"
)

// JSON value kinds held while reading JSON Lines.
const (
	jMissing byte = iota
	jNumber
	jBool
	jString
	jRaw // nested object or array, kept as its JSON text
)

type jval struct {
	kind byte
	s    string // number literal, "true"/"false", string value or raw JSON
}

type jcol struct {
	name string
	vals []jval
}

// maxJSONLine bounds one JSON Lines record.
const maxJSONLine = 64 << 20

// readJSONL reads JSON Lines: one object per line; the columns are the union
// of keys in first-seen order; null or an absent key is missing. Numbers
// become int (all integral literals) or float columns, true/false bool
// columns, strings time columns when every value is a timestamp, else
// categorical or string columns by the same rule as CSV. A column that mixes
// JSON types becomes text holding each value's JSON text (strings unquoted).
func readJSONL(ctx context.Context, path, name string, opt Options) (*frame.Frame, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	defer fh.Close()
	br := bufio.NewReaderSize(fh, 1<<20)
	var in io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("read %s: gzip: %w", name, err)
		}
		in = zr
	}
	return decodeJSONL(ctx, in, name, opt)
}

func decodeJSONL(ctx context.Context, in io.Reader, name string, opt Options) (*frame.Frame, error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 1<<20), maxJSONLine)
	var cols []*jcol
	index := map[string]int{}
	var lines []int
	rows, line := 0, 0
	perr := func(err error) error { return &ParseError{Source: name, Row: line, Err: err} }
	for sc.Scan() {
		line++
		if line%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		b := bytes.TrimSpace(sc.Bytes())
		if line == 1 {
			b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
		}
		if len(b) == 0 {
			continue
		}
		if b[0] != '{' {
			return nil, perr(errors.New("want one JSON object per line"))
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(b, &obj); err != nil {
			return nil, perr(fmt.Errorf("bad JSON: %w", err))
		}
		newKey := false
		for k := range obj {
			if _, ok := index[k]; !ok {
				newKey = true
				break
			}
		}
		if newKey { // add the new columns in the order the line names them
			keys, err := objectKeys(b)
			if err != nil {
				return nil, perr(fmt.Errorf("bad JSON: %w", err))
			}
			for _, k := range keys {
				if _, ok := index[k]; !ok {
					index[k] = len(cols)
					cols = append(cols, &jcol{name: k, vals: make([]jval, rows, max(rows, 16))})
				}
			}
		}
		for k, raw := range obj {
			v, err := jsonValue(raw)
			if err != nil {
				return nil, perr(fmt.Errorf("key %q: %w", k, err))
			}
			c := cols[index[k]]
			c.vals = append(c.vals, v)
		}
		rows++
		for _, c := range cols {
			if len(c.vals) < rows {
				c.vals = append(c.vals, jval{})
			}
		}
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &ParseError{Source: name, Row: line + 1, Err: fmt.Errorf("line longer than %d MiB", maxJSONLine>>20)}
		}
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	catMax := opt.CategoricalMax
	if catMax <= 0 {
		catMax = DefaultCategoricalMax
	}
	out := make([]frame.Column, len(cols))
	for j, c := range cols {
		out[j] = jsonColumn(c, rows, catMax)
	}
	f, err := frame.New(out...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return applySchema(f, name, Options{Schema: opt.Schema}, func(i int) int { return lines[i] })
}

// objectKeys lists the top-level keys of a JSON object in order.
func objectKeys(b []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var keys []string
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := kt.(string)
		keys = append(keys, k)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

func jsonValue(raw json.RawMessage) (jval, error) {
	if len(raw) == 0 {
		return jval{}, errors.New("empty value")
	}
	switch raw[0] {
	case 'n':
		return jval{}, nil
	case 't', 'f':
		return jval{kind: jBool, s: string(raw)}, nil
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return jval{}, err
		}
		return jval{kind: jString, s: s}, nil
	case '{', '[':
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return jval{}, err
		}
		return jval{kind: jRaw, s: strings.ToValidUTF8(buf.String(), "\uFFFD")}, nil
	}
	return jval{kind: jNumber, s: string(raw)}, nil
}

// jsonColumn types one JSON Lines column.
func jsonColumn(c *jcol, rows int, catMax int) frame.Column {
	var kinds [jRaw + 1]int
	for _, v := range c.vals {
		kinds[v.kind]++
	}
	present := rows - kinds[jMissing]
	var valid frame.Validity
	if kinds[jMissing] > 0 {
		valid = frame.NewValidity(rows)
		for i, v := range c.vals {
			if v.kind == jMissing {
				valid.SetNull(i)
			}
		}
	}
	switch {
	case present == 0:
		return &frame.Float{ColName: c.name, Values: make([]float64, rows), Valid: valid}
	case kinds[jNumber] == present:
		ints := make([]int64, rows)
		allInt := true
		for i, v := range c.vals {
			if v.kind == jNumber {
				n, ok := parseInt([]byte(v.s))
				if !ok {
					allInt = false
					break
				}
				ints[i] = n
			}
		}
		if allInt {
			return &frame.Int{ColName: c.name, Values: ints, Valid: valid}
		}
		fl := make([]float64, rows)
		for i, v := range c.vals {
			if v.kind == jNumber {
				fl[i], _ = strconv.ParseFloat(v.s, 64) // ±1e999 overflows to ±Inf on purpose
			}
		}
		return &frame.Float{ColName: c.name, Values: fl, Valid: valid}
	case kinds[jBool] == present:
		bs := make([]bool, rows)
		for i, v := range c.vals {
			bs[i] = v.s == "true"
		}
		return &frame.Bool{ColName: c.name, Values: bs, Valid: valid}
	case kinds[jString] == present:
		mask := cTimeAll
		for _, v := range c.vals {
			if v.kind == jString {
				if mask = classify([]byte(v.s), mask) & cTimeAll; mask == 0 {
					break
				}
			}
		}
		if k, layout := kindOfMask(mask); k == frame.KindTime {
			ts := make([]int64, rows)
			for i, v := range c.vals {
				if v.kind == jString {
					tm, _ := parseTimeLayout(timeLayouts[layout], v.s)
					ts[i] = tm
				}
			}
			return &frame.Time{ColName: c.name, Values: ts, Valid: valid}
		}
	}
	vals := make([]string, rows)
	for i, v := range c.vals {
		vals[i] = v.s
	}
	return textColumn(c.name, vals, valid, catMax)
}

// textColumn returns a categorical column when the distinct count is small
// (at most catMax, and at most 32 or half the present values), else a
// string column.
func textColumn(name string, vals []string, valid frame.Validity, catMax int) frame.Column {
	present := len(vals) - valid.NullCount(len(vals))
	distinct := map[string]struct{}{}
	for i, v := range vals {
		if valid.Valid(i) {
			distinct[v] = struct{}{}
			if len(distinct) > catMax {
				break
			}
		}
	}
	d := len(distinct)
	if d > catMax || (d > 32 && 2*d > present) {
		return &frame.String{ColName: name, Values: vals, Valid: valid}
	}
	var missing []bool
	if valid != nil {
		missing = make([]bool, len(vals))
		for i := range vals {
			missing[i] = !valid.Valid(i)
		}
	}
	return frame.NewCategorical(name, vals, missing)
}
