package feature

import (
	"fmt"
	"math"
	"time"

	"github.com/gyre-ml/gyre/internal/frame"
)

func init() {
	Register(Registration{Type: "datetime", Summary: "expand time columns into year, month, day, weekday, hour, cyclical sin/cos and elapsed seconds",
		NewStep: func() Step { return &DateTime{} }, NewFitted: func() Fitted { return &DateTimeFitted{} }})
}

// DateTimeParts are the features DateTime can produce.
var DateTimeParts = []string{"year", "month", "day", "weekday", "hour", "cyclical", "elapsed"}

// DateTime replaces each time column by numeric parts: year, month (1-12),
// day (of month), weekday (0 = Sunday), hour, cyclical (sin/cos of month,
// weekday and hour) and elapsed (seconds since the earliest training time).
// Parts lists which to produce (default all). Outputs are named
// "<col>_<part>"; missing times give missing parts.
type DateTime struct {
	Columns []string `json:"columns,omitempty" yaml:"columns"`
	Parts   []string `json:"parts,omitempty" yaml:"parts"`
}

// Type implements Step.
func (s *DateTime) Type() string { return "datetime" }

// DateTimeColumn is the fitted expansion of one column.
type DateTimeColumn struct {
	Name string `json:"name"`
	// Origin is the earliest training time, Unix seconds.
	Origin Num `json:"origin"`
}

// DateTimeFitted is a fitted DateTime.
type DateTimeFitted struct {
	Parts   []string         `json:"parts"`
	Columns []DateTimeColumn `json:"columns"`
}

// Type implements Fitted.
func (s *DateTimeFitted) Type() string { return "datetime" }

// Fit implements Step.
func (s *DateTime) Fit(f *frame.Frame, _ string) (Fitted, error) {
	parts := s.Parts
	if len(parts) == 0 {
		parts = DateTimeParts
	}
	for _, p := range parts {
		ok := false
		for _, q := range DateTimeParts {
			ok = ok || p == q
		}
		if !ok {
			return nil, fmt.Errorf("datetime: part %q, want some of %v", p, DateTimeParts)
		}
	}
	names, err := resolve(f, s.Columns, func(k frame.Kind) bool { return k == frame.KindTime }, "a time")
	if err != nil {
		return nil, fmt.Errorf("datetime: %w", err)
	}
	out := &DateTimeFitted{Parts: parts}
	for _, n := range names {
		c, _ := f.Column(n)
		v, _ := floats(c)
		origin := quantiles(v, 0)[0]
		if origin != origin {
			origin = 0
		}
		out.Columns = append(out.Columns, DateTimeColumn{Name: n, Origin: Num(origin)})
	}
	return out, nil
}

// Transform implements Fitted.
func (s *DateTimeFitted) Transform(f *frame.Frame) (*frame.Frame, error) {
	repl := map[string][]frame.Column{}
	for _, dc := range s.Columns {
		c, err := need(f, dc.Name)
		if err != nil {
			return nil, fmt.Errorf("datetime: %w", err)
		}
		tc, ok := c.(*frame.Time)
		if !ok {
			return nil, fmt.Errorf("datetime: column %q is %s, was time in training: %w", dc.Name, c.Kind(), ErrSchema)
		}
		n := tc.Len()
		out := map[string][]float64{}
		var order []string
		add := func(name string) []float64 {
			v := make([]float64, n)
			out[name] = v
			order = append(order, name)
			return v
		}
		type part struct {
			name string
			get  func(t time.Time) float64
		}
		var ps []part
		for _, p := range s.Parts {
			switch p {
			case "year":
				ps = append(ps, part{"year", func(t time.Time) float64 { return float64(t.Year()) }})
			case "month":
				ps = append(ps, part{"month", func(t time.Time) float64 { return float64(t.Month()) }})
			case "day":
				ps = append(ps, part{"day", func(t time.Time) float64 { return float64(t.Day()) }})
			case "weekday":
				ps = append(ps, part{"weekday", func(t time.Time) float64 { return float64(t.Weekday()) }})
			case "hour":
				ps = append(ps, part{"hour", func(t time.Time) float64 { return float64(t.Hour()) }})
			case "cyclical":
				cyc := func(name string, period float64, get func(t time.Time) float64) {
					ps = append(ps,
						part{name + "_sin", func(t time.Time) float64 { return math.Sin(2 * math.Pi * get(t) / period) }},
						part{name + "_cos", func(t time.Time) float64 { return math.Cos(2 * math.Pi * get(t) / period) }})
				}
				cyc("month", 12, func(t time.Time) float64 { return float64(t.Month() - 1) })
				cyc("weekday", 7, func(t time.Time) float64 { return float64(t.Weekday()) })
				cyc("hour", 24, func(t time.Time) float64 { return float64(t.Hour()) + float64(t.Minute())/60 })
			case "elapsed":
				origin := float64(dc.Origin)
				ps = append(ps, part{"elapsed", func(t time.Time) float64 { return float64(t.UnixNano())/1e9 - origin }})
			}
		}
		vs := make([][]float64, len(ps))
		for k, p := range ps {
			vs[k] = add(dc.Name + "_" + p.name)
		}
		for i := 0; i < n; i++ {
			if tc.IsNull(i) {
				for k := range ps {
					vs[k][i] = math.NaN()
				}
				continue
			}
			t := tc.At(i)
			for k, p := range ps {
				vs[k][i] = p.get(t)
			}
		}
		for _, name := range order {
			repl[dc.Name] = append(repl[dc.Name], floatColumn(name, out[name]))
		}
	}
	return rebuild(f, repl)
}
