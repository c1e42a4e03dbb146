package feature

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/gyre-ml/gyre/internal/frame"
)

// kindSet selects column kinds a step handles.
type kindSet func(frame.Kind) bool

func numericKinds(k frame.Kind) bool { return k == frame.KindFloat || k == frame.KindInt }
func textKinds(k frame.Kind) bool    { return k == frame.KindString || k == frame.KindCategorical }
func anyKind(frame.Kind) bool        { return true }

// isFeature reports whether column i of f takes part in transforms.
func isFeature(f *frame.Frame, i int) bool {
	r := f.Role(i)
	return r == frame.RoleFeature || r == frame.RoleTime
}

// resolve returns the columns a step acts on: the named ones (which must
// exist and be of an accepted kind) or, when names is empty, every feature
// column of an accepted kind, in frame order.
func resolve(f *frame.Frame, names []string, ok kindSet, want string) ([]string, error) {
	if len(names) == 0 {
		var out []string
		for i, c := range f.Columns() {
			if isFeature(f, i) && ok(c.Kind()) {
				out = append(out, c.Name())
			}
		}
		return out, nil
	}
	for _, n := range names {
		c, err := f.Column(n)
		if err != nil {
			return nil, err
		}
		if !ok(c.Kind()) {
			return nil, fmt.Errorf("column %q is %s, want %s", n, c.Kind(), want)
		}
	}
	return append([]string(nil), names...), nil
}

// floats returns a numeric, bool or time column as float64 with NaN for
// missing (times as Unix seconds). Text columns give an error.
func floats(c frame.Column) ([]float64, error) {
	out := make([]float64, c.Len())
	if err := floatsInto(c, out); err != nil {
		return nil, err
	}
	return out, nil
}

// floatsInto is floats writing into dst (len dst == c.Len()).
func floatsInto(c frame.Column, out []float64) error {
	var valid frame.Validity
	switch c := c.(type) {
	case *frame.Float:
		copy(out, c.Values)
		valid = c.Valid
	case *frame.Int:
		for i, v := range c.Values {
			out[i] = float64(v)
		}
		valid = c.Valid
	case *frame.Time:
		for i, v := range c.Values {
			out[i] = float64(v) / 1e9
		}
		valid = c.Valid
	case *frame.Bool:
		for i, v := range c.Values {
			out[i] = 0
			if v {
				out[i] = 1
			}
		}
		valid = c.Valid
	default:
		return fmt.Errorf("column %q is %s, want a number", c.Name(), c.Kind())
	}
	if valid != nil {
		nan := math.NaN()
		for w, word := range valid {
			if word == ^uint64(0) {
				continue
			}
			for b := 0; b < 64; b++ {
				i := w*64 + b
				if i < len(out) && word&(1<<uint(b)) == 0 {
					out[i] = nan
				}
			}
		}
	}
	return nil
}

// floatColumn builds a float column from values with NaN marking missing.
func floatColumn(name string, vals []float64) *frame.Float {
	c := &frame.Float{ColName: name, Values: vals}
	for i, v := range vals {
		if v != v {
			if c.Valid == nil {
				c.Valid = frame.NewValidity(len(vals))
			}
			c.Valid.SetNull(i)
			vals[i] = 0
		}
	}
	return c
}

// strings returns a text column's values and a missing mask; other kinds
// are formatted (numbers as Go would print them).
func stringsOf(c frame.Column) (vals []string, missing []bool) {
	n := c.Len()
	vals = make([]string, n)
	missing = make([]bool, n)
	switch c := c.(type) {
	case *frame.Categorical:
		for i, code := range c.Codes {
			if code < 0 {
				missing[i] = true
			} else {
				vals[i] = c.Levels[code]
			}
		}
	case *frame.String:
		copy(vals, c.Values)
		for i := range vals {
			missing[i] = !c.Valid.Valid(i)
		}
	default:
		for i := 0; i < n; i++ {
			if c.IsNull(i) {
				missing[i] = true
			} else {
				vals[i] = c.Format(i)
			}
		}
	}
	return vals, missing
}

// levelCodes maps a text column onto codes against its own dictionary:
// codes[i] indexes levels, -1 for missing. Categorical columns are used as
// they are; other columns are dictionary-encoded in order of appearance.
func levelCodes(c frame.Column) (codes []int32, levels []string) {
	if cc, ok := c.(*frame.Categorical); ok {
		return cc.Codes, cc.Levels
	}
	vals, missing := stringsOf(c)
	cc := frame.NewCategorical(c.Name(), vals, missing)
	return cc.Codes, cc.Levels
}

// counts returns, per level of a text column, how many rows hold it.
func levelCounts(c frame.Column) map[string]int {
	codes, levels := levelCodes(c)
	cnt := make([]int, len(levels))
	for _, k := range codes {
		if k >= 0 {
			cnt[k]++
		}
	}
	out := make(map[string]int, len(levels))
	for k, l := range levels {
		if cnt[k] > 0 {
			out[l] += cnt[k]
		}
	}
	return out
}

// byFrequency orders levels by descending count, ties by name.
func byFrequency(cnt map[string]int) []string {
	out := make([]string, 0, len(cnt))
	for l := range cnt {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool {
		if cnt[out[i]] != cnt[out[j]] {
			return cnt[out[i]] > cnt[out[j]]
		}
		return out[i] < out[j]
	})
	return out
}

// rebuild returns a frame where each column named in repl is replaced by the
// given columns (in place, in order); a replacement with the original's name
// keeps its role, others are features. Columns not in repl are kept.
func rebuild(f *frame.Frame, repl map[string][]frame.Column) (*frame.Frame, error) {
	var cols []frame.Column
	var roles []frame.Role
	for i, c := range f.Columns() {
		rs, ok := repl[c.Name()]
		if !ok {
			cols = append(cols, c)
			roles = append(roles, f.Role(i))
			continue
		}
		for _, r := range rs {
			cols = append(cols, r)
			if r.Name() == c.Name() {
				roles = append(roles, f.Role(i))
			} else {
				roles = append(roles, frame.RoleFeature)
			}
		}
	}
	return framed(cols, roles)
}

// appendCols returns f with extra feature columns at the end.
func appendCols(f *frame.Frame, extra []frame.Column) (*frame.Frame, error) {
	cols := append([]frame.Column(nil), f.Columns()...)
	roles := make([]frame.Role, 0, len(cols)+len(extra))
	for i := range cols {
		roles = append(roles, f.Role(i))
	}
	for range extra {
		roles = append(roles, frame.RoleFeature)
	}
	return framed(append(cols, extra...), roles)
}

func framed(cols []frame.Column, roles []frame.Role) (*frame.Frame, error) {
	out, err := frame.New(cols...)
	if err != nil {
		return nil, err
	}
	for i, c := range cols {
		if roles[i] != frame.RoleFeature {
			if err := out.SetRole(c.Name(), roles[i]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// need returns the named column or an error saying the fitted step needs it.
func need(f *frame.Frame, name string) (frame.Column, error) {
	c, err := f.Column(name)
	if err != nil {
		return nil, fmt.Errorf("column %q seen in training is missing: %w", name, frame.ErrNoColumn)
	}
	return c, nil
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
