package predlog

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
)

// Columns of a logged batch's Parquet file besides the model's inputs.
// Names that start with two underscores are the log's own; an input whose
// name starts with two underscores is stored as InputPrefix + its name.
const (
	ColTime       = "__time"       // TIMESTAMP(NANOS): when the row was predicted
	ColModel      = "__model"      // the served model name
	ColVersion    = "__version"    // the model version
	ColRequestID  = "__request_id" // the request's id (what feedback names)
	ColRow        = "__row"        // the row's index in its request
	ColLatency    = "__latency_ns" // INT64: how long the request took to answer, in nanoseconds (files since its introduction; missing: unknown)
	ColPrediction = "__prediction" // the predicted value, or class name
	ProbaPrefix   = "__proba_"     // + class name: that class's probability
	InputPrefix   = "__input_"     // + name: an input whose name starts with "__"
)

// storedName is the Parquet column name of an input.
func storedName(input string) string {
	if strings.HasPrefix(input, "__") {
		return InputPrefix + input
	}
	return input
}

// Frame lays the batch out as the flat table the log stores (see toFrame),
// for logs kept elsewhere (package predlog/streamlog).
func (b *Batch) Frame() (*frame.Frame, error) { return toFrame(b) }

// toFrame lays a batch out as the flat table its Parquet file holds: the
// meta columns, the inputs, the prediction and one probability column per
// class. The columns share the batch's slices.
func toFrame(b *Batch) (*frame.Frame, error) {
	n := b.Len()
	if b.Input.NumRows() != n || len(b.RequestID) != n || len(b.Row) != n || len(b.Pred.Values) != n {
		return nil, fmt.Errorf("batch of %d rows: %d inputs, %d request ids, %d row indexes, %d predictions",
			n, b.Input.NumRows(), len(b.RequestID), len(b.Row), len(b.Pred.Values))
	}
	rows := make([]int64, n)
	for i, r := range b.Row {
		rows[i] = int64(r)
	}
	cols := []frame.Column{
		&frame.Time{ColName: ColTime, Values: b.Time},
		constant(ColModel, b.Model, n),
		constant(ColVersion, b.Version, n),
		&frame.String{ColName: ColRequestID, Values: b.RequestID},
		&frame.Int{ColName: ColRow, Values: rows},
	}
	if b.Latency != nil {
		if len(b.Latency) != n {
			return nil, fmt.Errorf("batch of %d rows: %d latencies", n, len(b.Latency))
		}
		cols = append(cols, latencyColumn(b.Latency))
	}
	for _, c := range b.Input.Columns() {
		cols = append(cols, c.Renamed(storedName(c.Name())))
	}
	p := b.Pred
	k := len(p.Classes)
	if k == 0 {
		cols = append(cols, &frame.Float{ColName: ColPrediction, Values: p.Values})
	} else {
		if len(p.Proba) != n*k {
			return nil, fmt.Errorf("batch of %d rows and %d classes: %d probabilities", n, k, len(p.Proba))
		}
		codes := make([]int32, n)
		for i, v := range p.Values {
			codes[i] = -1
			if v >= 0 && int(v) < k {
				codes[i] = int32(v)
			}
		}
		cols = append(cols, &frame.Categorical{ColName: ColPrediction, Codes: codes, Levels: p.Classes})
		for c, name := range p.Classes {
			vs := make([]float64, n)
			for i := range vs {
				vs[i] = p.Proba[i*k+c]
			}
			cols = append(cols, &frame.Float{ColName: ProbaPrefix + name, Values: vs})
		}
	}
	f, err := frame.New(cols...)
	if err != nil {
		return nil, fmt.Errorf("batch columns: %w", err)
	}
	return f, nil
}

// latencyColumn is the stored form of per-row latencies: an unknown one
// (negative) is missing.
func latencyColumn(ns []int64) *frame.Int {
	c := &frame.Int{ColName: ColLatency, Values: ns}
	for i, v := range ns {
		if v < 0 {
			if c.Valid == nil {
				c.Valid = frame.NewValidity(len(ns))
			}
			c.Valid.SetNull(i)
		}
	}
	return c
}

func constant(name, v string, n int) *frame.Categorical {
	return &frame.Categorical{ColName: name, Codes: make([]int32, n), Levels: []string{v}}
}

// stored is one batch file read back: its table and the columns every
// logged file has.
type stored struct {
	f     *frame.Frame
	times []int64
	reqID func(i int) string
	row   func(i int) int32
	// latency is the file's latency column (nil: a file written before
	// latency was logged, or by a logger that did not know it).
	latency *frame.Int
}

// openStored checks a table read from a batch file.
func openStored(f *frame.Frame) (*stored, error) {
	s := &stored{f: f}
	tc, err := f.Column(ColTime)
	if err != nil {
		return nil, fmt.Errorf("not a prediction log file: %w", err)
	}
	t, ok := tc.(*frame.Time)
	if !ok || t.NullCount() > 0 {
		return nil, fmt.Errorf("not a prediction log file: column %s is %v with %d missing, want times", ColTime, tc.Kind(), tc.NullCount())
	}
	s.times = t.Values
	switch c := colOf(f, ColRequestID).(type) {
	case *frame.String:
		s.reqID = func(i int) string { return c.Values[i] }
	case *frame.Categorical:
		s.reqID = func(i int) string { return c.Value(i) }
	default:
		return nil, fmt.Errorf("not a prediction log file: no text column %s", ColRequestID)
	}
	switch c := colOf(f, ColRow).(type) {
	case *frame.Int:
		s.row = func(i int) int32 { return int32(c.Values[i]) }
	default:
		return nil, fmt.Errorf("not a prediction log file: no integer column %s", ColRow)
	}
	if c := colOf(f, ColLatency); c != nil {
		lc, ok := c.(*frame.Int)
		if !ok {
			return nil, fmt.Errorf("prediction log file: column %s is %v, want int64 nanoseconds", ColLatency, c.Kind())
		}
		s.latency = lc
	}
	return s, nil
}

// colOf returns the named column of f, or nil.
func colOf(f *frame.Frame, name string) frame.Column {
	if i := f.Index(name); i >= 0 {
		return f.Col(i)
	}
	return nil
}

// predictions appends rows lo..hi of a stored prediction column to vals:
// values, or class indexes into classes (-1 when unknown).
func predictions(vals []float64, c frame.Column, lo, hi int, classes []string, classIndex map[string]int) []float64 {
	if c == nil {
		miss := math.NaN()
		if classes != nil {
			miss = -1
		}
		for range hi - lo {
			vals = append(vals, miss)
		}
		return vals
	}
	if classes == nil {
		for i := lo; i < hi; i++ {
			v := math.NaN()
			if x, ok := frame.Value(c, i); ok {
				v = x
			} else if !c.IsNull(i) {
				if x, err := strconv.ParseFloat(c.Format(i), 64); err == nil {
					v = x
				}
			}
			vals = append(vals, v)
		}
		return vals
	}
	classOf := func(text string) float64 {
		if k, ok := classIndex[text]; ok {
			return float64(k)
		}
		return -1
	}
	if cat, ok := c.(*frame.Categorical); ok {
		m := make([]float64, len(cat.Levels))
		for k, l := range cat.Levels {
			m[k] = classOf(l)
		}
		for _, code := range cat.Codes[lo:hi] {
			if code < 0 {
				vals = append(vals, -1)
			} else {
				vals = append(vals, m[code])
			}
		}
		return vals
	}
	for i := lo; i < hi; i++ {
		if c.IsNull(i) {
			vals = append(vals, -1)
		} else {
			vals = append(vals, classOf(c.Format(i)))
		}
	}
	return vals
}

// newPrediction is an empty prediction for classes (nil: regression).
func newPrediction(classes []string, n int) *bundle.Prediction {
	p := &bundle.Prediction{Values: make([]float64, 0, n), Classes: classes}
	if len(classes) > 0 {
		p.Proba = make([]float64, n*len(classes))
	}
	return p
}
