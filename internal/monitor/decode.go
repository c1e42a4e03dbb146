package monitor

import (
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
)

// Current is the data a monitoring analysis looks at: the rows the model
// saw, what it predicted and, where known, the truth.
type Current struct {
	// Frame holds the input rows (the bundle's input columns).
	Frame *frame.Frame
	// Pred holds the model's predictions for the rows; nil means Analyze
	// predicts them with the bundle.
	Pred *bundle.Prediction
	// Times holds each row's prediction time (optional: no windows without).
	Times []time.Time
	// Labels holds each row's encoded truth (a value, or a class index),
	// NaN when unknown; nil when no row has a label.
	Labels []float64
}

// Records turns logged predictions into a Current typed by the bundle's
// input schema: inputs become typed columns (a value of the wrong type is
// missing), outputs become a Prediction, feedback labels become encoded
// labels (an unknown class is unlabelled). JSON is decoded on all cores.
func Records(b *bundle.Bundle, recs []Logged) (*Current, error) {
	m := &b.Manifest
	n := len(recs)
	fields := m.Input.Fields
	type colBuf struct {
		floats []float64
		ints   []int64
		bools  []bool
		strs   []string
		valid  frame.Validity
	}
	bufs := make([]colBuf, len(fields))
	for j, fd := range fields {
		bufs[j].valid = frame.NewValidity(n)
		switch fd.Kind {
		case frame.KindFloat:
			bufs[j].floats = make([]float64, n)
		case frame.KindInt, frame.KindTime:
			bufs[j].ints = make([]int64, n)
		case frame.KindBool:
			bufs[j].bools = make([]bool, n)
		default:
			bufs[j].strs = make([]string, n)
		}
	}
	k := len(m.Classes)
	classIndex := make(map[string]int, k)
	for i, c := range m.Classes {
		classIndex[c] = i
	}
	cur := &Current{Times: make([]time.Time, n), Pred: &bundle.Prediction{Values: make([]float64, n), Classes: m.Classes}}
	if k > 0 {
		cur.Pred.Proba = make([]float64, n*k)
	}
	labels := make([]float64, n)
	anyLabel := false
	var labelMu sync.Mutex
	workers := runtime.GOMAXPROCS(0)
	chunk := (n/workers/64 + 1) * 64 // whole validity words per worker
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min((w+1)*chunk, n)
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			in := map[string]any{}
			var out struct {
				Prediction    any                `json:"prediction"`
				Probabilities map[string]float64 `json:"probabilities"`
			}
			gotLabel := false
			for i := lo; i < hi; i++ {
				r := &recs[i]
				cur.Times[i] = r.Time
				clear(in)
				if err := json.Unmarshal(r.Input, &in); err != nil {
					errs[w] = fmt.Errorf("logged prediction %s row %d: input: %w", r.RequestID, r.Row, err)
					return
				}
				for j, fd := range fields {
					v, ok := in[fd.Name]
					if !ok || v == nil || !setValue(fd.Kind, &bufs[j].floats, &bufs[j].ints, &bufs[j].bools, &bufs[j].strs, i, v) {
						bufs[j].valid.SetNull(i)
					}
				}
				out.Prediction, out.Probabilities = nil, nil
				if err := json.Unmarshal(r.Output, &out); err != nil {
					errs[w] = fmt.Errorf("logged prediction %s row %d: output: %w", r.RequestID, r.Row, err)
					return
				}
				if k == 0 {
					cur.Pred.Values[i] = toFloat(out.Prediction)
				} else {
					c, ok := classIndex[toText(out.Prediction)]
					if !ok {
						c = -1
					}
					cur.Pred.Values[i] = float64(c)
					for name, p := range out.Probabilities {
						if ci, ok := classIndex[name]; ok {
							cur.Pred.Proba[i*k+ci] = p
						}
					}
				}
				labels[i] = math.NaN()
				if len(r.Label) > 0 {
					var lv any
					if json.Unmarshal(r.Label, &lv) == nil && lv != nil {
						if k == 0 {
							labels[i] = toFloat(lv)
						} else if c, ok := classIndex[toText(lv)]; ok {
							labels[i] = float64(c)
						}
						gotLabel = gotLabel || !math.IsNaN(labels[i])
					}
				}
			}
			if gotLabel {
				labelMu.Lock()
				anyLabel = true
				labelMu.Unlock()
			}
		}(w, lo, hi)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	cols := make([]frame.Column, len(fields))
	for j, fd := range fields {
		bf := &bufs[j]
		switch fd.Kind {
		case frame.KindFloat:
			cols[j] = &frame.Float{ColName: fd.Name, Values: bf.floats, Valid: bf.valid}
		case frame.KindInt:
			cols[j] = &frame.Int{ColName: fd.Name, Values: bf.ints, Valid: bf.valid}
		case frame.KindTime:
			cols[j] = &frame.Time{ColName: fd.Name, Values: bf.ints, Valid: bf.valid}
		case frame.KindBool:
			cols[j] = &frame.Bool{ColName: fd.Name, Values: bf.bools, Valid: bf.valid}
		default:
			missing := make([]bool, n)
			for i := range missing {
				missing[i] = !bf.valid.Valid(i)
			}
			cols[j] = frame.NewCategorical(fd.Name, bf.strs, missing)
		}
	}
	f, err := frame.New(cols...)
	if err != nil {
		return nil, fmt.Errorf("logged predictions: %w", err)
	}
	cur.Frame = f
	if anyLabel {
		cur.Labels = labels
	}
	return cur, nil
}

// setValue stores a decoded JSON value in row i of a typed buffer and
// reports whether it had a usable type.
func setValue(kind frame.Kind, floats *[]float64, ints *[]int64, bools *[]bool, strs *[]string, i int, v any) bool {
	switch kind {
	case frame.KindFloat:
		x := toFloat(v)
		(*floats)[i] = x
		return !math.IsNaN(x)
	case frame.KindInt:
		x := toFloat(v)
		if math.IsNaN(x) {
			return false
		}
		(*ints)[i] = int64(x)
		return true
	case frame.KindTime:
		s, ok := v.(string)
		if !ok {
			return false
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return false
		}
		(*ints)[i] = t.UnixNano()
		return true
	case frame.KindBool:
		switch x := v.(type) {
		case bool:
			(*bools)[i] = x
			return true
		case string:
			b, err := strconv.ParseBool(x)
			(*bools)[i] = b
			return err == nil
		}
		return false
	default:
		(*strs)[i] = toText(v)
		return true
	}
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return math.NaN()
		}
		return f
	case bool:
		if x {
			return 1
		}
		return 0
	}
	return math.NaN()
}

func toText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
