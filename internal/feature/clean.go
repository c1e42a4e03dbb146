package feature

import (
	"cmp"
	"fmt"
	"hash/maphash"
	"math"
	"strings"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/parallel"
)

func init() {
	Register(Registration{Type: "impute", Summary: "fill missing values (mean, median, most_frequent, constant), optionally adding <col>_missing indicator columns",
		NewStep: func() Step { return &Impute{} }, NewFitted: func() Fitted { return &ImputeFitted{} }})
	Register(Registration{Type: "dedupe", Summary: "drop duplicate training rows (training only; new rows pass through)",
		NewStep: func() Step { return &Dedupe{} }, NewFitted: func() Fitted { return &DedupeFitted{} }})
	Register(Registration{Type: "outliers", Summary: "clip numeric values to IQR fences or quantiles, or drop outlying training rows",
		NewStep: func() Step { return &Outliers{Method: "iqr", Factor: 1.5, Action: "clip"} }, NewFitted: func() Fitted { return &OutliersFitted{} }})
	Register(Registration{Type: "normalize_categories", Summary: "trim whitespace and fold case of text values",
		NewStep: func() Step { return &NormalizeCategories{Case: "lower", Trim: true} }, NewFitted: func() Fitted { return &NormalizeCategories{} }})
}

// Impute fills missing values. Numeric columns use Strategy; text and bool
// columns use the most frequent value unless Strategy is "constant". A
// column missing in every training row is filled with Fill when set,
// otherwise 0 (numbers), false (bools) or "missing" (text).
type Impute struct {
	// Columns to impute; empty means every feature column.
	Columns []string `json:"columns,omitempty" yaml:"columns"`
	// Strategy for numbers: mean, median (default), most_frequent or constant.
	Strategy string `json:"strategy,omitempty" yaml:"strategy"`
	// Fill is the constant for Strategy constant (parsed per column kind).
	Fill string `json:"fill,omitempty" yaml:"fill"`
	// Indicators adds a bool <col>_missing column after each column that had
	// missing values in training.
	Indicators bool `json:"indicators,omitempty" yaml:"indicators"`
}

// Type implements Step.
func (s *Impute) Type() string { return "impute" }

// ImputeColumn is the fitted fill of one column.
type ImputeColumn struct {
	Name      string     `json:"name"`
	Kind      frame.Kind `json:"kind"`
	Number    Num        `json:"number,omitempty"`
	Text      string     `json:"text,omitempty"`
	Indicator bool       `json:"indicator,omitempty"`
}

// ImputeFitted is a fitted Impute.
type ImputeFitted struct {
	Columns []ImputeColumn `json:"columns"`
}

// Type implements Fitted.
func (s *ImputeFitted) Type() string { return "impute" }

// Fit implements Step.
func (s *Impute) Fit(f *frame.Frame, _ string) (Fitted, error) {
	strategy := cmp.Or(s.Strategy, "median")
	switch strategy {
	case "mean", "median", "most_frequent", "constant":
	default:
		return nil, fmt.Errorf("impute: strategy %q, want mean, median, most_frequent or constant", s.Strategy)
	}
	names, err := resolve(f, s.Columns, anyKind, "")
	if err != nil {
		return nil, fmt.Errorf("impute: %w", err)
	}
	out := &ImputeFitted{Columns: make([]ImputeColumn, len(names))}
	errs := make([]error, len(names))
	parallel.For(len(names), 0, func(j int) {
		c, _ := f.Column(names[j])
		ic := ImputeColumn{Name: names[j], Kind: c.Kind(), Indicator: s.Indicators && c.NullCount() > 0}
		allMissing := c.NullCount() == c.Len()
		switch {
		case textKinds(c.Kind()):
			ic.Text = "missing"
			if strategy == "constant" && s.Fill != "" {
				ic.Text = s.Fill
			} else if strategy != "constant" && !allMissing {
				ic.Text = byFrequency(levelCounts(c))[0]
			}
		default:
			v, _ := floats(c)
			var x float64
			switch {
			case strategy == "constant" || allMissing:
				if s.Fill != "" {
					x, errs[j] = parseFill(c.Kind(), s.Fill)
				}
			case c.Kind() == frame.KindBool || strategy == "most_frequent":
				x = mode(v)
			case strategy == "mean":
				x, _ = meanStd(v)
			default:
				x = quantiles(v, 0.5)[0]
			}
			ic.Number = Num(x)
		}
		out.Columns[j] = ic
	})
	for j, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("impute: column %q: %w", names[j], err)
		}
	}
	return out, nil
}

func parseFill(k frame.Kind, s string) (float64, error) {
	switch k {
	case frame.KindBool:
		switch strings.ToLower(s) {
		case "true", "1", "yes":
			return 1, nil
		case "false", "0", "no":
			return 0, nil
		}
		return 0, fmt.Errorf("fill %q is not a bool", s)
	}
	var x float64
	if _, err := fmt.Sscan(s, &x); err != nil {
		return 0, fmt.Errorf("fill %q is not a number", s)
	}
	return x, nil
}

// Transform implements Fitted. Numbers become float columns; bool, time and
// text columns keep their kind.
func (s *ImputeFitted) Transform(f *frame.Frame) (*frame.Frame, error) {
	repl := map[string][]frame.Column{}
	outs := make([][]frame.Column, len(s.Columns))
	errs := make([]error, len(s.Columns))
	parallel.For(len(s.Columns), 0, func(j int) {
		ic := s.Columns[j]
		c, err := need(f, ic.Name)
		if err != nil {
			errs[j] = err
			return
		}
		var filled frame.Column
		var miss []bool
		if ic.Indicator {
			miss = make([]bool, c.Len())
			for i := range miss {
				miss[i] = c.IsNull(i)
			}
		}
		switch {
		case c.Kind() == frame.KindCategorical:
			cc := c.(*frame.Categorical)
			levels, fill := cc.Levels, -1
			for k, l := range levels {
				if l == ic.Text {
					fill = k
					break
				}
			}
			if fill < 0 && cc.NullCount() > 0 {
				levels = append(append([]string(nil), levels...), ic.Text)
				fill = len(levels) - 1
			}
			codes := append([]int32(nil), cc.Codes...)
			for i, k := range codes {
				if k < 0 {
					codes[i] = int32(fill)
				}
			}
			filled = &frame.Categorical{ColName: ic.Name, Codes: codes, Levels: levels}
		case textKinds(ic.Kind):
			vals, missing := stringsOf(c)
			for i := range vals {
				if missing[i] {
					vals[i] = ic.Text
				}
			}
			if c.Kind() == frame.KindString {
				filled = frame.NewString(ic.Name, vals)
			} else {
				filled = frame.NewCategorical(ic.Name, vals, nil)
			}
		case c.Kind() == frame.KindBool:
			b := c.(*frame.Bool)
			vals := append([]bool(nil), b.Values...)
			for i := range vals {
				if b.IsNull(i) {
					vals[i] = ic.Number == 1
				}
			}
			filled = frame.NewBool(ic.Name, vals)
		case c.Kind() == frame.KindTime:
			t := c.(*frame.Time)
			vals := append([]int64(nil), t.Values...)
			for i := range vals {
				if t.IsNull(i) {
					vals[i] = int64(math.Round(float64(ic.Number) * 1e9))
				}
			}
			filled = frame.NewTime(ic.Name, vals)
		default:
			v, err := floats(c)
			if err != nil {
				errs[j] = err
				return
			}
			for i, x := range v {
				if x != x {
					v[i] = float64(ic.Number)
				}
			}
			filled = frame.NewFloat(ic.Name, v)
		}
		outs[j] = []frame.Column{filled}
		if ic.Indicator {
			outs[j] = append(outs[j], frame.NewBool(ic.Name+"_missing", miss))
		}
	})
	for j, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("impute: %w", err)
		}
		repl[s.Columns[j].Name] = outs[j]
	}
	return rebuild(f, repl)
}

// Dedupe drops training rows that repeat an earlier row in every column
// (target included). New rows are never dropped.
type Dedupe struct {
	// Columns compared; empty means all columns.
	Columns []string `json:"columns,omitempty" yaml:"columns"`
}

// Type implements Step.
func (s *Dedupe) Type() string { return "dedupe" }

// DedupeFitted is a fitted Dedupe; Removed reports how many training rows
// were dropped.
type DedupeFitted struct {
	Columns []string `json:"columns,omitempty"`
	Removed int      `json:"removed"`
}

// Type implements Fitted.
func (s *DedupeFitted) Type() string { return "dedupe" }

// Fit implements Step.
func (s *Dedupe) Fit(f *frame.Frame, _ string) (Fitted, error) {
	for _, n := range s.Columns {
		if _, err := f.Column(n); err != nil {
			return nil, fmt.Errorf("dedupe: %w", err)
		}
	}
	out := &DedupeFitted{Columns: s.Columns}
	out.Removed = f.NumRows() - len(out.keep(f))
	return out, nil
}

func (s *DedupeFitted) keep(f *frame.Frame) []int {
	cols := f.Columns()
	if len(s.Columns) > 0 {
		cols = nil
		for _, n := range s.Columns {
			c, _ := f.Column(n)
			cols = append(cols, c)
		}
	}
	seed := maphash.MakeSeed()
	seen := map[uint64][]int{}
	var keep []int
	var b strings.Builder
	key := func(i int) string {
		b.Reset()
		for _, c := range cols {
			if c.IsNull(i) {
				b.WriteString("\x00")
			} else {
				b.WriteString(c.Format(i))
				b.WriteString("\x01")
			}
		}
		return b.String()
	}
rows:
	for i := 0; i < f.NumRows(); i++ {
		k := key(i)
		h := maphash.String(seed, k)
		for _, j := range seen[h] {
			if key(j) == k {
				continue rows
			}
		}
		seen[h] = append(seen[h], i)
		keep = append(keep, i)
	}
	return keep
}

// TransformTraining implements TrainingTransformer: duplicates are dropped.
func (s *DedupeFitted) TransformTraining(f *frame.Frame) (*frame.Frame, error) {
	return f.Take(s.keep(f)), nil
}

// Transform implements Fitted: new rows pass through.
func (s *DedupeFitted) Transform(f *frame.Frame) (*frame.Frame, error) { return f, nil }

// Outliers bounds numeric columns. Method iqr uses the fences
// [Q1 − Factor·IQR, Q3 + Factor·IQR]; method quantile uses the Lower and
// Upper quantiles. Action clip clamps values to the bounds (training and new
// rows); action drop removes training rows outside them and leaves new rows
// as they are.
type Outliers struct {
	Columns []string `json:"columns,omitempty" yaml:"columns"`
	// Method is iqr (default) or quantile.
	Method string `json:"method,omitempty" yaml:"method"`
	// Factor scales the IQR for the fences (default 1.5).
	Factor float64 `json:"factor,omitempty" yaml:"factor"`
	// Lower and Upper are the quantiles for method quantile (default 0.01, 0.99).
	Lower float64 `json:"lower,omitempty" yaml:"lower"`
	Upper float64 `json:"upper,omitempty" yaml:"upper"`
	// Action is clip (default) or drop.
	Action string `json:"action,omitempty" yaml:"action"`
}

// Type implements Step.
func (s *Outliers) Type() string { return "outliers" }

// Bounds are fitted lower and upper limits of one column.
type Bounds struct {
	Name string `json:"name"`
	Lo   Num    `json:"lo"`
	Hi   Num    `json:"hi"`
}

// OutliersFitted is a fitted Outliers.
type OutliersFitted struct {
	Action  string   `json:"action"`
	Columns []Bounds `json:"columns"`
}

// Type implements Fitted.
func (s *OutliersFitted) Type() string { return "outliers" }

// Fit implements Step.
func (s *Outliers) Fit(f *frame.Frame, _ string) (Fitted, error) {
	method, action := cmp.Or(s.Method, "iqr"), cmp.Or(s.Action, "clip")
	if action != "clip" && action != "drop" {
		return nil, fmt.Errorf("outliers: action %q, want clip or drop", s.Action)
	}
	if method != "iqr" && method != "quantile" {
		return nil, fmt.Errorf("outliers: method %q, want iqr or quantile", s.Method)
	}
	factor, lo, hi := s.Factor, s.Lower, s.Upper
	if factor == 0 {
		factor = 1.5
	}
	if lo == 0 && hi == 0 {
		lo, hi = 0.01, 0.99
	}
	if lo < 0 || hi > 1 || lo >= hi {
		return nil, fmt.Errorf("outliers: quantiles lower=%g upper=%g, want 0 <= lower < upper <= 1", lo, hi)
	}
	names, err := resolve(f, s.Columns, numericKinds, "a number")
	if err != nil {
		return nil, fmt.Errorf("outliers: %w", err)
	}
	out := &OutliersFitted{Action: action, Columns: make([]Bounds, len(names))}
	parallel.For(len(names), 0, func(j int) {
		c, _ := f.Column(names[j])
		v, _ := floats(c)
		b := Bounds{Name: names[j], Lo: Num(math.Inf(-1)), Hi: Num(math.Inf(1))}
		if method == "iqr" {
			q := quantiles(v, 0.25, 0.75)
			if q[0] == q[0] {
				iqr := q[1] - q[0]
				b.Lo, b.Hi = Num(q[0]-factor*iqr), Num(q[1]+factor*iqr)
			}
		} else {
			q := quantiles(v, lo, hi)
			if q[0] == q[0] {
				b.Lo, b.Hi = Num(q[0]), Num(q[1])
			}
		}
		out.Columns[j] = b
	})
	return out, nil
}

// TransformTraining implements TrainingTransformer.
func (s *OutliersFitted) TransformTraining(f *frame.Frame) (*frame.Frame, error) {
	if s.Action != "drop" {
		return s.Transform(f)
	}
	bad := make([]bool, f.NumRows())
	for _, b := range s.Columns {
		c, err := need(f, b.Name)
		if err != nil {
			return nil, fmt.Errorf("outliers: %w", err)
		}
		v, _ := floats(c)
		for i, x := range v {
			if x == x && (x < float64(b.Lo) || x > float64(b.Hi)) {
				bad[i] = true
			}
		}
	}
	var keep []int
	for i, b := range bad {
		if !b {
			keep = append(keep, i)
		}
	}
	return f.Take(keep), nil
}

// Transform implements Fitted: clip clamps, drop passes new rows through.
func (s *OutliersFitted) Transform(f *frame.Frame) (*frame.Frame, error) {
	if s.Action == "drop" {
		return f, nil
	}
	repl := map[string][]frame.Column{}
	for _, b := range s.Columns {
		c, err := need(f, b.Name)
		if err != nil {
			return nil, fmt.Errorf("outliers: %w", err)
		}
		v, err := floats(c)
		if err != nil {
			return nil, fmt.Errorf("outliers: %w", err)
		}
		for i, x := range v {
			if x == x {
				v[i] = math.Min(math.Max(x, float64(b.Lo)), float64(b.Hi))
			}
		}
		repl[b.Name] = []frame.Column{floatColumn(b.Name, v)}
	}
	return rebuild(f, repl)
}

// NormalizeCategories cleans text values: Trim removes surrounding
// whitespace and collapses inner runs to one space; Case is lower (default),
// upper or none. It learns nothing, so it is its own fitted form.
type NormalizeCategories struct {
	Columns []string `json:"columns,omitempty" yaml:"columns"`
	Case    string   `json:"case,omitempty" yaml:"case"`
	Trim    bool     `json:"trim" yaml:"trim"`
	// Resolved holds the columns chosen at fit.
	Resolved []string `json:"resolved,omitempty" yaml:"-"`
}

// Type implements Step and Fitted.
func (s *NormalizeCategories) Type() string { return "normalize_categories" }

// Fit implements Step.
func (s *NormalizeCategories) Fit(f *frame.Frame, _ string) (Fitted, error) {
	switch s.Case {
	case "", "lower", "upper", "none":
	default:
		return nil, fmt.Errorf("normalize_categories: case %q, want lower, upper or none", s.Case)
	}
	names, err := resolve(f, s.Columns, textKinds, "text")
	if err != nil {
		return nil, fmt.Errorf("normalize_categories: %w", err)
	}
	out := *s
	out.Resolved = names
	return &out, nil
}

func (s *NormalizeCategories) norm(v string) string {
	if s.Trim {
		v = strings.Join(strings.Fields(v), " ")
	}
	switch s.Case {
	case "", "lower":
		v = strings.ToLower(v)
	case "upper":
		v = strings.ToUpper(v)
	}
	return v
}

// Transform implements Fitted.
func (s *NormalizeCategories) Transform(f *frame.Frame) (*frame.Frame, error) {
	repl := map[string][]frame.Column{}
	for _, n := range s.Resolved {
		c, err := need(f, n)
		if err != nil {
			return nil, fmt.Errorf("normalize_categories: %w", err)
		}
		if cc, ok := c.(*frame.Categorical); ok {
			vals := make([]string, len(cc.Levels))
			for k, l := range cc.Levels {
				vals[k] = s.norm(l)
			}
			recoded := frame.NewCategorical(n, vals, nil)
			codes := make([]int32, len(cc.Codes))
			for i, k := range cc.Codes {
				codes[i] = -1
				if k >= 0 {
					codes[i] = recoded.Codes[k]
				}
			}
			repl[n] = []frame.Column{&frame.Categorical{ColName: n, Codes: codes, Levels: recoded.Levels}}
			continue
		}
		vals, missing := stringsOf(c)
		for i := range vals {
			vals[i] = s.norm(vals[i])
		}
		sc := frame.NewString(n, vals)
		for i, m := range missing {
			if m {
				if sc.Valid == nil {
					sc.Valid = frame.NewValidity(len(vals))
				}
				sc.Valid.SetNull(i)
			}
		}
		repl[n] = []frame.Column{sc}
	}
	return rebuild(f, repl)
}
