package feature

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/parallel"
)

// MatrixColumn describes one column of a design matrix. It has the same
// fields as learn.Feature, so a []MatrixColumn converts element-wise.
type MatrixColumn struct {
	Name string `json:"name"`
	// Categorical marks integer codes 0..len(Levels)-1.
	Categorical bool     `json:"categorical,omitempty"`
	Levels      []string `json:"levels,omitempty"`
}

// EncodedField is one input column of an Encoder: its name, the kind seen at
// fit, and, for text columns, the levels in code order.
type EncodedField struct {
	Name   string     `json:"name"`
	Kind   frame.Kind `json:"kind"`
	Levels []string   `json:"levels,omitempty"`
	// Missing marks a missingness indicator: the matrix column
	// (MissingName(Name)) is 1 where the input value is missing and 0
	// where it is present; the values themselves are not read. It keeps
	// the signal of a column left out as an identifier or free text whose
	// missingness is informative (a cabin on record).
	Missing bool `json:"missing,omitempty"`
}

// MissingName is the design-matrix column name of a missingness
// indicator of input column name.
func MissingName(name string) string { return name + "_missing" }

// AddMissingIndicators appends a missingness indicator (EncodedField.Missing)
// for each named column of f, which may have any role (an ignored column
// keeps only its missingness).
func (e *Encoder) AddMissingIndicators(f *frame.Frame, names []string) error {
	for _, n := range names {
		c, err := f.Column(n)
		if err != nil {
			return fmt.Errorf("fit encoder: missing indicator: %w", err)
		}
		e.Fields = append(e.Fields, EncodedField{Name: n, Kind: c.Kind(), Missing: true})
	}
	return nil
}

// Encoder turns frames into the numeric design matrix learners consume. It
// is fitted on a training frame (FitEncoder) and serialises to JSON.
//
// Encoding: float and int columns as floats; bool as 0/1; time as Unix
// seconds; string and categorical columns as integer codes 0..k-1 into the
// levels seen at fit, sorted lexicographically (byte order); missing values
// as NaN. A category unseen at fit becomes NaN (treated as missing) and is
// counted in the EncodeReport.
type Encoder struct {
	Fields []EncodedField `json:"fields"`
}

// ErrSchema is returned (wrapped) when a frame's columns do not match what an
// encoder or fitted step was trained on.
var ErrSchema = errors.New("schema mismatch")

// FitEncoder learns the encoding of the given feature columns of f. With
// features nil, every column whose role is feature or time is used (target,
// id and ignore columns are left out), in frame order.
func FitEncoder(f *frame.Frame, features []string) (*Encoder, error) {
	if f == nil {
		return nil, fmt.Errorf("fit encoder: no data")
	}
	if features == nil {
		for i, c := range f.Columns() {
			if isFeature(f, i) {
				features = append(features, c.Name())
			}
		}
	}
	e := &Encoder{}
	for _, n := range features {
		c, err := f.Column(n)
		if err != nil {
			return nil, fmt.Errorf("fit encoder: %w", err)
		}
		fld := EncodedField{Name: n, Kind: c.Kind()}
		if textKinds(c.Kind()) {
			cnt := levelCounts(c)
			fld.Levels = make([]string, 0, len(cnt))
			for l := range cnt {
				fld.Levels = append(fld.Levels, l)
			}
			sort.Strings(fld.Levels)
		}
		e.Fields = append(e.Fields, fld)
	}
	return e, nil
}

// Columns describes the matrix columns Transform produces, in order.
func (e *Encoder) Columns() []MatrixColumn {
	out := make([]MatrixColumn, len(e.Fields))
	for j, fld := range e.Fields {
		out[j] = MatrixColumn{Name: fld.Name}
		if fld.Missing {
			out[j].Name = MissingName(fld.Name)
			continue
		}
		if textKinds(fld.Kind) {
			out[j].Categorical = true
			out[j].Levels = append([]string(nil), fld.Levels...)
		}
	}
	return out
}

// Names returns the input column names in matrix order.
func (e *Encoder) Names() []string {
	out := make([]string, len(e.Fields))
	for j, fld := range e.Fields {
		out[j] = fld.Name
	}
	return out
}

// EncodeReport says what Transform had to patch.
type EncodeReport struct {
	// Unseen counts, per column, values of a category not seen at fit
	// (encoded as missing). Columns without any are absent.
	Unseen map[string]int `json:"unseen,omitempty"`
}

// Transform encodes f. See TransformReport.
func (e *Encoder) Transform(f *frame.Frame) (*frame.Matrix, error) {
	m, _, err := e.TransformReport(f)
	return m, err
}

// TransformReport encodes f into a design matrix with one column per encoder
// field, in fit order, and reports unseen categories. The schema is checked:
// a missing column is an error naming it (wrapping frame.ErrNoColumn); extra
// columns are ignored; int and float, and string and categorical, are
// interchangeable; numbers and bools given for a text column are formatted
// as text, text given for a number is parsed; any other kind change is an
// error naming the column and both kinds (wrapping ErrSchema).
func (e *Encoder) TransformReport(f *frame.Frame) (*frame.Matrix, EncodeReport, error) {
	rep := EncodeReport{}
	cols, err := e.columnsOf(f)
	if err != nil {
		return nil, rep, err
	}
	n := f.NumRows()
	m := frame.NewMatrix(n, len(e.Fields))
	unseen := make([]int, len(e.Fields))
	errs := make([]error, len(e.Fields))
	encode := func(j int) { unseen[j], errs[j] = e.encodeColumn(j, cols[j], m.Col(j)) }
	if n < 1024 {
		// Small batches (a served request) are cheaper on one goroutine.
		for j := range e.Fields {
			encode(j)
		}
	} else {
		parallel.For(len(e.Fields), 0, encode)
	}
	for j, err := range errs {
		if err != nil {
			return nil, rep, fmt.Errorf("encode: column %q: %w", e.Fields[j].Name, err)
		}
		if unseen[j] > 0 {
			if rep.Unseen == nil {
				rep.Unseen = map[string]int{}
			}
			rep.Unseen[e.Fields[j].Name] = unseen[j]
		}
	}
	return m, rep, nil
}

// columnsOf returns f's columns in encoder field order, checked as
// TransformReport says.
func (e *Encoder) columnsOf(f *frame.Frame) ([]frame.Column, error) {
	if f == nil {
		return nil, fmt.Errorf("encode: no data")
	}
	cols := make([]frame.Column, len(e.Fields))
	for j, fld := range e.Fields {
		c, err := f.Column(fld.Name)
		if err != nil {
			return nil, fmt.Errorf("encode: column %q (%s) seen in training is missing: %w", fld.Name, fld.Kind, frame.ErrNoColumn)
		}
		if !fld.Missing && !compatible(fld.Kind, c.Kind()) {
			return nil, fmt.Errorf("encode: column %q is %s, was %s in training: %w", fld.Name, c.Kind(), fld.Kind, ErrSchema)
		}
		cols[j] = c
	}
	return cols, nil
}

// ColumnSource returns f's design matrix one column at a time, for a
// consumer that reads each column once and need not hold the whole
// matrix: encode(j, dst) writes matrix column j (what Transform puts in
// Col(j)) into dst, of length f.NumRows(). The schema is checked here as
// Transform checks it; encode may be called concurrently for different
// columns. Unseen categories are encoded as missing without a report.
func (e *Encoder) ColumnSource(f *frame.Frame) (encode func(j int, dst []float64) error, err error) {
	cols, err := e.columnsOf(f)
	if err != nil {
		return nil, err
	}
	n := f.NumRows()
	return func(j int, dst []float64) error {
		if j < 0 || j >= len(cols) {
			return fmt.Errorf("encode: column %d of %d", j, len(cols))
		}
		if len(dst) != n {
			return fmt.Errorf("encode: column %q: %d values to fill for %d rows", e.Fields[j].Name, len(dst), n)
		}
		if _, err := e.encodeColumn(j, cols[j], dst); err != nil {
			return fmt.Errorf("encode: column %q: %w", e.Fields[j].Name, err)
		}
		return nil
	}, nil
}

func compatible(fit, got frame.Kind) bool {
	switch fit {
	case frame.KindFloat, frame.KindInt, frame.KindBool:
		return got == frame.KindFloat || got == frame.KindInt || got == frame.KindBool || got == frame.KindString || got == frame.KindCategorical
	case frame.KindString, frame.KindCategorical:
		return got != frame.KindTime && got != frame.KindInvalid
	case frame.KindTime:
		return got == frame.KindTime
	}
	return false
}

func (e *Encoder) encodeColumn(j int, c frame.Column, dst []float64) (int, error) {
	fld := e.Fields[j]
	nan := math.NaN()
	if fld.Missing {
		// Empty text counts as missing, as it does for a number read
		// from text.
		vals, missing := stringsOf(c)
		for i := range dst {
			dst[i] = 0
			if missing[i] || (textKinds(c.Kind()) && vals[i] == "") {
				dst[i] = 1
			}
		}
		return 0, nil
	}
	if !textKinds(fld.Kind) {
		if textKinds(c.Kind()) {
			vals, missing := stringsOf(c)
			for i, s := range vals {
				if missing[i] || s == "" {
					dst[i] = nan
					continue
				}
				v, err := strconv.ParseFloat(s, 64)
				if err != nil {
					return 0, fmt.Errorf("row %d: %q is not a number (column was %s in training): %w", i+1, s, fld.Kind, ErrSchema)
				}
				dst[i] = v
			}
			return 0, nil
		}
		return 0, floatsInto(c, dst)
	}
	lookup := make(map[string]int, len(fld.Levels))
	for k, l := range fld.Levels {
		lookup[l] = k
	}
	unseen := 0
	if cc, ok := c.(*frame.Categorical); ok {
		remap := make([]float64, len(cc.Levels))
		for k, l := range cc.Levels {
			if code, ok := lookup[l]; ok {
				remap[k] = float64(code)
			} else {
				remap[k] = nan
			}
		}
		for i, code := range cc.Codes {
			if code < 0 {
				dst[i] = nan
				continue
			}
			dst[i] = remap[code]
			if dst[i] != dst[i] {
				unseen++
			}
		}
		return unseen, nil
	}
	vals, missing := stringsOf(c)
	for i, s := range vals {
		if missing[i] {
			dst[i] = nan
			continue
		}
		code, ok := lookup[s]
		if !ok {
			dst[i] = nan
			unseen++
			continue
		}
		dst[i] = float64(code)
	}
	return unseen, nil
}

// EncodeTarget reads the target column of a learning problem. For
// classification it fits a label encoding: the classes are the distinct
// present values sorted (numerically for numeric and bool columns,
// lexicographically for text, as scikit-learn's LabelEncoder), and y holds each
// row's class index. For regression y holds the numeric values and classes is
// nil. A missing target is an error naming the row (1-based among data rows);
// so is a classification target with fewer than two classes or a text target
// for regression.
func EncodeTarget(f *frame.Frame, name string, classification bool) (y []float64, classes []string, err error) {
	if f == nil {
		return nil, nil, fmt.Errorf("encode target: no data")
	}
	c, err := f.Column(name)
	if err != nil {
		return nil, nil, fmt.Errorf("encode target: %w", err)
	}
	for i := 0; i < c.Len(); i++ {
		if c.IsNull(i) {
			return nil, nil, fmt.Errorf("encode target: column %q is missing in row %d; drop or fill rows without a target", name, i+1)
		}
	}
	if !classification {
		if textKinds(c.Kind()) {
			return nil, nil, fmt.Errorf("encode target: column %q is %s; regression needs a numeric target", name, c.Kind())
		}
		y, err := floats(c)
		if err != nil {
			return nil, nil, fmt.Errorf("encode target: %w", err)
		}
		return y, nil, nil
	}
	classes = targetClasses(c)
	if len(classes) < 2 {
		return nil, nil, fmt.Errorf("encode target: column %q has %d class(es) %v; classification needs at least two", name, len(classes), classes)
	}
	y, err = EncodeLabels(c, classes)
	if err != nil {
		return nil, nil, fmt.Errorf("encode target: %w", err)
	}
	return y, classes, nil
}

// targetClasses returns the sorted distinct present values of c as text.
func targetClasses(c frame.Column) []string {
	if numericKinds(c.Kind()) || c.Kind() == frame.KindBool {
		v, _ := floats(c)
		seen := map[float64]bool{}
		var xs []float64
		for _, x := range v {
			if x == x && !seen[x] {
				seen[x] = true
				xs = append(xs, x)
			}
		}
		sort.Float64s(xs)
		out := make([]string, len(xs))
		for i, x := range xs {
			if c.Kind() == frame.KindBool {
				out[i] = strconv.FormatBool(x == 1)
			} else {
				out[i] = ftoa(x)
			}
		}
		return out
	}
	cnt := levelCounts(c)
	out := make([]string, 0, len(cnt))
	for l := range cnt {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// EncodeLabels maps a class column onto the indices of classes (as fitted by
// EncodeTarget). Missing values become NaN; a value that is not one of the
// classes is an error naming the row and value.
func EncodeLabels(c frame.Column, classes []string) ([]float64, error) {
	idx := make(map[string]int, len(classes))
	for k, cl := range classes {
		idx[cl] = k
	}
	vals, missing := stringsOf(c)
	if numericKinds(c.Kind()) {
		v, _ := floats(c)
		for i, x := range v {
			if x == x {
				vals[i] = ftoa(x)
			}
		}
	}
	y := make([]float64, len(vals))
	for i, s := range vals {
		if missing[i] {
			y[i] = math.NaN()
			continue
		}
		k, ok := idx[s]
		if !ok {
			return nil, fmt.Errorf("column %q row %d: class %q was not seen in training (classes %v)", c.Name(), i+1, s, classes)
		}
		y[i] = float64(k)
	}
	return y, nil
}
