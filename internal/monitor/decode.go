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
	fieldIndex := make(map[string]int, len(fields))
	for j, fd := range fields {
		fieldIndex[fd.Name] = j
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
			seen := make([]bool, len(fields))
			intern := map[string]string{} // categorical values repeat: allocate each once
			gotLabel := false
			for i := lo; i < hi; i++ {
				r := &recs[i]
				cur.Times[i] = r.Time
				clear(seen)
				err := scanObject(r.Input, func(key []byte, kind byte, val []byte, esc bool) {
					j, ok := fieldIndex[string(key)]
					if !ok || kind == jsNull {
						return
					}
					if bufs[j].strs != nil && kind == jsString && !esc {
						v, ok := intern[string(val)]
						if !ok {
							v = string(val)
							if len(intern) < 100000 {
								intern[v] = v
							}
						}
						bufs[j].strs[i] = v
						seen[j] = true
						return
					}
					if setRaw(fields[j].Kind, &bufs[j].floats, &bufs[j].ints, &bufs[j].bools, &bufs[j].strs, i, kind, val, esc) {
						seen[j] = true
					}
				})
				if err != nil {
					errs[w] = fmt.Errorf("logged prediction %s row %d: input: %w", r.RequestID, r.Row, err)
					return
				}
				for j := range fields {
					if !seen[j] {
						bufs[j].valid.SetNull(i)
					}
				}
				predicted := math.NaN()
				err = scanObject(r.Output, func(key []byte, kind byte, val []byte, esc bool) {
					switch string(key) {
					case "prediction":
						if k == 0 {
							if v, ok := jsonFloat(kind, val); ok {
								predicted = v
							}
						} else if c, ok := classIndex[rawText(kind, val, esc)]; ok {
							predicted = float64(c)
						} else {
							predicted = -1
						}
					case "probabilities":
						if k == 0 || kind != jsObject {
							return
						}
						_ = scanObject(val, func(name []byte, kind byte, v []byte, esc bool) {
							if ci, ok := classIndex[string(name)]; ok {
								cur.Pred.Proba[i*k+ci], _ = jsonFloat(kind, v)
							}
						})
					}
				})
				if err != nil {
					errs[w] = fmt.Errorf("logged prediction %s row %d: output: %w", r.RequestID, r.Row, err)
					return
				}
				if k > 0 && math.IsNaN(predicted) {
					predicted = -1
				}
				cur.Pred.Values[i] = predicted
				labels[i] = math.NaN()
				if len(r.Label) > 0 {
					labels[i] = decodeLabel(r.Label, k, classIndex)
					gotLabel = gotLabel || !math.IsNaN(labels[i])
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

// setRaw stores a scanned JSON value in row i of a typed buffer and reports
// whether it had a usable type.
func setRaw(kind frame.Kind, floats *[]float64, ints *[]int64, bools *[]bool, strs *[]string, i int, jk byte, raw []byte, esc bool) bool {
	switch kind {
	case frame.KindFloat:
		v, ok := jsonFloat(jk, raw)
		(*floats)[i] = v
		return ok && !math.IsNaN(v)
	case frame.KindInt:
		v, ok := jsonFloat(jk, raw)
		if !ok || math.IsNaN(v) {
			return false
		}
		(*ints)[i] = int64(v)
		return true
	case frame.KindTime:
		if jk != jsString {
			return false
		}
		t, err := time.Parse(time.RFC3339Nano, jsonText(raw, esc))
		if err != nil {
			return false
		}
		(*ints)[i] = t.UnixNano()
		return true
	case frame.KindBool:
		switch jk {
		case jsTrue, jsFalse:
			(*bools)[i] = jk == jsTrue
			return true
		case jsString:
			b, err := strconv.ParseBool(string(raw))
			(*bools)[i] = b
			return err == nil
		}
		return false
	default:
		if jk == jsObject || jk == jsArray {
			return false
		}
		(*strs)[i] = rawText(jk, raw, esc)
		return true
	}
}

// rawText renders a scanned scalar as text (numbers in Go's shortest form,
// so 1.0 and 1 both read as "1").
func rawText(jk byte, raw []byte, esc bool) string {
	switch jk {
	case jsString:
		return jsonText(raw, esc)
	case jsNumber:
		if v, err := strconv.ParseFloat(string(raw), 64); err == nil {
			return strconv.FormatFloat(v, 'g', -1, 64)
		}
	}
	return string(raw)
}

// decodeLabel encodes a feedback label: a value, or a class index; NaN when
// unusable.
func decodeLabel(raw []byte, k int, classIndex map[string]int) float64 {
	if k == 0 {
		if v, err := strconv.ParseFloat(string(raw), 64); err == nil {
			return v
		}
	}
	var lv any
	if json.Unmarshal(raw, &lv) != nil || lv == nil {
		return math.NaN()
	}
	if k == 0 {
		return toFloat(lv)
	}
	if c, ok := classIndex[toText(lv)]; ok {
		return float64(c)
	}
	return math.NaN()
}
