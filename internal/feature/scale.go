package feature

import (
	"cmp"
	"fmt"
	"math"

	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/parallel"
)

func init() {
	Register(Registration{Type: "scale", Summary: "scale numeric columns: standard (default), minmax or robust",
		NewStep: func() Step { return &Scale{Method: "standard"} }, NewFitted: func() Fitted { return &ScaleFitted{} }})
	Register(Registration{Type: "log1p", Summary: "signed log1p of numeric columns: sign(x)·log(1+|x|)",
		NewStep: func() Step { return &Log1p{} }, NewFitted: func() Fitted { return &Log1p{} }})
	Register(Registration{Type: "yeo_johnson", Summary: "Yeo-Johnson power transform, lambda by maximum likelihood, then standardised",
		NewStep: func() Step { return &YeoJohnson{Standardize: true} }, NewFitted: func() Fitted { return &YeoJohnsonFitted{} }})
	Register(Registration{Type: "bin", Summary: "numeric columns to bin indices (quantile or uniform edges)",
		NewStep: func() Step { return &Bin{Bins: 5, Strategy: "quantile"} }, NewFitted: func() Fitted { return &BinFitted{} }})
}

// Scale maps numeric columns to (x − center) / scale: standard uses the
// mean and population standard deviation, minmax the minimum and range
// (to [0, 1]), robust the median and interquartile range. A zero scale
// becomes 1; an all-missing column is left missing. Outputs are float.
type Scale struct {
	Columns []string `json:"columns,omitempty" yaml:"columns"`
	Method  string   `json:"method,omitempty" yaml:"method"`
}

// Type implements Step.
func (s *Scale) Type() string { return "scale" }

// Affine is a fitted (x − Center) / Scale for one column.
type Affine struct {
	Name   string `json:"name"`
	Center Num    `json:"center"`
	Scale  Num    `json:"scale"`
}

// ScaleFitted is a fitted Scale.
type ScaleFitted struct {
	Columns []Affine `json:"columns"`
}

// Type implements Fitted.
func (s *ScaleFitted) Type() string { return "scale" }

// Fit implements Step.
func (s *Scale) Fit(f *frame.Frame, _ string) (Fitted, error) {
	method := cmp.Or(s.Method, "standard")
	if method != "standard" && method != "minmax" && method != "robust" {
		return nil, fmt.Errorf("scale: method %q, want standard, minmax or robust", s.Method)
	}
	names, err := resolve(f, s.Columns, numericKinds, "a number")
	if err != nil {
		return nil, fmt.Errorf("scale: %w", err)
	}
	out := &ScaleFitted{Columns: make([]Affine, len(names))}
	parallel.For(len(names), 0, func(j int) {
		c, _ := f.Column(names[j])
		v, _ := floats(c)
		var center, scale float64
		switch method {
		case "standard":
			center, scale = meanStd(v)
		case "minmax":
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, x := range v {
				if x == x {
					lo, hi = math.Min(lo, x), math.Max(hi, x)
				}
			}
			center, scale = lo, hi-lo
			if lo > hi {
				center, scale = math.NaN(), math.NaN()
			}
		case "robust":
			q := quantiles(v, 0.25, 0.5, 0.75)
			center, scale = q[1], q[2]-q[0]
		}
		if scale == 0 || scale != scale {
			scale = 1
		}
		if center != center {
			center = 0
		}
		out.Columns[j] = Affine{Name: names[j], Center: Num(center), Scale: Num(scale)}
	})
	return out, nil
}

// Transform implements Fitted.
func (s *ScaleFitted) Transform(f *frame.Frame) (*frame.Frame, error) {
	return mapFloats(f, "scale", len(s.Columns), func(j int) string { return s.Columns[j].Name }, func(j int, v []float64) {
		a := s.Columns[j]
		c, sc := float64(a.Center), float64(a.Scale)
		for i, x := range v {
			v[i] = (x - c) / sc
		}
	})
}

// mapFloats replaces n numeric columns by float columns computed in place.
func mapFloats(f *frame.Frame, op string, n int, name func(int) string, fn func(j int, v []float64)) (*frame.Frame, error) {
	outs := make([]frame.Column, n)
	errs := make([]error, n)
	parallel.For(n, 0, func(j int) {
		c, err := need(f, name(j))
		if err != nil {
			errs[j] = err
			return
		}
		v, err := floats(c)
		if err != nil {
			errs[j] = fmt.Errorf("%w: %w", err, ErrSchema)
			return
		}
		fn(j, v)
		outs[j] = floatColumn(name(j), v)
	})
	repl := map[string][]frame.Column{}
	for j, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		repl[name(j)] = []frame.Column{outs[j]}
	}
	return rebuild(f, repl)
}

// Log1p applies sign(x)·log(1+|x|) to numeric columns (defined for every
// real, equal to log1p for x ≥ 0). It learns nothing but its columns.
type Log1p struct {
	Columns  []string `json:"columns,omitempty" yaml:"columns"`
	Resolved []string `json:"resolved,omitempty" yaml:"-"`
}

// Type implements Step and Fitted.
func (s *Log1p) Type() string { return "log1p" }

// Fit implements Step.
func (s *Log1p) Fit(f *frame.Frame, _ string) (Fitted, error) {
	names, err := resolve(f, s.Columns, numericKinds, "a number")
	if err != nil {
		return nil, fmt.Errorf("log1p: %w", err)
	}
	return &Log1p{Columns: s.Columns, Resolved: names}, nil
}

// Transform implements Fitted.
func (s *Log1p) Transform(f *frame.Frame) (*frame.Frame, error) {
	return mapFloats(f, "log1p", len(s.Resolved), func(j int) string { return s.Resolved[j] }, func(_ int, v []float64) {
		for i, x := range v {
			if x < 0 {
				v[i] = -math.Log1p(-x)
			} else {
				v[i] = math.Log1p(x)
			}
		}
	})
}

// YeoJohnson applies the Yeo-Johnson power transform with lambda fitted by
// maximum likelihood per column (Brent-style bounded search on [-5, 5], as
// scikit-learn's PowerTransformer), then standardises when Standardize is set.
type YeoJohnson struct {
	Columns     []string `json:"columns,omitempty" yaml:"columns"`
	Standardize bool     `json:"standardize" yaml:"standardize"`
}

// Type implements Step.
func (s *YeoJohnson) Type() string { return "yeo_johnson" }

// PowerColumn is the fitted transform of one column.
type PowerColumn struct {
	Name   string `json:"name"`
	Lambda Num    `json:"lambda"`
	Mean   Num    `json:"mean"`
	Std    Num    `json:"std"`
}

// YeoJohnsonFitted is a fitted YeoJohnson.
type YeoJohnsonFitted struct {
	Columns []PowerColumn `json:"columns"`
}

// Type implements Fitted.
func (s *YeoJohnsonFitted) Type() string { return "yeo_johnson" }

func yeoJohnson(x, l float64) float64 {
	switch {
	case x >= 0 && math.Abs(l) < 1e-8:
		return math.Log1p(x)
	case x >= 0:
		return (math.Pow(x+1, l) - 1) / l
	case math.Abs(l-2) < 1e-8:
		return -math.Log1p(-x)
	default:
		return -(math.Pow(1-x, 2-l) - 1) / (2 - l)
	}
}

// yjLogLik is the profile log-likelihood of lambda (as scipy's yeojohnson_llf).
func yjLogLik(v []float64, l float64) float64 {
	n := float64(len(v))
	var mean, ss, logs float64
	t := make([]float64, len(v))
	for i, x := range v {
		t[i] = yeoJohnson(x, l)
		mean += t[i]
		logs += math.Copysign(1, x) * math.Log1p(math.Abs(x))
	}
	mean /= n
	for _, y := range t {
		ss += (y - mean) * (y - mean)
	}
	variance := ss / n
	if variance <= 0 {
		return math.Inf(-1)
	}
	return -n/2*math.Log(variance) + (l-1)*logs
}

// Fit implements Step.
func (s *YeoJohnson) Fit(f *frame.Frame, _ string) (Fitted, error) {
	names, err := resolve(f, s.Columns, numericKinds, "a number")
	if err != nil {
		return nil, fmt.Errorf("yeo_johnson: %w", err)
	}
	out := &YeoJohnsonFitted{Columns: make([]PowerColumn, len(names))}
	parallel.For(len(names), 0, func(j int) {
		c, _ := f.Column(names[j])
		v, _ := floats(c)
		p := present(v)
		pc := PowerColumn{Name: names[j], Lambda: 1, Mean: 0, Std: 1}
		if len(p) > 1 {
			// Golden-section search on [-5, 5] maximising the likelihood.
			a, b := -5.0, 5.0
			g := (math.Sqrt(5) - 1) / 2
			x1, x2 := b-g*(b-a), a+g*(b-a)
			f1, f2 := yjLogLik(p, x1), yjLogLik(p, x2)
			for it := 0; it < 80 && b-a > 1e-9; it++ {
				if f1 < f2 {
					a, x1, f1 = x1, x2, f2
					x2 = a + g*(b-a)
					f2 = yjLogLik(p, x2)
				} else {
					b, x2, f2 = x2, x1, f1
					x1 = b - g*(b-a)
					f1 = yjLogLik(p, x1)
				}
			}
			pc.Lambda = Num((a + b) / 2)
			if s.Standardize {
				for i, x := range p {
					p[i] = yeoJohnson(x, float64(pc.Lambda))
				}
				m, sd := meanStd(p)
				if sd == 0 {
					sd = 1
				}
				pc.Mean, pc.Std = Num(m), Num(sd)
			}
		}
		out.Columns[j] = pc
	})
	return out, nil
}

// Transform implements Fitted.
func (s *YeoJohnsonFitted) Transform(f *frame.Frame) (*frame.Frame, error) {
	return mapFloats(f, "yeo_johnson", len(s.Columns), func(j int) string { return s.Columns[j].Name }, func(j int, v []float64) {
		pc := s.Columns[j]
		for i, x := range v {
			if x == x {
				v[i] = (yeoJohnson(x, float64(pc.Lambda)) - float64(pc.Mean)) / float64(pc.Std)
			}
		}
	})
}

// Bin replaces numeric columns by bin indices 0..Bins-1 (as floats): edges
// at training quantiles (strategy quantile, default) or equal widths between
// the training min and max (uniform). Values beyond the edges fall in the
// first or last bin; missing stays missing.
type Bin struct {
	Columns  []string `json:"columns,omitempty" yaml:"columns"`
	Bins     int      `json:"bins,omitempty" yaml:"bins"`
	Strategy string   `json:"strategy,omitempty" yaml:"strategy"`
}

// Type implements Step.
func (s *Bin) Type() string { return "bin" }

// BinEdges are the fitted inner edges of one column.
type BinEdges struct {
	Name  string `json:"name"`
	Edges []Num  `json:"edges"`
}

// BinFitted is a fitted Bin.
type BinFitted struct {
	Columns []BinEdges `json:"columns"`
}

// Type implements Fitted.
func (s *BinFitted) Type() string { return "bin" }

// Fit implements Step.
func (s *Bin) Fit(f *frame.Frame, _ string) (Fitted, error) {
	bins := s.Bins
	if bins == 0 {
		bins = 5
	}
	if bins < 2 {
		return nil, fmt.Errorf("bin: bins = %d, want at least 2", s.Bins)
	}
	if s.Strategy != "" && s.Strategy != "quantile" && s.Strategy != "uniform" {
		return nil, fmt.Errorf("bin: strategy %q, want quantile or uniform", s.Strategy)
	}
	names, err := resolve(f, s.Columns, numericKinds, "a number")
	if err != nil {
		return nil, fmt.Errorf("bin: %w", err)
	}
	out := &BinFitted{Columns: make([]BinEdges, len(names))}
	parallel.For(len(names), 0, func(j int) {
		c, _ := f.Column(names[j])
		v, _ := floats(c)
		qs := make([]float64, bins-1)
		for k := range qs {
			qs[k] = float64(k+1) / float64(bins)
		}
		var edges []float64
		if s.Strategy == "uniform" {
			mm := quantiles(v, 0, 1)
			for _, q := range qs {
				edges = append(edges, mm[0]+q*(mm[1]-mm[0]))
			}
		} else {
			edges = quantiles(v, qs...)
		}
		be := BinEdges{Name: names[j], Edges: []Num{}}
		for _, e := range edges {
			if e == e && (len(be.Edges) == 0 || float64(be.Edges[len(be.Edges)-1]) < e) {
				be.Edges = append(be.Edges, Num(e))
			}
		}
		out.Columns[j] = be
	})
	return out, nil
}

// Transform implements Fitted.
func (s *BinFitted) Transform(f *frame.Frame) (*frame.Frame, error) {
	return mapFloats(f, "bin", len(s.Columns), func(j int) string { return s.Columns[j].Name }, func(j int, v []float64) {
		edges := s.Columns[j].Edges
		for i, x := range v {
			if x != x {
				continue
			}
			k := 0
			for k < len(edges) && x >= float64(edges[k]) {
				k++
			}
			v[i] = float64(k)
		}
	})
}
