package feature

import (
	"cmp"
	"fmt"
	"math"
	"sort"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/parallel"
)

func init() {
	Register(Registration{Type: "onehot", Summary: "one bool column per category, rare categories grouped into <col>=__other__",
		NewStep: func() Step { return &OneHot{} }, NewFitted: func() Fitted { return &OneHotFitted{} }})
	Register(Registration{Type: "ordinal", Summary: "categories to integer codes (sorted levels, or a given order); unseen → missing",
		NewStep: func() Step { return &Ordinal{} }, NewFitted: func() Fitted { return &OrdinalFitted{} }})
	Register(Registration{Type: "frequency", Summary: "categories to their training count (or fraction); unseen → 0",
		NewStep: func() Step { return &Frequency{} }, NewFitted: func() Fitted { return &FrequencyFitted{} }})
	Register(Registration{Type: "target_encode", Summary: "categories to the smoothed mean target, out-of-fold on training rows",
		NewStep: func() Step { return &TargetEncode{Smoothing: 10, Folds: 5} }, NewFitted: func() Fitted { return &TargetEncodeFitted{} }})
}

// OtherLevel is the name of the group rare categories fall into.
const OtherLevel = "__other__"

// OneHot replaces each text column by one bool column per kept category,
// named "<col>=<level>". Categories rarer than MinFrequency, or beyond the
// MaxCategories most frequent, are grouped into "<col>=__other__". Missing
// values give all zeros. A category unseen in training goes to the other
// column when one exists; otherwise Unseen decides: "ignore" (default, all
// zeros) or "error".
type OneHot struct {
	Columns []string `json:"columns,omitempty" yaml:"columns"`
	// MinFrequency: below 1 a fraction of training rows, from 1 a count.
	MinFrequency float64 `json:"min_frequency,omitempty" yaml:"min_frequency"`
	// MaxCategories keeps at most this many levels (0 = no limit).
	MaxCategories int `json:"max_categories,omitempty" yaml:"max_categories"`
	// Unseen is ignore (default) or error.
	Unseen string `json:"unseen,omitempty" yaml:"unseen"`
}

// Type implements Step.
func (s *OneHot) Type() string { return "onehot" }

// OneHotColumn is the fitted encoding of one column.
type OneHotColumn struct {
	Name   string   `json:"name"`
	Levels []string `json:"levels"`
	// Other lists the training levels grouped as rare; unseen levels join
	// them when it is non-empty.
	Other []string `json:"other,omitempty"`
}

// OneHotFitted is a fitted OneHot.
type OneHotFitted struct {
	Unseen  string         `json:"unseen"`
	Columns []OneHotColumn `json:"columns"`
}

// Type implements Fitted.
func (s *OneHotFitted) Type() string { return "onehot" }

// Fit implements Step.
func (s *OneHot) Fit(f *frame.Frame, _ string) (Fitted, error) {
	unseen := cmp.Or(s.Unseen, "ignore")
	if unseen != "ignore" && unseen != "error" {
		return nil, fmt.Errorf("onehot: unseen %q, want ignore or error", s.Unseen)
	}
	names, err := resolve(f, s.Columns, textKinds, "text")
	if err != nil {
		return nil, fmt.Errorf("onehot: %w", err)
	}
	out := &OneHotFitted{Unseen: unseen}
	for _, n := range names {
		c, _ := f.Column(n)
		cnt := levelCounts(c)
		min := s.MinFrequency
		if min > 0 && min < 1 {
			min = math.Ceil(min * float64(c.Len()))
		}
		oc := OneHotColumn{Name: n, Levels: []string{}}
		for i, l := range byFrequency(cnt) {
			if float64(cnt[l]) < min || (s.MaxCategories > 0 && i >= s.MaxCategories) {
				oc.Other = append(oc.Other, l)
			} else {
				oc.Levels = append(oc.Levels, l)
			}
		}
		sort.Strings(oc.Levels)
		sort.Strings(oc.Other)
		out.Columns = append(out.Columns, oc)
	}
	return out, nil
}

// Transform implements Fitted.
func (s *OneHotFitted) Transform(f *frame.Frame) (*frame.Frame, error) {
	repl := map[string][]frame.Column{}
	outs := make([][]frame.Column, len(s.Columns))
	errs := make([]error, len(s.Columns))
	parallel.For(len(s.Columns), 0, func(j int) {
		oc := s.Columns[j]
		c, err := need(f, oc.Name)
		if err != nil {
			errs[j] = err
			return
		}
		if !textKinds(c.Kind()) && c.Kind() != frame.KindBool && !numericKinds(c.Kind()) {
			errs[j] = fmt.Errorf("column %q is %s, want text: %w", oc.Name, c.Kind(), ErrSchema)
			return
		}
		pos := map[string]int{}
		for k, l := range oc.Levels {
			pos[l] = k
		}
		other := -1
		if len(oc.Other) > 0 {
			other = len(oc.Levels)
			for _, l := range oc.Other {
				pos[l] = other
			}
		}
		codes, levels := levelCodes(c)
		remap := make([]int, len(levels))
		for k, l := range levels {
			p, ok := pos[l]
			if !ok {
				p = other
				if other < 0 && s.Unseen == "error" {
					for i, code := range codes {
						if int(code) == k {
							errs[j] = fmt.Errorf("column %q row %d: category %q was not seen in training (unseen: error)", oc.Name, i+1, l)
							return
						}
					}
				}
			}
			remap[k] = p
		}
		width := len(oc.Levels)
		if other >= 0 {
			width++
		}
		bits := make([][]bool, width)
		for k := range bits {
			bits[k] = make([]bool, len(codes))
		}
		for i, code := range codes {
			if code >= 0 {
				if p := remap[code]; p >= 0 {
					bits[p][i] = true
				}
			}
		}
		cols := make([]frame.Column, width)
		for k, l := range oc.Levels {
			cols[k] = frame.NewBool(oc.Name+"="+l, bits[k])
		}
		if other >= 0 {
			cols[other] = frame.NewBool(oc.Name+"="+OtherLevel, bits[other])
		}
		outs[j] = cols
	})
	for j, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("onehot: %w", err)
		}
		repl[s.Columns[j].Name] = outs[j]
	}
	return rebuild(f, repl)
}

// Ordinal replaces text columns by float codes 0..k-1 into the training
// levels, sorted, or in the order given per column in Order. Missing and
// unseen values become missing.
type Ordinal struct {
	Columns []string            `json:"columns,omitempty" yaml:"columns"`
	Order   map[string][]string `json:"order,omitempty" yaml:"order"`
}

// Type implements Step.
func (s *Ordinal) Type() string { return "ordinal" }

// OrdinalFitted is a fitted Ordinal: levels in code order per column.
type OrdinalFitted struct {
	Columns []OneHotColumn `json:"columns"`
}

// Type implements Fitted.
func (s *OrdinalFitted) Type() string { return "ordinal" }

// Fit implements Step.
func (s *Ordinal) Fit(f *frame.Frame, _ string) (Fitted, error) {
	names, err := resolve(f, s.Columns, textKinds, "text")
	if err != nil {
		return nil, fmt.Errorf("ordinal: %w", err)
	}
	out := &OrdinalFitted{}
	for _, n := range names {
		levels := s.Order[n]
		if levels == nil {
			c, _ := f.Column(n)
			for l := range levelCounts(c) {
				levels = append(levels, l)
			}
			sort.Strings(levels)
		}
		out.Columns = append(out.Columns, OneHotColumn{Name: n, Levels: levels})
	}
	return out, nil
}

// Transform implements Fitted.
func (s *OrdinalFitted) Transform(f *frame.Frame) (*frame.Frame, error) {
	return mapLevels(f, "ordinal", s.Columns, func(oc OneHotColumn) (map[string]float64, float64) {
		m := make(map[string]float64, len(oc.Levels))
		for k, l := range oc.Levels {
			m[l] = float64(k)
		}
		return m, math.NaN()
	})
}

// mapLevels replaces each column by a float column of per-level values.
func mapLevels(f *frame.Frame, op string, cols []OneHotColumn, table func(OneHotColumn) (map[string]float64, float64)) (*frame.Frame, error) {
	repl := map[string][]frame.Column{}
	for _, oc := range cols {
		c, err := need(f, oc.Name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		m, unseen := table(oc)
		codes, levels := levelCodes(c)
		remap := make([]float64, len(levels))
		for k, l := range levels {
			v, ok := m[l]
			if !ok {
				v = unseen
			}
			remap[k] = v
		}
		v := make([]float64, len(codes))
		for i, code := range codes {
			if code < 0 {
				v[i] = math.NaN()
			} else {
				v[i] = remap[code]
			}
		}
		repl[oc.Name] = []frame.Column{floatColumn(oc.Name, v)}
	}
	return rebuild(f, repl)
}

// Frequency replaces text columns by each category's training count, or its
// fraction of training rows when Normalize is set. Unseen categories get 0;
// missing values stay missing.
type Frequency struct {
	Columns   []string `json:"columns,omitempty" yaml:"columns"`
	Normalize bool     `json:"normalize,omitempty" yaml:"normalize"`
}

// Type implements Step.
func (s *Frequency) Type() string { return "frequency" }

// LevelValues maps one column's levels to numbers.
type LevelValues struct {
	Name   string   `json:"name"`
	Levels []string `json:"levels"`
	Values []Num    `json:"values"`
	// Default is used for levels not in Levels.
	Default Num `json:"default"`
}

func (lv LevelValues) table() (map[string]float64, float64) {
	m := make(map[string]float64, len(lv.Levels))
	for k, l := range lv.Levels {
		m[l] = float64(lv.Values[k])
	}
	return m, float64(lv.Default)
}

// FrequencyFitted is a fitted Frequency.
type FrequencyFitted struct {
	Columns []LevelValues `json:"columns"`
}

// Type implements Fitted.
func (s *FrequencyFitted) Type() string { return "frequency" }

// Fit implements Step.
func (s *Frequency) Fit(f *frame.Frame, _ string) (Fitted, error) {
	names, err := resolve(f, s.Columns, textKinds, "text")
	if err != nil {
		return nil, fmt.Errorf("frequency: %w", err)
	}
	out := &FrequencyFitted{}
	for _, n := range names {
		c, _ := f.Column(n)
		cnt := levelCounts(c)
		lv := LevelValues{Name: n}
		for _, l := range byFrequency(cnt) {
			v := float64(cnt[l])
			if s.Normalize {
				v /= float64(c.Len())
			}
			lv.Levels = append(lv.Levels, l)
			lv.Values = append(lv.Values, Num(v))
		}
		out.Columns = append(out.Columns, lv)
	}
	return out, nil
}

// Transform implements Fitted.
func (s *FrequencyFitted) Transform(f *frame.Frame) (*frame.Frame, error) {
	return applyLevelValues(f, "frequency", s.Columns, "")
}

func applyLevelValues(f *frame.Frame, op string, cols []LevelValues, suffix string) (*frame.Frame, error) {
	repl := map[string][]frame.Column{}
	for _, lv := range cols {
		c, err := need(f, lv.Name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		m, def := lv.table()
		codes, levels := levelCodes(c)
		remap := make([]float64, len(levels))
		for k, l := range levels {
			v, ok := m[l]
			if !ok {
				v = def
			}
			remap[k] = v
		}
		v := make([]float64, len(codes))
		for i, code := range codes {
			if code < 0 {
				v[i] = math.NaN()
			} else {
				v[i] = remap[code]
			}
		}
		repl[lv.Name] = []frame.Column{floatColumn(lv.Name+suffix, v)}
	}
	return rebuild(f, repl)
}

// TargetEncode replaces text columns by the smoothed mean target of each
// category: (sum + Smoothing·prior) / (count + Smoothing), where prior is the
// training mean. For a classification target with more than two classes it
// produces one column per class ("<col>_te_<class>", the smoothed class
// rate); otherwise one column "<col>_te" (binary: rate of the second class).
// Missing values are a category of their own; unseen categories get the
// prior.
//
// No leakage: on its own training rows (Pipeline.Fit) each row is encoded
// with statistics from the other Folds only (seeded k-fold); new rows use the
// statistics of all training rows.
type TargetEncode struct {
	Columns   []string `json:"columns,omitempty" yaml:"columns"`
	Smoothing float64  `json:"smoothing" yaml:"smoothing"`
	Folds     int      `json:"folds,omitempty" yaml:"folds"`
	Seed      uint64   `json:"seed,omitempty" yaml:"seed"`
}

// Type implements Step.
func (s *TargetEncode) Type() string { return "target_encode" }

// TargetEncodeFitted is a fitted TargetEncode.
type TargetEncodeFitted struct {
	Target    string   `json:"target"`
	Classes   []string `json:"classes,omitempty"`
	Smoothing Num      `json:"smoothing"`
	Folds     int      `json:"folds"`
	Seed      uint64   `json:"seed"`
	// Columns hold, per source column and output, the full-training encoding.
	Columns []TargetColumn `json:"columns"`
}

// TargetColumn is the encoding of one source column.
type TargetColumn struct {
	Name    string        `json:"name"`
	Outputs []LevelValues `json:"outputs"`
}

// Type implements Fitted.
func (s *TargetEncodeFitted) Type() string { return "target_encode" }

const missingLevel = "\x00missing"

// Fit implements Step.
func (s *TargetEncode) Fit(f *frame.Frame, target string) (Fitted, error) {
	if target == "" {
		return nil, fmt.Errorf("target_encode: needs a target column (set target in the recipe)")
	}
	folds := s.Folds
	if folds == 0 {
		folds = 5
	}
	if folds < 2 || s.Smoothing < 0 {
		return nil, fmt.Errorf("target_encode: folds=%d smoothing=%g, want folds >= 2 and smoothing >= 0", s.Folds, s.Smoothing)
	}
	names, err := resolve(f, s.Columns, textKinds, "text")
	if err != nil {
		return nil, fmt.Errorf("target_encode: %w", err)
	}
	out := &TargetEncodeFitted{Target: target, Smoothing: Num(s.Smoothing), Folds: folds, Seed: s.Seed}
	ys, err := out.targets(f)
	if err != nil {
		return nil, err
	}
	all := seq(f.NumRows())
	for _, n := range names {
		c, _ := f.Column(n)
		out.Columns = append(out.Columns, TargetColumn{Name: n, Outputs: out.stats(c, ys, all)})
	}
	return out, nil
}

// targets returns one target vector per output: the numeric target for
// regression, class indicators otherwise.
func (s *TargetEncodeFitted) targets(f *frame.Frame) ([][]float64, error) {
	c, err := f.Column(s.Target)
	if err != nil {
		return nil, fmt.Errorf("target_encode: target: %w", err)
	}
	classification := textKinds(c.Kind()) || c.Kind() == frame.KindBool
	y, classes, err := EncodeTarget(f, s.Target, classification)
	if err != nil {
		return nil, fmt.Errorf("target_encode: %w", err)
	}
	s.Classes = classes
	if len(classes) <= 2 {
		return [][]float64{y}, nil
	}
	out := make([][]float64, len(classes))
	for k := range out {
		out[k] = make([]float64, len(y))
		for i, v := range y {
			if int(v) == k {
				out[k][i] = 1
			}
		}
	}
	return out, nil
}

func (s *TargetEncodeFitted) suffixes() []string {
	if len(s.Classes) <= 2 {
		return []string{"_te"}
	}
	out := make([]string, len(s.Classes))
	for k, cl := range s.Classes {
		out[k] = "_te_" + cl
	}
	return out
}

// stats computes the smoothed encodings of column c from the given rows.
func (s *TargetEncodeFitted) stats(c frame.Column, ys [][]float64, rows []int) []LevelValues {
	codes, levels := levelCodes(c)
	m := float64(s.Smoothing)
	out := make([]LevelValues, len(ys))
	for k, y := range ys {
		sum := make([]float64, len(levels)+1)
		cnt := make([]float64, len(levels)+1)
		total := 0.0
		for _, i := range rows {
			code := int(codes[i])
			if code < 0 {
				code = len(levels)
			}
			sum[code] += y[i]
			cnt[code]++
			total += y[i]
		}
		prior := 0.0
		if len(rows) > 0 {
			prior = total / float64(len(rows))
		}
		lv := LevelValues{Name: c.Name(), Default: Num(prior)}
		for code := range sum {
			if cnt[code] == 0 {
				continue
			}
			l := missingLevel
			if code < len(levels) {
				l = levels[code]
			}
			lv.Levels = append(lv.Levels, l)
			lv.Values = append(lv.Values, Num((sum[code]+m*prior)/(cnt[code]+m)))
		}
		sort.Sort(byLevel(lv))
		out[k] = lv
	}
	return out
}

// encode writes column c's encodings of the given rows into dst.
func encodeRows(c frame.Column, lv LevelValues, rows []int, dst []float64) {
	m, def := lv.table()
	codes, levels := levelCodes(c)
	remap := make([]float64, len(levels))
	for k, l := range levels {
		v, ok := m[l]
		if !ok {
			v = def
		}
		remap[k] = v
	}
	miss, ok := m[missingLevel]
	if !ok {
		miss = def
	}
	for _, i := range rows {
		if codes[i] < 0 {
			dst[i] = miss
		} else {
			dst[i] = remap[codes[i]]
		}
	}
}

// Transform implements Fitted: full-training statistics.
func (s *TargetEncodeFitted) Transform(f *frame.Frame) (*frame.Frame, error) {
	rows := seq(f.NumRows())
	repl := map[string][]frame.Column{}
	sfx := s.suffixes()
	for _, tc := range s.Columns {
		c, err := need(f, tc.Name)
		if err != nil {
			return nil, fmt.Errorf("target_encode: %w", err)
		}
		for k, lv := range tc.Outputs {
			v := make([]float64, f.NumRows())
			encodeRows(c, lv, rows, v)
			repl[tc.Name] = append(repl[tc.Name], frame.NewFloat(tc.Name+sfx[k], v))
		}
	}
	return rebuild(f, repl)
}

// TransformTraining implements TrainingTransformer: out-of-fold encodings.
func (s *TargetEncodeFitted) TransformTraining(f *frame.Frame) (*frame.Frame, error) {
	n := f.NumRows()
	if n < s.Folds {
		return s.Transform(f)
	}
	ys, err := s.targets(f)
	if err != nil {
		return nil, err
	}
	folds, err := KFold(n, s.Folds, s.Seed)
	if err != nil {
		return nil, fmt.Errorf("target_encode: %w", err)
	}
	repl := map[string][]frame.Column{}
	sfx := s.suffixes()
	for _, tc := range s.Columns {
		c, err := need(f, tc.Name)
		if err != nil {
			return nil, fmt.Errorf("target_encode: %w", err)
		}
		vs := make([][]float64, len(ys))
		for k := range vs {
			vs[k] = make([]float64, n)
		}
		for _, fold := range folds {
			st := s.stats(c, ys, fold.Train)
			for k := range ys {
				encodeRows(c, st[k], fold.Valid, vs[k])
			}
		}
		for k := range ys {
			repl[tc.Name] = append(repl[tc.Name], frame.NewFloat(tc.Name+sfx[k], vs[k]))
		}
	}
	return rebuild(f, repl)
}

// byLevel sorts a LevelValues by level, keeping values aligned.
type byLevel LevelValues

func (b byLevel) Len() int           { return len(b.Levels) }
func (b byLevel) Less(i, j int) bool { return b.Levels[i] < b.Levels[j] }
func (b byLevel) Swap(i, j int) {
	b.Levels[i], b.Levels[j] = b.Levels[j], b.Levels[i]
	b.Values[i], b.Values[j] = b.Values[j], b.Values[i]
}
