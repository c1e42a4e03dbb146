package train

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/gyre-ml/gyre/internal/feature"
	"github.com/gyre-ml/gyre/internal/frame"
	"github.com/gyre-ml/gyre/internal/learn"
)

// Exclusion is a feature column left out of the model, and why.
type Exclusion struct {
	Column string `json:"column"`
	Reason string `json:"reason"`
	// MissingIndicator is set when the column's missingness is kept as a
	// feature, <col>_missing (see keepsMissingness).
	MissingIndicator bool `json:"missing_indicator,omitempty"`
}

// keepsMissingness reports whether an excluded column's missingness is
// worth keeping as a feature: missing in at least 5 rows and 1 % of the
// rows, present in at least 5. A column left out because its values are
// nearly all distinct (a free-text cabin number, a referral code) may
// still say something by being filled in at all: in titanic, a cabin on
// record (23 % of passengers, most of them in first class) is among the
// strongest signals, which the exclusion alone throws away. Trees split on
// the indicator or ignore it; it is cheap either way.
func keepsMissingness(c frame.Column) bool {
	n := c.Len()
	missing := c.NullCount()
	if textKind := c.Kind() == frame.KindString || c.Kind() == frame.KindCategorical; textKind {
		missing = 0
		for r := 0; r < n; r++ {
			if c.IsNull(r) || c.Format(r) == "" {
				missing++
			}
		}
	}
	return missing >= 5 && float64(missing) >= 0.01*float64(n) && n-missing >= 5
}

// ProblemOptions override which columns NewProblemWith leaves out, and
// give the user's recipe.
type ProblemOptions struct {
	// Recipe, when set, is fitted on the training rows (its target set to
	// the problem's) before anything else: the problem is learned on its
	// output, and the fitted recipe travels in the bundle (Problem.Recipe).
	Recipe *feature.Pipeline
	// Keep lists columns to use as features even when they look like
	// identifiers or free text.
	Keep []string
	// Drop lists columns to leave out whatever they hold.
	Drop []string
}

// Exclusions returns the feature columns of f that carry no signal a model
// should learn from, with the reason: text whose values are nearly all
// distinct (over half the rows distinct and more than 50 values, or every
// value distinct over at least 20 rows: names, ticket numbers, free text);
// integers distinct in every row over at least 20 rows whose name says they
// are identifiers (idName) or that rise or fall monotonically in row order
// (a row number). Other integer columns with many distinct values (counts,
// weights) often carry signal and are kept.
func Exclusions(f *frame.Frame) []Exclusion {
	var out []Exclusion
	n := f.NumRows()
	for i, c := range f.Columns() {
		if f.Role(i) != frame.RoleFeature {
			continue
		}
		present := n - c.NullCount()
		switch c.Kind() {
		case frame.KindInt:
			if present < 20 || distinctCount(c) != present {
				continue
			}
			if idName(c.Name()) {
				out = append(out, Exclusion{Column: c.Name(), Reason: fmt.Sprintf("identifier: its name says so and all %d values are distinct", present)})
			} else if monotone(c) {
				out = append(out, Exclusion{Column: c.Name(), Reason: fmt.Sprintf("row number: all %d values are distinct and monotone in row order", present)})
			}
		case frame.KindString, frame.KindCategorical:
			distinct := distinctCount(c)
			if distinct == present && present >= 20 {
				out = append(out, Exclusion{Column: c.Name(), Reason: fmt.Sprintf("identifier or free text: all %d values are distinct", present)})
			} else if distinct > 50 && float64(distinct) > 0.5*float64(present) {
				out = append(out, Exclusion{Column: c.Name(), Reason: fmt.Sprintf("identifier or free text: %d distinct values in %d rows", distinct, present)})
			}
		}
	}
	return out
}

// monotone reports whether the present values of an integer column rise
// (or fall) strictly in row order.
func monotone(c frame.Column) bool {
	up, down := true, true
	prev, have := 0.0, false
	for r := 0; r < c.Len() && (up || down); r++ {
		if c.IsNull(r) {
			continue
		}
		v := num(c, r)
		if have {
			up = up && v > prev
			down = down && v < prev
		}
		prev, have = v, true
	}
	return up || down
}

// excludeColumns applies Exclusions and the overrides to f's roles and
// records them in p.
func (p *Problem) excludeColumns(f *frame.Frame, co ProblemOptions) error {
	for _, name := range append(slices.Clone(co.Keep), co.Drop...) {
		if _, err := f.Column(name); err != nil {
			return fmt.Errorf("column override: %w", err)
		}
		if name == p.Target {
			return fmt.Errorf("column override: %q is the target", name)
		}
	}
	for _, e := range Exclusions(f) {
		if slices.Contains(co.Keep, e.Column) {
			continue
		}
		if c, _ := f.Column(e.Column); !slices.Contains(co.Drop, e.Column) && keepsMissingness(c) {
			e.MissingIndicator = true
			e.Reason += fmt.Sprintf("; whether it is filled in is kept as %s", feature.MissingName(e.Column))
			p.Indicators = append(p.Indicators, e.Column)
		}
		p.Excluded = append(p.Excluded, e)
	}
	for _, name := range co.Drop {
		if !slices.ContainsFunc(p.Excluded, func(e Exclusion) bool { return e.Column == name }) {
			p.Excluded = append(p.Excluded, Exclusion{Column: name, Reason: "dropped by request"})
		}
	}
	for _, name := range co.Keep {
		i := slices.IndexFunc(f.Schema().Fields, func(fl frame.Field) bool { return fl.Name == name })
		if f.Role(i) == frame.RoleIgnore {
			if err := f.SetRole(name, frame.RoleFeature); err != nil {
				return err
			}
		}
	}
	for _, e := range p.Excluded {
		if err := f.SetRole(e.Column, frame.RoleIgnore); err != nil {
			return err
		}
		p.Ignored = append(p.Ignored, e.Column)
	}
	return nil
}

// ProblemWarnings are the questions a problem raises before any model is
// fitted: too few rows to learn or validate anything, too few rows of a
// class, or a numeric target that looks like a class label (few distinct
// integer values) treated as regression because detect is true (the task
// was not asked for).
func ProblemWarnings(target frame.Column, task learn.Task, detect bool) []string {
	var out []string
	n := target.Len() - target.NullCount()
	switch {
	case n < 30:
		out = append(out, fmt.Sprintf("only %d rows with a target: too few to fit and validate a model (each validation fold holds a handful of rows, so its scores are mostly noise); collect more rows, at least a few hundred, before trusting any model", n))
	case n < 200:
		out = append(out, fmt.Sprintf("only %d rows with a target: scores will vary a lot between folds; read the spread, not only the mean", n))
	}
	if task == learn.Regression && detect {
		if vals, ok := integerValues(target); ok && len(vals) <= 20 {
			out = append(out, fmt.Sprintf("target %q holds %d distinct integer values (%s): is it a class label? It is treated as a number (regression); use --task multiclass (or binary) to treat it as classes", target.Name(), len(vals), valueRange(vals)))
		}
	}
	if task.Classification() {
		counts := map[string]int{}
		for r := 0; r < target.Len(); r++ {
			if !target.IsNull(r) {
				counts[target.Format(r)]++
			}
		}
		var small []string
		for k, v := range counts {
			if v < 5 {
				small = append(small, fmt.Sprintf("%q (%d)", k, v))
			}
		}
		sort.Strings(small)
		if len(small) > 0 {
			out = append(out, fmt.Sprintf("classes with fewer than 5 rows: %s; cross-validation folds will miss them and their scores mean little", strings.Join(small, ", ")))
		}
	}
	return out
}

// integerValues returns the distinct values of a numeric column when every
// present value is a whole number (stops after 21 distinct values).
func integerValues(c frame.Column) ([]float64, bool) {
	if c.Kind() != frame.KindInt && c.Kind() != frame.KindFloat {
		return nil, false
	}
	seen := map[float64]bool{}
	for r := 0; r < c.Len() && len(seen) <= 20; r++ {
		if c.IsNull(r) {
			continue
		}
		v := num(c, r)
		if v != math.Trunc(v) {
			return nil, false
		}
		seen[v] = true
	}
	vals := make([]float64, 0, len(seen))
	for v := range seen {
		vals = append(vals, v)
	}
	sort.Float64s(vals)
	return vals, true
}

func valueRange(vals []float64) string {
	if len(vals) <= 6 {
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = fmt.Sprint(v)
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprintf("%v to %v", vals[0], vals[len(vals)-1])
}

// num reads row r of an Int or Float column as a float64.
func num(c frame.Column, r int) float64 {
	switch c := c.(type) {
	case *frame.Int:
		return float64(c.Values[r])
	case *frame.Float:
		return c.Values[r]
	}
	return math.NaN()
}

// fitRecipe fits the user's recipe on the training frame f (rows with a
// target) and returns its output.
func (p *Problem) fitRecipe(f *frame.Frame, r *feature.Pipeline) (*frame.Frame, error) {
	if r.Target != "" && r.Target != p.Target {
		return nil, fmt.Errorf("recipe: its target is %q but the problem's is %q", r.Target, p.Target)
	}
	rc := *r
	rc.Target = p.Target
	fp, out, err := rc.Fit(f)
	if err != nil {
		return nil, fmt.Errorf("recipe: %w", err)
	}
	if out.Index(p.Target) < 0 {
		return nil, fmt.Errorf("recipe: its steps remove the target column %q", p.Target)
	}
	if out.NumRows() == 0 {
		return nil, fmt.Errorf("recipe: its steps leave no training rows")
	}
	p.Recipe, p.Raw = fp, f
	return out, nil
}
