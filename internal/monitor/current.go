package monitor

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/gyre-ml/gyre/internal/bundle"
	"github.com/gyre-ml/gyre/internal/frame"
)

// Current reads the logged predictions matching q straight into a Current
// typed by the bundle's input schema, with the same conversions as
// [Records] (a value of the wrong type is missing, an unknown class is
// unlabelled) but without per-row JSON: column chunks of the stored
// batches are copied or mapped through their dictionaries, one column per
// core at a time. It returns a Current with no rows when nothing matched.
func (l *Log) Current(ctx context.Context, b *bundle.Bundle, q Query) (*Current, error) {
	sel, err := l.selectRows(ctx, q)
	if err != nil {
		return nil, err
	}
	cur, err := sel.current(b)
	if err != nil {
		return nil, fmt.Errorf("read logged predictions of %s: %w", q.Model, err)
	}
	return cur, nil
}

// run is a stretch of consecutive rows of one batch, copied to out.
type run struct {
	b       int
	lo, hi  int
	outFrom int
}

// runs groups the selected rows into stretches of consecutive rows.
func (s *selection) runs() []run {
	var out []run
	for j, r := range s.refs {
		if k := len(out) - 1; k >= 0 && out[k].b == int(r.b) && out[k].hi == int(r.i) {
			out[k].hi++
			continue
		}
		out = append(out, run{b: int(r.b), lo: int(r.i), hi: int(r.i) + 1, outFrom: j})
	}
	return out
}

// current assembles the selected rows into typed columns.
func (s *selection) current(b *bundle.Bundle) (*Current, error) {
	m := &b.Manifest
	n := len(s.refs)
	runs := s.runs()
	fields := m.Input.Fields
	cols := make([]frame.Column, len(fields))
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
	// tasks: one per input field, then times, predictions, labels
	parallel(len(fields)+3, func(t int) {
		switch {
		case t < len(fields):
			cols[t] = s.field(fields[t], runs, n)
		case t == len(fields):
			for j, tm := range s.times {
				cur.Times[j] = time.UnixMilli(tm).UTC()
			}
		case t == len(fields)+1:
			s.predictions(cur.Pred, runs, k, classIndex)
		default:
			anyLabel = s.labelValues(labels, k, classIndex)
		}
	})
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

// converted is a batch column's dictionary (or number) values converted
// to a field's kind once, so rows only look them up.
type converted struct {
	floats []float64
	ints   []int64
	bools  []bool
	codes  []int32 // categorical: global level code, -1 missing
	ok     []bool
}

// field gathers one input field from the runs.
func (s *selection) field(fd frame.Field, runs []run, n int) frame.Column {
	name := string(inPrefix) + fd.Name
	var valid frame.Validity
	setNull := func(j int) {
		if valid == nil {
			valid = frame.NewValidity(n)
		}
		valid.SetNull(j)
	}
	var (
		floats []float64
		ints   []int64
		bools  []bool
		codes  []int32
		levels []string
		level  map[string]int32
	)
	switch fd.Kind {
	case frame.KindFloat:
		floats = make([]float64, n)
	case frame.KindInt, frame.KindTime:
		ints = make([]int64, n)
	case frame.KindBool:
		bools = make([]bool, n)
	default:
		codes = make([]int32, n)
		level = map[string]int32{}
	}
	levelOf := func(text string) int32 {
		c, ok := level[text]
		if !ok {
			c = int32(len(levels))
			levels = append(levels, text)
			level[text] = c
		}
		return c
	}
	convs := make([]*converted, len(s.batches))
	numCodes := make([]map[float64]int32, len(s.batches)) // categorical from numbers
	convert := func(c *bcol) *converted {
		cv := &converted{ok: make([]bool, len(c.dict)+1)}
		var fl []float64
		var in []int64
		var bo []bool
		var st []string
		switch fd.Kind {
		case frame.KindFloat:
			fl = make([]float64, 1)
			cv.floats = make([]float64, len(c.dict)+1)
		case frame.KindInt, frame.KindTime:
			in = make([]int64, 1)
			cv.ints = make([]int64, len(c.dict)+1)
		case frame.KindBool:
			bo = make([]bool, 1)
			cv.bools = make([]bool, len(c.dict)+1)
		default:
			st = make([]string, 1)
			cv.codes = make([]int32, len(c.dict)+1)
			cv.codes[0] = -1
		}
		for e, d := range c.dict {
			ok := setRaw(fd.Kind, &fl, &in, &bo, &st, 0, d.kind, []byte(d.text), false)
			cv.ok[e+1] = ok
			switch {
			case fl != nil:
				cv.floats[e+1] = fl[0]
			case in != nil:
				cv.ints[e+1] = in[0]
			case bo != nil:
				cv.bools[e+1] = bo[0]
			default:
				cv.codes[e+1] = -1
				if ok {
					cv.codes[e+1] = levelOf(st[0])
				}
			}
		}
		return cv
	}
	for _, r := range runs {
		b := s.batches[r.b]
		c := b.index[name]
		if c == nil {
			for j := r.outFrom; j < r.outFrom+r.hi-r.lo; j++ {
				setNull(j)
				if codes != nil {
					codes[j] = -1
				}
			}
			continue
		}
		if c.num && fd.Kind == frame.KindFloat && c.valid == nil && c.raw != nil { // the common case
			dst := floats[r.outFrom : r.outFrom+r.hi-r.lo]
			src := c.raw[8*r.lo : 8*r.hi]
			for x := range dst {
				v := math.Float64frombits(binary.LittleEndian.Uint64(src[8*x:]))
				dst[x] = v
				if v != v {
					setNull(r.outFrom + x)
				}
			}
			continue
		}
		if c.num {
			for i := r.lo; i < r.hi; i++ {
				j := r.outFrom + i - r.lo
				present := c.present(i)
				v := c.f(i)
				switch fd.Kind {
				case frame.KindFloat:
					floats[j] = v
					present = present && !math.IsNaN(v)
				case frame.KindInt:
					ints[j] = int64(v)
				case frame.KindTime, frame.KindBool:
					present = false // numbers are not times or booleans
				default:
					codes[j] = -1
					if present {
						nc := numCodes[r.b]
						if nc == nil {
							nc = map[float64]int32{}
							numCodes[r.b] = nc
						}
						code, ok := nc[v]
						if !ok {
							code = levelOf(strconv.FormatFloat(v, 'g', -1, 64))
							nc[v] = code
						}
						codes[j] = code
					}
				}
				if !present {
					setNull(j)
				}
			}
			continue
		}
		cv := convs[r.b]
		if cv == nil {
			cv = convert(c)
			convs[r.b] = cv
		}
		for i := r.lo; i < r.hi; i++ {
			j := r.outFrom + i - r.lo
			e := c.codes[i]
			switch {
			case floats != nil:
				floats[j] = cv.floats[e]
			case ints != nil:
				ints[j] = cv.ints[e]
			case bools != nil:
				bools[j] = cv.bools[e]
			default:
				codes[j] = cv.codes[e]
			}
			if !cv.ok[e] && codes == nil {
				setNull(j)
			}
		}
	}
	switch fd.Kind {
	case frame.KindFloat:
		return &frame.Float{ColName: fd.Name, Values: floats, Valid: valid}
	case frame.KindInt:
		return &frame.Int{ColName: fd.Name, Values: ints, Valid: valid}
	case frame.KindTime:
		return &frame.Time{ColName: fd.Name, Values: ints, Valid: valid}
	case frame.KindBool:
		return &frame.Bool{ColName: fd.Name, Values: bools, Valid: valid}
	}
	return &frame.Categorical{ColName: fd.Name, Codes: codes, Levels: levels}
}

// predictions gathers the logged outputs: the prediction (a value, or a
// class index, -1 when unknown) and class probabilities.
func (s *selection) predictions(p *bundle.Prediction, runs []run, k int, classIndex map[string]int) {
	predName := string(outPrefix) + "prediction"
	probNames := make([]string, k)
	for ci, c := range p.Classes {
		probNames[ci] = string(outPrefix) + "probabilities\x00" + c
	}
	classOf := func(text string) float64 {
		if c, ok := classIndex[text]; ok {
			return float64(c)
		}
		return -1
	}
	last := -1
	var entryVal []float64
	numClass := map[float64]float64{}
	for _, r := range runs {
		b := s.batches[r.b]
		c := b.index[predName]
		if r.b != last && c != nil && !c.num {
			entryVal = make([]float64, len(c.dict)+1)
			entryVal[0] = math.NaN()
			if k > 0 {
				entryVal[0] = -1
			}
			for e, d := range c.dict {
				if k > 0 {
					entryVal[e+1] = classOf(rawText(d.kind, []byte(d.text), false))
				} else if v, ok := jsonFloat(d.kind, []byte(d.text)); ok {
					entryVal[e+1] = v
				} else {
					entryVal[e+1] = math.NaN()
				}
			}
		}
		if r.b != last {
			clear(numClass)
		}
		last = r.b
		for i := r.lo; i < r.hi; i++ {
			j := r.outFrom + i - r.lo
			v := math.NaN()
			if k > 0 {
				v = -1
			}
			switch {
			case c == nil:
			case !c.num:
				v = entryVal[c.codes[i]]
			case c.present(i) && k == 0:
				v = c.f(i)
			case c.present(i):
				x := c.f(i)
				cv, ok := numClass[x]
				if !ok {
					cv = classOf(strconv.FormatFloat(x, 'g', -1, 64))
					numClass[x] = cv
				}
				v = cv
			}
			p.Values[j] = v
		}
		for ci, name := range probNames {
			pc := b.index[name]
			if pc == nil {
				continue
			}
			for i := r.lo; i < r.hi; i++ {
				if v, ok := pc.number(i); ok {
					p.Proba[(r.outFrom+i-r.lo)*k+ci] = v
				}
			}
		}
	}
}

// labelValues encodes each selected row's feedback label (NaN when none or
// unusable) and reports whether any row has one.
func (s *selection) labelValues(out []float64, k int, classIndex map[string]int) bool {
	vals := make([][]float64, len(s.feedback)) // per feedback batch: per entry
	numVals := make([]map[float64]float64, len(s.feedback))
	got := false
	for j, r := range s.labels {
		out[j] = math.NaN()
		if r.b < 0 {
			continue
		}
		c := s.feedback[r.b].index[colLabel]
		if c == nil || !c.present(int(r.i)) {
			continue
		}
		if c.num {
			x := c.f(int(r.i))
			if k == 0 {
				out[j] = x
			} else {
				nv := numVals[r.b]
				if nv == nil {
					nv = map[float64]float64{}
					numVals[r.b] = nv
				}
				v, ok := nv[x]
				if !ok {
					v = decodeLabel(strconv.AppendFloat(nil, x, 'g', -1, 64), k, classIndex)
					nv[x] = v
				}
				out[j] = v
			}
		} else {
			ev := vals[r.b]
			if ev == nil {
				ev = make([]float64, len(c.dict)+1)
				for e := range c.dict {
					ev[e+1] = decodeLabel(c.appendEntryJSON(nil, e), k, classIndex)
				}
				vals[r.b] = ev
			}
			out[j] = ev[c.codes[r.i]]
		}
		got = got || !math.IsNaN(out[j])
	}
	return got
}
